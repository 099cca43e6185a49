"""Graded response and (generalized) partial credit models: definitions, reductions and tails."""

import numpy as np
import pytest

from digicomp.models import ItemParameters


def test_graded_categories_are_differences_of_cumulative_logistics():
    a, b, D = 1.3, np.array([-1.0, 0.2, 1.4]), 1.702
    p = ItemParameters.graded(a=[a], b=[b], D=D)
    th = np.linspace(-3, 3, 7)
    star = 1 / (1 + np.exp(-D * a * (th[:, None] - b)))
    cum = np.column_stack([np.ones_like(th), star, np.zeros_like(th)])
    np.testing.assert_allclose(p.prob(th)[:, 0], cum[:, :-1] - cum[:, 1:], atol=1e-14)


def test_two_category_graded_and_gpcm_reduce_to_2pl():
    th = np.linspace(-4, 4, 9)
    two_pl = ItemParameters.dichotomous(a=[1.2], b=[0.3], D=1.702).prob(th)
    grm = ItemParameters.graded(a=[1.2], b=[[0.3]], D=1.702).prob(th)
    gpcm = ItemParameters.partial_credit(a=[1.2], b=[[0.3]], D=1.702).prob(th)
    np.testing.assert_allclose(grm, two_pl, atol=1e-14)
    np.testing.assert_allclose(gpcm, two_pl, atol=1e-14)


def test_gpcm_matches_muraki_definition():
    a, steps, D = 0.9, np.array([-0.8, 0.4, 0.1]), 1.0
    p = ItemParameters.partial_credit(a=[a], b=[steps], D=D)
    th = np.array([-1.0, 0.0, 2.0])
    num = np.exp(np.cumsum(np.column_stack([np.zeros(3)] + [D * a * (th - s) for s in steps]), axis=1))
    np.testing.assert_allclose(p.prob(th)[:, 0], num / num.sum(1, keepdims=True), rtol=1e-12)


def test_gpcm_information_is_a_squared_times_variance_of_score():
    p = ItemParameters.partial_credit(a=[1.4], b=[[-0.5, 0.0, 0.9]], D=1.0)
    th = np.linspace(-3, 3, 13)
    pr = p.prob(th)[:, 0]
    k = np.arange(4)
    var = (pr * k**2).sum(1) - (pr * k).sum(1) ** 2
    np.testing.assert_allclose(p.information(th)[:, 0], 1.4**2 * var, rtol=1e-10)


def test_pcm_requires_unit_slope():
    from digicomp.errors import ParameterError

    with pytest.raises(ParameterError, match="must be 1 for the PCM model"):
        ItemParameters.partial_credit(a=[1.5], b=[[0.0, 1.0]], model="PCM", ids=["sa-1"])


def test_graded_middle_category_has_no_cancellation_in_the_tail():
    # At θ = 30 the naive difference of two cumulative probabilities near 1 is exactly 0 in float64.
    p = ItemParameters.graded(a=[1.0], b=[[-1.0, 1.0]], D=1.0)
    lp = p.log_prob(np.array([30.0]))[0, 0]
    # log P(x=1) = log(σ(31) - σ(29)) ≈ log(e^-29 - e^-31) for large θ
    expected = np.log(np.exp(-29.0) - np.exp(-31.0))
    assert lp[1] == pytest.approx(expected, rel=1e-9)
    assert np.all(np.isfinite(lp))


def test_mixed_bank_pads_missing_categories_with_zero_probability():
    bank = ItemParameters.concat(
        [
            ItemParameters.dichotomous(a=[1.0], b=[0.0], ids=["d"]),
            ItemParameters.graded(a=[1.0], b=[[-1.0, 0.0, 1.0]], ids=["g"]),
        ]
    )
    pr = bank.prob(np.array([0.5]))[0]
    assert pr.shape == (2, 4)
    assert np.all(pr[0, 2:] == 0.0)
    np.testing.assert_allclose(pr.sum(1), 1.0)


@pytest.mark.filterwarnings("ignore:invalid value")  # -inf - -inf in padded categories, masked below
def test_polytomous_derivatives_match_finite_differences():
    bank = ItemParameters.concat(
        [
            ItemParameters.graded(a=[0.8, 1.6], b=[[-1.5, -0.2, 1.1], [0.0, 0.8, np.nan]], ids=["g1", "g2"]),
            ItemParameters.partial_credit(a=[1.1], b=[[0.4, -0.6]], ids=["p1"]),
        ]
    )
    th = np.linspace(-3, 3, 13)
    h = 1e-5
    lp, dl, d2l = bank.derivatives(th)
    fin = np.isfinite(lp)
    num1 = (bank.log_prob(th + h) - bank.log_prob(th - h)) / (2 * h)
    num2 = (bank.log_prob(th + h) - 2 * lp + bank.log_prob(th - h)) / h**2
    np.testing.assert_allclose(dl[fin], num1[fin], atol=1e-6)
    np.testing.assert_allclose(d2l[fin], num2[fin], atol=5e-4)


def test_paired_probabilities_equal_the_full_table_on_its_diagonal():
    bank = ItemParameters.concat(
        [
            ItemParameters.dichotomous(a=[1.1, 0.7], b=[0.3, -1.0], c=[0.2, 0.0], ids=["d1", "d2"]),
            ItemParameters.graded(a=[0.9], b=[[-1.0, 0.5]], ids=["g1"]),
            ItemParameters.partial_credit(a=[1.3], b=[[0.2, -0.4, 0.9]], ids=["p1"]),
        ]
    )
    theta = np.array([-2.0, 0.1, 1.5, 0.7, -0.3])
    items = np.array([0, 2, 3, 1, 3])
    full = bank.prob(theta)[np.arange(theta.size), items]
    np.testing.assert_allclose(bank.prob_at(theta, items), full, atol=1e-14)
    dich = bank.subset([0, 1])
    np.testing.assert_allclose(dich.prob_at(theta, items % 2), dich.prob(theta)[np.arange(5), items % 2], atol=1e-14)
