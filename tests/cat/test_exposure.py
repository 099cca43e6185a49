"""Exposure control: randomesque choices, Sympson–Hetter acceptance rates and calibration, eligibility."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.cat import AdaptiveTest
from digicomp.cat.draws import person_keys
from digicomp.cat.exposure import ExposureLedger, best, ranked, tie_order
from digicomp.cat.sympson_hetter import calibrate_sympson_hetter, simulate_answers

from .conftest import params_bank


def test_ranked_orders_best_first_with_exact_ties_in_each_persons_own_order():
    crit = np.array([[0.1, 0.5, 0.5, -np.inf, 0.3]])
    keys = person_keys(3, np.arange(200))
    order = tie_order(keys, 5)
    got = ranked(np.repeat(crit, 200, axis=0), 3, keys)
    first = np.where(order[:, 1] > order[:, 2], 1, 2)
    assert got[:, 0].tolist() == first.tolist() and got[:, 1].tolist() == (3 - first).tolist()
    assert (got[:, 2] == 4).all()
    assert 0 < (first == 1).sum() < 200  # persons differ in which twin comes first


def test_a_tie_at_the_boundary_of_the_k_best_is_decided_by_the_persons_order():
    """Four items share the 2nd-best value; which of them make the top 3 follows the tie order, not the bank."""
    crit = np.array([[0.9, 0.5, 0.5, 0.5, 0.5, 0.1]])
    keys = person_keys(5, np.arange(300))
    order = tie_order(keys, 6)
    got = ranked(np.repeat(crit, 300, axis=0), 3, keys)
    expect = 1 + np.argsort(-order[:, 1:5], axis=1, kind="stable")[:, :2]
    assert (got[:, 0] == 0).all() and np.array_equal(got[:, 1:], expect)
    assert set(np.unique(got[:, 1:])) == {1, 2, 3, 4}


def test_best_takes_the_highest_tie_order_among_equal_maxima_and_minus_one_when_nothing_is_open():
    keys = person_keys(9, np.arange(4))
    crit = np.array([[0.2, 0.7, 0.7, 0.7], [0.9, 0.7, 0.7, 0.1], [-np.inf] * 4, [0.3, 0.3, -np.inf, -np.inf]])
    order = tie_order(keys, 4)
    got = best(crit, keys)
    assert got[0] == 1 + np.argmax(order[0, 1:]) and got[1] == 0 and got[2] == -1
    assert got[3] == np.argmax(order[3, :2])


def test_randomesque_picks_uniformly_among_the_k_best():
    params = params_bank(40)
    engine = AdaptiveTest(params, {"exposure": {"method": "randomesque", "k": 4}, "stop": {"max_items": 5}})
    state = engine.new_batch(4000, seed=1)
    _, items = engine.core.select(state)
    best4 = np.argsort(-params.information(0.0), kind="stable")[:4]
    assert set(items) == set(best4)
    counts = np.bincount(items, minlength=40)[best4]
    assert np.all(np.abs(counts - 1000) < 4 * np.sqrt(4000 * 0.25 * 0.75))


def test_sympson_hetter_gives_the_best_item_with_probability_k():
    params = params_bank(40)
    best = int(np.argmax(params.information(0.0)))
    k = {params.ids[best]: 0.3}
    engine = AdaptiveTest(params, {"exposure": {"method": "sympson_hetter", "parameters": k}, "stop": {"max_items": 5}})
    state = engine.new_batch(5000, seed=2)
    _, items = engine.core.select(state)
    rate = np.mean(items == best)
    assert abs(rate - 0.3) < 4 * np.sqrt(0.3 * 0.7 / 5000)
    assert state.selected[best] == 5000  # every person considered it first


def test_item_eligibility_probabilities_follow_the_ledger():
    ledger = ExposureLedger(3, persons=100, eligible=np.array([100, 50, 100]), given=np.array([60, 10, 5]))
    # P(E) = min(1, r_max · ε / α) with r_max = 0.3: 0.3·100/60 = 0.5, 0.3·50/10 = 1.5 → 1, 0.3·100/5 → 1
    np.testing.assert_allclose(ledger.eligibility_probability(0.3), [0.5, 1.0, 1.0])


def test_progressive_restricted_withholds_items_at_the_maximum_rate():
    params = params_bank(30)
    ledger = ExposureLedger(30)
    best = int(np.argmax(params.information(0.0)))
    administered = np.zeros((10, 30), bool)
    administered[:5, best] = True
    ledger.add(np.ones((10, 30), bool), administered)
    engine = AdaptiveTest(
        params,
        {"exposure": {"method": "progressive_restricted", "r_max": 0.5}, "stop": {"max_items": 5}},
        ledger=ledger,
    )
    _, items = engine.core.select(engine.new_batch(200, seed=3))
    assert best not in items


def run_exposure(engine, n, seed):
    rng = np.random.default_rng(seed)
    state = engine.new_batch(n, seed=seed)
    engine.core.run(state, simulate_answers(engine.core, rng.standard_normal(n)))
    return state.exposed / n


@pytest.mark.slow
def test_sympson_hetter_calibration_keeps_max_exposure_under_target_in_5000_persons():
    params = params_bank(150)
    design = {"stop": {"max_items": 20}}
    free = run_exposure(AdaptiveTest(params, design), 5000, seed=4)
    assert free.max() > 0.5  # without control the best items are given to most people
    target = 0.25
    result = calibrate_sympson_hetter(
        AdaptiveTest(params, design).core, r_max=target - 0.03, n_persons=2000, rounds=16, seed=5
    )
    controlled = AdaptiveTest(
        params, {**design, "exposure": {"method": "sympson_hetter", "parameters": result.as_mapping()}}
    )
    rates = run_exposure(controlled, 5000, seed=6)
    assert rates.max() < target


def test_sympson_hetter_calibration_lowers_the_maximum_exposure():
    params = params_bank(80)
    core = AdaptiveTest(params, {"stop": {"max_items": 10}}).core
    result = calibrate_sympson_hetter(core, r_max=0.3, n_persons=400, rounds=4, seed=1)
    assert result.max_exposure[0] > 0.6
    assert result.max_exposure[-1] < result.max_exposure[0]
    assert np.all((result.k > 0) & (result.k <= 1))
