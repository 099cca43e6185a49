"""Multidimensional compensatory models: reduction to the unidimensional ones, information, gradients, properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.errors import ParameterError
from digicomp.models import ItemParameters
from digicomp.models import multidim as md

GRID1 = np.linspace(-5, 5, 21)


def _uni_bank():
    """2PL, 3PL, 4PL, GRM (3 thresholds) and GPCM (2 steps) items, D = 1."""
    return ItemParameters(
        ["2PL", "3PL", "4PL", "GRM", "GPCM"],
        [1.3, 0.8, 2.1, 1.1, 0.7],
        [[0.4, np.nan, np.nan], [-1.0, np.nan, np.nan], [0.2, np.nan, np.nan], [2.0, 0.1, -1.5], [0.5, -0.8, np.nan]],
        [0.0, 0.2, 0.1, 0.0, 0.0],
        [1.0, 1.0, 0.9, 1.0, 1.0],
    )


def _args(bank):
    models = bank.models.tolist()
    return bank.intercepts, bank.lower, bank.upper, models


@pytest.mark.parametrize("K, axis", [(1, 0), (3, 1), (2, 0)])
def test_one_nonzero_slope_equals_the_unidimensional_model(K, axis):
    bank = _uni_bank()
    icpt, c, u, models = _args(bank)
    a = np.zeros((bank.n_items, K))
    a[:, axis] = bank.slope
    theta = np.zeros((GRID1.size, K))
    theta[:, axis] = GRID1
    if K > 1:  # other coordinates must not matter when the slope on them is 0
        theta[:, (axis + 1) % K] = np.linspace(3, -3, GRID1.size)
    multi = md.log_prob(theta, a, icpt, c, u, models)
    uni = bank.log_prob(GRID1)
    np.testing.assert_array_equal(np.isneginf(multi), np.isneginf(uni))
    finite = np.isfinite(uni)
    np.testing.assert_allclose(multi[finite], uni[finite], rtol=1e-13, atol=1e-13)
    info = md.information(theta, a, icpt, c, u, models)
    np.testing.assert_allclose(info[..., axis, axis], bank.information(GRID1), rtol=1e-12, atol=1e-15)
    off = np.delete(np.arange(K), axis)
    assert np.all(info[..., off, :] == 0) and np.all(info[..., :, off] == 0)


def test_family_functions_agree_with_the_mixed_function():
    rng = np.random.default_rng(1)
    theta = rng.normal(size=(7, 3))
    a = np.abs(rng.normal(size=(4, 3)))
    d1 = rng.normal(size=4)
    p = md.prob_dichotomous(theta, a, d1, c=0.1, u=0.95)
    lp = md.log_prob(theta, a, d1, 0.1, 0.95, "3PL")
    np.testing.assert_allclose(np.exp(lp[..., 1]), p, rtol=1e-13)
    np.testing.assert_allclose(md.logits(theta, a, d1), theta @ a.T + d1)
    dg = np.sort(rng.normal(size=(4, 3)), axis=1)[:, ::-1]
    np.testing.assert_allclose(md.prob_graded(theta, a, dg), md.prob(theta, a, dg, model="GRM"), rtol=1e-13)
    np.testing.assert_allclose(md.prob_gpcm(theta, a, dg), md.prob(theta, a, dg, model="gpcm"), rtol=1e-13)


def test_graded_probabilities_are_differences_of_cumulative_logistics():
    theta = np.array([[0.3, -1.2]])
    a = np.array([[1.5, 0.5]])
    d = np.array([[1.0, -0.5]])
    t = theta @ a.T
    star = 1 / (1 + np.exp(-(t + d)))
    expected = np.array([1 - star[0, 0], star[0, 0] - star[0, 1], star[0, 1]])
    np.testing.assert_allclose(md.prob_graded(theta, a, d)[0, 0], expected, rtol=1e-14)
    num = np.exp(np.array([0.0, t[0, 0] + 1.0, 2 * t[0, 0] - 0.5]))
    np.testing.assert_allclose(md.prob_gpcm(theta, a, d)[0, 0], num / num.sum(), rtol=1e-14)


def _score_fd(theta, a, icpt, c, u, model, h=1e-6):
    """∂ log P / ∂θ by central differences, (Q, J, C, K)."""
    K = theta.shape[1]
    out = []
    for k in range(K):
        e = np.zeros(K)
        e[k] = h
        hi = md.log_prob(theta + e, a, icpt, c, u, model)
        lo = md.log_prob(theta - e, a, icpt, c, u, model)
        with np.errstate(invalid="ignore"):
            out.append(np.where(np.isneginf(hi), 0.0, (hi - lo) / (2 * h)))
    return np.stack(out, axis=-1)


@pytest.mark.parametrize(
    "model, icpt, c, u",
    [
        ("2PL", np.array([0.3, -1.0, 2.0]), None, None),
        ("3PL", np.array([0.3, -1.0, 2.0]), np.array([0.2, 0.1, 0.25]), None),
        ("4PL", np.array([0.3, -1.0, 2.0]), np.array([0.2, 0.1, 0.25]), np.array([0.9, 0.97, 0.85])),
        ("GRM", np.array([[1.0, -0.5, -2.0], [0.5, -0.5, np.nan], [2.0, 1.0, 0.0]]), None, None),
        ("GPCM", np.array([[1.0, -0.5, 0.3], [0.5, -0.5, np.nan], [-1.0, 1.0, 0.0]]), None, None),
    ],
)
def test_information_is_the_expected_outer_product_of_numerical_scores(model, icpt, c, u):
    rng = np.random.default_rng(7)
    theta = rng.normal(size=(9, 3)) * 1.5
    a = np.array([[1.2, 0.4, 0.0], [0.6, 1.5, 0.3], [0.9, 0.0, 2.0]])
    score = _score_fd(theta, a, icpt, c, u, model)
    P = md.prob(theta, a, icpt, c, u, model)
    expected = np.einsum("qjc,qjck,qjcl->qjkl", P, score, score)
    info = md.information(theta, a, icpt, c, u, model)
    np.testing.assert_allclose(info, expected, rtol=1e-6, atol=1e-9)
    analytic = md.gradient_log_prob(theta, a, icpt, c, u, model)
    mask = P > 0
    np.testing.assert_allclose(analytic[mask], score[mask], rtol=1e-6, atol=1e-8)


def _fd_params(fn, params, h=1e-6):
    """Central differences of fn(params) with respect to every entry of each item's parameter row."""
    cols = []
    for m in range(params.shape[1]):
        e = np.zeros_like(params)
        e[:, m] = h
        cols.append((fn(params + e) - fn(params - e)) / (2 * h))
    return np.stack(cols, axis=-1)


