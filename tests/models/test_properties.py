"""Hypothesis properties of every model: probabilities, information, monotonicity."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.models import ItemParameters


@st.composite
def banks(draw):
    n_d = draw(st.integers(0, 3))
    n_g = draw(st.integers(0, 2))
    n_p = draw(st.integers(0, 2))
    if n_d + n_g + n_p == 0:
        n_d = 1
    parts = []
    f = st.floats
    if n_d:
        c = draw(st.lists(f(0, 0.4), min_size=n_d, max_size=n_d))
        parts.append(
            ItemParameters.dichotomous(
                a=draw(st.lists(f(0.1, 4), min_size=n_d, max_size=n_d)),
                b=draw(st.lists(f(-4, 4), min_size=n_d, max_size=n_d)),
                c=c,
                d=[min(1.0, ci + draw(f(0.3, 1.0))) for ci in c],
                ids=[f"d{k}" for k in range(n_d)],
            )
        )
    for k in range(n_g):
        cuts = sorted(draw(st.lists(f(-3, 3), min_size=1, max_size=4, unique=True)))
        if np.any(np.diff(cuts) < 1e-3):
            cuts = [cuts[0]]
        parts.append(ItemParameters.graded(a=[draw(f(0.1, 4))], b=[cuts], ids=[f"g{k}"]))
    for k in range(n_p):
        steps = draw(st.lists(f(-3, 3), min_size=1, max_size=4))
        parts.append(ItemParameters.partial_credit(a=[draw(f(0.1, 4))], b=[steps], ids=[f"p{k}"]))
    return ItemParameters.concat(parts)


thetas = st.lists(st.floats(-8, 8), min_size=1, max_size=6).map(lambda v: np.sort(np.array(v)))


@settings(max_examples=80, deadline=None)
@given(bank=banks(), theta=thetas)
def test_probabilities_lie_in_unit_interval_and_sum_to_one(bank, theta):
    pr = bank.prob(theta)
    assert np.all((pr >= 0) & (pr <= 1))
    np.testing.assert_allclose(pr.sum(-1), 1.0, atol=1e-12)
    lp = bank.log_prob(theta)
    real = np.arange(pr.shape[-1]) < bank.n_categories[:, None]
    assert np.all(np.isfinite(lp[..., real]))


@settings(max_examples=80, deadline=None)
@given(bank=banks(), theta=thetas)
def test_information_is_nonnegative_and_finite(bank, theta):
    info = bank.information(theta)
    assert np.all(np.isfinite(info)) and np.all(info >= 0)


@settings(max_examples=80, deadline=None)
@given(bank=banks())
def test_expected_score_and_cumulative_categories_increase_with_theta(bank):
    theta = np.linspace(-6, 6, 121)
    pr = bank.prob(theta)
    # P(x ≥ k) is non-decreasing in θ for every k (dichotomous, graded and partial credit alike)
    tail = np.flip(np.cumsum(np.flip(pr, -1), -1), -1)
    assert np.all(np.diff(tail, axis=0) >= -1e-12)
    assert np.all(np.diff(bank.expected_score(theta), axis=0) >= -1e-12)


@settings(max_examples=40, deadline=None)
@given(bank=banks(), seed=st.integers(0, 2**31))
def test_simulated_responses_stay_within_each_items_categories(bank, seed):
    x = bank.simulate(np.linspace(-3, 3, 50), rng=seed)
    assert np.all(x >= 0) and np.all(x < bank.n_categories)
