"""Simulation against a multidimensional truth: draws, answers, per-area metrics of unidimensional and MCAT designs."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.cat import AdaptiveTest
from digicomp.cat.state import BatchState
from digicomp.errors import BankError, ParameterError
from digicomp.levels import group_scores, level_index
from digicomp.models import ItemParameters
from digicomp.simulation.multidim import (
    MultidimResponder,
    area_truth,
    draw_multidim_thetas,
    simulate_areas,
)
from tests.cat.test_mcat import mbank_data


@pytest.fixture(scope="module")
def mbank() -> ItemBank:
    return ItemBank(BankFile.model_validate(mbank_data(n=120, enemies=False)))


@pytest.fixture(scope="module")
def ubank(mbank) -> ItemBank:
    """The same items as a unidimensional bank (slope = the item's one slope): today's kind of bank."""
    data = mbank_data(n=120, enemies=False)
    for item in data["items"]:
        p = item["params"]
        a = max(p["a"])
        if item["model"] == "GPCM":
            steps = -np.diff(np.concatenate([[0.0], p["intercept"]])) / a
            item["params"] = {"a": a, "b": steps.tolist()}
        else:
            item["params"] = {"a": a, "b": -p["intercept"] / a, "c": p["c"]}
    for key in ("dimensions", "latent", "overall"):
        data.pop(key)
    return ItemBank(BankFile.model_validate(data))


def test_draws_have_the_asked_correlation():
    R = np.array([[1.0, 0.8, 0.3], [0.8, 1.0, 0.5], [0.3, 0.5, 1.0]])
    theta = draw_multidim_thetas(R, 20000, seed=1)
    # SE of a correlation near r is (1 - r²)/√n ≤ 0.0071: 4 SE
    np.testing.assert_allclose(np.corrcoef(theta.T), R, atol=0.03)
    np.testing.assert_array_equal(theta, draw_multidim_thetas(R, 20000, seed=1))
    with pytest.raises(ParameterError, match="not positive definite"):
        draw_multidim_thetas([[1, 1.2], [1.2, 1]], 5, seed=0)


def test_responder_answers_with_the_true_probabilities(mbank):
    n = 20000
    theta = np.tile([[0.5, -0.3, 1.0]], (n, 1))
    state = BatchState.empty(np.arange(n, dtype=np.uint64), np.zeros(3), mbank.n_items, 0, 1, 0.0, 1.0)
    resp = MultidimResponder(mbank.mparams, theta, np.arange(mbank.n_items))
    for j in (0, 1, 9):  # 3PL items on areas 1 and 2, a GPCM item
        x = resp(state, np.arange(n), np.full(n, j))
        p = np.exp(mbank.mparams.log_prob(theta[:1]))[0, j, : mbank.mparams.n_categories[j]]
        freq = np.bincount(x, minlength=p.size) / n
        assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-12)


def test_unidimensional_design_is_scored_by_its_reports_area_subscores(mbank, ubank):
    engine = AdaptiveTest(ubank, {"selection": {"rule": "mfi"}, "stop": {"max_items": 12}})
    theta = draw_multidim_thetas(mbank.dims.correlation, 50, seed=3)
    res = simulate_areas(engine, mbank, theta, seed=4)
    assert res.areas == ["1", "2", "3"]
    np.testing.assert_array_equal(res.truth, theta)
    # person 0 again, by hand: the session's answers, then the report's per-area EAP
    session = engine.start(seed=(4, 0))
    respond = MultidimResponder(mbank.mparams, theta[:1], np.arange(mbank.n_items))
    while (item := session.next_item()) is not None:
        x = respond(session.state, np.array([0]), np.array([ubank.index_of(item.id)]))
        session.record(item.id, int(x[0]))
    t = engine.core.tables
    items = session.state.sequence[0, : session.state.n_given[0]]
    want, sd, _ = group_scores(
        t.log_prob_jkq, t.log_prior, t.points, items, session.state.responses[0, : len(items)], ubank.area_index, 3
    )
    np.testing.assert_allclose(res.estimate[0], want, atol=1e-12)
    table = res.table()
    err = res.estimate - res.truth
    for g, row in enumerate(table):
        assert row["rmse"] == pytest.approx(np.sqrt(np.mean(err[:, g] ** 2)))
        assert row["bias"] == pytest.approx(err[:, g].mean())
        right = level_index(res.estimate[:, g], res.cuts) == level_index(res.truth[:, g], res.cuts)
        assert row["level_accuracy"] == pytest.approx(right.mean())


def test_bifactor_area_truth_is_what_the_area_items_measure():
    class Dims:
        area = [None, "1", "2"]
        general = 0

    class Truth:
        dims = Dims()
        mparams = type("M", (), {"a": np.array([[0.5, 1.5, 0.0], [1.0, 1.0, 0.0], [0.6, 0.0, 1.2]])})()

    theta = np.array([[1.0, -1.0, 2.0]])
    codes, got = area_truth(Truth(), theta)
    assert codes == ["1", "2"]
    ag, as_ = 0.75, 1.25
    np.testing.assert_allclose(got[0], [(ag * 1 + as_ * -1) / 2, (0.6 * 1 + 1.2 * 2) / 1.8])


def test_truth_must_hold_the_items_a_design_may_give(mbank):
    other = ItemParameters.dichotomous(a=[1.0, 1.0], b=[0.0, 1.0], ids=["zz1", "zz2"])
    engine = AdaptiveTest(other, {"stop": {"max_items": 2}})
    with pytest.raises(BankError, match="truth: has no items"):
        simulate_areas(engine, mbank, np.zeros((3, 3)))


@pytest.mark.slow
def test_mcat_beats_unidimensional_subscores_and_its_se_is_calibrated(mbank, ubank):
    """Same persons, same items, same length: the joint posterior's per-area RMSE is lower in every area and
    matches its own mean SE (MSE vs mean SE² within 4 standard errors of the mean of squared errors)."""
    theta = draw_multidim_thetas(mbank.dims.correlation, 600, seed=8)
    today = simulate_areas(
        AdaptiveTest(ubank, {"selection": {"rule": "mfi"}, "stop": {"max_items": 15}}), mbank, theta, seed=1
    )
    mcat = simulate_areas(
        AdaptiveTest(mbank, {"selection": {"rule": "bayesian_d_optimality"}, "stop": {"max_items": 15}}),
        mbank,
        theta,
        seed=1,
    )
    t, m = today.table(), mcat.table()
    assert all(b["rmse"] < a["rmse"] for a, b in zip(t, m))
    err2 = (mcat.estimate - mcat.truth) ** 2
    se_mse = err2.std(axis=0) / np.sqrt(err2.shape[0])
    assert np.all(np.abs(err2.mean(axis=0) - (mcat.se**2).mean(axis=0)) < 4 * se_mse)


def test_one_theta_simulation_refuses_a_multidimensional_design(mbank):
    from digicomp import simulate
    from digicomp.errors import DesignError

    with pytest.raises(DesignError, match="is multidimensional; simulate\\(\\) draws one θ per person"):
        simulate(AdaptiveTest(mbank, {"selection": {"rule": "d_optimality"}, "stop": {"max_items": 5}}), n=10)


def test_bifactor_truth_end_to_end():
    """A general factor plus areas as the truth: an MCAT on that bank reports areas against what their items measure."""
    data = mbank_data(n=60, enemies=False)
    data["dimensions"].insert(0, {"id": "g", "name": {"vi": "Chung", "en": "General"}, "general": True})
    data["latent"]["correlation"] = np.eye(4).tolist()
    data["overall"] = {"dimension": "g"}
    for item in data["items"]:
        item["params"]["a"] = [0.9] + [0.6 * (x > 0) for x in item["params"]["a"]]
    truth = ItemBank(BankFile.model_validate(data))
    theta = draw_multidim_thetas(truth.dims.correlation, 40, seed=2)
    engine = AdaptiveTest(truth, {"selection": {"rule": "bayesian_d_optimality"}, "stop": {"max_items": 12}})
    res = simulate_areas(engine, truth, theta, seed=3)
    codes, want = area_truth(truth, theta)
    assert res.areas == codes == ["1", "2", "3"]
    np.testing.assert_allclose(res.truth, want)
    np.testing.assert_allclose(want[:, 0], (0.9 * theta[:, 0] + 0.6 * theta[:, 1]) / 1.5)
    assert all(0 < row["rmse"] < 1 for row in res.table())
