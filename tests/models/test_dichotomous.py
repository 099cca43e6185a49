"""Closed-form checks of the 1-4PL family (Lord 1980; Birnbaum 1968)."""

import numpy as np
import pytest

from digicomp.models import ItemParameters


@pytest.mark.parametrize("D", [1.0, 1.702])
def test_3pl_at_difficulty_is_midpoint_of_asymptotes(D):
    p = ItemParameters.dichotomous(a=[1.3], b=[0.4], c=[0.2], D=D)
    assert p.prob(0.4)[0, 1] == pytest.approx((1 + 0.2) / 2, abs=1e-14)


def test_4pl_at_difficulty_is_midpoint_of_both_asymptotes():
    p = ItemParameters.dichotomous(a=[0.9], b=[-0.5], c=[0.1], d=[0.85])
    assert p.prob(-0.5)[0, 1] == pytest.approx((0.1 + 0.85) / 2, abs=1e-14)


def test_2pl_information_peaks_at_b_with_value_D2a2_over_4():
    a, b, D = 1.4, 0.7, 1.702
    p = ItemParameters.dichotomous(a=[a], b=[b], D=D)
    grid = np.linspace(-4, 4, 8001)
    info = p.information(grid)[:, 0]
    assert grid[np.argmax(info)] == pytest.approx(b, abs=1e-3)
    assert info.max() == pytest.approx(D**2 * a**2 / 4, rel=1e-6)


def test_3pl_information_peaks_at_birnbaum_location():
    # θ_max = b + ln((1 + sqrt(1 + 8c)) / 2) / (D a)  (Birnbaum 1968; Lord 1980, eq. 10-4)
    a, b, c, D = 1.2, 0.3, 0.25, 1.0
    p = ItemParameters.dichotomous(a=[a], b=[b], c=[c], D=D)
    grid = np.linspace(-3, 3, 60001)
    expected = b + np.log((1 + np.sqrt(1 + 8 * c)) / 2) / (D * a)
    assert grid[np.argmax(p.information(grid)[:, 0])] == pytest.approx(expected, abs=2e-4)


def test_3pl_information_matches_closed_form():
    # I(θ) = D²a² (Q/P) ((P - c)/(1 - c))²  (Lord 1980, eq. 4-43)
    a, b, c, D = 0.8, -0.4, 0.2, 1.702
    p = ItemParameters.dichotomous(a=[a], b=[b], c=[c], D=D)
    th = np.linspace(-3, 3, 13)
    P = p.prob(th)[:, 0, 1]
    expected = D**2 * a**2 * ((1 - P) / P) * ((P - c) / (1 - c)) ** 2
    np.testing.assert_allclose(p.information(th)[:, 0], expected, rtol=1e-10)


def test_log_prob_is_finite_and_accurate_in_far_tails():
    p = ItemParameters.dichotomous(a=[1.0, 1.0], b=[0.0, 0.0], c=[0.0, 0.2])
    lp = p.log_prob(np.array([-800.0, 800.0]))
    # 2PL: log P1(θ) = log σ(θ) = θ - log(1 + e^θ) ≈ θ far left; log P0 ≈ -θ far right
    assert lp[0, 0, 1] == pytest.approx(-800.0)
    assert lp[1, 0, 0] == pytest.approx(-800.0)
    # 3PL: P1 → c far left, so log P1 → log c (no cancellation, no log 0)
    assert lp[0, 1, 1] == pytest.approx(np.log(0.2))
    assert np.all(np.isfinite(lp))


def test_rasch_probability_is_logistic_of_theta_minus_b():
    p = ItemParameters.dichotomous(a=1.0, b=[-1.0, 0.5], model="Rasch")
    th = np.array([0.25])
    expected = 1 / (1 + np.exp(-(th[:, None] - np.array([-1.0, 0.5]))))
    np.testing.assert_allclose(p.prob(th)[..., 1], expected, rtol=1e-14)


def test_derivatives_match_finite_differences():
    p = ItemParameters.dichotomous(a=[0.7, 1.5, 1.1], b=[-1, 0.2, 1.5], c=[0, 0.2, 0.1], d=[1, 1, 0.9])
    th = np.linspace(-4, 4, 17)
    h = 1e-5
    lp, dl, d2l = p.derivatives(th)
    np.testing.assert_allclose(dl, (p.log_prob(th + h) - p.log_prob(th - h)) / (2 * h), atol=1e-7)
    np.testing.assert_allclose(d2l, (p.log_prob(th + h) - 2 * lp + p.log_prob(th - h)) / h**2, atol=2e-4)
