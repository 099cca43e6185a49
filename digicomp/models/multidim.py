"""Compensatory multidimensional item models as arrays, in R mirt's slope–intercept form (Chalmers 2012).

Every item has a slope vector a_j (one entry per dimension; 0 = the item does not load there) and a linear
predictor t_j(θ) = a_j·θ. The models are the unidimensional ones applied to that predictor (Reckase 2009, ch. 4):

* M2PL/M3PL/M4PL: P(x = 1 | θ) = g + (u - g) σ(a·θ + d);
* MGRM: P(x ≥ k | θ) = σ(a·θ + d_k), d_1 > d_2 > ...;
* MGPCM: P(x = k | θ) ∝ exp(k a·θ + d_k), d_0 = 0 (mirt's gpcm with scores 0..C-1).

So the stable unidimensional kernels of :mod:`digicomp.models` are evaluated at θ = t, a = 1, and the Fisher
information is I_j(θ) = a_j a_jᵀ i_j(t), i_j the scalar information in t. Shapes: θ (Q, K), a (J, K), intercepts
(J,) for dichotomous items or (J, C-1) NaN-padded for polytomous items; probabilities (Q, J) or (Q, J, C),
information (Q, J, K, K). A per-item ``model`` (digicomp's or mirt's names) mixes families in one call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.errors import ParameterError
from digicomp.models import dichotomous, graded, logistic, partial_credit
from digicomp.models.logistic import sigmoid
from digicomp.models.names import DICHOTOMOUS_MODELS, model_name

Array = NDArray[np.float64]
FAMILIES = ("dichotomous", "graded", "gpcm")


def _theta(theta: ArrayLike) -> Array:
    """θ as (Q, K); a single point (K,) becomes (1, K)."""
    th = np.asarray(theta, dtype=float)
    if th.ndim == 1:
        th = th[None, :]
    if th.ndim != 2:
        raise ParameterError(f"theta has shape {th.shape}, expected (points, dimensions)")
    return th


def _slopes(a: ArrayLike, K: int) -> Array:
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != K:
        raise ParameterError(f"slopes have shape {arr.shape}, expected (items, {K}) for {K}-dimensional theta")
    return arr


def _intercepts(intercepts: ArrayLike, J: int) -> Array:
    d = np.asarray(intercepts, dtype=float)
    if d.ndim == 0:
        d = np.full((J, 1), float(d))
    elif d.ndim == 1:
        d = d[:, None] if d.shape[0] == J else d[None, :]
    if d.ndim != 2 or d.shape[0] != J:
        raise ParameterError(f"intercepts have shape {d.shape}, expected ({J},) or ({J}, categories - 1)")
    return d


def _vector(x: ArrayLike | None, J: int, default: float, name: str) -> Array:
    if x is None:
        return np.full(J, default)
    arr = np.asarray(x, dtype=float)
    arr = np.full(J, float(arr)) if arr.ndim == 0 else arr
    if arr.shape != (J,):
        raise ParameterError(f"{name} has shape {arr.shape}, expected ({J},)")
    return arr


def logits(theta: ArrayLike, a: ArrayLike, intercept: ArrayLike) -> Array:
    """a·θ + d: θ (Q, K), a (J, K), intercept (J,) -> (Q, J)."""
    th = _theta(theta)
    return th @ _slopes(a, th.shape[1]).T + np.asarray(intercept, dtype=float)


def predictor(theta: ArrayLike, a: ArrayLike) -> Array:
    """The linear predictor t = a·θ (no intercept), (Q, J)."""
    th = _theta(theta)
    return th @ _slopes(a, th.shape[1]).T


# ------------------------------------------------------------------------------------------------ probabilities
def log_prob_dichotomous(
    theta: ArrayLike, a: ArrayLike, intercept: ArrayLike, c: ArrayLike | None = None, u: ArrayLike | None = None
) -> Array:
    """log P(x = 0), log P(x = 1) of M2PL–M4PL items, (Q, J, 2); finite wherever the probability is positive."""
    t = predictor(theta, a)
    J = t.shape[1]
    d = np.asarray(intercept, dtype=float).reshape(J)
    return dichotomous.log_prob(t, 1.0, d, _vector(c, J, 0.0, "c"), _vector(u, J, 1.0, "u"))


def prob_dichotomous(
    theta: ArrayLike, a: ArrayLike, intercept: ArrayLike, c: ArrayLike | None = None, u: ArrayLike | None = None
) -> Array:
    """P(x = 1 | θ) = g + (u - g) σ(a·θ + d), (Q, J); 0 and 1 reached exactly in the far tails, never NaN."""
    z = logits(theta, a, np.asarray(intercept, dtype=float).reshape(-1))
    J = z.shape[1]
    g, up = _vector(c, J, 0.0, "c"), _vector(u, J, 1.0, "u")
    return g + (up - g) * sigmoid(z)


def log_prob_graded(theta: ArrayLike, a: ArrayLike, intercepts: ArrayLike) -> Array:
    """log P(x = k) of MGRM items, (Q, J, C); -inf for categories an item lacks (NaN-padded intercepts)."""
    t = predictor(theta, a)
    return graded.log_prob(t, 1.0, _intercepts(intercepts, t.shape[1]))


def prob_graded(theta: ArrayLike, a: ArrayLike, intercepts: ArrayLike) -> Array:
    """P(x = k) of MGRM items (Samejima 1969 with slope vectors), (Q, J, C); padded categories 0."""
    return np.exp(log_prob_graded(theta, a, intercepts))


def log_prob_gpcm(theta: ArrayLike, a: ArrayLike, intercepts: ArrayLike) -> Array:
    """log P(x = k) of MGPCM items, (Q, J, C); -inf for categories an item lacks."""
    t = predictor(theta, a)
    return partial_credit.log_prob(t, 1.0, _intercepts(intercepts, t.shape[1]))


def prob_gpcm(theta: ArrayLike, a: ArrayLike, intercepts: ArrayLike) -> Array:
    """P(x = k) ∝ exp(k a·θ + d_k) of MGPCM items (Muraki 1992; mirt's gpcm), (Q, J, C); padded categories 0."""
    return np.exp(log_prob_gpcm(theta, a, intercepts))


def families(model: str | Sequence[str], J: int) -> NDArray[np.str_]:
    """Per-item family ('dichotomous', 'graded', 'gpcm') from one model name or one per item."""
    names = [model] * J if isinstance(model, str) else list(model)
    if len(names) != J:
        raise ParameterError(f"{len(names)} model names given for {J} items")
    out = []
    for j, m in enumerate(names):
        if m in FAMILIES:
            out.append(m)
            continue
        name = model_name(m, polytomous=None, where=f"model of item {j + 1}")
        out.append("dichotomous" if name in DICHOTOMOUS_MODELS else "graded" if name == "GRM" else "gpcm")
    return np.array(out)


def _blocks(fam: NDArray[np.str_]) -> list[tuple[str, NDArray[np.intp]]]:
    return [(f, np.flatnonzero(fam == f)) for f in FAMILIES if np.any(fam == f)]


def log_prob(
    theta: ArrayLike,
    a: ArrayLike,
    intercepts: ArrayLike,
    c: ArrayLike | None = None,
    u: ArrayLike | None = None,
    model: str | Sequence[str] = "2PL",
) -> Array:
    """log P(x = k | θ) of a mixed set of items, (Q, J, C) with C the largest number of categories."""
    th = _theta(theta)
    A = _slopes(a, th.shape[1])
    J = A.shape[0]
    d = _intercepts(intercepts, J)
    g, up = _vector(c, J, 0.0, "c"), _vector(u, J, 1.0, "u")
    fam = families(model, J)
    C = max(2, int(((~np.isnan(d)).sum(axis=1)).max(initial=1)) + 1) if np.any(fam != "dichotomous") else 2
    out = np.full((th.shape[0], J, C), -np.inf)
    for f, idx in _blocks(fam):
        if f == "dichotomous":
            out[:, idx, :2] = log_prob_dichotomous(th, A[idx], d[idx, 0], g[idx], up[idx])
        else:
            width = max(int((~np.isnan(d[idx])).sum(axis=1).max()), 1)
            fn = log_prob_graded if f == "graded" else log_prob_gpcm
            out[:, idx, : width + 1] = fn(th, A[idx], d[idx, :width])
    return out


def own_dimension_log_prob(
    points: ArrayLike,
    a: ArrayLike,
    intercepts: ArrayLike,
    c: ArrayLike | None = None,
    u: ArrayLike | None = None,
    model: str | Sequence[str] = "2PL",
    ids: Sequence[str] | None = None,
) -> Array:
    """log P(x = k) of each item as a function of the one dimension it loads on, (Q, J, C) at ``points`` (Q,).

    Under simple structure (every item loading on exactly one dimension) the joint likelihood is the product over
    dimensions of their items' curves, so a dimension's own-items likelihood is one-dimensional and can be stored
    and pooled like a unidimensional test's. ParameterError naming the items that load on none or several."""
    A = np.asarray(a, dtype=float)
    loads = (A != 0).sum(axis=1)
    bad = np.flatnonzero(loads != 1)
    if bad.size:
        names = [ids[j] if ids is not None else f"#{j}" for j in bad[:5]]
        raise ParameterError(
            f"{bad.size} items load on other than one dimension (e.g. {', '.join(names)}: {loads[bad[:5]].tolist()}): "
            "an own-dimension likelihood needs simple structure"
        )
    pts = np.asarray(points, dtype=float).ravel()
    return log_prob(np.repeat(pts[:, None], A.shape[1], axis=1), A, intercepts, c, u, model)


def prob(
    theta: ArrayLike,
    a: ArrayLike,
    intercepts: ArrayLike,
    c: ArrayLike | None = None,
    u: ArrayLike | None = None,
    model: str | Sequence[str] = "2PL",
) -> Array:
    """P(x = k | θ) of a mixed set of items, (Q, J, C); each item's categories sum to 1."""
    return np.exp(log_prob(theta, a, intercepts, c, u, model))


# ------------------------------------------------------------------------------------------------ information
def scalar_information(
    t: Array, intercepts: Array, c: Array | None = None, u: Array | None = None, family: str = "dichotomous"
) -> Array:
    """i_j(t) = Σ_k P_k (∂ log P_k / ∂t)², the information in the linear predictor t = a·θ, (Q, J)."""
    J = t.shape[1]
    if family == "dichotomous":
        d = np.asarray(intercepts, dtype=float).reshape(J)
        lp, dl, _ = dichotomous.components(t, 1.0, d, _vector(c, J, 0.0, "c"), _vector(u, J, 1.0, "u"))
    else:
        mod = graded if family == "graded" else partial_credit
        lp, dl, _ = mod.components(t, 1.0, _intercepts(intercepts, J))
    return (np.exp(lp) * dl**2).sum(axis=-1)


def information(
    theta: ArrayLike,
    a: ArrayLike,
    intercepts: ArrayLike,
    c: ArrayLike | None = None,
    u: ArrayLike | None = None,
    model: str | Sequence[str] = "2PL",
) -> Array:
    """Fisher information matrices I_j(θ) = a_j a_jᵀ i_j(a_j·θ), (Q, J, K, K) (Reckase 2009, eq. 5.9)."""
    th = _theta(theta)
    A = _slopes(a, th.shape[1])
    J = A.shape[0]
    d = _intercepts(intercepts, J)
    g, up = _vector(c, J, 0.0, "c"), _vector(u, J, 1.0, "u")
    t = th @ A.T
    scalar = np.empty_like(t)
    for f, idx in _blocks(families(model, J)):
        if f == "dichotomous":
            scalar[:, idx] = scalar_information(t[:, idx], d[idx, 0], g[idx], up[idx], f)
        else:
            width = max(int((~np.isnan(d[idx])).sum(axis=1).max()), 1)
            scalar[:, idx] = scalar_information(t[:, idx], d[idx, :width], family=f)
    return scalar[:, :, None, None] * (A[:, :, None] * A[:, None, :])


def total_information(info: Array) -> Array:
    """Σ_j I_j(θ): (Q, J, K, K) -> (Q, K, K)."""
    return info.sum(axis=1)


# ------------------------------------------------------------------------------------------------ M-step gradients
def dichotomous_jacobian(
    theta: ArrayLike, a: ArrayLike, intercept: ArrayLike, c: ArrayLike | None = None, u: ArrayLike | None = None
) -> tuple[Array, Array]:
    """(P(1) (Q, J), ∂P(1)/∂[a_1..a_K, d, logit g, logit u] (Q, J, K + 3)); category 0 has the negatives."""
    th = _theta(theta)
    A = _slopes(a, th.shape[1])
    J = A.shape[0]
    d = np.asarray(intercept, dtype=float).reshape(J)
    g, up = _vector(c, J, 0.0, "c"), _vector(u, J, 1.0, "u")
    s = sigmoid(th @ A.T + d)
    w = (up - g) * s * (1.0 - s)
    p1 = g + (up - g) * s
    lower, upper = (1.0 - s) * g * (1.0 - g), s * up * (1.0 - up)
    jac = np.concatenate([w[..., None] * th[:, None, :], w[..., None], lower[..., None], upper[..., None]], axis=-1)
    return p1, jac


def polytomous_jacobian(theta: ArrayLike, a: ArrayLike, intercepts: ArrayLike, family: str) -> tuple[Array, Array]:
    """(P (Q, J, C), ∂P/∂[a_1..a_K, d_1..d_{C-1}] (Q, J, C, K + C - 1)) of MGRM or MGPCM items.

    Padded categories (NaN intercepts) have P = 0 and zero derivatives. ∂P/∂a_k = ∂P/∂t · θ_k with t = a·θ.
    """
    th = _theta(theta)
    A = _slopes(a, th.shape[1])
    J, K = A.shape
    d = _intercepts(intercepts, J)
    steps = d.shape[1]
    C = steps + 1
    t = th @ A.T  # (Q, J)
    if family == "graded":
        star = np.ones(t.shape + (C + 1,))
        star[..., C] = 0.0
        with np.errstate(invalid="ignore"):
            inner = sigmoid(t[..., None] + np.where(np.isnan(d), -np.inf, d))
        star[..., 1:C] = inner
        w = star * (1.0 - star)
        P = star[..., :-1] - star[..., 1:]
        dt = w[..., :-1] - w[..., 1:]
        dd = np.zeros(P.shape + (steps,))
        k = np.arange(steps)
        dd[..., k, k] = -w[..., 1:C]
        dd[..., k + 1, k] = w[..., 1:C]
    elif family == "gpcm":
        cat = np.arange(C, dtype=float)
        z = t[..., None] * cat + np.concatenate([np.zeros((J, 1)), d], axis=1)
        z = np.where(np.isnan(z), -np.inf, z)
        z -= z.max(axis=-1, keepdims=True)
        P = np.exp(z)
        P /= P.sum(axis=-1, keepdims=True)
        mean = (P * cat).sum(-1, keepdims=True)
        dt = P * (cat - mean)
        dd = -P[..., :, None] * P[..., None, 1:]
        idx = np.arange(1, C)
        dd[..., idx, idx - 1] += P[..., 1:]
    else:
        raise ParameterError(f"family {family!r}: expected 'graded' or 'gpcm'")
    jac = np.concatenate([dt[..., None] * th[:, None, None, :], dd], axis=-1)
    return P, jac


def gradient_log_prob(
    theta: ArrayLike,
    a: ArrayLike,
    intercepts: ArrayLike,
    c: ArrayLike | None = None,
    u: ArrayLike | None = None,
    model: str = "2PL",
) -> Array:
    """∂ log P(x = k) / ∂θ of items of one family, (Q, J, C, K): the person scores of MAP/ML and the information."""
    th = _theta(theta)
    A = _slopes(a, th.shape[1])
    J = A.shape[0]
    t = th @ A.T
    fam = families(model, J)[0] if J else "dichotomous"
    if fam == "dichotomous":
        d = np.asarray(intercepts, dtype=float).reshape(J)
        _, dl, _ = dichotomous.components(t, 1.0, d, _vector(c, J, 0.0, "c"), _vector(u, J, 1.0, "u"))
    else:
        mod = graded if fam == "graded" else partial_credit
        _, dl, _ = mod.components(t, 1.0, _intercepts(intercepts, J))
    return dl[..., None] * A[None, :, None, :]


def predictor_components(
    t: ArrayLike,
    intercepts: ArrayLike,
    c: ArrayLike | None = None,
    u: ArrayLike | None = None,
    family: str = "dichotomous",
) -> tuple[Array, Array, Array]:
    """(log P, ∂ log P/∂t, ∂² log P/∂t²) of each category at the predictor t = a·θ, paired elementwise.

    t has any shape B (e.g. persons × answered items); intercepts are B (dichotomous) or B + (C-1,) NaN-padded,
    c and u broadcast to B; results are B + (C,). A Newton step on θ needs Σ_j a_j ∂_t log P and
    Σ_j a_j a_jᵀ ∂²_t log P over a person's own answers, never the persons × items table.
    """
    tt = np.asarray(t, dtype=float)
    d = np.asarray(intercepts, dtype=float)
    if family == "dichotomous":
        g = np.zeros(tt.shape) if c is None else np.broadcast_to(np.asarray(c, dtype=float), tt.shape)
        up = np.ones(tt.shape) if u is None else np.broadcast_to(np.asarray(u, dtype=float), tt.shape)
        return dichotomous.components(tt, 1.0, np.broadcast_to(d, tt.shape), g, up)
    if family not in ("graded", "gpcm"):
        raise ParameterError(f"family {family!r}: expected 'dichotomous', 'graded' or 'gpcm'")
    mod = graded if family == "graded" else partial_credit
    return mod.components(tt, 1.0, d)


def predictor_information(
    t: ArrayLike,
    intercepts: ArrayLike,
    c: ArrayLike | None = None,
    u: ArrayLike | None = None,
    family: str = "dichotomous",
) -> Array:
    """i(t) = Σ_k P_k (∂_t log P_k)², the information in the predictor, paired elementwise like
    :func:`predictor_components`; for dichotomous items the closed form (∂_t P)² / (P (1 - P)) with
    ∂_t P = (u - g) σ (1 - σ) (Birnbaum 1968), a few operations per cell for the adaptive engine's (persons × items)."""
    tt = np.asarray(t, dtype=float)
    if family == "gpcm":  # ∂_t log P_k = k − E[k], so i(t) = Var[k] (Muraki 1992)
        d = np.asarray(intercepts, dtype=float)
        k = np.arange(d.shape[-1] + 1, dtype=float)
        z = tt[..., None] * k + np.concatenate([np.zeros(d.shape[:-1] + (1,)), d], axis=-1)
        z = np.where(np.isnan(z), -np.inf, z)
        z -= z.max(axis=-1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=-1, keepdims=True)
        mean = p @ k
        return np.maximum(p @ (k * k) - mean * mean, 0.0)
    if family != "dichotomous":
        lp, dl, _ = predictor_components(tt, intercepts, c, u, family)
        with np.errstate(invalid="ignore"):
            return np.where(np.isneginf(lp), 0.0, np.exp(lp) * dl**2).sum(axis=-1)
    s = sigmoid(tt + np.asarray(intercepts, dtype=float))
    g = 0.0 if c is None else np.asarray(c, dtype=float)
    up = 1.0 if u is None else np.asarray(u, dtype=float)
    span = up - g
    slope = span * s * (1.0 - s)
    p = g + span * s
    with np.errstate(invalid="ignore", divide="ignore"):
        out = slope * slope / (p * (1.0 - p))
    return np.where(slope > 0, out, 0.0)


def predictor_log_prob(
    t: ArrayLike,
    intercepts: ArrayLike,
    c: ArrayLike | None = None,
    u: ArrayLike | None = None,
    family: str = "dichotomous",
) -> Array:
    """log P(x = k) at the predictor t = a·θ, paired elementwise like :func:`predictor_components`, B + (C,):
    the log-likelihood alone (quasi-Monte-Carlo integration over many points), without the derivatives."""
    tt = np.asarray(t, dtype=float)
    d = np.asarray(intercepts, dtype=float)
    if family == "dichotomous":
        g = np.zeros(tt.shape) if c is None else np.broadcast_to(np.asarray(c, dtype=float), tt.shape)
        up = np.ones(tt.shape) if u is None else np.broadcast_to(np.asarray(u, dtype=float), tt.shape)
        return dichotomous.log_prob(tt, 1.0, np.broadcast_to(d, tt.shape), g, up)
    if family not in ("graded", "gpcm"):
        raise ParameterError(f"family {family!r}: expected 'dichotomous', 'graded' or 'gpcm'")
    return (graded if family == "graded" else partial_credit).log_prob(tt, 1.0, d)


def predictor_log_prob_observed(t: ArrayLike, x: ArrayLike, intercepts: ArrayLike, family: str) -> Array:
    """log P(x) of the observed category only, at the predictor t = a·θ, for polytomous items: t (M, n) over M
    points of n (person, answer) pairs, x (n,) categories, intercepts (n, W) NaN-padded; returns (M, n).

    The same values as :func:`predictor_log_prob` then taking category x, without the (M, n, W) arrays: GPCM's
    normaliser log Σ_k exp(k t + d_k) by Horner's rule in e^(-|t|) (one exp and one log per pair), GRM's
    log(σ(t + d_x) − σ(t + d_{x+1})) from the two cumulative logits that bound category x (Samejima 1969), by
    the cancellation-free form of :mod:`digicomp.models.graded`. Quasi-Monte-Carlo scoring's hot path.
    """
    tt = np.asarray(t, dtype=float)
    xx = np.asarray(x, dtype=np.intp)
    d = np.asarray(intercepts, dtype=float)
    n, width = d.shape
    rows = np.arange(n)
    if family == "gpcm":
        d_x = np.where(xx > 0, d[rows, np.maximum(xx - 1, 0)], 0.0)
        return xx * tt + d_x - _gpcm_normaliser(tt, d)
    if family != "graded":
        raise ParameterError(f"family {family!r}: expected 'graded' or 'gpcm'")
    n_cat = (~np.isnan(d)).sum(axis=1) + 1
    up = np.where(xx > 0, d[rows, np.maximum(xx - 1, 0)], np.inf)  # d_x: P(X ≥ x) = σ(t + d_x); d_0 = +∞
    lo = np.where(xx < n_cat - 1, d[rows, np.minimum(xx, width - 1)], -np.inf)  # d_{x+1}; -∞ above the top
    upper, lower = tt + up, tt + lo
    with np.errstate(invalid="ignore"):
        out = (
            np.where(np.isposinf(upper), 0.0, logistic.log_sigmoid(upper))
            + np.where(np.isneginf(lower), 0.0, logistic.log_sigmoid(-lower))
            + np.where(np.isposinf(upper) | np.isneginf(lower), 0.0, logistic.log1mexp(np.minimum(lower - upper, 0.0)))
        )
    return out


def _gpcm_normaliser(t: Array, d: Array) -> Array:
    """log Σ_{k=0..m} exp(k t + d_k) (d_0 = 0, m each item's top category), t (M, n), d (n, W) NaN-padded.

    With q = e^(-|t|) ≤ 1 every power stays in [0, 1]: for t < 0 the sum is Σ_k e^(d_k) q^k, for t ≥ 0 it is
    e^(m t) Σ_j e^(d_(m-j)) q^j; both polynomials in q by Horner's rule (a handful of multiply-adds on (M, n)
    arrays), so nothing overflows and no category is exponentiated at each point.
    """
    n, width = d.shape
    coef = np.exp(np.concatenate([np.zeros((n, 1)), np.where(np.isnan(d), -np.inf, d)], axis=1))  # (n, W+1)
    top = (~np.isnan(d)).sum(axis=1)  # m per item
    j = top[:, None] - np.arange(width + 1)[None, :]  # reversed: position j holds c_(m-j), 0 beyond m
    rev = np.where(j >= 0, np.take_along_axis(coef, np.maximum(j, 0), axis=1), 0.0)
    q = np.exp(-np.abs(t))
    low, high = np.zeros_like(t), np.zeros_like(t)
    for k in range(width, -1, -1):
        low *= q
        low += coef[:, k]
        high *= q
        high += rev[:, k]
    neg = t < 0
    return np.log(np.where(neg, low, high)) + np.where(neg, 0.0, top * t)
