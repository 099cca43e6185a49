"""Simulation = live, bit for bit: every selection rule on every bundled bank, whatever the chunking or processes.

A simulated person i of ``simulate(..., seed=s)`` must get exactly the test that the live session
``engine.start(seed=(s, i))`` gives when answered by the same response rule: the same items in the same order,
the same θ̂ and SE after the last answer (bit for bit, not approximately) and the same stop reason, in a chunk
of 1, 17 or 1000 persons, in 1 or 2 processes. The bundled banks have provisional parameters, so most items
share their parameters with many others: selection meets exact ties at every step, which is what this checks.
"""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.bundled import list_bundled
from digicomp.cat import AdaptiveTest
from digicomp.cat.design import load_design
from digicomp.cat.draws import STREAM_RESPONSE, uniforms
from digicomp.simulation import simulate
from digicomp.simulation.responder import category_from_uniform
from tests.banks import answer_for

RULES = ("mfi", "mlwi", "mpwi", "mepv", "kl", "klp", "astrat", "random")
BANKS = list_bundled("item_banks")
CHUNKS = (1, 17, 1000)
PER_PERSON = (
    "theta",
    "se",
    "n_items",
    "stop_reason",
    "sequence",
    "responses",
    "level_probabilities",
    "area_theta",
    "area_se",
)
N_PERSONS = 40
SEED = 23


@pytest.fixture(scope="module", params=BANKS)
def bank(request):
    return load_bank(request.param)


def thetas(n: int) -> np.ndarray:
    """True abilities spread over the scale (ties in selection happen at every θ)."""
    return np.random.default_rng(SEED).normal(0.0, 1.3, n)


def rule_design(rule: str, **overrides) -> dict:
    """A short test with ``rule``; self-assessment (GRM) items allowed so polytomous tables are used too."""
    design = {
        "id": rule,
        "selection": {"rule": rule},
        "content": {"self_assessment": True},
        "stop": {"min_items": 6, "max_items": 16, "rules": [{"se": 0.35}]},
        "report": {"audit": False},
    }
    design.update(overrides)
    return design


def live(engine: AdaptiveTest, seed: int, index: int, theta: float) -> dict:
    """Person ``index``'s live session, answered by the simulation's response rule (one uniform per answer)."""
    bank, params = engine.bank, engine.bank.params
    session = engine.start(person_id=f"p{index}", seed=(seed, index))
    key = np.array([session.key], np.uint64)
    while (view := session.next_item()) is not None:
        j = bank.index_of(view.id)
        u = uniforms(key, len(session.items), STREAM_RESPONSE)
        category = int(category_from_uniform(u, params.prob_at(np.array([theta]), np.array([j])))[0])
        session.record(view.id, answer_for(bank, view.id, category))
    return {"items": session.items, "theta": session.theta, "se": session.se, "stop_reason": session.stop_reason}


def simulated(design, bank, theta: np.ndarray, chunk_size: int, processes: int = 1):
    result = simulate(
        design, bank=bank, thetas=theta, seed=SEED, baseline="none", chunk_size=chunk_size, processes=processes
    )
    return next(iter(result))


def assert_same_study(a, b, what: str) -> None:
    assert set(PER_PERSON) <= set(a.outcome), f"{what}: outcome lacks {set(PER_PERSON) - set(a.outcome)}"
    for key in PER_PERSON:
        differ = np.flatnonzero((a.outcome[key] != b.outcome[key]).reshape(len(a.outcome[key]), -1).any(axis=1))
        assert differ.size == 0, f"{what}: {key} differs for {differ.size} persons (first: {differ[:5].tolist()})"


def assert_simulation_is_live(sim, engine: AdaptiveTest, theta: np.ndarray) -> None:
    differ = []
    for i, t in enumerate(theta):
        got = live(engine, SEED, i, float(t))
        same = (
            sim.items(i) == got["items"]
            and sim.outcome["theta"][i] == got["theta"]  # bit for bit
            and sim.outcome["se"][i] == got["se"]
            and sim.outcome["stop_reason"][i] == got["stop_reason"]
        )
        if not same:
            differ.append(i)
    assert not differ, f"simulation and live sessions differ for {len(differ)} of {theta.size} persons: {differ[:5]}"


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_gives_each_simulated_person_the_live_test_in_chunks_of_any_size(bank, rule):
    design = rule_design(rule)
    theta = thetas(N_PERSONS)
    runs = {size: simulated(design, bank, theta, size) for size in CHUNKS}
    for size in CHUNKS[:-1]:
        assert_same_study(runs[size], runs[CHUNKS[-1]], f"{rule} on {bank.id}: chunk_size {size} vs {CHUNKS[-1]}")
    assert_simulation_is_live(runs[CHUNKS[-1]], AdaptiveTest(bank, design), theta)


