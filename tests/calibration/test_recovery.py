"""Parameter recovery on simulated data for every model, complete and sparse (CAT-like) designs.

Each test checks that the RMSE of each parameter type is within what the reported standard errors predict:
RMSE² ≈ mean(SE²) when the SEs are right and bias is negligible; the bound 1.6·rms(SE) leaves room for the
sampling noise of an RMSE over a few dozen items (its relative SD is about 1/sqrt(2·n_items) ≈ 0.1 to 0.16).
"""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.calibration import calibrate
from digicomp.models import ItemParameters
from digicomp.responses import Responses


def _check(est: np.ndarray, truth: np.ndarray, se: np.ndarray, factor: float = 1.6) -> None:
    rmse = float(np.sqrt(np.mean((est - truth) ** 2)))
    rms_se = float(np.sqrt(np.mean(se**2)))
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    assert rmse < factor * rms_se, f"RMSE {rmse:.4f} vs rms SE {rms_se:.4f}"


def _sparse(x: np.ndarray, per_person: int, rng: np.random.Generator) -> Responses:
    n, J = x.shape
    keep = np.argsort(rng.random((n, J)), axis=1)[:, :per_person]
    person = np.repeat(np.arange(n), per_person)
    item = keep.ravel()
    return Responses.from_long(person, item, x[person, item], item_ids=[str(j) for j in range(J)])


def _internal(res, key: str) -> np.ndarray:
    return np.array([res.se_internal[i][key] for i in res.ids])


@pytest.mark.parametrize("sparse", [False, True], ids=["complete", "sparse"])
def test_2pl_recovers_slopes_and_intercepts(sparse):
    rng = np.random.default_rng(11)
    J = 30
    truth = ItemParameters.dichotomous(rng.lognormal(0, 0.3, J), rng.normal(0, 1, J))
    x = truth.simulate(rng.normal(0, 1, 4000 if not sparse else 8000), rng)
    data = _sparse(x, 12, rng) if sparse else x
    res = calibrate(data, "2PL", fit=False)
    order = np.argsort([int(i) for i in res.ids]) if sparse else np.arange(J)
    _check(res.params.slope[order], truth.slope, _internal(res, "a1")[order])
    _check(res.params.intercepts[order, 0], truth.intercepts[:, 0], _internal(res, "d")[order])
    assert res.converged


def test_rasch_recovers_intercepts_and_latent_sd():
    rng = np.random.default_rng(12)
    J = 20
    truth = ItemParameters.dichotomous(1.0, rng.normal(0, 1, J), model="Rasch")
    x = truth.simulate(rng.normal(0, 1.3, 3000), rng)
    res = calibrate(x, "Rasch", fit=False)
    _check(res.params.intercepts[:, 0], truth.intercepts[:, 0], _internal(res, "d"))
    assert abs(res.latent_sd - 1.3) < 3 * res.latent_se["sd"]


def test_1pl_recovers_common_slope():
    rng = np.random.default_rng(13)
    J = 20
    truth = ItemParameters.dichotomous(1.4, rng.normal(0, 1, J))
    x = truth.simulate(rng.normal(0, 1, 3000), rng)
    res = calibrate(x, "1PL", fit=False)
    assert np.ptp(res.params.slope) == 0.0
    assert abs(res.params.slope[0] - 1.4) < 3 * res.se_internal[res.ids[0]]["a1"]
    _check(res.params.intercepts[:, 0], truth.intercepts[:, 0], _internal(res, "d"))


def test_3pl_with_priors_recovers_parameters():
    rng = np.random.default_rng(14)
    J = 20
    truth = ItemParameters.dichotomous(rng.lognormal(0.2, 0.2, J), rng.normal(0, 1, J), rng.uniform(0.1, 0.3, J))
    x = truth.simulate(rng.normal(0, 1, 6000), rng)
    res = calibrate(x, "3PL", priors="bayes", fit=False)
    _check(res.params.slope, truth.slope, _internal(res, "a1"), factor=2.0)
    _check(res.params.lower, truth.lower, _internal(res, "g"), factor=2.0)


