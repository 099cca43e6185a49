"""Shares at or above each level: recovery, intervals that cover, the finite-population correction, roll-up."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.programme.estimate import estimate_shares

CUTS = np.array([-1.2, 0.0, 1.2])


def measured(theta: np.ndarray, rng: np.random.Generator, lo: float = 0.3, hi: float = 0.45):
    """EAP and posterior SD under N(0, 1) of a normal likelihood N(θ + error, v) (what a test would report)."""
    v = rng.uniform(lo, hi, theta.size) ** 2
    m = theta + rng.normal(0, np.sqrt(v))
    prec = 1 / v + 1
    return (m / v) / prec, 1 / np.sqrt(prec)


def units_of(sizes, means, sds, rng):
    theta = np.concatenate([rng.normal(mu, sd, n) for n, mu, sd in zip(sizes, means, sds)])
    unit = np.repeat(np.arange(len(sizes)), sizes)
    return theta, unit


def true_shares(theta, unit, n_units):
    lv = np.searchsorted(CUTS, theta, side="right")
    return np.stack([np.bincount(unit, lv >= k, n_units) / np.bincount(unit, minlength=n_units) for k in range(4)], 1)


def test_precisely_measured_persons_give_the_true_share_and_agree_with_counting():
    rng = np.random.default_rng(1)
    theta, unit = units_of([50, 80], [-0.5, 0.7], [1.0, 0.8], rng)
    theta = theta[np.abs(theta[:, None] - CUTS).min(axis=1) > 0.05]  # nobody within rounding of a cut
    unit = unit[: theta.size]
    se = np.full(theta.size, 0.005)
    est = estimate_shares(theta, se, unit, np.arange(2)[:, None], CUTS)
    truth = true_shares(theta, unit, 2)
    np.testing.assert_allclose(est.estimate, truth, atol=1e-6)
    np.testing.assert_allclose(est.naive, truth)
    assert ((est.lower <= truth) & (truth <= est.upper)).all()


def test_intervals_cover_the_true_share_of_normal_units():
    """180 unit-level pairs from normal units of 20-400 persons: about 95% covered (binomial SE 0.016)."""
    rng = np.random.default_rng(7)
    n_units = 60
    sizes = rng.integers(20, 401, n_units)
    theta, unit = units_of(sizes, rng.uniform(-1.5, 1.5, n_units), rng.uniform(0.4, 1.2, n_units), rng)
    eap, se = measured(theta, rng)
    est = estimate_shares(eap, se, unit, np.arange(n_units)[:, None], CUTS, seed=3)
    truth = true_shares(theta, unit, n_units)[:, 1:]
    covered = (est.lower[:, 1:] <= truth) & (truth <= est.upper[:, 1:])
    assert 0.90 <= covered.mean() <= 0.99
    # counting hard classifications is further from the truth than the estimate
    assert np.abs(est.naive[:, 1:] - truth).mean() > 1.2 * np.abs(est.estimate[:, 1:] - truth).mean()


def test_headcount_adds_sampling_error_that_vanishes_when_everyone_is_assessed():
    rng = np.random.default_rng(2)
    theta, unit = units_of([100], [0.2], [1.0], rng)
    eap, se = measured(theta, rng)
    anc = np.zeros((1, 1), np.intp)
    whole = estimate_shares(eap, se, unit, anc, CUTS, headcount=np.array([100]))
    half = estimate_shares(eap, se, unit, anc, CUTS, headcount=np.array([200]))
    none = estimate_shares(eap, se, unit, anc, CUTS)
    assert np.all(whole.sampling_var == 0) and np.all(none.sampling_var == 0)
    p = half.estimate[0, 1:]
    smooth = (p * 100 + 0.5) / 101
    expected = (1 - 100 / 200) * smooth * (1 - smooth) / 99  # (1 - f) s² / n with s² = n/(n-1) p(1-p)
    np.testing.assert_allclose(half.sampling_var[0, 1:], expected, rtol=1e-9)
    assert np.all((half.upper - half.lower)[:, 1:] > (whole.upper - whole.lower)[:, 1:])


def test_parent_share_is_the_weighted_mean_of_its_units():
    rng = np.random.default_rng(4)
    theta, unit = units_of([30, 60, 90], [-1.0, 0.0, 1.0], [0.6, 0.6, 0.6], rng)
    leaf = unit + 1  # units 1..3 under root 0
    anc = np.array([[0, -1], [1, 0], [2, 0], [3, 0]])
    eap, se = measured(theta, rng)
    head = np.array([-1, 60, -1, 90])  # unit 1 counts double (30 assessed of 60), unit 3 is whole
    est = estimate_shares(eap, se, leaf, anc, CUTS, headcount=head)
    weights = np.array([60, 60, 90])
    np.testing.assert_allclose(est.estimate[0], weights @ est.estimate[1:] / weights.sum(), rtol=1e-12)
    assert est.n.tolist() == [180, 30, 60, 90]
    assert est.population.tolist() == [210, 60, 60, 90]


def test_normal_method_also_recovers_normal_units():
    rng = np.random.default_rng(9)
    theta, unit = units_of([400, 400], [-0.8, 0.9], [0.7, 0.5], rng)
    eap, se = measured(theta, rng)
    est = estimate_shares(eap, se, unit, np.arange(2)[:, None], CUTS, method="normal")
    truth = true_shares(theta, unit, 2)
    assert np.all(np.abs(est.estimate - truth) <= 4 * est.se + 1e-9)


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method 'pv'"):
        estimate_shares(
            np.zeros(3), np.full(3, 0.3), np.zeros(3, np.intp), np.zeros((1, 1), np.intp), CUTS, method="pv"
        )


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-3, 3), st.floats(0.15, 0.9), st.integers(0, 2)), min_size=1, max_size=40),
    st.integers(-1, 60),
)
def test_intervals_hold_the_estimate_inside_zero_one(people, head):
    eap, se, unit = (np.array(c) for c in zip(*people))
    anc = np.array([[0, -1], [1, 0], [2, 0]])
    est = estimate_shares(eap, se, unit.astype(np.intp), anc, CUTS, headcount=np.array([-1, head, -1]), draws=3)
    has = est.n > 0
    assert np.all(est.lower[has] <= est.estimate[has] + 1e-12)
    assert np.all(est.estimate[has] <= est.upper[has] + 1e-12)
    assert np.all((est.lower[has] >= 0) & (est.upper[has] <= 1))
    assert np.all(np.diff(est.estimate[has], axis=1) <= 1e-9)  # at or above a higher level: never more
    np.testing.assert_allclose(est.estimate[has, 0], 1.0)


def test_redraws_of_tiny_precisely_measured_units_stay_finite():
    """A one-person unit (all-zero Poisson weights happen 37% of draws) and persons measured far more precisely than
    the grid: every redraw keeps finite P(level ≥ k) (no 0/0), so the units' intervals come from real draws."""
    from digicomp.programme.population import GridModel

    rng = np.random.default_rng(5)
    theta, unit = units_of([1, 2, 60], [0.5, -0.4, 0.1], [1.0, 1.0, 1.0], rng)
    eap, se = theta, np.full(theta.size, 0.005)
    fitted = GridModel.fit(eap, se, unit, 3, CUTS)
    for _ in range(20):
        q = fitted.at_or_above(fitted.redraw(rng))
        assert np.isfinite(q).all()
        assert np.all((q >= 0) & (q <= 1)) and np.allclose(q[:, 0], 1.0)
    est = estimate_shares(eap, se, unit, np.arange(3)[:, None], CUTS, seed=1)
    assert np.isfinite(est.se).all() and np.isfinite(est.lower).all() and np.isfinite(est.upper).all()