def test_dichotomous_jacobian_matches_numerical_derivatives():
    rng = np.random.default_rng(3)
    theta = rng.normal(size=(6, 2))
    eta = np.column_stack([np.abs(rng.normal(size=(4, 2))) + 0.3, rng.normal(size=4), [-1.5] * 4, [2.5] * 4])

    def p1(e):
        g, u = 1 / (1 + np.exp(-e[:, 3])), 1 / (1 + np.exp(-e[:, 4]))
        return md.prob_dichotomous(theta, e[:, :2], e[:, 2], g, u)

    g, u = 1 / (1 + np.exp(-eta[:, 3])), 1 / (1 + np.exp(-eta[:, 4]))
    value, jac = md.dichotomous_jacobian(theta, eta[:, :2], eta[:, 2], g, u)
    np.testing.assert_allclose(value, p1(eta), rtol=1e-14)
    np.testing.assert_allclose(jac, _fd_params(p1, eta), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("family", ["graded", "gpcm"])
def test_polytomous_jacobian_matches_numerical_derivatives(family):
    rng = np.random.default_rng(4)
    theta = rng.normal(size=(5, 2))
    eta = np.column_stack([np.abs(rng.normal(size=(3, 2))) + 0.3, [1.5, 1.0, 2.0], [0.0, -0.5, 0.5], [-1.0, -2, -1]])

    def prob(e):
        return md.prob(theta, e[:, :2], e[:, 2:], model=family)

    P, jac = md.polytomous_jacobian(theta, eta[:, :2], eta[:, 2:], family)
    np.testing.assert_allclose(P, prob(eta), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(jac, _fd_params(prob, eta), rtol=1e-6, atol=1e-9)


def test_polytomous_jacobian_pads_missing_categories_with_zero():
    theta = np.array([[0.2, 0.1]])
    a = np.array([[1.0, 0.5], [0.8, 0.2]])
    d = np.array([[1.0, -1.0], [0.5, np.nan]])
    for fam in ("graded", "gpcm"):
        P, jac = md.polytomous_jacobian(theta, a, d, fam)
        assert P[0, 1, 2] == 0 and np.all(jac[0, 1, 2] == 0)
        np.testing.assert_allclose(P.sum(-1), 1.0, rtol=1e-14)


def test_tails_stay_finite_and_exact():
    theta = np.array([[-800.0, -800.0], [800.0, 800.0], [40.0, 40.0]])
    a = np.array([[1.0, 1.0]])
    lp = md.log_prob(theta, a, [0.0], model="2PL")
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(lp[0, 0, 1], -1600.0)
    np.testing.assert_allclose(lp[1, 0, 0], -1600.0)
    p = md.prob_dichotomous(theta, a, [0.0], c=[0.2])
    assert p[0, 0] == pytest.approx(0.2) and p[1, 0] == 1.0
    info = md.information(theta, a, [0.0])
    assert np.all(np.isfinite(info)) and np.all(info >= 0)
    grm = md.log_prob(theta, a, [[1.0, -1.0]], model="GRM")
    assert np.all(np.isfinite(grm.max(axis=-1)))


def test_bad_shapes_are_parameter_errors():
    with pytest.raises(ParameterError, match="expected \\(items, 2\\)"):
        md.log_prob(np.zeros((3, 2)), np.ones((2, 3)), [0.0, 0.0])
    with pytest.raises(ParameterError, match="3 model names given for 2 items"):
        md.log_prob(np.zeros((3, 2)), np.ones((2, 2)), [0.0, 0.0], model=["2PL"] * 3)
    with pytest.raises(ParameterError, match="not a model name"):
        md.log_prob(np.zeros((3, 2)), np.ones((2, 2)), [0.0, 0.0], model="5PLX")


finite = st.floats(-6, 6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    K=st.integers(1, 3),
    seed=st.integers(0, 2**31),
    scale=st.floats(0.01, 40),
    family=st.sampled_from(["2PL", "3PL", "4PL", "GRM", "GPCM"]),
)
def test_probabilities_sum_to_one_and_lie_in_unit_interval(K, seed, scale, family):
    rng = np.random.default_rng(seed)
    J = 4
    theta = rng.normal(size=(5, K)) * scale
    a = np.abs(rng.normal(size=(J, K))) * rng.integers(0, 2, size=(J, K))
    if family in ("GRM", "GPCM"):
        d = np.sort(rng.normal(size=(J, 3)) * 3, axis=1)[:, ::-1]
        d[0, 2] = np.nan
        c = u = None
    else:
        d = rng.normal(size=J) * 3
        c = rng.uniform(0, 0.3, J) if family != "2PL" else None
        u = rng.uniform(0.8, 1, J) if family == "4PL" else None
    P = md.prob(theta, a, d, c, u, family)
    assert np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(P.sum(axis=-1), 1.0, rtol=1e-12)
    info = md.information(theta, a, d, c, u, family)
    assert np.all(np.isfinite(info))
    eig = np.linalg.eigvalsh(info)
    assert np.all(eig >= -1e-10 * np.maximum(1.0, np.abs(eig).max()))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 2), min_size=5, max_size=5), st.integers(0, 2**32 - 1))
