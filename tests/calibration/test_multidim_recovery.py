"""Recovery of simulated truth by every multidimensional structure, with tolerances from the standard errors, and
the comparison with the PyPI ``mirt`` package on the same data (slow: a few seconds to a minute each)."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.calibration import structure as st
from digicomp.calibration.multidim import calibrate_multidim
from digicomp.responses import Responses
from digicomp.scoring.multidim import MultidimItems

Z = 4.0  # |estimate - truth| < Z·SE for every parameter (a 4-SE miss has probability 6e-5 per parameter)


def _simulate(rng, a, d, cov, n, mean=None, model="2PL"):
    K = a.shape[1]
    theta = rng.multivariate_normal(np.zeros(K) if mean is None else mean, cov, size=n)
    if model == "GRM":
        star = 1 / (1 + np.exp(-((theta @ a.T)[..., None] + d)))
        u = rng.random((n, a.shape[0], 1))
        return (u < star).sum(axis=-1).astype(float)
    return (rng.random((n, a.shape[0])) < 1 / (1 + np.exp(-(theta @ a.T + d)))).astype(float)


def _check(res, a, d, cor=None):
    loaded = a != 0
    z_a = (res.a[loaded] - a[loaded]) / res.se_a[loaded]
    est_d = res.intercepts if d.ndim == 2 else res.intercepts[:, 0]
    z_d = (est_d - d) / (res.se_intercepts if d.ndim == 2 else res.se_intercepts[:, 0])
    assert np.all(np.isfinite(z_a)) and np.all(np.isfinite(z_d))
    assert np.max(np.abs(z_a)) < Z and np.max(np.abs(z_d)) < Z
    z = np.concatenate([z_a, z_d.ravel()])
    # the SEs are calibrated: the z-scores have mean square near 1 (chi-square/df over ~60-90 values)
    assert 0.5 < np.mean(z**2) < 1.7
    if cor is not None:
        iu = np.triu_indices(cor.shape[0], 1)
        z_r = (res.latent_cor[iu] - cor[iu]) / res.se_cor[iu]
        assert np.max(np.abs(z_r)) < Z


@pytest.mark.slow
def test_correlated_areas_three_dimensions_recovered():
    rng = np.random.default_rng(2026)
    J = 24
    dim = np.repeat(np.arange(3), J // 3)
    a = np.zeros((J, 3))
    a[np.arange(J), dim] = rng.uniform(0.8, 2.0, J)
    d = rng.normal(0, 1, J)
    cor = np.array([[1, 0.3, 0.5], [0.3, 1, 0.6], [0.5, 0.6, 1]])
    x = _simulate(rng, a, d, cor, 3000)
    areas = {f"item{j + 1}": f"A{dim[j]}" for j in range(J)}
    res = calibrate_multidim(x, "2PL", structure="areas", areas=areas, quadpts=15)
    assert res.converged and res.se_method == "numerical"
    _check(res, a, d, cor)


@pytest.mark.slow
def test_bifactor_recovered_on_sparse_data():
    rng = np.random.default_rng(7)
    S, per = 4, 8
    J = S * per
    area = np.repeat(np.arange(S), per)
    a = np.zeros((J, 1 + S))
    a[:, 0] = rng.uniform(1.0, 2.0, J)
    a[np.arange(J), 1 + area] = rng.uniform(0.5, 1.2, J)
    d = rng.normal(0, 1, J)
    x = _simulate(rng, a, d, np.eye(1 + S), 5000)
    x[rng.random(x.shape) < 0.25] = np.nan
    areas = {f"item{j + 1}": f"A{area[j]}" for j in range(J)}
    res = calibrate_multidim(x, "2PL", structure="bifactor", areas=areas, quadpts=21, se="xpd")
    assert res.converged and res.dims == ["general", "A0", "A1", "A2", "A3"]
    _check(res, a, d)


@pytest.mark.slow
def test_within_item_graded_items_recovered():
    rng = np.random.default_rng(12)
    q = np.array([[1, 0]] * 6 + [[0, 1]] * 6 + [[1, 1]] * 3)
    a = q * rng.uniform(0.8, 1.6, q.shape)
    d = np.sort(rng.normal(0, 1.2, (q.shape[0], 3)), axis=1)[:, ::-1] + np.array([1.0, 0.0, -1.0])
    cor = np.array([[1, 0.4], [0.4, 1]])
    x = _simulate(rng, a, d, cor, 2500, model="GRM")
    ids = [f"item{j + 1}" for j in range(q.shape[0])]
    res = calibrate_multidim(x, "GRM", structure=st.within_items(ids, ["F1", "F2"], q), quadpts=25)
    _check(res, a, d, cor)


@pytest.mark.slow
def test_fixed_parameter_calibration_puts_new_items_on_the_bank_scale():
    rng = np.random.default_rng(21)
    J = 20
    dim = np.tile([0, 1], J // 2)
    a = np.zeros((J, 2))
    a[np.arange(J), dim] = rng.uniform(0.9, 1.8, J)
    d = rng.normal(0, 1, J)
    mean = np.array([0.5, -0.3])
    cov = np.array([[1.2, 0.45], [0.45, 0.8]])
    x = _simulate(rng, a, d, cov, 4000, mean=mean)
    ids = [f"item{j + 1}" for j in range(J)]
    anchors = MultidimItems(ids[:12], ["2PL"] * 12, a[:12], d[:12, None], np.zeros(12), np.ones(12))
    q = {i: {"F1": int(dim[j] == 0), "F2": int(dim[j] == 1)} for j, i in enumerate(ids) if j >= 12}
    data = Responses.from_dense(x, item_ids=ids)  # fixed items are matched by id: the data name their items
    res = calibrate_multidim(data, "2PL", structure=q, fixed=anchors, dims=["F1", "F2"], quadpts=25)
    new = np.arange(12, J)
    assert np.all(res.fixed[:12]) and not res.fixed[12:].any()
    np.testing.assert_array_equal(res.a[:12], a[:12])
    loaded = a[new] != 0
    z_a = (res.a[new][loaded] - a[new][loaded]) / res.se_a[new][loaded]
    z_d = (res.intercepts[new, 0] - d[new]) / res.se_intercepts[new, 0]
    assert np.max(np.abs(z_a)) < Z and np.max(np.abs(z_d)) < Z
    # the latent distribution is estimated on the anchors' scale (its sampling error: SD/sqrt(n) ≈ 0.02)
    np.testing.assert_allclose(res.latent_mean, mean, atol=0.1)
    np.testing.assert_allclose(res.latent_cov, cov, atol=0.15)


@pytest.mark.slow
def test_rmse_no_worse_than_pymirt_on_the_same_data():
    mirt = pytest.importorskip("mirt")
    rng = np.random.default_rng(99)
    J = 16
    dim = np.repeat([0, 1], J // 2)
    a = np.zeros((J, 2))
    a[np.arange(J), dim] = rng.uniform(0.8, 2.0, J)
    d = rng.normal(0, 1, J)
    cor = np.array([[1, 0.5], [0.5, 1]])
    x = _simulate(rng, a, d, cor, 2000).astype(np.int64)
    areas = {f"item{j + 1}": f"A{dim[j]}" for j in range(J)}
    res = calibrate_multidim(x, "2PL", structure="areas", areas=areas, quadpts=21)
    fit = mirt.fit_mirt(
        x, "2PL", n_factors=2, spec="F1 = 1-8\nF2 = 9-16\nCOV = F1*F2", n_quadpts=21, compute_standard_errors=False
    )
    pa = np.asarray(fit.model.parameters["slopes"])
    pd = np.asarray(fit.model.parameters["intercepts"]).ravel()
    loaded = a != 0

    def rmse(e, t):
        return float(np.sqrt(np.mean((e - t) ** 2)))

    # "no worse" up to a tenth of the average SE (the two programs' quadrature rules differ: rectangular vs
    # Gauss-Hermite; both estimates sit within that of each other)
    slack_a = 0.1 * float(np.mean(res.se_a[loaded]))
    slack_d = 0.1 * float(np.mean(res.se_intercepts[:, 0]))
    assert rmse(res.a[loaded], a[loaded]) <= rmse(pa[loaded], a[loaded]) + slack_a
    assert rmse(res.intercepts[:, 0], d) <= rmse(pd, d) + slack_d


@pytest.mark.slow
def test_eight_correlated_areas_by_qmc_em():
    rng = np.random.default_rng(8)
    K, per = 8, 5
    J = K * per
    R = 0.8 * np.ones((K, K)) + 0.2 * np.eye(K)  # the inter-area correlation
    dim = np.repeat(np.arange(K), per)
    a = np.zeros((J, K))
    a[np.arange(J), dim] = rng.uniform(1.0, 2.0, J)
    d = rng.normal(0, 1, J)
    x = _simulate(rng, a, d, R, 4000)
    areas = {f"item{j + 1}": f"A{dim[j]}" for j in range(J)}
    res = calibrate_multidim(x, "2PL", structure="areas", areas=areas, seed=2026)
    assert res.method == "qmc" and res.converged and res.se_method == "xpd"
    loaded = a != 0
    z_a = (res.a[loaded] - a[loaded]) / res.se_a[loaded]
    z_d = (res.intercepts[:, 0] - d) / res.se_intercepts[:, 0]
    assert np.max(np.abs(z_a)) < Z and np.max(np.abs(z_d)) < Z
    iu = np.triu_indices(K, 1)
    z_r = (res.latent_cor[iu] - R[iu]) / res.se_cor[iu]
    assert np.all(np.isfinite(z_r)) and np.max(np.abs(z_r)) < Z
    # 28 correlations of 0.8 from 4,000 persons: sampling SE about 0.015 each
    assert np.sqrt(np.mean((res.latent_cor[iu] - R[iu]) ** 2)) < 0.04


@pytest.mark.slow
def test_two_tier_with_correlated_primaries_and_graded_items_recovered():
    rng = np.random.default_rng(31)
    S, per = 3, 6
    J = S * per
    area = np.repeat(np.arange(S), per)
    prim = np.tile([0, 1], J // 2)  # primaries G1/G2 alternate within each area
    a = np.zeros((J, 2 + S))
    a[np.arange(J), prim] = rng.uniform(1.0, 1.8, J)
    a[np.arange(J), 2 + area] = rng.uniform(0.5, 1.0, J)
    d = np.sort(rng.normal(0, 1, (J, 2)), axis=1)[:, ::-1] + np.array([0.8, -0.8])
    cov = np.eye(2 + S)
    cov[0, 1] = cov[1, 0] = 0.5
    x = _simulate(rng, a, d, cov, 3000, model="GRM")
    ids = [f"item{j + 1}" for j in range(J)]
    s = st.two_tier(ids, ["G1", "G2"], np.eye(2, dtype=int)[prim], [f"S{k}" for k in area])
    res = calibrate_multidim(x, "GRM", structure=s, quadpts=13, se="xpd")
    assert res.converged and res.dims == ["G1", "G2", "S0", "S1", "S2"]
    assert res.latent_cor[0, 1] == pytest.approx(0.5, abs=Z * res.se_cor[0, 1])
    assert np.all(res.latent_cor[2:, :] == np.eye(2 + S)[2:, :])  # specifics orthogonal to everything
    _check(res, a, d)


@pytest.mark.slow
def test_bifactor_rmse_no_worse_than_pymirt_bfactor_on_the_same_data():
    mirt = pytest.importorskip("mirt")
    rng = np.random.default_rng(7)
    S, per = 3, 6
    J = S * per
    area = np.repeat(np.arange(S), per)
    a = np.zeros((J, 1 + S))
    a[:, 0] = rng.uniform(1.0, 2.0, J)
    a[np.arange(J), 1 + area] = rng.uniform(0.5, 1.2, J)
    d = rng.normal(0, 1, J)
    x = _simulate(rng, a, d, np.eye(1 + S), 2000).astype(np.int64)
    areas = {f"item{j + 1}": f"A{area[j]}" for j in range(J)}
    res = calibrate_multidim(x, "2PL", structure="bifactor", areas=areas, quadpts=21)  # pymirt's 21 points too
    fit = mirt.bfactor(x, area, n_quadpts=21, compute_standard_errors=False)
    spec = a[np.arange(J), 1 + area]

    def rmse(e, t):
        return float(np.sqrt(np.mean((e - t) ** 2)))

    pairs = [
        (res.a[:, 0], np.asarray(fit.model.parameters["general_loadings"]).ravel(), a[:, 0], res.se_a[:, 0]),
        (
            res.a[np.arange(J), 1 + area],
            np.asarray(fit.model.parameters["specific_loadings"]).ravel(),
            spec,
            res.se_a[np.arange(J), 1 + area],
        ),
        (res.intercepts[:, 0], np.asarray(fit.model.parameters["intercepts"]).ravel(), d, res.se_intercepts[:, 0]),
    ]
    for ours, theirs, truth, se in pairs:
        # no worse, up to a tenth of the average SE (the programs' grids and stopping rules differ)
        assert rmse(ours, truth) <= rmse(theirs, truth) + 0.1 * float(np.mean(se))
