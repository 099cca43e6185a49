"""Item families in the calibration's internal parameters: probabilities and their Jacobians, vectorised.

Internal parameters per item (rows of ``eta``), mirt's slope-intercept form (Chalmers 2012):

* dichotomous ``[a, d, logit g, logit u]``: P(1) = g + (u - g) σ(aθ + d);
* graded ``[a, d_1..d_{K-1}]``: P(x ≥ k) = σ(aθ + d_k) (Samejima 1969);
* gpcm ``[a, d_1..d_{K-1}]``: P(k) ∝ exp(a k θ + d_k), d_0 = 0 (Muraki 1992).

Padded categories hold ``-inf`` intercepts. Every function takes ``eta`` (n, m) and grid points (Q,) and
returns arrays shaped (Q, n, K) or (Q, n, K, m), so the M-step treats all items of a family at once.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from digicomp.models import dichotomous, graded, partial_credit
from digicomp.models.logistic import sigmoid

Array = NDArray[np.float64]
FAMILY_OF = {
    "Rasch": "dichotomous",
    "1PL": "dichotomous",
    "2PL": "dichotomous",
    "3PL": "dichotomous",
    "4PL": "dichotomous",
    "GRM": "graded",
    "GPCM": "gpcm",
    "PCM": "gpcm",
}


def expit(x: Array) -> Array:
    """Logistic function, exact at ±inf."""
    return sigmoid(np.asarray(x, dtype=float))


def logit(p: Array) -> Array:
    """Inverse of :func:`expit`; ±inf at 0 and 1."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)


def log_prob(family: str, eta: Array, points: Array) -> Array:
    """log P(x = k | θ_q) shaped (Q, n, K), using the stable model code of :mod:`digicomp.models`."""
    t = points[:, None]
    if family == "dichotomous":
        return dichotomous.log_prob(t, eta[:, 0], eta[:, 1], expit(eta[:, 2]), expit(eta[:, 3]))
    module = graded if family == "graded" else partial_credit
    d = np.where(np.isneginf(eta[:, 1:]), np.nan, eta[:, 1:])
    return module.log_prob(t, eta[:, 0], d)


def prob_jacobian(family: str, eta: Array, points: Array) -> tuple[Array, Array]:
    """(P (Q, n, K), ∂P/∂η (Q, n, K, m)) for the Fisher-scoring M-step."""
    if family == "dichotomous":
        return _dich_jacobian(eta, points)
    if family == "graded":
        return _graded_jacobian(eta, points)
    return _gpcm_jacobian(eta, points)


def dichotomous_jacobian(eta: Array, points: Array) -> tuple[Array, Array]:
    """(P(1) (Q, n), ∂P(1)/∂η (Q, n, 4)); category 0 has the negatives."""
    t = points[:, None]
    a, d = eta[:, 0], eta[:, 1]
    g, u = expit(eta[:, 2]), expit(eta[:, 3])
    s = sigmoid(t * a + d)
    w = (u - g) * s * (1.0 - s)
    p1 = g + (u - g) * s
    jac1 = np.stack([w * t, w, (1.0 - s) * g * (1.0 - g), s * u * (1.0 - u)], axis=-1)
    return p1, jac1


def _dich_jacobian(eta: Array, points: Array) -> tuple[Array, Array]:
    p1, jac1 = dichotomous_jacobian(eta, points)
    P = np.stack([1.0 - p1, p1], axis=-1)
    J = np.stack([-jac1, jac1], axis=-2)
    return P, J


def _graded_jacobian(eta: Array, points: Array) -> tuple[Array, Array]:
    t = points[:, None]
    a, d = eta[:, 0], eta[:, 1:]
    n, steps = d.shape
    K = steps + 1
    star = np.ones((points.size, n, K + 1))
    star[..., K] = 0.0
    with np.errstate(invalid="ignore"):
        star[..., 1:K] = sigmoid((t * a)[..., None] + d)
    w = star * (1.0 - star)
    P = star[..., :-1] - star[..., 1:]
    J = np.zeros(P.shape + (1 + steps,))
    J[..., 0] = (w[..., :-1] - w[..., 1:]) * t[..., None]
    k = np.arange(steps)
    # d_{s+1} raises P*_{s+1}: category s loses what category s + 1 gains
    J[..., k, 1 + k] = -w[..., 1:K]
    J[..., k + 1, 1 + k] = w[..., 1:K]
    return P, J


def _gpcm_jacobian(eta: Array, points: Array) -> tuple[Array, Array]:
    t = points[:, None]
    a, d = eta[:, 0], eta[:, 1:]
    n, steps = d.shape
    K = steps + 1
    k = np.arange(K, dtype=float)
    z = (t * a)[..., None] * k + np.concatenate([np.zeros((n, 1)), d], axis=1)
    z -= z.max(axis=-1, keepdims=True)
    P = np.exp(z)
    P /= P.sum(axis=-1, keepdims=True)
    mean = (P * k).sum(-1, keepdims=True)
    J = np.empty(P.shape + (K,))
    J[..., 0] = P * (k - mean) * t[..., None]
    J[..., 1:] = -P[..., :, None] * P[..., None, 1:]
    idx = np.arange(1, K)
    J[..., idx, idx] += P[..., 1:]
    return P, J
