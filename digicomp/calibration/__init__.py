"""Calibration: marginal maximum likelihood (Bock–Aitkin EM) for every model, priors, SEs, fit and linking."""

from digicomp.calibration.api import calibrate
from digicomp.calibration.nominal import NominalCalibration, calibrate_nominal
from digicomp.calibration.priors import BAYES_DEFAULTS, Beta, LogNormal, Normal, Priors
from digicomp.calibration.result import CalibrationResult

__all__ = [
    "calibrate",
    "calibrate_nominal",
    "CalibrationResult",
    "NominalCalibration",
    "Priors",
    "Normal",
    "LogNormal",
    "Beta",
    "BAYES_DEFAULTS",
]
