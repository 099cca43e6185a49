"""Ability scoring: EAP, MAP, ML, WLE and plausible values for one person or a million at once."""

from digicomp.scoring.api import ScoreResult, score
from digicomp.scoring.quadrature import GridPrior, NormalPrior, make_grid

__all__ = ["score", "ScoreResult", "NormalPrior", "GridPrior", "make_grid"]
