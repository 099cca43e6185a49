"""Issue 13's conventions in calibration fit: mirt's marginal_rxx formula, S-X2 on frequency-weighted tables.

Sources: mirt's ``marginal_rxx`` (R/marginal_rxx.R: ∫ TI / (TI + var_theta) dnorm(θ) dθ); S-X2 of LSAT7 from mirt's
tests/testthat/test-01-mirtOne.R (4.749440, 14.451071, 1.270381, 5.237400, 0.941125).
"""

from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats

from digicomp.calibration import calibrate
from digicomp.calibration.fit import marginal_reliability
from digicomp.models import ItemParameters

DATA = Path(__file__).resolve().parents[1] / "data"


def _patterns(name):
    raw = np.loadtxt(DATA / name, delimiter=",", skiprows=1)
    return raw[:, :-1], raw[:, -1]


def test_marginal_reliability_is_mirts_integral():
    rng = np.random.default_rng(0)
    params = ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, 12), b=rng.normal(0, 1, 12))
    pts = np.linspace(-6, 6, 121)
    logw = -0.5 * pts**2
    logw -= np.log(np.exp(logw).sum())
    ours = marginal_reliability(params.information(pts).sum(axis=1), logw, 1.0)

    def f(t):
        info = params.information(np.array([t])).sum()
        return info / (info + 1.0) * stats.norm.pdf(t)

    assert ours == pytest.approx(integrate.quad(f, -np.inf, np.inf)[0], abs=1e-6)


def test_s_x2_counts_persons_not_rows_of_a_pattern_table():
    x, freq = _patterns("lsat7_patterns.csv")
    res = calibrate(x, "2PL", weights=freq, tol=1e-6, se=False)
    sx = res.item_fit["S_X2"]
    assert sx["n_complete"] == 1000
    np.testing.assert_allclose(sx["S_X2"], [4.749440, 14.451071, 1.270381, 5.237400, 0.941125], atol=0.05)


def test_a_short_pattern_table_holding_many_persons_is_not_refused():
    x, freq = _patterns("lsat7_patterns.csv")
    top = np.argsort(-freq)[:9]
    res = calibrate(x[top], "Rasch", weights=freq[top], se=False)
    sx = res.item_fit["S_X2"]
    assert sx["available"], sx
    assert sx["n_complete"] == int(freq[top].sum())


def test_marginal_reliability_equals_pypi_mirts():
    """An independent implementation: PyPI ``mirt``'s ``marginal_rxx`` at the same 2PL parameters and grid."""
    pymirt = pytest.importorskip("mirt")
    rng = np.random.default_rng(1)
    a, b = rng.lognormal(0, 0.3, 15), rng.normal(0, 1, 15)
    params = ItemParameters.dichotomous(a=a, b=b)
    model = pymirt.TwoParameterLogistic(n_items=15)
    model.set_parameters(discrimination=a, difficulty=b)
    model._is_fitted = True  # parameters set by hand
    pts = np.linspace(-6, 6, 61)
    logw = -0.5 * pts**2
    logw -= np.log(np.exp(logw).sum())
    ours = marginal_reliability(params.information(pts).sum(axis=1), logw, 1.0)
    assert ours == pytest.approx(pymirt.marginal_rxx(model, n_points=61), abs=1e-6)  # agree to ~1e-8
