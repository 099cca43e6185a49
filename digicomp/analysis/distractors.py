"""Distractor analysis of single-choice items: who picks each option, and how that relates to the total score.

For every option of every item: the share choosing it overall and in each score group (quantile groups of the
proportion total, :func:`digicomp.analysis.classical.proportion_totals`), its option–rest correlation (the
point-biserial of "chose this option" with the rest score, the total without the item) and its choosers' mean rest
score. Flags (Haladyna & Downing 1989's rules of thumb, as in R CTT's ``distractor.analysis`` tables):

* ``likely_miskey`` on a key whose option–rest correlation is negative (the strong avoid it); ``probable_key`` on
  the distractor with the largest positive correlation of that item;
* ``rare`` on a distractor chosen by fewer than ``min_share`` (5%) of those who answered: it does not distract;
* ``attracts_strongest`` on a distractor with a positive option–rest correlation: the stronger people choose it
  more, which a wrong option should not do (an ambiguous stem or a second right answer).

Everything is computed with ``numpy.bincount`` over the (person, item) answers at once, not per option.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.analysis.classical import _max_scores, proportion_totals
from digicomp.analysis.tables import Table
from digicomp.errors import ResponseError

Array = NDArray[np.float64]


@dataclass
class OptionTable(Table):
    """One row per (item, option). ``group_share`` is (rows, n_groups): the share choosing the option among those
    of each score group who answered the item (group 1 lowest); ``group_n`` (rows, n_groups) their numbers."""

    item: list[str]
    option: list[str]
    is_key: NDArray[np.bool_]
    n: Array
    share: Array
    r_rest: Array
    mean_rest: Array
    flags: list[str]
    group_share: Array
    group_n: Array
    group_cuts: Array

    def as_dict(self) -> dict[str, Any]:
        """The columns, with the group shares as columns ``group1..groupG``."""
        out = super().as_dict()
        for g in range(self.group_share.shape[1]):
            out[f"group{g + 1}"] = self.group_share[:, g]
        return out


def score_groups(values: ArrayLike, n_groups: int = 5, weights: ArrayLike | None = None) -> tuple[NDArray, Array]:
    """Group 0..n_groups-1 of each value by (weighted) quantiles, and the cut points; ties share a group, NaN = -1."""
    v = np.asarray(values, dtype=float)
    if n_groups < 1:
        raise ResponseError(f"n_groups = {n_groups} must be at least 1")
    w = np.ones(v.size) if weights is None else np.asarray(weights, dtype=float)
    ok = ~np.isnan(v) & (w > 0)
    order = np.argsort(v[ok], kind="stable")
    sv, cw = v[ok][order], np.cumsum(w[ok][order])
    if sv.size == 0:
        return np.full(v.size, -1), np.full(n_groups - 1, np.nan)
    targets = cw[-1] * np.arange(1, n_groups) / n_groups
    cuts = sv[np.minimum(np.searchsorted(cw, targets, side="left"), sv.size - 1)]
    groups = np.where(ok, np.searchsorted(cuts, np.nan_to_num(v), side="right"), -1)
    return np.minimum(groups, n_groups - 1), cuts


def distractor_analysis(
    choices: ArrayLike,
    options: list[list[str]],
    keys: ArrayLike,
    scores: ArrayLike,
    *,
    item_ids: list[str] | None = None,
    max_scores: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    n_groups: int = 5,
    min_share: float = 0.05,
    score_columns: ArrayLike | None = None,
) -> OptionTable:
    """Option statistics of single-choice items.

    ``choices`` (persons, items): the position of the chosen option in ``options[j]`` (-1 = not answered, or an
    item that is not single-choice); ``keys``: position of each item's key (-1 for an item without one; its options
    get no key flags); ``scores``: the scored matrix (NaN = not administered) the totals come from, same persons in
    the same order; it may hold more items than ``choices`` (a test with other formats besides single-choice items)
    when ``score_columns`` gives the column of ``scores`` of each item of ``choices``.
    """
    c = np.asarray(choices)
    if c.ndim != 2 or not np.issubdtype(c.dtype, np.integer):
        raise ResponseError(f"choices must be an integer (persons, items) matrix, got {c.dtype} {c.shape}")
    n_persons, n_items = c.shape
    ids = [f"item{j + 1}" for j in range(n_items)] if item_ids is None else [str(i) for i in item_ids]
    if len(options) != n_items or len(ids) != n_items:
        raise ResponseError(f"{len(options)} option lists and {len(ids)} item ids for {n_items} items")
    key = np.asarray(keys, dtype=np.intp)
    n_opt = np.array([len(o) for o in options], dtype=np.intp)
    if key.shape != (n_items,) or np.any((key < -1) | (key >= n_opt)):
        raise ResponseError("keys must give, per item, the position of its key among its options (-1 = none)")
    bad = (c < -1) | (c >= n_opt)
    if np.any(bad):
        p, j = map(int, np.argwhere(bad)[0])
        raise ResponseError(f"person row {p + 1}, item {ids[j]!r}: choice {int(c[p, j])} is not an option position")
    x_all = np.asarray(scores, dtype=float)
    cols = np.arange(n_items) if score_columns is None else np.asarray(score_columns, dtype=np.intp)
    if (
        x_all.ndim != 2
        or x_all.shape[0] != n_persons
        or cols.shape != (n_items,)
        or (cols.size and (cols.min() < 0 or cols.max() >= x_all.shape[1]))
    ):
        raise ResponseError(
            f"scores have shape {x_all.shape}; expected {n_persons} rows as the choices and a column for each of "
            f"their {n_items} items (score_columns)"
        )
    w = np.ones(n_persons) if weights is None else np.asarray(weights, dtype=float)
    m_all = _max_scores(x_all, max_scores)
    total, attainable, prop = proportion_totals(x_all, m_all)
    x, m = x_all[:, cols], m_all[cols]
    groups, cuts = score_groups(prop, n_groups, w)

    offset = np.concatenate([[0], np.cumsum(n_opt)])
    rows = int(offset[-1])
    pp, jj = np.nonzero(c >= 0)
    rr = offset[jj] + c[pp, jj]
    wp = w[pp]
    xj = np.nan_to_num(x[pp, jj])
    rest_att = attainable[pp] - m[jj]
    has_rest = rest_att > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        rest = np.where(has_rest, (total[pp] - xj) / rest_att, 0.0)
    n = np.bincount(rr, wp, rows)
    n_item = np.bincount(jj, wp, n_items)
    share = n / np.repeat(n_item, n_opt).clip(min=1e-300)
    g = groups[pp]
    in_group = g >= 0
    gn = np.bincount(rr[in_group] * n_groups + g[in_group], wp[in_group], rows * n_groups).reshape(rows, n_groups)
    g_item = np.bincount(jj[in_group] * n_groups + g[in_group], wp[in_group], n_items * n_groups)
    g_item = np.repeat(g_item.reshape(n_items, n_groups), n_opt, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        gshare = gn / g_item
        # point-biserial of the choice indicator with the rest score, among those who answered the item
        wr = wp * has_rest
        sw_i = np.bincount(jj, wr, n_items)
        my_i = np.bincount(jj, wr * rest, n_items) / sw_i
        vy_i = np.bincount(jj, wr * rest**2, n_items) / sw_i - my_i**2
        sw_r = np.bincount(rr, wr, rows)
        my_r = np.bincount(rr, wr * rest, rows) / sw_r
        item_of_row = np.repeat(np.arange(n_items), n_opt)
        prop_r = sw_r / sw_i[item_of_row]
        sd = np.sqrt(np.maximum(vy_i[item_of_row], 0.0))
        r = (my_r - my_i[item_of_row]) / sd * np.sqrt(prop_r / (1 - prop_r))
    r = np.where((sd > 1e-12) & (prop_r > 0) & (prop_r < 1), r, np.nan)
    is_key = np.zeros(rows, bool)
    has_key = key >= 0
    is_key[offset[:-1][has_key] + key[has_key]] = True
    flags = _flags(r, share, is_key, item_of_row, has_key, min_share)
    return OptionTable(
        [ids[j] for j in item_of_row],
        [o for opts in options for o in opts],
        is_key,
        n,
        share,
        r,
        my_r,
        flags,
        gshare,
        gn,
        cuts,
    )


def _flags(
    r: Array, share: Array, is_key: NDArray[np.bool_], item: NDArray[np.intp], has_key: NDArray[np.bool_], low: float
) -> list[str]:
    out: list[list[str]] = [[] for _ in range(r.size)]
    keyed = has_key[item]
    for i in np.flatnonzero(is_key & (r < 0)):
        out[i].append("likely_miskey")
        rivals = np.flatnonzero((item == item[i]) & ~is_key & (r > 0))
        if rivals.size:
            out[int(rivals[np.argmax(r[rivals])])].append("probable_key")
    for i in np.flatnonzero(keyed & ~is_key & (share < low)):
        out[i].append("rare")
    for i in np.flatnonzero(keyed & ~is_key & (r > 0)):
        out[i].append("attracts_strongest")
    return [";".join(f) for f in out]


@dataclass
class NominalOptionTable(Table):
    """One row per (item, option) of a nominal-model calibration: the category slope a1·ak and intercept d, the
    option's highest probability over θ ∈ [-4, 4] (``peak``) and where it is reached (``peak_at``), and flags."""

    item: list[str]
    option: list[str]
    is_key: NDArray[np.bool_]
    slope: Array
    intercept: Array
    peak: Array
    peak_at: Array
    flags: list[str]


