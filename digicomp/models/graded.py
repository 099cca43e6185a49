"""Samejima's graded response model in slope-intercept form.

P*(x ≥ k | θ) = σ(a θ + d_k) for k = 1..K-1 with d_1 > d_2 > ... (d_k = -D·a·b_k), and
P(x = k) = P*_k - P*_{k+1} with P*_0 = 1, P*_K = 0 (Samejima 1969). Category log-probabilities use
log(σ(x) - σ(y)) = log σ(x) + log σ(-y) + log(1 - e^(y-x)), free of cancellation in the tails.
θ and a are broadcastable (shape B); intercepts are B + (Kmax-1,), NaN-padded for items with fewer
categories; results are B + (Kmax,).
"""

from __future__ import annotations

import numpy as np

from digicomp.models.logistic import Array, log1mexp, log_sigmoid, sigmoid


def _cumulative_logits(theta: Array, a: Array, d: Array) -> Array:
    """z_k for k = 0..K with z_0 = +inf and z_K (and padding) = -inf, shaped B + (K+1,)."""
    z = (theta * a)[..., None] + d  # B + (K-1,)
    z = np.where(np.isnan(z), -np.inf, z)
    shape = z.shape[:-1] + (1,)
    return np.concatenate([np.full(shape, np.inf), z, np.full(shape, -np.inf)], axis=-1)


def log_prob(theta: Array, a: Array, d: Array) -> Array:
    """log P(x = k | θ) for k = 0..Kmax-1, shaped B + (Kmax,); -inf for categories an item lacks."""
    z = _cumulative_logits(theta, a, d)
    upper, lower = z[..., :-1], z[..., 1:]
    valid = upper > lower
    with np.errstate(invalid="ignore"):
        gap = np.where(valid, lower - upper, -1.0)
        out = log_sigmoid(upper) + log_sigmoid(-lower) + log1mexp(gap)
    return np.where(valid, out, -np.inf)


def components(theta: Array, a: Array, d: Array) -> tuple[Array, Array, Array]:
    """log P, d log P / dθ = a(1 - P*_k - P*_{k+1}) and d² log P / dθ² = -a²(w_k + w_{k+1}), w = P*(1-P*)."""
    z = _cumulative_logits(theta, a, d)
    star = sigmoid(z)
    w = star * (1.0 - star)
    slope = np.asarray(a)[..., None]
    dl = slope * (1.0 - star[..., :-1] - star[..., 1:])
    d2l = -(slope**2) * (w[..., :-1] + w[..., 1:])
    lp = log_prob(theta, a, d)
    missing = np.isneginf(lp)
    return lp, np.where(missing, 0.0, dl), np.where(missing, 0.0, d2l)