@pytest.mark.parametrize("m", [2, 6, 10, 40])
def test_few_draws_widen_the_interval_by_rubins_t_reference(m):
    from scipy import stats

    from digicomp.programme.estimate import _few_draws_widening

    z = stats.norm.ppf(0.975)
    within = np.array([0.0, 1e-4, 1e-4, 1e-4])
    between = np.array([1e-4, 0.0, 1e-4, 1e-8])
    got = _few_draws_widening(within, between, m)
    # all between-draw: nu = m - 1; none: the normal; equal parts: nu = 4 (m - 1); tiny between: nearly the normal
    want = [(stats.t.ppf(0.975, m - 1) / z) ** 2, 1.0, (stats.t.ppf(0.975, 4 * (m - 1)) / z) ** 2, 1.0]
    np.testing.assert_allclose(got, want, rtol=1e-6 if m > 2 else 1e-3, atol=1e-4)
    assert got[0] > got[2] > 1.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=9),
    st.integers(2025, 2027),
    st.integers(1, 12),
)
def test_projection_is_the_least_squares_line_through_the_last_six_months(shares, year, month):
    import datetime

    from digicomp.programme.build import _projection

    months = [f"{2025 + (k // 12)}-{k % 12 + 1:02d}" for k in range(len(shares))]
    date = datetime.date(year, month, 28)
    got = _projection(list(zip(months, shares)), date)
    last = list(zip(months, shares))[-6:]
    if len(last) == 1:
        assert got == last[0][1]
        return
    x = np.array([int(m[:4]) * 12 + int(m[5:]) for m, _ in last], float)
    slope, icept = np.polyfit(x, [v for _, v in last], 1)
    assert got == pytest.approx(float(np.clip(icept + slope * (year * 12 + month), 0, 1)), abs=1e-9)
