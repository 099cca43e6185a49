"""Muraki's generalized partial credit model (and the partial credit model, a = 1), slope-intercept form.

P(x = k | θ) ∝ exp(a k θ + d_k), d_0 = 0, d_k = -D·a·Σ_{v≤k} b_v (Muraki 1992; mirt's gpcm with
scoring values 0..K-1). Step parameters b_v need not be ordered. θ and a broadcast (shape B);
intercepts are B + (Kmax-1,), NaN-padded; results are B + (Kmax,).
"""

from __future__ import annotations

import numpy as np

from digicomp.models.logistic import Array, logsumexp


def _logits(theta: Array, a: Array, d: Array) -> Array:
    """a k θ + d_k for k = 0..Kmax-1, -inf for padded categories, shaped B + (Kmax,)."""
    k = np.arange(d.shape[-1] + 1, dtype=float)
    intercepts = np.concatenate([np.zeros(d.shape[:-1] + (1,)), d], axis=-1)
    z = (theta * a)[..., None] * k + intercepts
    return np.where(np.isnan(z), -np.inf, z)


def log_prob(theta: Array, a: Array, d: Array) -> Array:
    """log P(x = k | θ) shaped B + (Kmax,); -inf for categories an item lacks."""
    z = _logits(theta, a, d)
    return z - logsumexp(z, axis=-1)


def components(theta: Array, a: Array, d: Array) -> tuple[Array, Array, Array]:
    """log P, d log P / dθ = a(k - E[k]) and d² log P / dθ² = -a² Var[k]."""
    lp = log_prob(theta, a, d)
    p = np.exp(lp)
    k = np.arange(lp.shape[-1], dtype=float)
    mean = (p * k).sum(-1, keepdims=True)
    var = (p * (k - mean) ** 2).sum(-1, keepdims=True)
    slope = np.asarray(a)[..., None]
    missing = np.isneginf(lp)
    dl = np.where(missing, 0.0, slope * (k - mean))
    d2l = np.where(missing, 0.0, -(slope**2) * np.broadcast_to(var, lp.shape))
    return lp, dl, d2l


def cumulative_steps(steps: Array) -> Array:
    """Σ_{v≤k} b_v along the last axis, keeping NaN padding."""
    return np.cumsum(steps, axis=-1)


def steps_from_cumulative(cum: Array) -> Array:
    """Inverse of :func:`cumulative_steps`."""
    return np.diff(cum, axis=-1, prepend=0.0)
