"""Selection rules against hand-computed values on small banks (dichotomous and polytomous)."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.cat import AdaptiveTest
from digicomp.cat.context import StepContext
from digicomp.cat.selection import (
    KullbackLeibler,
    b_blocked_strata,
    max_information,
    min_expected_posterior_variance,
    posterior_kullback_leibler,
    posterior_weighted_information,
    register_rule,
)
from digicomp.models import ItemParameters


def context(params: ItemParameters, answers=(), design=None) -> StepContext:
    """A one-person step context after the given (item, category) answers."""
    engine = AdaptiveTest(params, design or {"stop": {"max_items": 10}})
    state = engine.new_batch(1, seed=0)
    for j, x in answers:
        engine.core.record(state, np.array([0]), np.array([j]), np.array([x]))
    return StepContext(engine.core.tables, state, np.array([0]), 10)


def test_mfi_picks_the_most_informative_item_at_theta_zero():
    # I = a² P (1 − P) at θ = 0: 0.25, 4·σ(−4)σ(4) = 0.0707, 2.25·σ(−0.15)σ(0.15) = 0.5593
    params = ItemParameters.dichotomous(a=[1.0, 2.0, 1.5], b=[0.0, 2.0, 0.1])
    ctx = context(params)
    np.testing.assert_allclose(max_information(ctx)[0], [0.25, 0.070651, 0.559349], atol=2e-4)
    engine = AdaptiveTest(params, {"stop": {"max_items": 3}})
    rows, items = engine.core.select(engine.new_batch(1, seed=0))
    assert items.tolist() == [2]


def test_mfi_works_for_graded_items():
    # GRM, a = 1, thresholds ±1 vs. ±3: at θ = 0 the narrow item is more informative
    params = ItemParameters.graded(a=[1.0, 1.0], b=[[-3.0, 3.0], [-1.0, 1.0]])
    ctx = context(params)
    p = 1 / (1 + np.exp(-1.0))
    # GRM information: Σ_k (P*'_{k} − P*'_{k+1})² / P_k with P*' = P*(1 − P*)
    ps = np.array([1.0, p, 1 - p, 0.0])
    d = ps * (1 - ps)
    probs = ps[:-1] - ps[1:]
    expected = ((d[:-1] - d[1:]) ** 2 / probs).sum()
    assert max_information(ctx)[0, 1] == pytest.approx(expected, rel=1e-3)
    assert max_information(ctx)[0, 1] > max_information(ctx)[0, 0]


def test_posterior_weighted_information_is_the_posterior_mean_of_information():
    params = ItemParameters.dichotomous(a=[1.0, 1.7, 0.8], b=[-1.0, 0.5, 1.0])
    ctx = context(params, [(0, 1)])
    w = ctx.weights[0]
    expected = (w[:, None] * params.information(ctx.tables.points)).sum(axis=0)
    np.testing.assert_allclose(posterior_weighted_information(ctx)[0], expected, rtol=1e-12)


def test_mepv_matches_brute_force_expected_posterior_variance():
    params = ItemParameters.concat(
        [
            ItemParameters.dichotomous(a=[1.0, 1.7], b=[-1.0, 0.5], c=[0.0, 0.2]),
            ItemParameters.graded(a=[1.2], b=[[-0.5, 0.8]], ids=["g"]),
        ]
    )
    ctx = context(params, [(0, 1)])
    w = ctx.weights[0]
    pts = ctx.tables.points
    probs = params.prob(pts)  # (Q, J, K)
    expected = []
    for j in range(params.n_items):
        total = 0.0
        for k in range(params.n_categories[j]):
            post = w * probs[:, j, k]
            m = post.sum()
            mean = (post * pts).sum() / m
            total += m * ((post * pts**2).sum() / m - mean**2)
        expected.append(-total)
    np.testing.assert_allclose(min_expected_posterior_variance(ctx)[0], expected, rtol=1e-9)


def test_kl_index_matches_the_bernoulli_divergence_summed_over_the_interval():
    params = ItemParameters.dichotomous(a=[1.3], b=[0.4])
    ctx = context(params, [(0, 1)])
    pts = ctx.tables.points
    th = ctx.theta[0]
    p_hat = params.prob(np.array([th]))[0, 0, 1]
    q = params.prob(pts)[:, 0, 1]
    kl = p_hat * np.log(p_hat / q) + (1 - p_hat) * np.log((1 - p_hat) / (1 - q))
    inside = np.abs(pts - th) <= 3.0  # δ = 3/√1
    assert KullbackLeibler(3.0)(ctx)[0, 0] == pytest.approx((kl * inside).sum() * (pts[1] - pts[0]), rel=1e-9)
    assert posterior_kullback_leibler(ctx)[0, 0] == pytest.approx((kl * ctx.weights[0]).sum(), rel=1e-9)


def test_b_blocked_strata_spread_b_and_rise_in_a():
    # b order: items 0..7; blocks of 2: (0,1), (2,3), (4,5), (6,7); lower a of each block -> stratum 0
    a = np.array([2.0, 1.0, 0.5, 1.5, 1.1, 0.9, 0.7, 3.0])
    b = np.arange(8.0)
    assert b_blocked_strata(a, b, 2).tolist() == [1, 0, 0, 1, 1, 0, 0, 1]


def test_astrat_uses_the_low_a_stratum_first_and_b_closest_to_theta():
    a = np.array([2.0, 1.0, 0.5, 1.5, 1.1, 0.9, 0.7, 3.0])
    params = ItemParameters.dichotomous(a=a, b=np.linspace(-1.5, 2.0, 8))
    engine = AdaptiveTest(params, {"selection": {"rule": "astrat", "strata": 2}, "stop": {"max_items": 4}})
    state = engine.new_batch(1, seed=0)
    _, items = engine.core.select(state)
    # stratum 0 holds items 1, 2, 5, 6 (b = −1, −0.5, 1, 1.5); θ̂ = 0 -> item 2 (b = −0.5)
    assert items.tolist() == [2]


def test_random_rule_is_uniform_over_items():
    params = ItemParameters.dichotomous(a=np.ones(5), b=np.zeros(5))
    engine = AdaptiveTest(params, {"selection": {"rule": "random"}, "stop": {"max_items": 1}})
    _, items = engine.core.select(engine.new_batch(5000, seed=1))
    counts = np.bincount(items, minlength=5)
    assert np.all(np.abs(counts - 1000) < 4 * np.sqrt(5000 * 0.2 * 0.8))


def test_a_custom_rule_registered_by_name_is_used():
    register_rule("last-item", lambda ctx: np.tile(np.arange(ctx.tables.n_items, dtype=float), (ctx.n, 1)))
    params = ItemParameters.dichotomous(a=np.ones(4), b=np.zeros(4))
    engine = AdaptiveTest(params, {"selection": {"rule": "custom", "name": "last-item"}, "stop": {"max_items": 2}})
    _, items = engine.core.select(engine.new_batch(1, seed=0))
    assert items.tolist() == [3]


@pytest.mark.parametrize("rule", ["mfi", "mlwi", "mpwi", "mepv", "kl", "klp", "astrat", "random"])
def test_every_rule_runs_a_mixed_dichotomous_polytomous_bank(rule):
    rng = np.random.default_rng(5)
    params = ItemParameters.concat(
        [
            ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, 20), b=rng.normal(size=20), c=0.1),
            ItemParameters.graded(
                a=rng.lognormal(0, 0.3, 5), b=np.sort(rng.normal(size=(5, 3)), axis=1), ids=[f"g{i}" for i in range(5)]
            ),
            ItemParameters.partial_credit(a=np.ones(5), b=rng.normal(size=(5, 2)), ids=[f"p{i}" for i in range(5)]),
        ]
    )
    engine = AdaptiveTest(params, {"selection": {"rule": rule}, "stop": {"max_items": 12}})
    from .conftest import responder

    state = engine.new_batch(30, seed=2)
    engine.core.run(state, responder(params, rng.normal(size=30)))
    assert np.all(state.n_given == 12)
    assert all(len(set(row[:12])) == 12 for row in state.sequence)
