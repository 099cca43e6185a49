"""Person fit: lz against R ltm, lz* against its defining property (Snijders 2001), Guttman errors by their
definition, and the detection of random guessers by simulation.

Reference for l0 / lz: R ltm's ``person.fit(rasch(LSAT))`` as printed in RKWard's regression-test standard
(KDE/rkward tests/item_response_theory/RKTestStandard.person_fit_statistics.rkout), at ltm's empirical Bayes
(MAP) θ; the item parameters are those of ltm's ``rasch(LSAT)`` (its documentation: common discrimination 0.755,
difficulties -3.615, -1.322, -0.318, -1.730, -2.780).
"""

from pathlib import Path

import numpy as np
import pytest

from digicomp.analysis.person_fit import person_fit
from digicomp.errors import DigicompError
from digicomp.models import ItemParameters
from digicomp.responses import Responses

DATA = Path(__file__).parents[1] / "data"

# (L0, Lz) of ltm for the 30 LSAT patterns in the order of tests/data/lsat6_patterns.csv
LTM = [
    (-3.991, -1.119),
    (-3.947, -1.092),
    (-4.74, -2.019),
    (-4.121, -1.338),
    (-5.806, -3.266),
    (-5.187, -2.477),
    (-5.98, -3.324),
    (-4.772, -2.031),
    (-5.047, -2.379),
    (-4.428, -1.666),
    (-4.013, -1.309),
    (-5.08, -2.324),
    (-5.872, -3.078),
    (-4.04, -1.455),
    (-3.316, -0.354),
    (-2.697, 0.183),
    (-3.49, -0.664),
    (-2.282, 0.338),
    (-4.557, -1.803),
    (-3.348, -0.677),
    (-4.141, -1.431),
    (-2.308, 0.019),
    (-3.798, -0.993),
    (-2.589, 0.045),
    (-3.382, -0.709),
    (-1.549, 0.665),
    (-4.449, -1.724),
    (-2.616, -0.243),
    (-3.409, -0.918),
    (-0.895, 0.841),
]


def test_l0_and_lz_match_ltm_on_lsat():
    d = np.loadtxt(DATA / "lsat6_patterns.csv", delimiter=",", skiprows=1)
    pat = d[:, :5].astype(int)
    params = ItemParameters.dichotomous(a=[0.7551] * 5, b=[-3.6153, -1.3224, -0.3176, -1.7301, -2.7802])
    fit = person_fit(params, Responses.from_dense(pat), method="MAP")
    ref = np.array(LTM)
    # ltm prints 3 decimals and its parameters are rounded here to 4: agreement to 0.003
    assert np.max(np.abs(fit.l0 - ref[:, 0])) < 3e-3
    assert np.max(np.abs(fit.lz - ref[:, 1])) < 3e-3


def _bank(n_items, seed, c=0.0):
    rng = np.random.default_rng(seed)
    return ItemParameters.dichotomous(a=rng.lognormal(0.2, 0.25, n_items), b=rng.normal(0, 1, n_items), c=c)


@pytest.mark.parametrize("method", ["ML", "WLE", "MAP"])
def test_lz_star_is_standard_normal_under_the_model_where_lz_is_not(method):
    """Snijders (2001): lz* has mean ≈ 0 and variance ≈ 1 at the estimated θ; lz's variance is below 1."""
    params = _bank(40, 1)
    rng = np.random.default_rng(2)
    x = params.simulate(rng.normal(size=4000), rng)
    keep = (x.sum(axis=1) > 0) & (x.sum(axis=1) < 40)  # ML needs a finite estimate
    fit = person_fit(params, Responses.from_dense(x[keep]), method=method)
    n = keep.sum()
    se_mean, se_sd = 1 / np.sqrt(n), 1 / np.sqrt(2 * n)
    # the O(1/sqrt(J)) skewness Snijders reports leaves a small bias at J = 40: allow 0.15 on the mean
    assert abs(np.mean(fit.lz_star)) < 0.15
    assert abs(np.std(fit.lz_star) - 1) < 0.05 + 4 * se_sd
    assert np.std(fit.lz) < np.std(fit.lz_star) - 4 * se_sd
    assert se_mean < 0.02


