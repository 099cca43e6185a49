"""The four-parameter logistic family (Rasch, 1PL, 2PL, 3PL, 4PL) in slope-intercept form.

P(x = 1 | θ) = g + (u - g) σ(a θ + d), with a = D·a_file, d = -D·a_file·b, g = c, u = d_file
(Birnbaum 1968; Barton & Lord 1981 for the upper asymptote). Functions take θ and parameters already
broadcastable against each other (shape B) and return arrays shaped B + (2,); the caller decides whether
that means a grid × items or one θ per observation.
"""

from __future__ import annotations

import numpy as np

from digicomp.models.logistic import Array, log_sigmoid, safe_log, sigmoid


def components(theta: Array, a: Array, d: Array, g: Array, u: Array) -> tuple[Array, Array, Array]:
    """log P, d log P / dθ and d² log P / dθ² for categories 0 and 1, each shaped B + (2,)."""
    z = theta * a + d
    s = sigmoid(z)
    ls1, ls0 = log_sigmoid(z), log_sigmoid(-z)
    if not (np.any(g != 0) or np.any(u != 1)):
        # 2PL / Rasch: d log P1 = a(1 - s), d log P0 = -a s, both curvatures -a² s(1 - s)
        curv = -(a * a) * s * (1.0 - s)
        return (
            np.stack([ls0, ls1], axis=-1),
            np.stack([-a * s, a * (1.0 - s)], axis=-1),
            np.stack([curv, curv], axis=-1),
        )
    log_span = safe_log(u - g)
    log_p1 = np.logaddexp(safe_log(g), log_span + ls1)
    log_p0 = np.logaddexp(safe_log(1.0 - u), log_span + ls0)
    # (u-g)s/P and (u-g)(1-s)/Q are ratios in [0, 1]; writing the derivatives through them avoids 0/0.
    r1 = np.exp(log_span + ls1 - log_p1)
    r0 = np.exp(log_span + ls0 - log_p0)
    dl1 = a * r1 * (1.0 - s)
    dl0 = -a * r0 * s
    curv = a * (1.0 - 2.0 * s)
    d2l1 = dl1 * curv - dl1**2
    d2l0 = dl0 * curv - dl0**2
    return (
        np.stack([log_p0, log_p1], axis=-1),
        np.stack([dl0, dl1], axis=-1),
        np.stack([d2l0, d2l1], axis=-1),
    )


def log_prob(theta: Array, a: Array, d: Array, g: Array, u: Array) -> Array:
    """log P(x = k | θ) for k = 0, 1, shaped B + (2,); finite wherever the probability is positive."""
    z = theta * a + d
    if not (np.any(g != 0) or np.any(u != 1)):
        return np.stack([log_sigmoid(-z), log_sigmoid(z)], axis=-1)
    log_span = safe_log(u - g)
    log_p1 = np.logaddexp(safe_log(g), log_span + log_sigmoid(z))
    log_p0 = np.logaddexp(safe_log(1.0 - u), log_span + log_sigmoid(-z))
    return np.stack([log_p0, log_p1], axis=-1)


def to_intercept(a_file: Array, b: Array, D: float) -> tuple[Array, Array]:
    """File form (a, b) → slope-intercept (D·a, -D·a·b)."""
    slope = D * a_file
    return slope, -slope * b


def from_intercept(slope: Array, d: Array, D: float) -> tuple[Array, Array]:
    """Slope-intercept (a*, d) → file form (a*/D, -d/a*)."""
    return slope / D, -d / slope