@pytest.mark.parametrize("method", ["ML", "MAP", "WLE"])
def test_point_estimators_are_batch_independent_too(method):
    bank = load_bank("civil-service")
    design = rule_design("mpwi", scoring={"method": method})
    theta = thetas(N_PERSONS)
    whole, small = simulated(design, bank, theta, 1000), simulated(design, bank, theta, 17)
    assert_same_study(small, whole, f"{method} on {bank.id}: chunk_size 17 vs 1000")
    assert_simulation_is_live(whole, AdaptiveTest(bank, design), theta)


def test_the_balanced_example_is_the_same_study_in_any_chunking_processes_and_live():
    """The issue's case: examples/designs/civil-service-balanced.yaml (random first items, mpwi, randomesque,
    content targets by maximum priority index, classification or SE stopping)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "designs" / "civil-service-balanced.yaml"
    design = load_design(path)
    bank = load_bank("civil-service")
    theta = thetas(60)
    whole = simulated(design, bank, theta, 1000)
    assert_same_study(simulated(design, bank, theta, 17), whole, "chunk_size 17 vs 1000")
    assert_same_study(simulated(design, bank, theta, 1), whole, "chunk_size 1 vs 1000")
    assert_same_study(simulated(design, bank, theta, 17, processes=2), whole, "2 processes vs 1")
    assert_simulation_is_live(whole, AdaptiveTest(bank, design), theta)


def test_sympson_hetter_and_largest_deficit_content_control_too():
    bank = load_bank("civil-service")
    design = rule_design(
        "mlwi",
        exposure={"method": "sympson_hetter", "parameters": {item_id: 0.6 for item_id in bank.ids[::3]}},
        content={
            "by": "area",
            "method": "kingsbury_zara",
            "constraints": [{"group": g, "min": 2, "target": 0.25} for g in ("1", "2", "3", "4")],
        },
    )
    theta = thetas(N_PERSONS)
    whole = simulated(design, bank, theta, 1000)
    assert_same_study(simulated(design, bank, theta, 17), whole, "sympson-hetter + kingsbury-zara: chunk_size 17")
    assert_simulation_is_live(whole, AdaptiveTest(bank, design), theta)


@pytest.mark.parametrize("rule", ["mpwi", "mepv", "klp"])
def test_two_processes_give_the_study_of_one(bank, rule):
    design = rule_design(rule, exposure={"method": "randomesque", "k": 3})
    theta = thetas(N_PERSONS)
    one = simulated(design, bank, theta, 1000, processes=1)
    two = simulated(design, bank, theta, 13, processes=2)
    assert_same_study(two, one, f"{rule} on {bank.id}: 2 processes of 13-person chunks vs 1 of 1000")


def test_level_probabilities_of_a_person_alone_are_those_of_the_person_in_a_batch():
    """What the classification stopping rule compares with its bound, and what a simulation reports."""
    from digicomp.levels import level_probabilities

    points = np.linspace(-6, 6, 61)
    weights = np.random.default_rng(5).dirichlet(np.full(61, 0.3), size=300)
    batch = level_probabilities(weights, points, [-1.2, 0.0, 1.2])
    alone = np.vstack([level_probabilities(weights[i], points, [-1.2, 0.0, 1.2]) for i in range(300)])
    assert np.array_equal(batch, alone)


@pytest.mark.slow
@pytest.mark.parametrize("rule", RULES)
def test_every_rule_in_larger_studies(bank, rule):
    design = rule_design(rule, stop={"min_items": 10, "max_items": 30, "rules": [{"se": 0.3}]})
    theta = thetas(300)
    whole = simulated(design, bank, theta, 1000)
    for size in (1, 7, 64):
        assert_same_study(simulated(design, bank, theta, size), whole, f"{rule} on {bank.id}: chunk_size {size}")
    assert_simulation_is_live(whole, AdaptiveTest(bank, design), theta)
