"""The conditional method of IRT DIF (the default; see :mod:`digicomp.analysis.irt_dif`): every item refitted
equal and free across groups with the rest of the base model held, by a few EM cycles over leave-one-out posterior
weights, and the Wald statistics from the free fit's per-group observed information."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.analysis.irt_dif_items import (
    Array,
    ItemTests,
    base_items,
    eta_of_columns,
    flag_items,
    slope_difficulty,
)
from digicomp.calibration.families import log_prob
from digicomp.calibration.mstep import Block, m_step, score_and_information
from digicomp.calibration.multigroup import SEP, MultiGroupResult, group_difference_wald
from digicomp.calibration.priors import Priors
from digicomp.calibration.start import build_blocks

W_CELLS = 100_000_000  # (observations × points) held as leave-one-out weights at once (400 MB in float32)
CHUNK = 200_000  # observations per pass when the weights are recomputed
STEP = 1e-3  # relative step of the central differences of the gradient (conditional Wald covariance; float32 counts)


def conditional_tests(
    base: MultiGroupResult, report: Callable, test: str = "lr"
) -> tuple[ItemTests, Callable[[], None]]:
    """Conditional refits of every item, equal and free per group (module docstring); with ``test="wald"`` the
    Wald statistics from the free fit's per-group observed information too, and the flags on them."""
    eng = base.engine
    points = eng.points
    Q = points.size
    G = len(base.groups)
    names, orig_of_col, group_of_col = base_items(base)
    J = len(names)
    models_col = list(base.params.models)
    K_col = np.asarray(base.params.n_categories, dtype=np.intp)
    clean = base.data
    person, col, x = clean.person, clean.item, clean.value.astype(np.intp)
    g_obs = base.person_group[person]
    j_obs = orig_of_col[col]
    log_p = eng.log_p()
    post, _ = eng.data.posterior(log_p, eng.latent.log_weights(points))
    post = post[base.sorted_row]
    with np.errstate(divide="ignore"):
        log_post = np.log(np.maximum(post, 1e-300))
    del post
    # targets: equal fit one per item, free fit one per (item, group)
    col_of = {}
    for c in range(len(orig_of_col)):
        col_of[(int(orig_of_col[c]), int(group_of_col[c]))] = c
    etas = eta_of_columns(base)
    excluded: dict[str, str] = {}
    K_item = np.zeros(J, dtype=np.intp)
    models_item = [""] * J
    eq_start, fr_start = [None] * J, [None] * (J * G)
    for j in range(J):
        c0 = col_of.get((j, -1))
        if c0 is not None:
            models_item[j], K_item[j] = models_col[c0], K_col[c0]
            eq_start[j] = etas[c0][1]
            for g in range(G):
                fr_start[j * G + g] = etas[c0][1]
        else:
            cs = [col_of.get((j, g)) for g in range(G)]
            c_any = next(c for c in cs if c is not None)
            models_item[j], K_item[j] = models_col[c_any], K_col[c_any]
            eq_start[j] = etas[cs[0] if cs[0] is not None else c_any][1]
            for g in range(G):
                fr_start[j * G + g] = etas[cs[g] if cs[g] is not None else c_any][1]
    # category counts per (item, group): a group without a category cannot have its own parameters
    Kmax = int(K_item.max())
    cat_counts = np.bincount((j_obs * G + g_obs) * Kmax + x, minlength=J * G * Kmax).reshape(J, G, Kmax)
    for j in range(J):
        missing = [
            f"{base.groups[g]} (category {k})"
            for g in range(G)
            for k in range(int(K_item[j]))
            if cat_counts[j, g, k] == 0
        ]
        if missing:
            excluded[names[j]] = "no response of group " + ", ".join(missing[:3]) + ": its own parameters are infinite"
    for i, why in base.excluded_items.items():
        excluded.setdefault(i.partition(SEP)[0], f"excluded from the base model: {why}")
    ok_item = np.array([n not in excluded for n in names], dtype=bool)
    keep = ok_item[j_obs]
    person, col, x, g_obs, j_obs = person[keep], col[keep], x[keep], g_obs[keep], j_obs[keep]
    t_eq, t_fr = j_obs, j_obs * G + g_obs
    n_obs = person.size
    # leave-one-out log weights: the base posterior without the studied response
    base_table = np.ascontiguousarray(log_p.transpose(1, 2, 0))  # (cols, K, Q)

    def loo(lo: int, hi: int) -> Array:
        lw = log_post[person[lo:hi]] - base_table[col[lo:hi], x[lo:hi]]
        lw -= lw.max(axis=1, keepdims=True)
        w = np.exp(lw)
        w /= w.sum(axis=1, keepdims=True)
        return w.astype(np.float32)

    bounds = list(range(0, n_obs, CHUNK)) + [n_obs]
    stored = [loo(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])] if n_obs * Q <= W_CELLS else None
    from scipy import sparse

    def indicator(t: NDArray[np.intp], n_t: int, lo: int, hi: int) -> Any:
        k = hi - lo
        return sparse.csr_matrix(
            (np.ones(k, dtype=np.float32), (t[lo:hi] * Kmax + x[lo:hi], np.arange(k))), shape=(n_t * Kmax, k)
        )

    ind_eq = [indicator(t_eq, J, lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
    ind_fr = [indicator(t_fr, J * G, lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:])]
    rows_eq = np.flatnonzero(ok_item)
    rows_fr = np.flatnonzero(np.repeat(ok_item, G))
    blocks_eq = _blocks([models_item[j] for j in range(J)], rows_eq, K_item, eq_start)
    blocks_fr = _blocks([models_item[t // G] for t in range(J * G)], rows_fr, np.repeat(K_item, G), fr_start)
    priors = Priors()

    def table(blocks: list[Block], n_t: int) -> Array:
        """P(x = k | θ_q) of every target as row target·K + k of a (targets·K, Q) table: an observation's row is
        one contiguous gather (3× faster than picking (target, k) out of a (Q, targets, K) table)."""
        out = np.zeros((n_t, Kmax, Q), dtype=np.float32)
        for b in blocks:
            lp = log_prob(b.family, b.eta, points)  # (Q, n, K)
            out[b.index, : lp.shape[2]] = np.exp(lp).transpose(1, 2, 0)
        return out.reshape(n_t * Kmax, Q)

    def e_pass(fits: list[tuple[list[Block], NDArray[np.intp], list, int]], with_counts: bool) -> list:
        """(per-item log-likelihood, counts or None) of each fit (blocks, targets, indicators, targets count)."""
        tables = [table(blocks, n_t) for blocks, _, _, n_t in fits]
        lls = [np.zeros(J) for _ in fits]
        counts = [np.zeros((n_t * Kmax, Q)) if with_counts else None for *_, n_t in fits]
        for k, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
            w = stored[k] if stored is not None else loo(lo, hi)
            for (_, t, ind, _), P, ll, c in zip(fits, tables, lls, counts):
                r = w * P[t[lo:hi] * Kmax + x[lo:hi]]
                m = r.sum(axis=1, dtype=np.float64)
                ll += np.bincount(j_obs[lo:hi], weights=np.log(np.maximum(m, 1e-300)), minlength=J)
                if c is not None:
                    r /= np.maximum(m, 1e-300)[:, None].astype(np.float32)
                    c += ind[k] @ r
        return list(zip(lls, counts))

    def fit_em(fits: list[tuple[list[Block], NDArray[np.intp], list, int]]) -> list[Array]:
        """EM cycles of every fit to convergence (largest move of a free parameter < 1e-4); per-item logLik."""
        for _ in range(200):
            change = 0.0
            for (blocks, _, _, n_t), (_, c) in zip(fits, e_pass(fits, True)):
                counts = c.reshape(n_t, Kmax, Q)
                for b in blocks:
                    K = 2 if b.family == "dichotomous" else b.eta.shape[1]
                    new = m_step(b, counts[b.index, :K], points, priors)
                    moved = b.free & np.isfinite(new) & np.isfinite(b.eta)
                    change = max(change, float(np.abs(new[moved] - b.eta[moved]).max(initial=0.0)))
                    b.eta = new
            if change < 1e-4:
                break
        return [ll for ll, _ in e_pass(fits, False)]

    def free_information(blocks: list[Block], t: NDArray[np.intp], ind: list, n_t: int) -> Array:
        """Observed information (n_t, m, m) of every target's parameters: central differences of the gradient by
        Fisher's identity (M-step gradient at the counts of the same η). Given the base, target t's likelihood
        depends on its own η only, so moving column k of every target at once gives column k of every Hessian."""
        m = max(b.eta.shape[1] for b in blocks)

        def gradient() -> Array:
            ((_, c),) = e_pass([(blocks, t, ind, n_t)], True)
            counts = c.reshape(n_t, Kmax, Q)
            out = np.zeros((n_t, m))
            for b in blocks:
                K = 2 if b.family == "dichotomous" else b.eta.shape[1]
                grad, _ = score_and_information(b, b.eta, counts[b.index, :K], points, priors)
                out[b.index, : grad.shape[1]] = np.where(b.free, grad, 0.0)
            return out

        hess = np.zeros((n_t, m, m))
        for k in range(m):
            moving = [b for b in blocks if k < b.eta.shape[1] and b.free[:, k].any()]
            if not moving:
                continue
            h = np.zeros(n_t)
            saved = [b.eta[:, k].copy() for b in moving]
            for b in moving:
                h[b.index] = np.where(b.free[:, k], STEP * np.maximum(1.0, np.abs(b.eta[:, k])), 0.0)
            for b in moving:
                b.eta[:, k] += h[b.index]
            up = gradient()
            for b in moving:
                b.eta[:, k] -= 2 * h[b.index]
            down = gradient()
            for b, keep_k in zip(moving, saved):
                b.eta[:, k] = keep_k
            with np.errstate(invalid="ignore", divide="ignore"):
                hess[:, :, k] = np.where(h[:, None] > 0, (up - down) / (2 * h[:, None]), 0.0)
        return -(hess + hess.transpose(0, 2, 1)) / 2

    report("item tests", 0, 1)
    ll_eq, ll_fr = fit_em([(blocks_eq, t_eq, ind_eq, J), (blocks_fr, t_fr, ind_fr, J * G)])
    report("item tests", 1, 1)
    n_free = np.zeros(J)
    a = np.full((J, G), np.nan)
    bb = np.full((J, G), np.nan)
    for b in blocks_fr:
        for r, t in enumerate(b.index):
            j, g = divmod(int(t), G)
            a[j, g], bb[j, g] = slope_difficulty(b.family, b.eta[r])
            if g == 0:
                n_free[j] = int(b.free[r].sum())
    chi2 = np.where(ok_item, np.maximum(2 * (ll_fr - ll_eq), 0.0), np.nan)
    df = np.where(ok_item, n_free * (G - 1), np.nan)
    if test == "wald":
        report("Wald covariance", 0, 1)
        info = free_information(blocks_fr, t_fr, ind_fr, J * G)
        report("Wald covariance", 1, 1)
        w, w_df, wu, wu_df = _conditional_wald(blocks_fr, info, J, G)
        w, wu = np.where(ok_item, w, np.nan), np.where(ok_item, wu, np.nan)
        for j in np.flatnonzero(ok_item & np.isnan(w)):
            excluded[names[j]] = "the information of its per-group parameters is not positive definite (no Wald test)"
        raw = flag_items(
            ItemTests(names, w, np.where(ok_item, w_df, np.nan), a, bb, excluded, chi2_lr=chi2, chi2_wald=w)
        )
        raw.chi2_uniform, raw.df_uniform = wu, np.where(ok_item, wu_df, np.nan)
        return raw, lambda: None
    raw = flag_items(ItemTests(names, chi2, df, a, bb, excluded, chi2_lr=chi2))

    def add_uniform() -> None:
        """Uniform DIF (run for the final round only): intercepts free per group, slopes (and asymptotes) held at
        the equal fit's values, against the equal fit."""
        report("uniform DIF tests", 0, 1)
        eq_eta = {int(t): b.eta[r] for b in blocks_eq for r, t in enumerate(b.index)}
        blocks_u = _blocks(
            [models_item[t // G] for t in range(J * G)],
            rows_fr,
            np.repeat(K_item, G),
            [eq_eta.get(t // G, fr_start[t]) for t in range(J * G)],
        )
        for b in blocks_u:
            b.free[:, 0] = False
            if b.family == "dichotomous":
                b.free[:, 2:] = False
        (ll_u,) = fit_em([(blocks_u, t_fr, ind_fr, J * G)])
        n_icpt = np.zeros(J)
        for b in blocks_u:
            for r, t in enumerate(b.index):
                if int(t) % G == 0:
                    n_icpt[int(t) // G] = int(b.free[r].sum())
        raw.chi2_uniform = np.where(ok_item, np.maximum(2 * (ll_u - ll_eq), 0.0), np.nan)
        raw.df_uniform = np.where(ok_item, n_icpt * (G - 1), np.nan)
        report("uniform DIF tests", 1, 1)

    return raw, add_uniform


def _conditional_wald(blocks: list[Block], info: Array, J: int, G: int) -> tuple[Array, Array, Array, Array]:
    """Wald statistics of every item from the free fit's targets (item j, group g at row j·G + g): (W, df,
    W of the intercepts alone, its df). The groups' parameters are independent given the base, so each item's
    covariance is block diagonal, one inverse information per group. Items are batched by family and free mask."""
    m = info.shape[1]
    eta = np.full((J * G, m), np.nan)
    free = np.zeros((J * G, m), dtype=bool)
    icpt = np.zeros((J * G, m), dtype=bool)
    for b in blocks:
        width = b.eta.shape[1]
        eta[b.index, :width] = b.eta
        free[b.index, :width] = b.free
        cols = np.arange(width)
        is_icpt = (cols == 1) if b.family == "dichotomous" else (cols >= 1)
        icpt[b.index, :width] = b.free & is_icpt
    w, df, wu, dfu = (np.full(J, np.nan) for _ in range(4))
    first = np.arange(J) * G
    pattern = np.packbits(np.concatenate([free[first], icpt[first]], axis=1), axis=1)
    _, kind = np.unique(pattern, axis=0, return_inverse=True)
    for k in np.unique(kind):  # one batch per (free, intercept) mask: a few kinds of item, not items
        items = np.flatnonzero(kind.ravel() == k)
        use, use_u = free[first[items[0]]], icpt[first[items[0]]]
        if not use.any():
            continue
        rows = items[:, None] * G + np.arange(G)[None, :]  # (n, G)
        sub = info[rows][..., use, :][..., use]  # (n, G, p, p)
        theta = eta[rows][..., use]  # (n, G, p)
        cov = _block_diagonal_inverse(sub)
        w[items], df[items] = group_difference_wald(theta, cov)
        if use_u.any():
            pick = use_u[use]
            p = int(use.sum())
            idx = (np.arange(G)[:, None] * p + np.flatnonzero(pick)[None, :]).ravel()
            wu[items], dfu[items] = group_difference_wald(theta[..., pick], cov[:, idx][:, :, idx])
    return w, df, wu, dfu


def _block_diagonal_inverse(info: Array) -> Array:
    """(n, G, p, p) information blocks → (n, G·p, G·p) block-diagonal covariance (NaN where not invertible)."""
    n, G, p, _ = info.shape
    cov = np.zeros((n, G * p, G * p))
    vals, vecs = np.linalg.eigh(info)
    positive = vals.min(axis=-1) > 1e-12 * np.maximum(vals.max(axis=-1), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.einsum("ngij,ngj,ngkj->ngik", vecs, 1.0 / vals, vecs)
    inv[~positive] = np.nan
    for g in range(G):  # the groups: a handful
        cov[:, g * p : (g + 1) * p, g * p : (g + 1) * p] = inv[:, g]
    return cov


def _blocks(models: list[str], rows: NDArray[np.intp], K: NDArray[np.intp], start: list) -> list[Block]:
    """Blocks over ``rows`` with the free masks of their models and the given starting η (padded to width)."""
    counts = np.ones((len(models), int(K.max())))
    blocks = build_blocks(models, rows, K, counts, 1.0)
    for b in blocks:
        for r, t in enumerate(b.index):
            s = start[int(t)]
            b.eta[r, : s.size] = s[: b.eta.shape[1]]
        b.shared[:] = False  # a 1PL slope is held per studied item here, not shared across items
    return blocks
