"""Lord–Wingersky recursion and the EAP-for-sum-score table, checked against brute-force enumeration of every
response pattern (the definition: P(s | θ) = Σ over patterns with total s of Π_j P_j(x_j | θ)); sources: Lord &
Wingersky (1984), Thissen, Pommerich, Billeaud & Williams (1995)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.errors import DigicompError
from digicomp.models import ItemParameters
from digicomp.scoring.quadrature import NormalPrior, make_grid
from digicomp.scoring.sum_score import SUM_SCORE_POINTS, lord_wingersky, sum_score_table


def _mixed(seed: int) -> ItemParameters:
    rng = np.random.default_rng(seed)
    return ItemParameters.concat(
        [
            ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, 3), b=rng.normal(0, 1, 3), c=[0.0, 0.2, 0.1]),
            ItemParameters.graded(a=[1.3], b=[[-1.0, 0.2, 1.1]], ids=["g"]),
            ItemParameters.partial_credit(a=[0.8], b=[[0.3, -0.4]], ids=["p"]),
        ]
    )


def _brute_force(probs: np.ndarray, n_cat: np.ndarray) -> np.ndarray:
    """P(s | θ) by summing every response pattern's probability (Q, max + 1)."""
    total = int((n_cat - 1).sum())
    out = np.zeros(probs.shape[:-2] + (total + 1,))
    for pattern in itertools.product(*[range(k) for k in n_cat]):
        pr = np.prod([probs[..., j, x] for j, x in enumerate(pattern)], axis=0)
        out[..., sum(pattern)] += pr
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recursion_equals_enumeration_of_every_pattern(seed):
    params = _mixed(seed)
    probs = params.prob(make_grid(15))
    assert np.allclose(lord_wingersky(probs), _brute_force(probs, params.n_categories), rtol=0, atol=1e-14)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(-4, 4))
def test_distribution_sums_to_one_and_its_mean_is_the_expected_total(seed, theta):
    params = _mixed(seed)
    f = lord_wingersky(params.prob(np.array([theta])))[0]
    assert f.sum() == pytest.approx(1.0, abs=1e-12)
    assert f @ np.arange(f.size) == pytest.approx(params.expected_score(np.array([theta]))[0].sum(), abs=1e-10)


def test_table_equals_pattern_posteriors_pooled_by_total():
    """EAP[θ | s] is the posterior mean given the event {total = s}: enumerate patterns, pool by total."""
    params = _mixed(3)
    table = sum_score_table(params)
    pts = table.points
    prior = np.exp(-0.5 * pts**2)
    prior /= prior.sum()
    like = _brute_force(params.prob(pts), params.n_categories)
    post = like * prior[:, None]
    prob = post.sum(axis=0)
    eap = pts @ (post / prob)
    assert np.allclose(table.prob, prob, atol=1e-14)
    assert np.allclose(table.eap, eap, atol=1e-12)
    assert pts.size == SUM_SCORE_POINTS == 121  # mirt's fscores grid for one factor


def test_reliability_is_explained_over_total_variance_of_the_prior():
    """var(EAP) + E[SD²] = var(θ) under the prior (law of total variance), so reliability = var(EAP) / var(θ)."""
    params = _mixed(4)
    table = sum_score_table(params, prior=NormalPrior(0.0, 1.0))
    var_eap = table.prob @ (table.eap - table.prob @ table.eap) ** 2
    assert var_eap + table.prob @ table.sd**2 == pytest.approx(1.0, abs=1e-6)
    assert table.reliability == pytest.approx(var_eap, abs=1e-6)
    assert 0 < table.reliability < 1


def test_more_items_give_a_more_reliable_table_and_monotone_eap():
    rng = np.random.default_rng(5)
    short = ItemParameters.dichotomous(a=rng.lognormal(0, 0.2, 5), b=rng.normal(0, 1, 5))
    long = ItemParameters.dichotomous(a=rng.lognormal(0, 0.2, 30), b=rng.normal(0, 1, 30))
    t_short, t_long = sum_score_table(short), sum_score_table(long)
    assert t_long.reliability > t_short.reliability
    assert np.all(np.diff(t_long.eap) > 0)
    eap, sd = t_long.lookup([0, 30])
    assert eap[0] < eap[1] and np.all(sd > 0)


def test_items_selects_a_form_and_bad_scores_are_refused():
    params = _mixed(6)
    form = sum_score_table(params, items=[0, 1, 3])
    assert form.score[-1] == 1 + 1 + 3
    with pytest.raises(DigicompError, match="0..5"):
        form.lookup([6])
    with pytest.raises(DigicompError, match="items, categories"):
        lord_wingersky(np.ones(3))


def test_lsat7_table_matches_mirt_eapsum():
    """mirt's test-01-mirtOne.R ('dich'): fscores(mod, method = 'EAPsum') on LSAT7 2PL gives F1 = -1.86979,
    -1.431861, -0.9488463, -0.4131963, 0.1517289, 0.7271877, SE 0.6927032 ... 0.8009335, expected counts 10.08994 ...
    308.5536 and rxx_F1 = 0.4319948; the 2PL estimates are mirt's (tests/calibration/test_mirt_agreement.py)."""
    a = [0.9879254, 1.0808847, 1.7058006, 0.7651853, 0.7357980]
    d = [1.8560605, 0.8079786, 1.8042187, 0.4859966, 1.8545127]
    table = sum_score_table(ItemParameters(["2PL"] * 5, a, np.array(d)[:, None]))
    eap = [-1.86979, -1.431861, -0.9488463, -0.4131963, 0.1517289, 0.7271877]
    sd = [0.6927032, 0.6838697, 0.6942298, 0.7210951, 0.758772, 0.8009335]
    expected = [10.08994, 44.65882, 109.773, 207.7391, 319.1854, 308.5536]
    # the published parameters carry 7 digits; mirt's test tolerance is 1e-2
    assert np.max(np.abs(table.eap - eap)) < 2e-4
    assert np.max(np.abs(table.sd - sd)) < 2e-4
    assert np.max(np.abs(1000 * table.prob - expected)) < 2e-2  # counts of 1000: 2e-5 in probability
    observed = [12, 40, 114, 205, 321, 308]
    assert table.empirical_reliability(observed) == pytest.approx(0.4319948, abs=1e-4)