def test_own_dimension_curve_is_the_joint_probability_whatever_the_other_dimensions(dims, seed):
    """Under simple structure an item's curve in its own dimension equals its joint log-probability at any values
    of the dimensions it does not load on (so an area's own-items likelihood is one factor of the joint one)."""
    bank = _uni_bank()
    icpt, c, u, models = _args(bank)
    a = np.zeros((bank.n_items, 3))
    a[np.arange(bank.n_items), dims] = bank.slope
    own = md.own_dimension_log_prob(GRID1, a, icpt, c, u, models)
    theta = np.random.default_rng(seed).normal(0.0, 2.0, (GRID1.size, 3))
    for j, k in enumerate(dims):
        theta_j = theta.copy()
        theta_j[:, k] = GRID1
        np.testing.assert_allclose(own[:, j], md.log_prob(theta_j, a, icpt, c, u, models)[:, j], rtol=1e-12)


def test_own_dimension_curve_refuses_items_loading_on_several_or_none():
    bank = _uni_bank()
    icpt, c, u, models = _args(bank)
    a = np.zeros((bank.n_items, 2))
    a[:, 0] = bank.slope
    a[1, 1] = 0.5  # a cross-loading
    a[3, 0] = 0.0  # loads on nothing
    ids = ["i0", "i1", "i2", "i3", "i4"]
    with pytest.raises(ParameterError, match=r"2 items load on other than one dimension \(e\.g\. i1, i3: \[2, 0\]\)"):
        md.own_dimension_log_prob(GRID1, a, icpt, c, u, models, ids=ids)
