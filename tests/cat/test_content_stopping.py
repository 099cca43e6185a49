"""Content constraints, enemies and exclusions always hold; stopping rules stop where they should."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.cat import AdaptiveTest
from digicomp.cat.context import StepContext
from digicomp.cat.stopping import SPRT
from digicomp.levels import level_index
from digicomp.models import ItemParameters

from .conftest import params_bank, responder


def run(engine, n, seed, theta=None):
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n) if theta is None else theta
    state = engine.new_batch(n, seed=seed)
    engine.core.run(state, responder(engine.core.tables.params, theta))
    return state, theta


def area_counts(bank, state):
    return np.stack([np.bincount(bank.area_index[row[row >= 0]], minlength=len(bank.areas)) for row in state.sequence])


def test_minimum_and_maximum_per_area_always_hold(cbank):
    design = {
        "content": {
            "constraints": [{"group": "1", "min": 4, "max": 6}, {"group": "2", "min": 3}, {"group": "4", "max": 1}]
        },
        "stop": {"max_items": 12, "min_items": 4, "rules": [{"se": 0.45}]},
    }
    state, _ = run(AdaptiveTest(cbank, design), 300, seed=1)
    counts = area_counts(cbank, state)
    a = {code: i for i, code in enumerate(cbank.areas)}
    assert np.all((counts[:, a["1"]] >= 4) & (counts[:, a["1"]] <= 6))
    assert np.all(counts[:, a["2"]] >= 3)
    assert np.all(counts[:, a["4"]] <= 1)


def test_enemies_never_appear_in_the_same_test(cbank):
    state, _ = run(AdaptiveTest(cbank, {"stop": {"max_items": 40}}), 300, seed=2)
    given = state.administered
    pairs = cbank.enemy_pairs
    assert pairs.size
    assert not np.any(given[:, pairs[:, 0]] & given[:, pairs[:, 1]])


def test_excluded_and_self_assessment_items_are_never_given(cbank):
    design = {"content": {"exclude": {"ids": ["q000", "q005"]}}, "stop": {"max_items": 60}}
    state, _ = run(AdaptiveTest(cbank, design), 100, seed=3)
    never = [cbank.ids.index(i) for i in ("q000", "q005", "sa0", "sa1")]
    assert not state.administered[:, never].any()


@pytest.mark.parametrize("method", ["kingsbury_zara", "mpi"])
def test_target_proportions_are_approached(cbank, method):
    targets = {"1": 0.4, "2": 0.3, "3": 0.2, "4": 0.1}
    design = {
        "content": {"method": method, "constraints": [{"group": g, "target": t} for g, t in targets.items()]},
        "stop": {"max_items": 20},
    }
    state, _ = run(AdaptiveTest(cbank, design), 200, seed=4)
    share = area_counts(cbank, state).mean(axis=0) / 20
    for g, t in targets.items():
        assert share[cbank.areas.index(g)] == pytest.approx(t, abs=0.06)


def test_posterior_classification_reaches_the_stated_accuracy():
    cuts = np.array([-1.0, 0.0, 1.0])
    data = ItemBank.from_item_parameters(params_bank(200)).to_dict()
    data["scale"] = {
        "D": 1.0,
        "levels": ["l1", "l2", "l3", "l4"],
        "cut_scores": cuts.tolist(),
        "cut_source": {"status": "provisional", "rule": "r"},
    }
    bank = ItemBank(BankFile.model_validate(data))
    engine = AdaptiveTest(bank, {"stop": {"max_items": 60, "rules": [{"classification": 0.9}]}})
    state, theta = run(engine, 2000, seed=5)
    decided = state.stop_reason == "classification"
    assert decided.mean() > 0.5
    correct = level_index(state.theta[decided], cuts) == level_index(theta[decided], cuts)
    n = decided.sum()
    assert correct.mean() >= 0.9 - 3 * np.sqrt(0.09 / n)  # posterior ≥ 0.9 is calibrated under the N(0,1) prior


def test_ci_rule_stops_only_when_no_cut_lies_in_the_interval(cbank):
    engine = AdaptiveTest(cbank, {"stop": {"max_items": 30, "rules": [{"ci": 1.96}]}})
    state, _ = run(engine, 300, seed=6)
    stopped = state.stop_reason == "ci"
    lo, hi = state.theta - 1.96 * state.se, state.theta + 1.96 * state.se
    inside = (cbank.cut_scores[None] > lo[:, None]) & (cbank.cut_scores[None] < hi[:, None])
    assert stopped.any() and not inside[stopped].any()


def test_sprt_log_likelihood_ratio_matches_the_hand_computed_one():
    # one 2PL item a = 1, b = 0, answered right; cut 0, δ = 0.5: log LR = log σ(0.5) − log σ(−0.5) = 0.5
    params = ItemParameters.dichotomous(a=[1.0, 1.0], b=[0.0, 0.0])
    rule = SPRT.build(params, np.array([0.0]), 0.5, alpha=0.3, beta=0.3)  # bounds ±log(0.7/0.3) = ±0.847
    engine = AdaptiveTest(params, {"stop": {"max_items": 2}})
    state = engine.new_batch(1, seed=0)
    engine.core.record(state, np.array([0]), np.array([0]), np.array([1]))
    ctx = StepContext(engine.core.tables, state, np.array([0]), 2)
    assert not rule.check(ctx)[0]
    engine.core.record(state, np.array([0]), np.array([1]), np.array([1]))  # log LR = 1.0 > 0.847
    assert rule.check(StepContext(engine.core.tables, state, np.array([0]), 2))[0]


def test_min_items_and_combine_all():
    params = params_bank(100)
    engine = AdaptiveTest(
        params, {"stop": {"max_items": 30, "min_items": 8, "combine": "all", "rules": [{"se": 0.5}, {"min_info": 5.0}]}}
    )
    state, _ = run(engine, 100, seed=7)
    assert np.all(state.n_given >= 8)
    early = state.stop_reason != "max_items"
    assert set(state.stop_reason[early]) <= {"se+min_info"}
    assert np.all(state.se[early] < 0.5)
