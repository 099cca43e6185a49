"""The multidimensional EM: dimension reduction is exact, one dimension is the unidimensional fit, latent M-step,
standard errors, model comparison."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.calibration import calibrate
from digicomp.calibration import structure as st
from digicomp.calibration.bifactor import ReducedData
from digicomp.calibration.compare import comparison, format_comparison, lr_tests
from digicomp.calibration.estep import ChunkedData
from digicomp.calibration.multidim import calibrate_multidim
from digicomp.calibration.mvn import MVNLatent, default_quadpts, tensor_grid
from digicomp.models import multidim as md
from digicomp.responses import Responses


def _bifactor_data(seed: int, n: int, per: int = 4, specifics: int = 2, missing: float = 0.0):
    rng = np.random.default_rng(seed)
    J = per * specifics
    area = np.repeat(np.arange(specifics), per)
    a = np.zeros((J, 1 + specifics))
    a[:, 0] = rng.uniform(0.8, 1.8, J)
    a[np.arange(J), 1 + area] = rng.uniform(0.5, 1.2, J)
    d = rng.normal(0, 1, J)
    theta = rng.normal(size=(n, 1 + specifics))
    x = (rng.random((n, J)) < 1 / (1 + np.exp(-(theta @ a.T + d)))).astype(float)
    x[rng.random(x.shape) < missing] = np.nan
    return a, d, x, area


def test_dimension_reduction_gives_the_tensor_grid_likelihood_exactly():
    a, d, x, area = _bifactor_data(1, 300, missing=0.3)
    resp = Responses.from_dense(x)
    q = 9
    axis = np.linspace(-6, 6, q)
    full = tensor_grid(q, 3)
    lw = -0.5 * (full**2).sum(axis=1)
    lw -= np.logaddexp.reduce(lw)
    tensor = ChunkedData(resp, np.full(x.shape[1], 2), full.shape[0]).e_step(md.log_prob_dichotomous(full, a, d), lw)
    # the reduced grid: (general, own specific) per item
    reduced_pts = np.column_stack([np.repeat(axis, q), np.tile(axis, q)])
    local_a = np.column_stack([a[:, 0], a[np.arange(a.shape[0]), 1 + area]])
    log_p = md.log_prob_dichotomous(reduced_pts, local_a, d)
    data = ReducedData(resp, np.full(x.shape[1], 2), area, q, q, axis[:, None], axis, np.array([0]), np.array([1, 2]))
    w1 = -0.5 * axis**2
    w1 -= np.logaddexp.reduce(w1)
    out = data.e_step(log_p, (w1, w1), moments_at=reduced_pts)
    assert out.loglik == pytest.approx(tensor.loglik, rel=1e-12)
    # every observed response is counted once, spread over its item's reduced grid
    np.testing.assert_allclose(out.counts.sum(axis=(1, 2)), (~np.isnan(x)).sum(axis=0), rtol=1e-10)
    # the general factor's posterior mass equals the tensor grid's marginal over the general axis
    np.testing.assert_allclose(out.latent, tensor.latent.reshape(q, q, q).sum(axis=(1, 2)), rtol=1e-9)


def test_dimension_reduction_stays_exact_when_a_group_likelihood_underflows():
    # 80 steep items in one group: at the far general-factor points every specific point's likelihood is below
    # e^-745 (exp underflows to 0), so the shifted computation must take over there
    rng = np.random.default_rng(4)
    J = 80
    a = np.column_stack([rng.uniform(4.0, 5.0, J), rng.uniform(0.1, 0.3, J)])
    d = rng.normal(0, 1, J)
    theta = rng.normal(size=(40, 2))
    x = (rng.random((40, J)) < 1 / (1 + np.exp(-(theta @ a.T + d)))).astype(float)
    q = 11
    axis = np.linspace(-6, 6, q)
    pts = np.column_stack([np.repeat(axis, q), np.tile(axis, q)])
    lw = -0.5 * (pts**2).sum(axis=1)
    lw -= np.logaddexp.reduce(lw)
    log_p = md.log_prob_dichotomous(pts, a, d)
    ll_full = ChunkedData(Responses.from_dense(x), np.full(J, 2), pts.shape[0]).e_step(log_p, lw)
    w1 = -0.5 * axis**2
    w1 -= np.logaddexp.reduce(w1)
    resp = Responses.from_dense(x)
    data = ReducedData(resp, np.full(J, 2), np.zeros(J, int), q, q, axis[:, None], axis, np.array([0]), np.array([1]))
    ll = data.chunks[0][1][1].log_likelihood(log_p).reshape(40, q, q) + w1
    assert np.any(np.all(ll < -745, axis=2))  # the fallback's case occurs
    out = data.e_step(log_p, (w1, w1))
    assert np.isfinite(out.loglik) and out.loglik == pytest.approx(ll_full.loglik, rel=1e-12)
    np.testing.assert_allclose(out.counts.sum(axis=(1, 2)), 40.0, rtol=1e-10)


def test_one_dimension_reproduces_the_unidimensional_calibration():
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(0, 0.3, 8), rng.normal(0, 1, 8)
    theta = rng.normal(size=800)
    x = (rng.random((800, 8)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(float)
    uni = calibrate(x, "2PL", se=False, fit=False, tol=1e-6)
    multi = calibrate(x, "2PL", structure="unidimensional", se=False, tol=1e-6)
    assert multi.quadpts == 61 == default_quadpts(1)
    assert multi.loglik == pytest.approx(uni.loglik, abs=1e-4)
    np.testing.assert_allclose(multi.a[:, 0], uni.params.slope, atol=2e-4)
    np.testing.assert_allclose(multi.intercepts[:, 0], uni.params.intercepts[:, 0], atol=2e-4)


def test_latent_m_step_recovers_the_correlation_that_made_the_counts():
    pts = tensor_grid(15, 3)
    truth = np.array([[1.0, 0.6, 0.3], [0.6, 1.0, -0.2], [0.3, -0.2, 1.0]])
    lat = MVNLatent(pts, ~np.eye(3, dtype=bool), cov=truth)
    counts = 1000.0 * np.exp(lat.log_weights())
    fresh = MVNLatent(pts, ~np.eye(3, dtype=bool))
    fresh.update(counts)
    np.testing.assert_allclose(fresh.correlation, truth, atol=1e-6)
    np.testing.assert_allclose(np.diag(fresh.cov), 1.0)


def test_mirt_default_points_per_dimension():
    assert [default_quadpts(k) for k in range(1, 7)] == [61, 31, 15, 9, 7, 3]


def test_numerical_and_crossproduct_standard_errors_agree():
    rng = np.random.default_rng(11)
    n, J = 2500, 10
    R = np.array([[1.0, 0.5], [0.5, 1.0]])
    theta = rng.multivariate_normal([0, 0], R, size=n)
    a = np.zeros((J, 2))
    a[np.arange(J), np.repeat([0, 1], J // 2)] = rng.uniform(0.8, 1.8, J)
    d = rng.normal(0, 1, J)
    x = (rng.random((n, J)) < 1 / (1 + np.exp(-(theta @ a.T + d)))).astype(float)
    areas = {f"item{j + 1}": ("A" if j < J // 2 else "B") for j in range(J)}
    res = calibrate_multidim(x, "2PL", structure="areas", areas=areas, quadpts=21, se="numerical")
    assert res.se_method == "numerical"
    num_a, num_d, num_r = res.se_a.copy(), res.se_intercepts[:, 0].copy(), res.se_cor[0, 1]
    res.compute_se(method="xpd")
    loaded = a != 0
    # two estimates of one information; their ratio varies by O(1/sqrt(n)) per parameter
    np.testing.assert_allclose(res.se_a[loaded], num_a[loaded], rtol=0.12)
    np.testing.assert_allclose(res.se_intercepts[:, 0], num_d, rtol=0.12)
    assert res.se_cor[0, 1] == pytest.approx(num_r, rel=0.12)
    assert np.all(np.isnan(res.se_a[~loaded]))  # zero slopes are fixed, not estimated


def test_model_comparison_counts_parameters_and_tests_nested_models():
    a, d, x, area = _bifactor_data(5, 1500, per=4, specifics=2)
    areas = {f"item{j + 1}": f"A{area[j]}" for j in range(x.shape[1])}
    bif = calibrate_multidim(x, "2PL", structure="bifactor", areas=areas, quadpts=15, se=False)
    uni = calibrate_multidim(x, "2PL", structure="unidimensional", quadpts=31, se=False)
    cor = calibrate_multidim(x, "2PL", structure="areas", areas=areas, quadpts=21, se=False)
    J = x.shape[1]
    assert (uni.n_parameters, bif.n_parameters, cor.n_parameters) == (2 * J, 3 * J, 2 * J + 1)
    tests = {(t.restricted, t.general): t for t in lr_tests({"uni": uni, "bif": bif, "cor": cor})}
    assert set(tests) == {("uni", "bif"), ("uni", "cor")}
    t = tests[("uni", "bif")]
    assert t.df == J and t.statistic == pytest.approx(2 * (bif.loglik - uni.loglik))
    assert t.p_value < 1e-6  # the data have specific factors
    table = format_comparison({"uni": uni, "bif": bif})
    assert "LR test uni vs bif" in table and "reliability (bif): general" in table
    rows = comparison({"uni": uni, "bif": bif})["fits"]
    assert rows[1]["AIC"] == pytest.approx(-2 * bif.loglik + 2 * bif.n_parameters)


def test_within_item_and_two_tier_structures_fit():
    rng = np.random.default_rng(8)
    n = 1200
    theta = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    q = np.array([[1, 0]] * 4 + [[0, 1]] * 4 + [[1, 1]] * 2)
    a = q * rng.uniform(0.8, 1.6, q.shape)
    d = rng.normal(0, 1, q.shape[0])
    x = (rng.random((n, q.shape[0])) < 1 / (1 + np.exp(-(theta @ a.T + d)))).astype(float)
    ids = [f"item{j + 1}" for j in range(q.shape[0])]
    res = calibrate_multidim(x, "2PL", structure=st.within_items(ids, ["F1", "F2"], q), quadpts=21, se=False)
    assert res.structure == "within" and res.converged
    assert np.all(res.a[q == 0] == 0) and np.all(res.a[q == 1] > 0)
    assert res.latent_cor[0, 1] == pytest.approx(0.4, abs=0.15)


def test_qmc_em_is_reproducible_by_seed_and_close_across_seeds():
    rng = np.random.default_rng(13)
    K, per, n = 4, 4, 1500
    R = 0.4 + 0.6 * np.eye(K)
    theta = rng.multivariate_normal(np.zeros(K), R, size=n)
    J = K * per
    a = np.zeros((J, K))
    a[np.arange(J), np.repeat(np.arange(K), per)] = rng.uniform(0.9, 1.8, J)
    d = rng.normal(0, 1, J)
    x = (rng.random((n, J)) < 1 / (1 + np.exp(-(theta @ a.T + d)))).astype(float)
    areas = {f"item{j + 1}": f"A{j // per}" for j in range(J)}
    kw = dict(structure="areas", areas=areas, se=False)  # mirt's 5,000 points
    r1 = calibrate_multidim(x, "2PL", seed=1, **kw)
    r1b = calibrate_multidim(x, "2PL", seed=1, **kw)
    r2 = calibrate_multidim(x, "2PL", seed=2, **kw)
    assert r1.method == "qmc" and r1.seed == 1 and r1.converged
    np.testing.assert_array_equal(r1.a, r1b.a)
    np.testing.assert_array_equal(r1.latent_cor, r1b.latent_cor)
    # another point set moves the estimates by Monte-Carlo error only (well inside their sampling SE ≈ 0.08)
    np.testing.assert_allclose(r2.a, r1.a, atol=0.06)
    np.testing.assert_allclose(r2.latent_cor, r1.latent_cor, atol=0.04)
