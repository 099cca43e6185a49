"""A multidimensional fit against R mirt's own published values (its test suite), on a data set we ship.

Source: R package mirt, ``tests/testthat/test-02-mirtTwo.R`` (github.com/philchalmers/mirt), test 'poly':
``modp2 <- mirt(Science, 2)`` — the exploratory two-factor graded model of the Science data
(``tests/data/science_mirt.csv``, categories recoded 0..3), checked there by
``expect_equal(abs(cfs), abs(c(...)), tolerance = 1e-2)`` (testthat: mean relative difference ≤ 1%) with the
unrotated coefficients below (item by item a1, a2, d1, d2, d3). As published the model is identified by orthogonal
unit-variance factors and item 4's a2 fixed at 0; mirt integrates 31 points per dimension on (−6, 6) by default.

What we find, and what the test holds: our maximum has the higher log-likelihood (−1601.9674 against −1601.9695
for the published coefficients, both by the same 31 × 31 grid), every coefficient within 0.06 of its standard
error of the published one, and a mean relative difference of 1.26% — *not* within the source's 1%. The two
solutions lie on a flat ridge of the likelihood (item 2's a2 and d1 move by 0.08–0.09 for a change of 0.002 in
log-likelihood); mirt stops earlier on it (its EM tolerance is on parameter changes). The test checks the
likelihood ordering and the SE-scaled agreement, and asserts the relative difference below 1.5% so that a drift
is seen; it does not claim mirt's 1e-2.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digicomp.calibration.multidim import calibrate_multidim
from digicomp.calibration.structure import within_items
from digicomp.models import multidim

DATA = Path(__file__).parents[1] / "data"
MIRT_SCIENCE_2F = np.array(
    [
        [-1.3278, 0.1081, 5.1934, 2.8583, -1.5996],
        [-0.8762, 1.8783, 3.7248, 1.1598, -2.9225],
        [-1.4614, 1.1639, 4.6495, 1.951, -1.7322],
        [-1.7397, 0.0, 4.0053, 1.2008, -2.0548],
    ]
)


def _science() -> np.ndarray:
    return np.loadtxt(DATA / "science_mirt.csv", delimiter=",", skiprows=1).astype(int) - 1


def _grid_loglik(x: np.ndarray, a: np.ndarray, d: np.ndarray, n_points: int = 31) -> float:
    """The marginal log-likelihood of graded items (a, d) under N(0, I₂) by a brute-force 31 × 31 grid on (−6, 6),
    normalised weights (mirt's rectangular quadrature)."""
    g = np.linspace(-6, 6, n_points)
    grid = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 2)
    w = np.exp(-0.5 * (grid**2).sum(axis=1))
    w /= w.sum()
    lp = multidim.log_prob(grid, a, d, model=["GRM"] * a.shape[0])  # (Q, J, C)
    ll = sum(lp[:, j, :][:, x[:, j]].T for j in range(a.shape[0]))  # (N, Q)
    top = ll.max(axis=1, keepdims=True)
    return float((np.log(np.exp(ll - top) @ w) + top[:, 0]).sum())


@pytest.fixture(scope="module")
def fit():
    x = _science()
    ids = [f"item{j + 1}" for j in range(4)]
    s = within_items(ids, ["F1", "F2"], [[1, 1], [1, 1], [1, 1], [1, 0]])
    s.correlated[:] = False  # orthogonal factors, as mirt's exploratory model
    res = calibrate_multidim(x, "GRM", structure=s, se="numerical", nonnegative=False, tol=1e-4)
    return x, res


@pytest.mark.slow
def test_science_two_factor_reaches_at_least_mirts_published_loglik(fit):
    x, res = fit
    assert res.converged and res.quadpts == 31
    ours = _grid_loglik(x, res.a, res.intercepts[:, :3])
    assert ours == pytest.approx(res.loglik, abs=1e-6)  # our reported logLik is the grid integral
    published = _grid_loglik(x, np.abs(MIRT_SCIENCE_2F[:, :2]), MIRT_SCIENCE_2F[:, 2:])
    assert ours >= published  # the same model, a maximum at least as high
    assert ours - published < 0.01  # and the same maximum up to a flat ridge


@pytest.mark.slow
def test_science_two_factor_coefficients_agree_with_mirt_within_a_tenth_of_an_se(fit):
    _, res = fit
    ours = np.hstack([res.a, res.intercepts[:, :3]])
    se = np.hstack([res.se_a, res.se_intercepts[:, :3]])
    free = MIRT_SCIENCE_2F != 0
    diff = np.abs(ours) - np.abs(MIRT_SCIENCE_2F)
    assert np.all(np.abs(diff[free]) < 0.1 * se[free])
    assert ours[3, 1] == 0.0  # the fixed slope stays fixed
    rel = np.abs(diff).mean() / np.abs(MIRT_SCIENCE_2F).mean()
    assert rel < 0.015  # measured 0.0126: mirt's own tolerance (0.01) is not met, see the module docstring
