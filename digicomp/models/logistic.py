"""Numerically stable logistic primitives shared by every item model.

All functions accept arrays and stay finite and accurate in the tails: no log(0) and no 1 - p
cancellation for extreme arguments.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

# numpy only (no scipy.special): importing scipy.special costs ~0.1-0.15 s, more than a whole command's work. The
# formulas are scipy's (expit = 1 / (1 + exp(-z)); log_expit = min(z, 0) - log1p(exp(-|z|))) and agree with it to
# a few units in the last place (tests/models/test_logistic.py).


def sigmoid(z: Array, out: Array | None = None) -> Array:
    """Logistic function 1 / (1 + exp(-z)); exp(-z) = inf for z < -709 gives exactly 0, without a warning."""
    t = np.negative(z, out=out)
    if not (isinstance(t, np.ndarray) and t.dtype.kind == "f"):
        t = np.array(t, dtype=float)
    with np.errstate(over="ignore"):
        np.exp(t, out=t)
    t += 1.0
    np.reciprocal(t, out=t)
    return t if t.ndim or out is not None else t[()]


def log_sigmoid(z: Array) -> Array:
    """log(sigmoid(z)) = min(z, 0) - log1p(exp(-|z|)), exact for large |z| in both directions."""
    return np.minimum(z, 0.0) - np.log1p(np.exp(-np.abs(z)))


def logsumexp(z: Array, axis: int = -1) -> Array:
    """log Σ exp(z) along ``axis`` (kept as a length-1 axis), shifted by the finite maximum so nothing overflows."""
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)) + m


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
