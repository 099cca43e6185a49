"""Numerically stable logistic primitives shared by every item model.

All functions accept arrays and stay finite and accurate in the tails: no log(0) and no 1 - p
cancellation for extreme arguments.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, log_expit

Array = NDArray[np.float64]


def sigmoid(z: Array) -> Array:
    """Logistic function 1 / (1 + exp(-z)), computed without overflow (scipy's expit)."""
    return expit(z)


def log_sigmoid(z: Array) -> Array:
    """log(sigmoid(z)) = -log1p(exp(-z)), exact for large |z| in both directions (scipy's log_expit)."""
    return log_expit(z)


def safe_log(x: Array | float) -> Array:
    """log(x) that returns -inf for x == 0 without a RuntimeWarning."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(x)


def log1mexp(x: Array) -> Array:
    """log(1 - exp(x)) for x <= 0, accurate near 0 and for very negative x (Maechler 2012)."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    near = x > -np.log(2.0)
    with np.errstate(divide="ignore"):
        out[near] = np.log(-np.expm1(x[near]))
        out[~near] = np.log1p(-np.exp(x[~near]))
    return out
