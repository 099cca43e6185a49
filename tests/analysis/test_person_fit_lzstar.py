"""lz* (Snijders 2001) against a second, deliberately plain implementation and by its null distribution.

No published per-person lz* value could be obtained offline: Snijders (2001, Psychometrika 66, 331–342) gives the
derivation, not a table of values for a data set we can ship, and R PerFit's ``lzstar`` documentation prints no
output (its data sets are binary .RData files). So the reference here is computed independently, in a loop over
persons, from the formulas as PerFit's ``lzstar`` states them for the 3PL (D = 1; c = 0 gives the 2PL):

    P = c + (1 - c) / (1 + exp(-a(θ - b))),  P' and P'' its θ-derivatives,  r_j = P'_j / (P_j Q_j),
    w_j = log(P_j / Q_j),  W = Σ (x_j - P_j) w_j,  c_n = Σ P'_j w_j / Σ P'_j r_j,  w̃_j = w_j - c_n r_j,
    r_0 = 0 (ML), (μ - θ)/σ² (Bayes modal, PerFit's "BM"), Σ P'P''/(PQ) / (2 Σ P'²/(PQ)) (Warm's WL),
    lz* = (W + c_n r_0) / sqrt(Σ w̃_j² P_j Q_j).

The correction is only right when θ solves the estimator's equation Σ (x_j - P_j) r_j + r_0(θ) = 0, so that is
checked for digicomp's own θ estimates too. The null distribution check (lz* tail at the nominal 5%, where lz is
conservative) is a simulation with its tolerance stated.
"""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.analysis.person_fit import person_fit
from digicomp.models import ItemParameters
from digicomp.responses import Responses


def _plain_lz_star(a, b, c, x, theta, method, mu=0.0, sigma=1.0):
    """Snijders's lz* person by person (a loop on purpose: a second implementation, not a fast one)."""
    out = []
    for xn, t in zip(x, theta):
        e = np.exp(a * (t - b))
        P = c + (1 - c) * e / (1 + e)
        Q = 1 - P
        d1 = (1 - c) * a * e / (1 + e) ** 2
        d2 = (1 - c) * a**2 * e * (1 - e) / (1 + e) ** 3
        r = d1 / (P * Q)
        w = np.log(P / Q)
        if method == "ML":
            r0 = 0.0
        elif method == "MAP":
            r0 = (mu - t) / sigma**2
        else:  # WLE
            r0 = np.sum(d1 * d2 / (P * Q)) / (2 * np.sum(d1**2 / (P * Q)))
        W = np.sum((xn - P) * w)
        cn = np.sum(d1 * w) / np.sum(d1 * r)
        wt = w - cn * r
        out.append((W + cn * r0) / np.sqrt(np.sum(wt**2 * P * Q)))
    return np.array(out)


def _items(J: int, seed: int, guessing: bool):
    rng = np.random.default_rng(seed)
    a, b = rng.lognormal(0.1, 0.3, J), rng.normal(0, 1, J)
    c = rng.uniform(0.1, 0.25, J) if guessing else np.zeros(J)
    return a, b, c, ItemParameters.dichotomous(a=a, b=b, c=c)


# a few 3PL patterns have no finite ML maximum: their θ is the range bound (warned); the formulas still apply there
@pytest.mark.filterwarnings("ignore:.*no finite ML maximum")
@pytest.mark.parametrize("guessing", [False, True], ids=["2PL", "3PL"])
@pytest.mark.parametrize("method", ["ML", "WLE", "MAP"])
def test_lz_star_equals_snijders_formulas_computed_plainly(method, guessing):
    a, b, c, params = _items(25, 3, guessing)
    rng = np.random.default_rng(4)
    x = params.simulate(rng.normal(size=300), rng)
    x = x[(x.sum(axis=1) > 0) & (x.sum(axis=1) < 25)]
    fit = person_fit(params, Responses.from_dense(x), method=method)
    want = _plain_lz_star(a, b, c, x, fit.theta, method)
    np.testing.assert_allclose(fit.lz_star, want, rtol=0, atol=1e-9)
    # with another θ (any value, e.g. the truth), the same formulas still hold term by term
    theta = rng.normal(size=len(x))
    other = person_fit(params, Responses.from_dense(x), theta, method=method)
    np.testing.assert_allclose(other.lz_star, _plain_lz_star(a, b, c, x, theta, method), rtol=0, atol=1e-9)


@pytest.mark.parametrize("guessing", [False, True], ids=["2PL", "3PL"])
@pytest.mark.parametrize("method", ["ML", "WLE", "MAP"])
def test_digicomps_theta_solves_the_estimating_equation_lz_star_assumes(method, guessing):
    """Snijders's correction presumes Σ (x - P) r + r0(θ) = 0 at the θ used; check it for the θ person_fit
    estimates itself, so that the method named and the θ computed agree."""
    a, b, c, params = _items(25, 5, guessing)
    rng = np.random.default_rng(6)
    x = params.simulate(rng.normal(size=200), rng)
    x = x[(x.sum(axis=1) > 0) & (x.sum(axis=1) < 25)]
    theta = person_fit(params, Responses.from_dense(x), method=method).theta
    e = np.exp(a * (theta[:, None] - b))
    P = c + (1 - c) * e / (1 + e)
    d1 = (1 - c) * a * e / (1 + e) ** 2
    d2 = (1 - c) * a**2 * e * (1 - e) / (1 + e) ** 3
    r = d1 / (P * (1 - P))
    r0 = {
        "ML": 0.0,
        "MAP": -theta,
        "WLE": (d1 * d2 / (P * (1 - P))).sum(1) / (2 * (d1**2 / (P * (1 - P))).sum(1)),
    }[method]
    info = (d1 * r).sum(axis=1)
    # the score divided by the information: the size of the Newton step left, in logits
    assert np.max(np.abs(((x - P) * r).sum(axis=1) + r0) / info) < 1e-4


@pytest.mark.slow
@pytest.mark.parametrize("method", ["ML", "WLE", "MAP"])
def test_lz_star_tail_is_near_nominal_where_lz_is_conservative(method):
    """Under the model, at the estimated θ, P(lz* < -1.645) ≈ 0.05 (Snijders 2001), while lz's tail is well below.

    40 items, 10,000 persons: the binomial SE of a 5% rate is 0.0022; lz*'s residual skewness of order 1/sqrt(J)
    moves the rate by a few tenths of a percent at this length (measured 0.049–0.054 with 20,000 persons), so
    the tolerance is 0.01 — still far from lz, whose rate is about 0.025 here."""
    a, b, c, params = _items(40, 7, False)
    rng = np.random.default_rng(8)
    x = params.simulate(rng.normal(size=10_000), rng)
    if method == "ML":
        x = x[(x.sum(axis=1) > 0) & (x.sum(axis=1) < 40)]
    fit = person_fit(params, Responses.from_dense(x), method=method)
    rate_star = np.mean(fit.lz_star < -1.645)
    rate_lz = np.mean(fit.lz < -1.645)
    assert abs(rate_star - 0.05) < 0.01
    assert rate_lz < 0.04
    assert np.mean(fit.misfit) == pytest.approx(rate_star)  # the flag is the lz* tail at alpha = .05
