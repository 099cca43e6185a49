"""The one kernel: the posterior of a batch of persons over a θ grid.

EAP scoring, the E-step of calibration and the update after each answer in a live test are all this
computation: per-person log-likelihood on the grid (from item log-probabilities summed over observed
responses) plus the log prior, normalised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from digicomp.models import ItemParameters

if TYPE_CHECKING:  # the engine imports this module; the response layer (and scipy.sparse) only when scoring data
    from digicomp.responses import ResponseDesign


def grid_log_likelihood(
    design: ResponseDesign, params: ItemParameters, points: NDArray[np.float64]
) -> NDArray[np.float64]:
    """log L(x_p | θ_q) for every person p and grid point q, shaped (n_persons, Q)."""
    return design.log_likelihood(params.log_prob(points))


def normalise_log_posterior(log_post: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Turn unnormalised log posteriors (N, Q) into weights summing to 1 per row, and the log marginals (N,).

    Works in place on ``log_post`` to keep memory at one (N, Q) array.
    """
    peak = log_post.max(axis=1, keepdims=True)
    log_post -= peak
    np.exp(log_post, out=log_post)
    total = log_post.sum(axis=1, keepdims=True)
    log_post /= total
    return log_post, (np.log(total) + peak).ravel()


def posterior_moments(weights: NDArray[np.float64], points: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """Posterior mean and standard deviation per row of ``weights`` (N, Q)."""
    mean = weights @ points
    second = weights @ (points**2)
    var = np.maximum(second - mean**2, 0.0)
    return mean, np.sqrt(var)


def empirical_reliability(eap: NDArray[np.float64], psd: NDArray[np.float64], weights: NDArray | None = None) -> float:
    """var(EAP) / (var(EAP) + mean(PSD²)) over persons (frequency ``weights``): mirt's ``empirical_rxx``.

    Each person's EAP and posterior SD come from the items that person answered, so on sparse (adaptive) data this
    is the reliability of the tests actually given, where marginal reliability assumes every item was answered.
    """
    w = np.ones(eap.size) if weights is None else np.asarray(weights, dtype=float)
    total = w.sum()
    if eap.size < 2 or total <= 0:
        return float("nan")
    mean = float(w @ eap) / total
    var = float(w @ (eap - mean) ** 2) / total
    err = float(w @ psd**2) / total
    return var / (var + err) if var + err > 0 else float("nan")
