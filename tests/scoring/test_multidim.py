"""Multidimensional scoring: tensor EAP, MAP and QMC EAP against brute-force integration and recovery."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.scoring import multidim as sm
from digicomp.scoring import multidim_score as ms


def _items(J: int, K: int, rng: np.random.Generator, model: str = "3PL") -> sm.MultidimItems:
    a = np.zeros((J, K))
    a[np.arange(J), np.arange(J) % K] = rng.uniform(0.8, 2.0, J)
    c = np.full(J, 0.2 if model == "3PL" else 0.0)
    return sm.MultidimItems([f"i{j}" for j in range(J)], [model] * J, a, rng.normal(0, 1, (J, 1)), c, np.ones(J))


def _answers(items: sm.MultidimItems, theta: np.ndarray, rng: np.random.Generator, L: int | None = None):
    P = theta.shape[0]
    L = L or items.n_items
    seq = np.stack([rng.permutation(items.n_items)[:L] for _ in range(P)])
    p1 = np.exp(items.log_prob(theta)[..., 1])  # (P, J)
    resp = (rng.random((P, L)) < np.take_along_axis(p1, seq, axis=1)).astype(np.int64)
    return seq, resp


def _brute(items, seq, resp, prior, n=121, lim=6.0):
    """Posterior mean and covariance by a fine rectangular grid (K ≤ 2) for each person."""
    K = items.n_dims
    pts, _ = sm.tensor_grid(K, n, lim)
    lp = items.log_prob(pts)  # (Q, J, C)
    out_m, out_c = [], []
    for s, r in zip(seq, resp):
        ok = s >= 0
        ll = lp[:, s[ok], r[ok]].sum(axis=1) + prior.log_density(pts)
        w = np.exp(ll - ll.max())
        w /= w.sum()
        m = w @ pts
        out_m.append(m)
        out_c.append((pts - m).T @ ((pts - m) * w[:, None]))
    return np.array(out_m), np.array(out_c)


def test_tensor_eap_agrees_with_brute_force_and_prior_without_answers():
    rng = np.random.default_rng(1)
    items = _items(12, 2, rng)
    prior = sm.latent(None, [[1.0, 0.6], [0.6, 1.0]])
    theta = rng.multivariate_normal([0, 0], prior.cov, 20)
    seq, resp = _answers(items, theta, rng, L=8)
    seq[0] = -1  # a person with no answers: the posterior is the prior
    resp[0] = -1
    got = ms.score_answers(items, seq, resp, prior, ["x", "y"], np.array([0.5, 0.5]), method="EAP")
    m, c = _brute(items, seq, resp, prior)
    np.testing.assert_allclose(got.theta, m, atol=2e-3)
    np.testing.assert_allclose(got.cov, c, atol=2e-3)
    np.testing.assert_allclose(got.theta[0], [0, 0], atol=1e-9)
    np.testing.assert_allclose(got.cov[0], prior.cov, atol=2e-3)
    # the composite's SD is √(wᵀ Σ w) of the joint posterior
    np.testing.assert_allclose(got.overall_se, np.sqrt(np.einsum("k,pkm,m->p", [0.5, 0.5], c, [0.5, 0.5])), atol=2e-3)


def test_level_probabilities_sum_to_one_and_match_the_marginal():
    rng = np.random.default_rng(2)
    items = _items(10, 2, rng, model="2PL")
    prior = sm.latent(None, [[1.0, 0.5], [0.5, 1.0]])
    seq, resp = _answers(items, rng.normal(size=(6, 2)), rng, L=6)
    cuts = np.array([-1.2, 0.0, 1.2])
    got = ms.score_answers(items, seq, resp, prior, ["x", "y"], np.array([1.0, 0.0]), cuts, method="EAP", n_points=241)
    np.testing.assert_allclose(got.level_probabilities.sum(axis=2), 1.0, atol=1e-12)
    pts, _ = sm.tensor_grid(2, 480)  # no point on a cut: the indicator is exact to O(h)
    lp = items.log_prob(pts)
    for p in range(6):
        ll = lp[:, seq[p], resp[p]].sum(axis=1) + prior.log_density(pts)
        w = np.exp(ll - ll.max())
        w /= w.sum()
        for k in range(2):
            want = [w[np.searchsorted(cuts, pts[:, k], side="right") == lv].sum() for lv in range(4)]
            np.testing.assert_allclose(got.level_probabilities[p, k], want, atol=5e-3)
    # overall = dimension 0 here, so its level probabilities are dimension 0's
    np.testing.assert_allclose(got.overall_level_probabilities, got.level_probabilities[:, 0], atol=5e-3)


def test_map_is_a_stationary_point_with_the_inverse_hessian_as_covariance():
    rng = np.random.default_rng(3)
    items = _items(24, 4, rng)
    prior = sm.latent(None, np.full((4, 4), 0.8) + 0.2 * np.eye(4))
    theta = rng.multivariate_normal(np.zeros(4), prior.cov, 10)
    seq, resp = _answers(items, theta, rng, L=12)
    mode, cov, ok = sm.map_estimate(items, seq, resp, prior)
    assert ok.all()

    def log_post(p, th):
        lp, _, _, _ = sm.answered_components(items, th[None, :], seq[p : p + 1], resp[p : p + 1])
        return lp.sum() + prior.log_density(th)

    h = 1e-4
    eye = np.eye(4)
    for p in range(10):
        grad = np.array([(log_post(p, mode[p] + h * e) - log_post(p, mode[p] - h * e)) / (2 * h) for e in eye])
        np.testing.assert_allclose(grad, 0.0, atol=1e-5)
        hess = np.array(
            [
                [
                    (
                        log_post(p, mode[p] + h * (ei + ej))
                        - log_post(p, mode[p] + h * (ei - ej))
                        - log_post(p, mode[p] - h * (ei - ej))
                        + log_post(p, mode[p] - h * (ei + ej))
                    )
                    / (4 * h * h)
                    for ej in eye
                ]
                for ei in eye
            ]
        )
        np.testing.assert_allclose(np.linalg.inv(-hess), cov[p], rtol=1e-3, atol=1e-5)


def test_qmc_eap_agrees_with_a_fine_grid_in_two_dimensions():
    rng = np.random.default_rng(4)
    items = _items(10, 2, rng)
    prior = sm.latent(None, [[1.0, 0.8], [0.8, 1.0]])
    seq, resp = _answers(items, rng.multivariate_normal([0, 0], prior.cov, 15), rng, L=7)
    post, ess = sm.eap_qmc(items, seq, resp, prior, n_points=4096, seed=5)
    mean, cov = post.moments()
    m, c = _brute(items, seq, resp, prior, n=241)
    assert ess.min() > 500  # the Laplace proposal keeps most points useful
    np.testing.assert_allclose(mean, m, atol=0.01)
    np.testing.assert_allclose(np.sqrt(np.einsum("pkk->pk", cov)), np.sqrt(np.einsum("pkk->pk", c)), atol=0.01)


def test_qmc_is_reproducible_from_its_seed():
    rng = np.random.default_rng(6)
    items = _items(16, 4, rng)
    prior = sm.latent(None, np.full((4, 4), 0.5) + 0.5 * np.eye(4))
    seq, resp = _answers(items, rng.normal(size=(5, 4)), rng, L=10)
    args = (items, seq, resp, prior, ["a", "b", "c", "d"], np.full(4, 0.25))
    one = ms.score_answers(*args, method="EAP", seed=11)
    two = ms.score_answers(*args, method="EAP", seed=11)
    np.testing.assert_array_equal(one.theta, two.theta)


@pytest.mark.slow
def test_eap_recovers_simulated_truth_and_its_se_is_calibrated():
    """8 correlated dimensions, 30 items each person: mean squared error ≈ mean posterior variance."""
    rng = np.random.default_rng(7)
    K, P = 8, 1500
    items = _items(240, K, rng)
    prior = sm.latent(None, np.full((K, K), 0.8) + 0.2 * np.eye(K))
    theta = rng.multivariate_normal(np.zeros(K), prior.cov, P)
    seq, resp = _answers(items, theta, rng, L=30)
    got = ms.score_answers(items, seq, resp, prior, [str(k) for k in range(K)], np.full(K, 1 / K), method="EAP")
    err2 = (got.theta - theta) ** 2
    mse, pv = err2.mean(axis=0), (got.se**2).mean(axis=0)
    # per dimension: MSE and mean posterior variance agree within sampling error (SE of a mean of P squares)
    se_mse = err2.std(axis=0) / np.sqrt(P)
    assert np.all(np.abs(mse - pv) < 4 * se_mse), (mse, pv, se_mse)
    assert np.all(np.abs((got.theta - theta).mean(axis=0)) < 4 * np.sqrt(mse / P))


def _bifactor_items(rng, J: int, S: int) -> sm.MultidimItems:
    K = S + 1
    a = np.zeros((J, K))
    a[:, 0] = rng.uniform(0.6, 1.4, J)
    spec = 1 + np.arange(J) % S
    a[np.arange(J), spec] = rng.uniform(0.5, 1.5, J)
    a[:3, 1:] = 0.0  # three items on the general factor only
    models = ["2PL"] * J
    d = rng.normal(0, 1, (J, 2))
    d[:, 1] = np.nan
    for j in range(0, J, 7):  # some graded items
        models[j] = "GRM"
        d[j] = np.sort(rng.normal(0, 1, 2))[::-1]
    return sm.MultidimItems([f"i{j}" for j in range(J)], models, a, d, np.zeros(J), np.ones(J))


def test_bifactor_reduction_equals_the_tensor_grid_on_the_same_points():
    """General + 2 areas (3 dimensions): the reduction is the tensor sum reorganised (Fubini), so equal to rounding."""
    rng = np.random.default_rng(11)
    items = _bifactor_items(rng, 24, 2)
    prior = sm.latent([0.2, 0.0, -0.1], np.eye(3))
    theta = rng.normal(size=(7, 3))
    p = items.log_prob(theta)
    data = (np.exp(p).cumsum(axis=2) < rng.random((7, 24, 1))).sum(axis=2)
    data = np.minimum(data, items.n_categories - 1)
    seq = np.stack([rng.permutation(24)[:15] for _ in range(7)])
    resp = np.take_along_axis(data, seq, axis=1)
    responses = ms._as_responses(seq, resp, 24)
    cuts = np.array([-1.2, 0.0, 1.2])
    bif = sm.eap_bifactor(items, responses, prior, general=0, cuts=cuts, n_points=25)
    post = sm.eap_tensor(items, responses, prior, n_points=25)
    mean, cov = post.moments()
    np.testing.assert_allclose(bif.mean, mean, atol=1e-10)
    np.testing.assert_allclose(bif.cov, cov, atol=1e-10)
    np.testing.assert_allclose(bif.level_probabilities, post.level_probabilities(cuts), atol=1e-10)


def test_bifactor_banks_above_three_dimensions_use_the_reduction():
    rng = np.random.default_rng(12)
    items = _bifactor_items(rng, 40, 5)  # general + 5 areas: 6 dimensions
    prior = sm.latent(None, np.eye(6))
    seq = np.stack([rng.permutation(40)[:20] for _ in range(6)])
    resp = rng.integers(0, 2, (6, 20))
    w = np.array([1.0, 0, 0, 0, 0, 0])
    got = ms.score_answers(items, seq, resp, prior, [str(k) for k in range(6)], w, [-1.2, 0, 1.2], general=0)
    assert got.ess is None  # not QMC
    qmc = ms.score_answers(items, seq, resp, prior, [str(k) for k in range(6)], w, [-1.2, 0, 1.2], n_points=8192)
    np.testing.assert_allclose(got.theta, qmc.theta, atol=0.02)
    np.testing.assert_allclose(got.se, qmc.se, atol=0.02)
    np.testing.assert_allclose(got.overall_level_probabilities, got.level_probabilities[:, 0])
    with pytest.raises(Exception, match="uncorrelated"):
        sm.eap_bifactor(
            items, ms._as_responses(seq, resp, 40), sm.latent(None, np.full((6, 6), 0.1) + 0.9 * np.eye(6)), 0
        )
