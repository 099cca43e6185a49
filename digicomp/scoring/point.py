"""Point estimates of θ by maximisation: ML, MAP and Warm's WLE, vectorized over persons.

Each person's estimating equation is solved by a safeguarded Newton iteration inside a bracket that
the grid log-objective locates around its global maximum (so multimodal 3PL likelihoods land on the
highest mode). When the maximum lies at the edge of the range (all-correct / all-wrong patterns for ML,
or a WLE that does not exist for a 3PL pattern), the estimate is the bound of ``theta_range`` and the
person is flagged ``extreme``: a documented rule, never a silent ±inf.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from digicomp.models import ItemParameters
from digicomp.scoring.quadrature import NormalPrior

if TYPE_CHECKING:  # the engine imports this module; the response layer (and scipy.sparse) only when scoring data
    from digicomp.responses import Responses

MAX_ITER = 60
TOLERANCE = 1e-8


def _observed_sums(
    params: ItemParameters,
    responses: Responses,
    theta: NDArray[np.float64],
    persons: NDArray[np.bool_],
    need_warm: bool,
):
    """For the selected persons: Σ ∂log P, Σ ∂²log P over their observed responses, and (for WLE) test
    information and Warm's J(θ) = Σ_j Σ_k P'_k P''_k / P_k = Σ P dl (d2l + dl²) (Warm 1989, eq. 9)."""
    sel = persons[responses.person]
    who = responses.person[sel]
    lp, dl, d2l = params.derivatives(theta[who], responses.item[sel])
    pick = responses.value[sel][:, None]
    n = responses.n_persons
    score = np.bincount(who, np.take_along_axis(dl, pick, axis=1)[:, 0], minlength=n)
    hess = np.bincount(who, np.take_along_axis(d2l, pick, axis=1)[:, 0], minlength=n)
    info = warm = None
    if need_warm:
        p = np.exp(lp)
        info = np.bincount(who, (p * dl**2).sum(1), minlength=n)
        warm = np.bincount(who, (p * dl * (d2l + dl**2)).sum(1), minlength=n)
    return score, hess, info, warm


def _gradient(method, params, responses, theta, persons, prior):
    """Gradient of the ML / MAP / WLE objective and a negative curvature for Newton steps."""
    g, h, info, warm = _observed_sums(params, responses, theta, persons, method == "WLE")
    if method == "MAP":
        g = g - (theta - prior.mean) / prior.sd**2
        h = h - 1.0 / prior.sd**2
    elif method == "WLE":
        g = g + warm / (2.0 * np.maximum(info, 1e-300))
    return g, h


def answered_information(
    params: ItemParameters, responses: Responses, theta: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Σ of the Fisher information of each person's answered items at that person's θ."""
    lp, dl, _ = params.derivatives(theta[responses.person], responses.item)
    return np.bincount(responses.person, (np.exp(lp) * dl**2).sum(1), minlength=responses.n_persons)


def solve(
    method: str,
    params: ItemParameters,
    responses: Responses,
    grid_objective: NDArray[np.float64],
    points: NDArray[np.float64],
    prior: NormalPrior | None,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Maximise the ML / MAP / WLE objective per person; returns (θ̂, at-bound flags).

    ``grid_objective`` (N, Q) is the objective on the grid, used to bracket the global maximum.
    """
    best = np.argmax(grid_objective, axis=1)
    Q = points.size
    lo = points[np.maximum(best - 1, 0)]
    hi = points[np.minimum(best + 1, Q - 1)]
    theta = points[best].astype(float)
    at_edge = (best == 0) | (best == Q - 1)
    theta = _newton(method, params, responses, theta, lo, hi, ~at_edge, prior)
    stopped = ~at_edge & ((np.abs(theta - lo) < 1e-7) | (np.abs(theta - hi) < 1e-7))
    if method == "WLE" and np.any(stopped):
        # the grid objective log L + ½ log I has Warm's estimating function as its derivative only when Warm's J(θ)
        # equals I'(θ) (1PL/2PL, GPCM); for 3PL (and graded) items J ≠ I' and the root can lie outside the grid
        # bracket, where the Newton iteration stops on the bracket's edge. Persons stopped on an edge with the
        # equation unsolved there are solved again over the whole range.
        g, _ = _gradient(method, params, responses, theta, stopped, prior)
        g_step, _ = _gradient(method, params, responses, theta + 1e-6, stopped, prior)
        with np.errstate(divide="ignore", invalid="ignore"):
            left = np.abs(g / ((g_step - g) / 1e-6))
        redo = stopped & ~(left < 1e-6)
        if np.any(redo):
            full_lo, full_hi = np.full_like(theta, points[0]), np.full_like(theta, points[-1])
            theta = np.where(redo, _newton(method, params, responses, theta, full_lo, full_hi, redo, prior), theta)
    return theta, at_edge


def _newton(method, params, responses, theta, lo, hi, active, prior) -> NDArray[np.float64]:
    """Safeguarded Newton on the estimating equation of the ``active`` persons inside the bracket [lo, hi]."""
    theta, lo, hi, active = theta.copy(), lo.copy(), hi.copy(), active.copy()
    for _ in range(MAX_ITER):
        if not np.any(active):
            break
        g, h = _gradient(method, params, responses, theta, active, prior)
        if method == "WLE":
            # Warm's estimating function has no closed-form derivative in general: use a forward difference
            g_step, _ = _gradient(method, params, responses, theta + 1e-6, active, prior)
            h = (g_step - g) / 1e-6
        # tighten the bracket with the sign of the gradient (objective increases toward the root)
        up = g > 0
        lo = np.where(active & up, np.maximum(lo, theta), lo)
        hi = np.where(active & ~up, np.minimum(hi, theta), hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(h < 0, -g / h, np.nan)
        proposal = theta + step
        converged = np.abs(step) < TOLERANCE  # a converged step may sit on the bracket edge: accept it
        bad = ~converged & (~np.isfinite(proposal) | (proposal <= lo) | (proposal >= hi))
        proposal = np.where(bad, 0.5 * (lo + hi), proposal)
        moved = np.abs(proposal - theta)
        theta = np.where(active, proposal, theta)
        active &= (moved > TOLERANCE) & (hi - lo > TOLERANCE)
    return theta
