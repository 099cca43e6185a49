"""Reliability after calibration: on sparse data it comes from each person's own posterior, and says so."""

from __future__ import annotations

import numpy as np

from digicomp.calibration import calibrate
from digicomp.scoring.posterior import empirical_reliability

N, J, ANSWERED = 3000, 200, 30


def _sparse_design(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """2PL responses of N persons, each to 30 random items of 200 (NaN elsewhere), and the true θ."""
    rng = np.random.default_rng(seed)
    a, b, theta = rng.lognormal(0.2, 0.25, J), rng.normal(0, 1, J), rng.normal(size=N)
    x = (rng.random((N, J)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(float)
    keep = np.argsort(rng.random((N, J)), axis=1)[:, :ANSWERED]
    out = np.full((N, J), np.nan)
    rows = np.arange(N)[:, None]
    out[rows, keep] = x[rows, keep]
    return out, theta


def test_sparse_data_report_empirical_reliability_close_to_the_truth():
    x, theta = _sparse_design(7)
    res = calibrate(x, "2PL", se=False, fit=False)
    kind, value = res.reliability
    assert kind == "empirical" and value == res.empirical_reliability
    # the truth: squared correlation of each person's EAP with the true θ, on this sample
    from digicomp.scoring import score

    eap = score(res.params, x, method="EAP").theta
    rho = np.corrcoef(eap, theta)[0, 1]
    se_rho2 = 2 * rho * (1 - rho**2) / np.sqrt(N)  # delta method: SE(r) ≈ (1 - ρ²)/√N
    assert abs(value - rho**2) < 4 * se_rho2
    # the whole bank's information describes a 200-item test nobody took
    assert res.marginal_reliability - rho**2 > 10 * se_rho2
    assert "empirical reliability" in res.summary().splitlines()[1]
    rep = res.report()
    assert rep["reliability"] == {"kind": "empirical", "value": value}
    assert rep["marginal_reliability"] == res.marginal_reliability


def test_complete_data_report_marginal_reliability():
    x, _ = _sparse_design(8)
    full = np.nan_to_num(x[:, :20], nan=0.0)  # every person answers the same 20 items
    res = calibrate(full, "2PL", se=False, fit=False)
    assert res.reliability == ("marginal", res.marginal_reliability)
    assert "marginal reliability" in res.summary().splitlines()[1]


def test_empirical_reliability_weights_count_as_repeated_persons():
    eap, psd = np.array([-1.0, 0.0, 0.5, 2.0]), np.array([0.4, 0.3, 0.3, 0.5])
    w = np.array([1, 3, 2, 1])
    expected = empirical_reliability(np.repeat(eap, w), np.repeat(psd, w))
    assert np.isclose(empirical_reliability(eap, psd, w), expected)
    var = np.var(np.repeat(eap, w))
    assert np.isclose(expected, var / (var + np.mean(np.repeat(psd, w) ** 2)))
