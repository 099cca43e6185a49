"""The M-step of multidimensional items: Fisher scoring on all items of a family at once, from E-step counts.

Internal parameters per item (rows of ``eta``), mirt's slope–intercept form with a slope vector over the L
dimensions the item is integrated on (all K of a tensor grid, or the primary dimensions plus the item's specific one
under dimension reduction):

* dichotomous ``[a_1..a_L, d, logit g, logit u]``;
* graded / gpcm ``[a_1..a_L, d_1..d_{C-1}]`` (NaN for categories an item lacks).

The objective, gradient and expected information are those of :mod:`digicomp.calibration.mstep` (Bock & Aitkin
1981, eq. 10) with ∂P/∂η from :mod:`digicomp.models.multidim`; the solve is its ``_restricted_step`` (free entries
only, steps capped), followed by per-item step halving so every item's objective rises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.families import expit
from digicomp.calibration.mstep import HALVINGS, LOGIT_BOUND, _restricted_step
from digicomp.models import multidim as md
from digicomp.models.logistic import log_sigmoid, sigmoid

Array = NDArray[np.float64]


@dataclass
class MBlock:
    """Items of one family: positions in the fit, parameters (n, m), which entries move, and L (slopes per row)."""

    family: str
    index: NDArray[np.intp]
    eta: Array
    free: NDArray[np.bool_]
    n_slopes: int

    @property
    def n_free(self) -> int:
        """Number of estimated parameters in the block."""
        return int(self.free.sum())

    def slopes(self, eta: Array | None = None) -> Array:
        """The slope matrix (n, L)."""
        e = self.eta if eta is None else eta
        return e[:, : self.n_slopes]

    def log_prob(self, points: Array, eta: Array | None = None) -> Array:
        """log P (Q, n, C) on the local grid ``points`` (Q, L)."""
        e = self.eta if eta is None else eta
        L = self.n_slopes
        if self.family == "dichotomous":
            return md.log_prob_dichotomous(points, e[:, :L], e[:, L], expit(e[:, L + 1]), expit(e[:, L + 2]))
        fn = md.log_prob_graded if self.family == "graded" else md.log_prob_gpcm
        return fn(points, e[:, :L], e[:, L:])

    def no_asymptotes(self, eta: Array | None = None) -> bool:
        """True for a dichotomous block without lower or upper asymptotes (M2PL)."""
        e = self.eta if eta is None else eta
        L = self.n_slopes
        return bool(np.all(np.isneginf(e[:, L + 1])) and np.all(np.isposinf(e[:, L + 2])))


def objective(block: MBlock, eta: Array, counts: Array, points: Array) -> Array:
    """Σ_q Σ_k r_jkq log P_jk(θ_q; η) per item (n,); -inf outside the model (e.g. disordered graded intercepts)."""
    L = block.n_slopes
    if block.family == "dichotomous" and block.no_asymptotes(eta):
        z = eta[:, :L] @ points.T + eta[:, L : L + 1]  # (n, Q)
        with np.errstate(invalid="ignore"):
            value = (counts[:, 1] * z + counts[:, :2].sum(axis=1) * log_sigmoid(-z)).sum(axis=1)
    else:
        with np.errstate(invalid="ignore"):
            lp = block.log_prob(points, eta).transpose(1, 2, 0)  # (n, C, Q)
            C = lp.shape[1]
            terms = np.where(counts[:, :C] > 0, counts[:, :C] * lp, 0.0)
        value = terms.sum(axis=(1, 2))
    return np.where(np.isnan(value), -np.inf, value)


def score_and_information(block: MBlock, eta: Array, counts: Array, points: Array) -> tuple[Array, Array]:
    """Gradient (n, m) and expected information (n, m, m) of the objective (columns fixed for every item are 0)."""
    L = block.n_slopes
    n, m = eta.shape
    cols = np.flatnonzero(block.free.any(axis=0))
    grad, info = np.zeros((n, m)), np.zeros((n, m, m))
    if block.family == "dichotomous" and cols.size and cols.max() <= L:
        # no free asymptote: ∂P_1/∂[a, d] = w · [θ, 1] with w = (u - g) s (1 - s), so the (Q, n, m) Jacobian is
        # never formed: gradient and information are products of (Q, n) weights with the (Q, L + 1) design
        g, u = expit(eta[:, L + 1]), expit(eta[:, L + 2])
        s = sigmoid(points @ eta[:, :L].T + eta[:, L])
        w = (u - g) * s * (1.0 - s)
        p1 = g + (u - g) * s
        p0 = 1.0 - p1
        safe0, safe1 = np.where(p0 > 1e-300, p0, 1.0), np.where(p1 > 1e-300, p1, 1.0)
        r0, r1 = counts[:, 0].T, counts[:, 1].T  # (Q, n)
        X = np.column_stack([points, np.ones(points.shape[0])])[:, cols]  # (Q, k)
        grad[:, cols] = ((r1 / safe1 - r0 / safe0) * w).T @ X
        W = (r0 + r1) * (1.0 / safe0 + 1.0 / safe1) * w * w  # (Q, n)
        k = cols.size
        sub = (W.T @ (X[:, :, None] * X[:, None, :]).reshape(X.shape[0], k * k)).reshape(n, k, k)
    elif block.family == "dichotomous":
        g, u = expit(eta[:, L + 1]), expit(eta[:, L + 2])
        p1, jac = md.dichotomous_jacobian(points, eta[:, :L], eta[:, L], g, u)  # (Q, n), (Q, n, L + 3)
        jac = jac[..., cols]
        p0 = 1.0 - p1
        safe0, safe1 = np.where(p0 > 1e-300, p0, 1.0), np.where(p1 > 1e-300, p1, 1.0)
        r0, r1 = counts[:, 0].T, counts[:, 1].T  # (Q, n)
        resid = r1 / safe1 - r0 / safe0
        weight = (r0 + r1) * (1.0 / safe0 + 1.0 / safe1)
        grad[:, cols] = np.einsum("qn,qnm->nm", resid, jac, optimize=True)
        sub = np.einsum("qnm,qnl->nml", jac * weight[..., None], jac, optimize=True)
    else:
        d = eta[:, L:]
        P, jac = md.polytomous_jacobian(points, eta[:, :L], d, block.family)  # (Q, n, C), (Q, n, C, m)
        jac = jac[..., cols]
        C = P.shape[-1]
        r = counts[:, :C].transpose(2, 0, 1)  # (Q, n, C)
        safe = np.where(P > 1e-300, P, 1.0)
        grad[:, cols] = np.einsum("qnk,qnkm->nm", r / safe, jac, optimize=True)
        weighted = jac * (r.sum(axis=-1)[..., None] / safe)[..., None]
        sub = np.einsum("qnkm,qnkl->nml", weighted, jac, optimize=True)
    info[np.ix_(np.arange(n), cols, cols)] = sub
    return grad, info


def _line_search(
    block: MBlock, eta: Array, step: Array, base: Array, counts: Array, points: Array
) -> tuple[Array, Array]:
    """Per-item step halving: the largest fraction of ``step`` that does not lower the item's objective."""
    L = block.n_slopes
    out, best = eta.copy(), base.copy()
    pending = np.abs(np.nan_to_num(step)).max(axis=1) > 0
    frac = 1.0
    for _ in range(HALVINGS):
        if not pending.any():
            break
        rows = np.flatnonzero(pending)
        trial = eta[rows] + frac * np.nan_to_num(step[rows])
        if block.family == "dichotomous":
            tail = trial[:, L + 1 :]
            trial[:, L + 1 :] = np.where(block.free[rows][:, L + 1 :], np.clip(tail, -LOGIT_BOUND, LOGIT_BOUND), tail)
        sub = MBlock(block.family, block.index[rows], trial, block.free[rows], L)
        value = objective(sub, trial, counts[rows], points)
        ok = value >= base[rows] - 1e-10 * np.abs(base[rows])
        out[rows[ok]], best[rows[ok]] = trial[ok], value[ok]
        pending[rows[ok]] = False
        frac *= 0.5
    return out, best


def m_step(block: MBlock, counts: Array, points: Array, max_iter: int = 20, tol: float = 1e-8) -> Array:
    """Maximise every item's objective from its current parameters; returns the new η (n, m)."""
    eta = block.eta.copy()
    base = objective(block, eta, counts, points)
    for _ in range(max_iter):
        old = eta.copy()
        grad, info = score_and_information(block, eta, counts, points)
        step = _restricted_step(np.nan_to_num(grad), np.nan_to_num(info), block.free)
        eta, base = _line_search(block, eta, step, base, counts, points)
        change = np.abs(np.where(block.free, eta, 0.0) - np.where(block.free, old, 0.0))
        if not np.nanmax(change, initial=0.0) > tol:
            break
    return eta