@pytest.mark.parametrize("method", ["ML", "WLE", "MAP"])
def test_lz_star_is_standard_normal_on_polytomous_items(method):
    """Sinharay's (2016) lz*_p (Snijders's correction over categories) on GRM and GPCM items: mean ≈ 0 and variance
    ≈ 1 at the estimated θ, where lz's variance is clearly below 1."""
    rng = np.random.default_rng(9)
    params = ItemParameters.concat(
        [
            ItemParameters.graded(
                a=rng.lognormal(0, 0.2, 15),
                b=np.sort(rng.normal(0, 1, (15, 3)), axis=1),
                ids=[f"g{j}" for j in range(15)],
            ),
            ItemParameters.partial_credit(
                a=rng.lognormal(0, 0.2, 15), b=rng.normal(0, 1, (15, 2)), ids=[f"p{j}" for j in range(15)]
            ),
        ]
    )
    x = params.simulate(rng.normal(size=4000), rng)
    fit = person_fit(params, Responses.from_dense(x), method=method)
    se_sd = 1 / np.sqrt(2 * 4000)
    assert np.all(np.isfinite(fit.lz_star))
    assert abs(np.mean(fit.lz_star)) < 0.1
    assert abs(np.std(fit.lz_star) - 1) < 0.05 + 4 * se_sd
    assert np.std(fit.lz) < np.std(fit.lz_star) - 4 * se_sd


def test_infit_outfit_and_guttman_errors_by_definition():
    params = ItemParameters.concat([_bank(6, 3), ItemParameters.graded(a=[1.2], b=[[-0.5, 0.6]], ids=["g"])])
    rng = np.random.default_rng(4)
    x = params.simulate(rng.normal(size=300), rng).astype(float)
    x[rng.random(x.shape) < 0.2] = np.nan
    resp = Responses.from_dense(x)
    theta = rng.normal(size=300)
    fit = person_fit(params, resp, theta, method="ML")
    P = params.prob(theta)  # (N, J, K)
    e = (P * np.arange(3)).sum(-1)
    v = (P * np.arange(3) ** 2).sum(-1) - e**2
    obs = ~np.isnan(x)
    r2 = np.where(obs, (np.nan_to_num(x) - e) ** 2, 0)
    assert np.allclose(fit.outfit, (np.where(obs, r2 / v, 0)).sum(1) / obs.sum(1))
    assert np.allclose(fit.infit, r2.sum(1) / np.where(obs, v, 0).sum(1))
    # Guttman errors by brute force over pairs of item steps ordered by popularity
    steps = [(j, s) for j in range(7) for s in range(1, 3 if j == 6 else 2)]
    pop = np.array([np.mean(x[obs[:, j], j] >= s) for j, s in steps])
    order = np.argsort(-pop, kind="stable")
    for p in range(0, 300, 17):
        seq = [x[p, steps[i][0]] >= steps[i][1] for i in order if obs[p, steps[i][0]]]
        g = sum(1 for a in range(len(seq)) for b in range(a + 1, len(seq)) if not seq[a] and seq[b])
        assert fit.guttman[p] == g


def test_a_theta_of_the_wrong_length_is_refused():
    params = _bank(5, 5)
    with pytest.raises(DigicompError, match="one per person"):
        person_fit(params, Responses.from_dense(np.zeros((3, 5), int)), np.zeros(4))


@pytest.mark.slow
def test_random_guessers_are_detected():
    """Issue 13's target: 90% of random guessers (4-option items: correct with probability 1/4 whatever the item)
    flagged at 5% false alarms. On a 2PL bank with 40 items answered, lz* < -1.645 (the nominal 5% cut) flags
    them; false alarms among model-following persons stay at the nominal level."""
    params = _bank(40, 6)
    rng = np.random.default_rng(7)
    honest = params.simulate(rng.normal(size=20_000), rng)
    guessers = (rng.random((2_000, 40)) < 0.25).astype(int)
    fit = person_fit(params, Responses.from_dense(np.vstack([honest, guessers])), method="WLE")
    false_alarm = fit.misfit[:20_000].mean()
    detected = fit.misfit[20_000:].mean()
    assert false_alarm < 0.05 + 3 * np.sqrt(0.05 * 0.95 / 20_000)
    assert detected >= 0.90
