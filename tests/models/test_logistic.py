"""The logistic primitives (numpy only, so that no command pays for importing scipy.special) agree with scipy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import special

from digicomp.models.logistic import log_sigmoid, logsumexp, sigmoid

RNG = np.random.default_rng(20261202)
Z = np.concatenate([RNG.normal(0, 4, 20_000), RNG.normal(0, 300, 2_000), [-1e4, -745.2, -709.8, -36.1, 0.0, 36.1, 1e4]])


def test_sigmoid_agrees_with_scipys_expit_to_rounding():
    expected = special.expit(Z)
    np.testing.assert_allclose(sigmoid(Z), expected, rtol=4 * np.finfo(float).eps, atol=0)
    assert sigmoid(-1e4) == 0.0 and sigmoid(1e4) == 1.0 and sigmoid(0.0) == 0.5


def test_log_sigmoid_agrees_with_scipys_log_expit_in_both_tails():
    np.testing.assert_allclose(log_sigmoid(Z), special.log_expit(Z), rtol=4 * np.finfo(float).eps, atol=0)
    assert log_sigmoid(-1e4) == -1e4 and log_sigmoid(40.0) == pytest.approx(-np.exp(-40.0), rel=1e-15)


def test_logsumexp_agrees_with_scipy_with_absent_categories():
    z = RNG.normal(0, 30, (200, 9, 5))
    z[:, :, 3:] = -np.inf  # padded categories
    np.testing.assert_allclose(logsumexp(z), special.logsumexp(z, axis=-1, keepdims=True), rtol=1e-15, atol=1e-13)


def test_no_warnings_scalars_stay_scalars_and_out_is_filled_in_place():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sigmoid(Z), log_sigmoid(Z)
    assert np.ndim(sigmoid(0.3)) == 0 and sigmoid(0.3) == pytest.approx(special.expit(0.3), rel=1e-15)
    buffer = Z.copy()
    assert sigmoid(buffer, out=buffer) is buffer
    np.testing.assert_array_equal(buffer, sigmoid(Z))
