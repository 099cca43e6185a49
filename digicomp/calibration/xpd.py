"""Standard errors from the cross-product (XPD) information: Σ_p s_p s_pᵀ over the persons' scores.

The empirical information (Meilijson 1989; mirt's ``SE.type = "crossprod"``) estimates the same Fisher
information as the observed information but needs one pass over the data instead of 2 E-steps per parameter.
By Fisher's identity the score of person p is s_p = Σ_j Σ_q w_pq ∂ log P_{j, x_pj}(θ_q)/∂η_j over the items
p answered, with w_pq the posterior weights at the estimates, plus the latent moments' terms. S (persons ×
free parameters) is built sparsely, one slice of observed responses at a time; a prior adds minus its Hessian.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from digicomp.calibration.em import EMEngine
from digicomp.calibration.estep import CHUNK_CELLS, ChunkedData
from digicomp.calibration.families import prob_jacobian
from digicomp.calibration.priors import prior_terms
from digicomp.responses import ResponseDesign
from digicomp.scoring.posterior import normalise_log_posterior

Array = NDArray[np.float64]


def parameter_index(engine: EMEngine) -> tuple[list[NDArray[np.intp]], int]:
    """Packed position of every η entry per block (-1 when not estimated), and the count of item parameters."""
    out, pos = [], 0
    for b in engine.blocks:
        index = np.full(b.eta.shape, -1, dtype=np.intp)
        k = int(b.free.sum())
        index[b.free] = pos + np.arange(k)
        pos += k
        if b.shared.any():
            index[b.shared, 0] = pos
            pos += 1
        out.append(index)
    return out, pos


def _observations(design: ResponseDesign, rows: slice) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """(person within the slice, item, category) of every observed response of the persons in ``rows``."""
    n = len(range(*rows.indices(design.n_persons)))
    J = design.n_items
    if design.mask is None:
        cells = np.arange(n * J)
    elif sparse.issparse(design.mask):
        m = design.mask[rows].tocoo()
        cells = np.sort(m.row.astype(np.intp) * J + m.col)
    else:
        cells = np.flatnonzero(design.mask[rows])
    cat = design.cat[rows]
    if sparse.issparse(cat):
        c = cat.tocoo()
        prow, pcol = c.row.astype(np.intp), c.col.astype(np.intp)
    else:
        prow, pcol = np.nonzero(cat)
    value = np.zeros(cells.size, dtype=np.intp)
    value[np.searchsorted(cells, prow * J + design.column_item[pcol])] = design.column_category[pcol]
    return cells // J, cells % J, value


def observed_cells(data: ChunkedData) -> int:
    """Number of observed responses over all chunks of ``data`` (the size of one E-step)."""
    return int(sum(int(_observed_per_person(design).sum()) for design, _ in data.chunks))


def crossprod_information(engine: EMEngine, progress: Callable[[str, int, int], None] | None = None) -> Array:
    """I_XPD = Σ_p f_p s_p s_pᵀ (f_p frequency weights) minus the prior's Hessian, at the engine's parameters.

    ``progress("xpd", done, total)`` is called before the first chunk of persons and after each one.
    """
    points = engine.points
    Q = points.size
    log_p = engine.log_p()
    log_prior = engine.latent.log_weights(points)
    index, n_item_par = parameter_index(engine)
    lat = engine.latent
    n_par = n_item_par + int(lat.estimate_mean) + int(lat.estimate_sd)
    J = engine.data.n_items
    block_of, row_of = np.full(J, -1, dtype=np.intp), np.zeros(J, dtype=np.intp)
    dlog = []
    for k, b in enumerate(engine.blocks):
        block_of[b.index], row_of[b.index] = k, np.arange(b.index.size)
        P, jac = prob_jacobian(b.family, b.eta, points)
        safe = P > 1e-300
        dlog.append(np.where(safe[..., None], jac / np.where(safe, P, 1.0)[..., None], 0.0))  # (Q, n, K, m)
    latent_cols = []
    if lat.estimate_mean or lat.estimate_sd:
        z = (points - lat.mean) / lat.sd
        w = np.exp(log_prior)
        if lat.estimate_mean:
            latent_cols.append((z - w @ z) / lat.sd)
        if lat.estimate_sd:
            latent_cols.append(z**2 - w @ z**2)
    latent_table = np.column_stack(latent_cols) if latent_cols else np.zeros((Q, 0))
    m_max = max((b.eta.shape[1] for b in engine.blocks), default=1)
    budget = max(CHUNK_CELLS // (Q * m_max), 1)  # observed responses per slice
    info = np.zeros((n_par, n_par))
    n_chunks = len(engine.data.chunks)
    if progress is not None:
        progress("xpd", 0, n_chunks)
    for done, (design, weights) in enumerate(engine.data.chunks, 1):
        cum = np.cumsum(_observed_per_person(design))
        cuts = np.searchsorted(cum, np.arange(budget, cum[-1] if cum.size else 0, budget), "right")
        bounds = np.unique(np.concatenate([[0], cuts, [design.n_persons]]))
        diff, base = design.split_log_prob(log_p)
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            rows = slice(int(lo), int(hi))
            post, _ = normalise_log_posterior(design.log_likelihood_rows(diff, base, rows) + log_prior)
            S = _scores(design, rows, post, block_of, row_of, dlog, index, n_item_par, latent_table)
            f = np.ones(hi - lo) if weights is None else weights[lo:hi]
            info += np.asarray((S.T @ S.multiply(f[:, None]).tocsr()).todense())
        if progress is not None:
            progress("xpd", done, n_chunks)
    for b, idx in zip(engine.blocks, index):
        if not engine.priors.empty:
            _, _, h = prior_terms(engine.priors, b.family, b.eta, b.free)
            on = b.free & (idx >= 0)
            info[idx[on], idx[on]] -= h[on]
    return info


def _observed_per_person(design: ResponseDesign) -> NDArray[np.intp]:
    """Number of observed responses of each person in the design."""
    if design.mask is None:
        return np.full(design.n_persons, design.n_items, dtype=np.intp)
    if sparse.issparse(design.mask):
        return np.diff(design.mask.tocsr().indptr).astype(np.intp)
    return design.mask.sum(axis=1).astype(np.intp)


def _scores(
    design: ResponseDesign,
    rows: slice,
    post: Array,
    block_of: NDArray[np.intp],
    row_of: NDArray[np.intp],
    dlog: list[Array],
    index: list[NDArray[np.intp]],
    n_item_par: int,
    latent_table: Array,
) -> sparse.csr_matrix:
    """Sparse per-person scores (persons in ``rows`` × free parameters) by Fisher's identity."""
    person, item, value = _observations(design, rows)
    n = post.shape[0]
    data, r_idx, c_idx = [np.zeros(0)], [np.zeros(0, np.intp)], [np.zeros(0, np.intp)]
    for k, (table, idx) in enumerate(zip(dlog, index)):
        on = block_of[item] == k
        p, r, v = person[on], row_of[item[on]], value[on]
        g = np.einsum("oq,qom->om", post[p], table[:, r, v, :])  # Σ_q w_pq ∂log P_{j,x}(θ_q)/∂η
        cols = idx[r]
        keep = cols >= 0
        data.append(g[keep])
        r_idx.append(np.broadcast_to(p[:, None], cols.shape)[keep])
        c_idx.append(cols[keep])
    S = sparse.coo_matrix(
        (np.concatenate(data), (np.concatenate(r_idx), np.concatenate(c_idx))), shape=(n, n_item_par)
    ).tocsr()  # duplicate entries (a shared 1PL slope) are summed
    if latent_table.shape[1]:
        S = sparse.hstack([S, sparse.csr_matrix(post @ latent_table)], format="csr")
    return S
