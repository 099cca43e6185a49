"""The lock-step batch core: one posterior row-add per answer, and a batch equal to independent sessions."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.cat import AdaptiveTest
from digicomp.cat.draws import person_keys, session_key, uniforms
from digicomp.errors import ResponseError
from digicomp.scoring import score

from .conftest import params_bank, responder

SE30 = {"stop": {"max_items": 30, "rules": [{"se": 0.3}]}}


def run_batch(engine: AdaptiveTest, theta: np.ndarray, seed: int):
    state = engine.new_batch(theta.size, seed=seed)
    engine.core.run(state, responder(engine.core.tables.params, theta))
    return state


def test_posterior_update_equals_eap_scoring_of_the_same_answers():
    params = params_bank(60)
    engine = AdaptiveTest(params, SE30)
    theta = np.array([-1.0, 0.0, 1.5])
    state = run_batch(engine, theta, seed=1)
    dense = np.full((3, params.n_items), -1)
    for p in range(3):
        n = state.n_given[p]
        dense[p, state.sequence[p, :n]] = state.responses[p, :n]
    ref = score(params, dense, method="EAP")
    np.testing.assert_allclose(state.theta, ref.theta, atol=1e-9)
    np.testing.assert_allclose(state.se, ref.se, atol=1e-9)


def test_batch_gives_each_person_the_test_they_get_alone():
    params = params_bank(150)
    engine = AdaptiveTest(params, {**SE30, "exposure": {"method": "randomesque", "k": 4}})
    theta = np.random.default_rng(3).normal(size=40)
    batch = run_batch(engine, theta, seed=9)
    for p in (0, 7, 39):
        alone = engine.core.new_batch(person_keys(9, [p]))
        engine.core.run(alone, responder(params, theta[[p]]))
        n = batch.n_given[p]
        assert alone.n_given[0] == n
        np.testing.assert_array_equal(alone.sequence[0, :n], batch.sequence[p, :n])
        assert alone.theta[0] == pytest.approx(batch.theta[p], abs=1e-12)


def test_session_key_of_seed_and_index_matches_the_batch_key():
    assert session_key((5, 3)) == int(person_keys(5, [3])[0])
    assert session_key(5) == int(person_keys(5, [0])[0])


def test_uniform_draws_are_uniform_and_keyed():
    keys = person_keys(1, np.arange(20000))
    u = uniforms(keys, np.zeros(20000, int), 1)
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / 20000)
    assert not np.array_equal(u, uniforms(keys, np.ones(20000, int), 1))
    np.testing.assert_array_equal(u[5:9], uniforms(keys[5:9], np.zeros(4, int), 1))


def test_mfi_eap_reaches_the_standard_error_target_or_the_maximum_length():
    params = params_bank(200)
    engine = AdaptiveTest(params, SE30)
    theta = np.random.default_rng(4).normal(size=300)
    state = run_batch(engine, theta, seed=2)
    stopped_se = state.stop_reason == "se"
    assert np.all(state.se[stopped_se] < 0.3)
    assert np.all(state.n_given[~stopped_se] == 30)
    assert np.all(state.n_given <= 30)
    rmse = np.sqrt(np.mean((state.theta - theta) ** 2))
    assert rmse < 0.3 + 4 * 0.3 / np.sqrt(2 * 300)  # SE ≈ 0.3 per person; generous sampling margin


def test_each_person_gets_no_item_twice_and_stops_when_the_bank_runs_out():
    params = params_bank(12)
    engine = AdaptiveTest(params, {"stop": {"max_items": 40, "rules": [{"se": 0.01}]}})
    state = run_batch(engine, np.zeros(5), seed=3)
    assert set(state.stop_reason) == {"no_items"}
    for p in range(5):
        assert sorted(state.sequence[p, :12]) == list(range(12))


def test_record_refuses_a_category_outside_the_item():
    engine = AdaptiveTest(params_bank(10), SE30)
    state = engine.new_batch(1, seed=0)
    rows, items = engine.core.select(state)
    with pytest.raises(ResponseError, match="outside its categories 0..1"):
        engine.core.record(state, rows, items, np.array([2]))
