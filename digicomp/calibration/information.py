"""Standard errors from the observed information of the marginal log-likelihood (log posterior with priors).

Method: the score of the marginal log-likelihood is analytic by Fisher's identity (∂ℓ/∂x = ∂Q(x | x₀)/∂x at
x = x₀, Louis 1982): the M-step gradient evaluated at the E-step counts of x itself, plus the latent moments'
score. The observed information is minus the Jacobian of that score, taken by central differences (one E-step
per evaluation, step 1e-4 relative), symmetrised and inverted. This is the same quantity mirt's numerical
SE types ('forward', 'central', 'Richardson') estimate; it costs 2·P E-steps for P free parameters.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.em import EMEngine
from digicomp.calibration.mstep import score_and_information

Array = NDArray[np.float64]
STEP = 1e-4


def score(engine: EMEngine, x: Array) -> Array:
    """∂ log L / ∂x (prior included) at packed parameters x."""
    engine.unpack(x)
    stats = engine.e_step()
    parts = []
    for b in engine.blocks:
        K = 2 if b.family == "dichotomous" else b.eta.shape[1]
        grad, _ = score_and_information(b, b.eta, stats.counts[b.index, :K], engine.points, engine.priors)
        parts.append(grad[b.free])
        if b.shared.any():
            parts.append(np.array([grad[b.shared, 0].sum()]))
    lat = engine.latent
    if lat.estimate_mean or lat.estimate_sd:
        z = (engine.points - lat.mean) / lat.sd
        w = np.exp(lat.log_weights(engine.points))
        n = stats.latent
        if lat.estimate_mean:
            parts.append(np.array([n @ (z - w @ z) / lat.sd]))
        if lat.estimate_sd:
            parts.append(np.array([n @ (z**2 - w @ z**2)]))
    return np.concatenate(parts)


def observed_information(engine: EMEngine, progress: Callable[[str, int, int], None] | None = None) -> Array:
    """-∂²ℓ/∂x∂x' at the engine's current parameters (P, P), by central differences of :func:`score`.

    ``progress("numerical", done, total)`` is called before the first of the 2·P E-steps and after each pair.
    """
    x = engine.pack()
    P = x.size
    H = np.empty((P, P))
    if progress is not None:
        progress("numerical", 0, 2 * P)
    for i in range(P):
        h = STEP * max(1.0, abs(x[i]))
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        H[:, i] = (score(engine, up) - score(engine, down)) / (2 * h)
        if progress is not None:
            progress("numerical", 2 * (i + 1), 2 * P)
    engine.unpack(x)
    return -(H + H.T) / 2


def covariance(info: Array) -> Array | None:
    """Inverse of the information, or None when it is not positive definite (no valid SEs)."""
    try:
        chol = np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        return None
    inv = np.linalg.inv(chol)
    return inv.T @ inv
