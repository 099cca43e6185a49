"""The M-step: Fisher scoring on all items of a family at once, from the E-step's expected counts.

For item j the complete-data objective is ℓ_j(η) = Σ_q Σ_k r_jkq log P_jk(θ_q; η) + log prior (Bock & Aitkin
1981, eq. 10). Its gradient is Σ r/P ∂P/∂η and its expected information Σ_q N_jq Σ_k ∂P∂P'/P; the (n, m, m)
systems are solved together, with per-item step halving so every item's objective rises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.families import expit, log_prob, prob_jacobian
from digicomp.calibration.priors import Priors, prior_terms
from digicomp.models.logistic import log_sigmoid, sigmoid

Array = NDArray[np.float64]
MAX_STEP = 1.0
LOGIT_BOUND = 20.0  # asymptotes live in logit(g) ∈ [-20, 20]: g = 0 and 1 are reached to 2e-9
HALVINGS = 12


@dataclass
class Block:
    """Items of one family under calibration: positions in the fit, parameters, and which entries move.

    ``shared`` marks 1PL items whose slopes are one common parameter.
    """

    family: str
    index: NDArray[np.intp]
    eta: Array
    free: NDArray[np.bool_]
    shared: NDArray[np.bool_]

    @property
    def n_free(self) -> int:
        """Number of estimated parameters in the block (a shared slope counts once)."""
        return int(self.free.sum()) + int(self.shared.any())


def objective(block: Block, eta: Array, counts: Array, points: Array, priors: Priors) -> Array:
    """ℓ_j(η) per item (n,); -inf where η is outside the model (non-positive slope, disordered thresholds)."""
    if block.family == "dichotomous" and np.all(np.isneginf(eta[:, 2])) and np.all(np.isposinf(eta[:, 3])):
        # no asymptotes (Rasch, 1PL, 2PL): log P_1 = z + log P_0, one log-sigmoid instead of two
        z = eta[:, :1] * points + eta[:, 1:2]  # (n, Q)
        with np.errstate(invalid="ignore"):
            value = (counts[:, 1] * z + counts.sum(axis=1) * log_sigmoid(-z)).sum(axis=1)
    else:
        lp = log_prob(block.family, eta, points).transpose(1, 2, 0)  # (n, K, Q)
        with np.errstate(invalid="ignore"):
            terms = np.where(counts > 0, counts * lp, 0.0)
        value = terms.sum(axis=(1, 2))
    value = np.where(np.isnan(value), -np.inf, value)
    value = np.where(eta[:, 0] > 0, value, -np.inf)
    if not priors.empty:
        value = value + prior_terms(priors, block.family, eta, block.free)[0]
    return value


def score_and_information(
    block: Block, eta: Array, counts: Array, points: Array, priors: Priors
) -> tuple[Array, Array]:
    """Gradient (n, m) and expected information (n, m, m) of ℓ_j, prior included; dichotomous blocks fill only
    the columns free for some item (and a shared slope's), the rest are 0."""
    if block.family == "dichotomous":
        grad, info = _dichotomous_score_information(block, eta, counts, points)
    else:
        P, J = prob_jacobian(block.family, eta, points)
        r = counts.transpose(2, 0, 1)  # (Q, n, K)
        safe = np.where(P > 1e-300, P, 1.0)
        grad = np.einsum("qnk,qnkm->nm", r / safe, J, optimize=True)
        # expected information Σ_q n_q Σ_k J_m J_l / P_k: weight J once, then one two-operand contraction
        weighted = J * (r.sum(axis=-1)[..., None] / safe)[..., None]
        info = np.einsum("qnkm,qnkl->nml", weighted, J, optimize=True)
    if not priors.empty:
        _, g, h = prior_terms(priors, block.family, eta, block.free)
        grad += g
        info -= np.einsum("nm,ml->nml", h, np.eye(eta.shape[1]))
    return grad, info


def _dichotomous_score_information(block: Block, eta: Array, counts: Array, points: Array) -> tuple[Array, Array]:
    """The two-category case of :func:`score_and_information` with ∂P_0 = -∂P_1 folded in: gradient
    Σ_q (r_1/P_1 - r_0/P_0) ∂P_1 and information Σ_q n_q (1/P_0 + 1/P_1) ∂P_1 ∂P_1ᵀ, over the columns that are
    free for some item of the block (others are 0; a 2PL block needs two of the four)."""
    t = points[:, None]
    g, u = expit(eta[:, 2]), expit(eta[:, 3])
    s = sigmoid(t * eta[:, 0] + eta[:, 1])  # (Q, n)
    p1 = g + (u - g) * s
    p0 = 1.0 - p1
    safe0, safe1 = np.where(p0 > 1e-300, p0, 1.0), np.where(p1 > 1e-300, p1, 1.0)
    r0, r1 = counts[:, 0].T, counts[:, 1].T  # (Q, n)
    resid = r1 / safe1 - r0 / safe0
    weight = (r0 + r1) * (1.0 / safe0 + 1.0 / safe1)
    w = (u - g) * s * (1.0 - s)
    n, m = eta.shape
    cols = np.flatnonzero(block.free.any(axis=0) | ((np.arange(m) == 0) & block.shared.any())).tolist()
    jac = {0: lambda: w * t, 1: lambda: w, 2: lambda: (1.0 - s) * (g * (1.0 - g)), 3: lambda: s * (u * (1.0 - u))}
    dp = {c: jac[c]() for c in cols}  # ∂P_1/∂η_c, (Q, n)
    grad, info = np.zeros((n, m)), np.zeros((n, m, m))
    for i, c in enumerate(cols):
        grad[:, c] = (resid * dp[c]).sum(axis=0)
        weighted = weight * dp[c]
        for k in cols[i:]:
            info[:, c, k] = info[:, k, c] = (weighted * dp[k]).sum(axis=0)
    return grad, info


def _restricted_step(grad: Array, info: Array, free: NDArray[np.bool_]) -> Array:
    """Solve info·step = grad over the free entries of each item (others get 0)."""
    m = grad.shape[1]
    eye = np.eye(m)
    mask = free[:, :, None] & free[:, None, :]
    A = np.where(mask, info, 0.0) + np.where(free, 1e-10, 1.0)[:, :, None] * eye
    step = np.linalg.solve(A, np.where(free, grad, 0.0)[..., None])[..., 0]
    big = np.abs(step).max(axis=1, keepdims=True)
    return np.where(big > MAX_STEP, step * (MAX_STEP / np.maximum(big, 1e-300)), step)


def _line_search(
    block: Block, eta: Array, step: Array, base: Array, counts: Array, points: Array, priors: Priors
) -> tuple[Array, Array]:
    """Per-item step halving: take the largest fraction of ``step`` that does not lower ℓ_j."""
    out, best = eta.copy(), base.copy()
    pending = np.abs(step).max(axis=1) > 0
    frac = 1.0
    for _ in range(HALVINGS):
        if not pending.any():
            break
        trial = eta[pending] + frac * step[pending]
        if block.family == "dichotomous":
            free_logit = block.free[pending][:, 2:]
            trial[:, 2:] = np.where(free_logit, np.clip(trial[:, 2:], -LOGIT_BOUND, LOGIT_BOUND), trial[:, 2:])
        sub = Block(block.family, block.index[pending], trial, block.free[pending], block.shared[pending])
        value = objective(sub, trial, counts[pending], points, priors)
        ok = value >= base[pending] - 1e-10 * np.abs(base[pending])
        rows = np.flatnonzero(pending)[ok]
        out[rows], best[rows] = trial[ok], value[ok]
        pending[np.flatnonzero(pending)[ok]] = False
        frac *= 0.5
    return out, best


def _shared_slope_step(block: Block, eta: Array, counts: Array, points: Array, priors: Priors) -> Array:
    """One Newton step with halving on the 1PL items' common slope (the sum of their slope scores)."""
    sel = block.shared
    sub = Block(block.family, block.index[sel], eta[sel], block.free[sel], block.shared[sel])
    grad, info = score_and_information(sub, eta[sel], counts[sel], points, priors)
    step = float(np.clip(grad[:, 0].sum() / max(info[:, 0, 0].sum(), 1e-10), -MAX_STEP, MAX_STEP))
    base = objective(sub, eta[sel], counts[sel], points, priors).sum()
    for _ in range(HALVINGS):
        trial = eta.copy()
        trial[sel, 0] += step
        if objective(sub, trial[sel], counts[sel], points, priors).sum() >= base:
            return trial
        step *= 0.5
    return eta


def m_step(block: Block, counts: Array, points: Array, priors: Priors, max_iter: int = 20, tol: float = 1e-8) -> Array:
    """Maximise ℓ_j for every item of ``block`` from its current parameters; returns the new η (n, m)."""
    eta = block.eta.copy()
    base = objective(block, eta, counts, points, priors)
    for _ in range(max_iter):
        old = eta.copy()
        grad, info = score_and_information(block, eta, counts, points, priors)
        step = _restricted_step(grad, info, block.free)
        eta, base = _line_search(block, eta, step, base, counts, points, priors)
        if block.shared.any():
            eta = _shared_slope_step(block, eta, counts, points, priors)
            base = objective(block, eta, counts, points, priors)
        moving = block.free | (block.shared[:, None] & (np.arange(eta.shape[1]) == 0))
        change = np.abs(np.where(moving, eta, 0.0) - np.where(moving, old, 0.0))
        if not np.nanmax(change, initial=0.0) > tol:
            break
    return eta