def nominal_distractors(
    params: Any, keys: ArrayLike, options: list[list[str]] | None = None, *, min_peak: float = 0.05
) -> NominalOptionTable:
    """Distractor diagnostics from a nominal response model (``NominalParameters``): the option curves' slopes.

    Under the nominal model an option's category slope a1·ak_k says how its choice rises with θ; the key should
    have the largest (it is the option the ablest choose). Flags: ``key_not_steepest`` on a key some distractor
    out-slopes (a likely miskey, or two right answers), ``steeper_than_key`` on those distractors, and
    ``never_chosen`` on an option whose probability stays below ``min_peak`` over θ ∈ [-4, 4].
    ``keys``: position of each item's key among its categories (-1: none, no key flags).
    """
    key = np.asarray(keys, dtype=np.intp)
    J = params.n_items
    if key.shape != (J,) or np.any((key < -1) | (key >= params.n_categories)):
        raise ResponseError("keys must give, per item, the position of its key among its categories (-1 = none)")
    grid = np.linspace(-4, 4, 161)
    P = params.prob(grid)  # (Q, J, K)
    slopes = params.category_slopes()
    rows_item, rows_opt, is_key, s, d, peak, at, flags = [], [], [], [], [], [], [], []
    for j in range(J):  # one row per option: the table is J × K small, not a hot path
        m = int(params.n_categories[j])
        names = options[j] if options is not None else [str(k) for k in range(m)]
        if len(names) != m:
            raise ResponseError(f"item {params.ids[j]!r}: {len(names)} option names for {m} categories")
        k_key = int(key[j])
        for k in range(m):
            f = []
            if k_key >= 0:
                if k == k_key and np.any(np.delete(slopes[j, :m], k) > slopes[j, k]):
                    f.append("key_not_steepest")
                if k != k_key and slopes[j, k] > slopes[j, k_key]:
                    f.append("steeper_than_key")
            q = int(np.argmax(P[:, j, k]))
            if P[q, j, k] < min_peak:
                f.append("never_chosen")
            rows_item.append(params.ids[j])
            rows_opt.append(names[k])
            is_key.append(k == k_key)
            s.append(slopes[j, k])
            d.append(params.d[j, k])
            peak.append(P[q, j, k])
            at.append(grid[q])
            flags.append(";".join(f))
    return NominalOptionTable(
        rows_item, rows_opt, np.array(is_key), np.array(s), np.array(d), np.array(peak), np.array(at), flags
    )
