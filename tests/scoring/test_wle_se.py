"""WLE standard errors: 1/sqrt(I) by default, the penalised objective's curvature as mirt reports on request.

Reference: mirt tests/testthat/test-02-mirtTwo.R: ``fscores(modp1, method = 'WLE', full.scores = FALSE)`` on Science
(GRM) gives, for the first three response patterns (1111, 1321, 1423), θ = -5.7024116, -2.1162737, -1.1386969 and
SE = 1.5797286, 0.6321478, 0.6544024. The GRM is calibrated here (its agreement with mirt is checked in
tests/calibration/test_mirt_agreement.py).
"""

import warnings
from pathlib import Path

import numpy as np
import pytest

from digicomp.calibration import calibrate
from digicomp.errors import DigicompError
from digicomp.scoring import score

DATA = Path(__file__).resolve().parents[1] / "data"


def test_science_wle_and_its_penalized_se_match_mirt():
    x = np.loadtxt(DATA / "science_mirt.csv", delimiter=",", skiprows=1).astype(int) - 1
    cal = calibrate(x, "GRM", tol=1e-6, se=False, fit=False)
    patterns = np.array([[0, 0, 0, 0], [0, 2, 1, 0], [0, 3, 1, 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pen = score(cal.params, patterns, "WLE", wle_se="penalized")
        inf = score(cal.params, patterns, "WLE")
    assert np.max(np.abs(pen.theta - [-5.7024116, -2.1162737, -1.1386969])) < 2e-3
    assert np.max(np.abs(pen.se - [1.5797286, 0.6321478, 0.6544024])) < 1e-3
    assert np.array_equal(pen.theta, inf.theta)
    info = cal.params.information(pen.theta)  # (3, J): every item answered
    assert np.allclose(inf.se, 1 / np.sqrt(info.sum(axis=1)))
    assert inf.se[0] > pen.se[0] + 0.2  # at the extreme pattern the two differ most


def test_an_unknown_wle_se_is_refused():
    x = np.loadtxt(DATA / "science_mirt.csv", delimiter=",", skiprows=1).astype(int) - 1
    cal = calibrate(x, "GRM", se=False, fit=False)
    with pytest.raises(DigicompError, match="wle_se"):
        score(cal.params, x, "WLE", wle_se="sandwich")
