"""Cross-product (XPD) information of a multidimensional fit: Σ_n w_n s_n s_nᵀ over persons' scores.

Person n's score for item j's parameters is Σ_q post_j(n, q) ∂ log P_j(x_nj | θ_q)/∂η_j (Fisher's identity per
person; post_j is the posterior over item j's grid: the full grid, or under dimension reduction the primary grid
times the item's specific axis), and for the latent parameters Σ_q post(n, q) ∂ log w_q/∂ψ. One pass over the
persons, so it is the SE method for fits with many parameters (mirt's SE.type = "crossprod"); it estimates the
same information as the numerical Hessian when the model holds, less precisely in small samples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.bifactor import ReducedData, subset_items
from digicomp.calibration.families import expit
from digicomp.calibration.multidim_mstep import MBlock
from digicomp.models import multidim as md
from digicomp.parallel import block_rows
from digicomp.responses import Responses
from digicomp.scoring.posterior import normalise_log_posterior

Array = NDArray[np.float64]


def _score_table(b: MBlock, points: Array) -> Array:
    """∂ log P_c / ∂η at every grid point, (Q, n, C, m); zero where P_c = 0."""
    L = b.n_slopes
    if b.family == "dichotomous":
        g, u = expit(b.eta[:, L + 1]), expit(b.eta[:, L + 2])
        p1, jac = md.dichotomous_jacobian(points, b.eta[:, :L], b.eta[:, L], g, u)
        p0 = 1.0 - p1
        g0 = -jac / np.where(p0 > 1e-300, p0, 1.0)[..., None]
        g1 = jac / np.where(p1 > 1e-300, p1, 1.0)[..., None]
        return np.stack([g0, g1], axis=2)
    P, jac = md.polytomous_jacobian(points, b.eta[:, :L], b.eta[:, L:], b.family)
    return np.where((P > 1e-300)[..., None], jac / np.where(P > 1e-300, P, 1.0)[..., None], 0.0)


def _latent_table(latent: Any, h: float = 1e-5) -> Array:
    """∂ log w_q / ∂ψ on the (primary) grid by central differences, (Q, P_lat)."""
    lat = getattr(latent, "primary", latent)
    x = lat.pack()
    cols = []
    for i in range(x.size):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        lat.unpack(up)
        hi = lat.log_weights()
        lat.unpack(down)
        lo = lat.log_weights()
        cols.append((hi - lo) / (2 * h))
    lat.unpack(x)
    return np.column_stack(cols) if cols else np.zeros((lat.points.shape[0], 0))


def crossprod_information(
    engine: Any, responses: Responses, progress: Callable[[str, int, int], None] | None = None
) -> Array:
    """Σ_n w_n s_n s_nᵀ (P, P) at the engine's current parameters, P = engine.pack().size."""
    x0 = engine.pack()
    P = x0.size
    log_p = engine.log_p()
    prior = engine.latent.log_weights(engine.points)
    tables = [_score_table(b, engine.points) for b in engine.blocks]
    cols, pos = [], 0
    for b in engine.blocks:
        idx = np.full(b.eta.shape, -1)
        idx[b.free] = pos + np.arange(int(b.free.sum()))
        pos += int(b.free.sum())
        cols.append(idx)
    lat_table = _latent_table(engine.latent)
    info = np.zeros((P, P))
    reduced = isinstance(engine.data, ReducedData)
    n_items = responses.n_items
    everything = np.arange(n_items)
    if reduced:
        chunks = [ch[0] for ch in engine.data.chunks]
    else:
        size = block_rows(responses.n_persons, engine.points.shape[0], 4_000_000, min_rows=256)
        chunks = [slice(lo, min(lo + size, responses.n_persons)) for lo in range(0, responses.n_persons, size)]
    if progress is not None:
        progress("xpd", 0, len(chunks))
    item_post: dict[int, int] = {}
    if reduced:
        group_of = np.full(n_items, 0)
        for s, g in enumerate(engine.data.groups):
            group_of[g] = s
        item_post = {int(j): int(group_of[j]) for j in range(n_items)}
    for k, rows in enumerate(chunks):
        sub = subset_items(responses, everything, rows)
        x = sub.dense()
        n = x.shape[0]
        w = None if responses.weights is None else responses.weights[rows]
        if reduced:
            ch = engine.data.chunks[k]
            post_g, cond, _ = engine.data.posteriors(ch, log_p, prior)
            spread = np.exp(prior[1])
            joints = []
            for s, c in enumerate(cond):
                if s == 0 or c is None:
                    joints.append((post_g[:, :, None] * spread).reshape(n, -1))
                else:
                    u, m = c
                    joints.append((u * (post_g / m)[:, :, None]).reshape(n, -1))
            lat_post = post_g
        else:
            design = sub.design(engine.data.n_categories)
            post, _ = normalise_log_posterior(design.log_likelihood(log_p) + prior)
            lat_post = post
        S = np.zeros((n, P))
        for b, G, idx in zip(engine.blocks, tables, cols):
            Q, nb, C, m = G.shape
            if reduced:
                groups = np.array([item_post[int(j)] for j in b.index])
                score = np.zeros((n, nb, m))
                for s in np.unique(groups):
                    rows_b = np.flatnonzero(groups == s)
                    for c in range(C):
                        part = (joints[s] @ G[:, rows_b, c, :].reshape(Q, -1)).reshape(n, rows_b.size, m)
                        score[:, rows_b] += np.where((x[:, b.index[rows_b]] == c)[..., None], part, 0.0)
            else:
                score = np.zeros((n, nb, m))
                for c in range(C):
                    part = (post @ G[:, :, c, :].reshape(Q, -1)).reshape(n, nb, m)
                    score += np.where((x[:, b.index] == c)[..., None], part, 0.0)
            free = idx >= 0
            r_idx, m_idx = np.nonzero(free)
            S[:, idx[r_idx, m_idx]] = score[:, r_idx, m_idx]
        if lat_table.shape[1]:
            S[:, P - lat_table.shape[1] :] = lat_post @ lat_table
        info += (S.T * (1.0 if w is None else w)) @ S
        if progress is not None:
            progress("xpd", k + 1, len(chunks))
    return info