def test_4pl_with_priors_recovers_asymptotes():
    rng = np.random.default_rng(15)
    J = 15
    truth = ItemParameters.dichotomous(
        rng.lognormal(0.3, 0.2, J),
        rng.normal(0, 0.8, J),
        rng.uniform(0.1, 0.25, J),
        rng.uniform(0.8, 0.95, J),
        model="4PL",
    )
    x = truth.simulate(rng.normal(0, 1, 10000), rng)
    res = calibrate(x, "4PL", priors="bayes", fit=False)
    _check(res.params.upper, truth.upper, _internal(res, "u"), factor=2.0)
    _check(res.params.lower, truth.lower, _internal(res, "g"), factor=2.0)


@pytest.mark.parametrize("model", ["GRM", "GPCM"])
@pytest.mark.parametrize("sparse", [False, True], ids=["complete", "sparse"])
def test_polytomous_models_recover_parameters(model, sparse):
    rng = np.random.default_rng(16)
    J = 15
    a = rng.lognormal(0, 0.25, J)
    b = np.sort(rng.normal(0, 1, (J, 3)), axis=1) + np.array([-0.5, 0, 0.5])
    truth = ItemParameters.graded(a, b) if model == "GRM" else ItemParameters.partial_credit(a, b)
    x = truth.simulate(rng.normal(0, 1, 3000 if not sparse else 6000), rng)
    data = _sparse(x, 8, rng) if sparse else x
    res = calibrate(data, model, fit=False)
    order = np.argsort([int(i) for i in res.ids]) if sparse else np.arange(J)
    _check(res.params.slope[order], truth.slope, _internal(res, "a1")[order])
    for k in range(3):
        _check(res.params.intercepts[order, k], truth.intercepts[:, k], _internal(res, f"d{k + 1}")[order])


def test_pcm_recovers_steps():
    rng = np.random.default_rng(17)
    J = 12
    truth = ItemParameters.partial_credit(1.0, rng.normal(0, 1, (J, 2)), model="PCM")
    x = truth.simulate(rng.normal(0, 1, 3000), rng)
    res = calibrate(x, "PCM")
    for k in range(2):
        _check(res.params.intercepts[:, k], truth.intercepts[:, k], _internal(res, f"d{k + 1}"))
    assert "infit" in res.item_fit


def test_mixed_models_in_one_fit():
    rng = np.random.default_rng(18)
    dich = ItemParameters.dichotomous(rng.lognormal(0, 0.3, 10), rng.normal(0, 1, 10), ids=[f"d{j}" for j in range(10)])
    poly = ItemParameters.graded(
        rng.lognormal(0, 0.3, 5),
        np.sort(rng.normal(0, 1, (5, 2)), axis=1) + [-0.5, 0.5],
        ids=[f"g{j}" for j in range(5)],
    )
    truth = ItemParameters.concat([dich, poly])
    x = truth.simulate(rng.normal(0, 1, 3000), rng)
    res = calibrate(
        Responses.from_dense(x, item_ids=truth.ids),
        {**{i: "2PL" for i in dich.ids}, **{i: "GRM" for i in poly.ids}},
        fit=False,
    )
    assert list(res.params.models) == ["2PL"] * 10 + ["GRM"] * 5
    _check(res.params.slope, truth.slope, _internal(res, "a1"))


@pytest.mark.slow
def test_2pl_confidence_intervals_cover_95_percent():
    rng = np.random.default_rng(19)
    J, reps = 20, 25
    truth = ItemParameters.dichotomous(rng.lognormal(0, 0.3, J), rng.normal(0, 1, J))
    hits = []
    for _ in range(reps):
        res = calibrate(truth.simulate(rng.normal(0, 1, 1500), rng), "2PL", fit=False)
        for est, true, key in (
            (res.params.slope, truth.slope, "a1"),
            (res.params.intercepts[:, 0], truth.intercepts[:, 0], "d"),
        ):
            hits.append(np.abs(est - true) < 1.959964 * _internal(res, key))
    coverage = np.mean(np.concatenate(hits))
    # 1000 intervals (correlated within a replication): binomial SD 0.007; allow ±0.025
    assert 0.925 < coverage < 0.975
