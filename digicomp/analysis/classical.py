"""Classical item analysis of scored responses: item difficulty and discrimination, Cronbach's alpha.

Input is the scored matrix (persons × items, NaN = not administered), as :mod:`digicomp.bank.scoring` makes it from
raw answers (:func:`digicomp.face.analysis.score_answers` joins the two). Frequency ``weights`` count each row that
many times (a pattern table).

Totals on incomplete designs. A pilot in booklets gives each person some of the items, so raw totals are not
comparable between persons. The total used for correlations and score groups is therefore the *proportion* of the
attainable score over the items the person answered, T/M, and the rest score of item j is (T - x_j)/(M - m_j). On
complete data dividing by the constant M changes no correlation, so the statistics are the textbook ones there.
Alpha needs complete data: it is computed over the persons who answered every item (their number is reported).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.analysis.tables import Table
from digicomp.errors import ResponseError

Array = NDArray[np.float64]


@dataclass
class Alpha:
    """Cronbach's alpha with its Feldt confidence interval (Feldt, Woodruff & Salih 1987).

    ``n_persons``: the (weighted) number of complete cases it was computed on; NaN alpha when fewer than 2.
    """

    alpha: float
    ci_low: float
    ci_high: float
    level: float
    n_persons: float
    n_items: int


@dataclass
class ItemStatistics(Table):
    """Per-item classical statistics (one row per item).

    ``mean``: mean score of those who answered; ``p_value``: mean / max score (the proportion correct for 0/1 items);
    ``point_biserial``: correlation of the item score with the (proportion) total including the item;
    ``corrected_r``: with the rest score (total without the item); ``alpha_if_deleted``: alpha of the complete
    cases without the item; ``flags``: ';'-joined names of the rules below that the item breaks.
    """

    item: list[str]
    n: Array
    max_score: Array
    mean: Array
    p_value: Array
    sd: Array
    point_biserial: Array
    corrected_r: Array
    alpha_if_deleted: Array
    flags: list[str]


@dataclass
class ClassicalAnalysis:
    """:func:`classical_analysis`'s result: the item table, alpha, and the thresholds the flags used."""

    items: ItemStatistics
    alpha: Alpha
    thresholds: dict[str, float] = field(default_factory=dict)

    def to_frame(self) -> Any:
        """The item table as a pandas DataFrame."""
        return self.items.to_frame()


FLAG_RULES = {
    "negative_discrimination": "corrected item-total r < 0 (a likely miskey or a flawed item)",
    "low_discrimination": "corrected item-total r below `min_r`",
    "very_easy": "p-value above `max_p`",
    "very_hard": "p-value below `min_p`",
    "alpha_rises_if_deleted": "alpha without the item exceeds alpha with it",
}


def _as_scores(scores: ArrayLike, weights: ArrayLike | None) -> tuple[Array, Array]:
    x = np.asarray(scores, dtype=float)
    if x.ndim != 2:
        raise ResponseError(f"scores must be a (persons, items) matrix, got shape {x.shape}")
    if np.any(np.isinf(x)) or np.nanmin(x, initial=0.0) < 0:
        raise ResponseError("scores must be finite and ≥ 0 (NaN = not administered)")
    w = np.ones(x.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (x.shape[0],) or np.any(~np.isfinite(w)) or np.any(w < 0):
        raise ResponseError(f"weights must be {x.shape[0]} finite numbers ≥ 0, one per row")
    return x, w


def _max_scores(x: Array, max_scores: ArrayLike | None) -> Array:
    # fmax skips NaN (not administered) without the (persons × items) temporaries of nanmax(where(...))
    top = np.fmax.reduce(x, axis=0, initial=0.0)
    if max_scores is None:
        return np.maximum(top, 1.0)
    m = np.asarray(max_scores, dtype=float)
    if m.shape != (x.shape[1],) or np.any(m <= 0):
        raise ResponseError(f"max_scores must be {x.shape[1]} positive numbers, one per item")
    over = top > m
    if np.any(over):
        j = int(np.flatnonzero(over)[0])
        raise ResponseError(f"item {j + 1}: a score exceeds its max_score {m[j]:g}")
    return m


def proportion_totals(scores: ArrayLike, max_scores: ArrayLike | None = None) -> tuple[Array, Array, Array]:
    """(T, M, T/M) per person: the score obtained, the score attainable over the items answered, and their ratio.

    T/M is NaN for a person who answered nothing.
    """
    x = np.asarray(scores, dtype=float)
    m = _max_scores(x, max_scores)
    answered = ~np.isnan(x)
    total = np.where(answered, x, 0.0).sum(axis=1)
    attainable = answered @ m
    with np.errstate(invalid="ignore", divide="ignore"):
        return total, attainable, total / attainable


def _pair_correlation(group: NDArray[np.intp], x: Array, y: Array, w: Array, n_groups: int) -> Array:
    """Weighted Pearson correlation of x and y within each group (observations with weight 0 left out)."""
    sw = np.bincount(group, w, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.bincount(group, w * x, n_groups) / sw
        my = np.bincount(group, w * y, n_groups) / sw
        dx, dy = x - mx[group], y - my[group]
        sxy = np.bincount(group, w * dx * dy, n_groups)
        sxx = np.bincount(group, w * dx * dx, n_groups)
        syy = np.bincount(group, w * dy * dy, n_groups)
        r = sxy / np.sqrt(sxx * syy)
    return np.where((sxx > 1e-12 * np.maximum(sw, 1)) & (syy > 0), r, np.nan)


def cronbach_alpha(scores: ArrayLike, weights: ArrayLike | None = None, level: float = 0.95) -> Alpha:
    """Cronbach's (1951) alpha of the complete cases, with Feldt's CI.

    alpha = k/(k-1) (1 - Σ var(x_j) / var(Σ x_j)); the interval uses (1 - α)/(1 - α̂) ~ F(n - 1, (n - 1)(k - 1))
    (Feldt 1965; Feldt, Woodruff & Salih 1987), as R psych's ``alpha.ci``.
    """
    from digicomp.analysis.probability import f_ppf

    x, w = _as_scores(scores, weights)
    if not 0 < level < 1:
        raise ResponseError(f"level = {level!r} must lie in (0, 1)")
    complete = ~np.isnan(x).any(axis=1) & (w > 0)
    k = x.shape[1]
    xc, wc = x[complete], w[complete]
    n = float(wc.sum())
    if k < 2 or n < 2:
        return Alpha(float("nan"), float("nan"), float("nan"), level, n, k)
    alpha = _alpha(xc, wc)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * f_ppf(1 - (1 - level) / 2, df1, df2)
    hi = 1 - (1 - alpha) * f_ppf((1 - level) / 2, df1, df2)
    return Alpha(alpha, float(lo), float(hi), level, n, k)


def _alpha(x: Array, w: Array) -> float:
    k = x.shape[1]
    sw = w.sum()
    mean = w @ x / sw
    dev = x - mean
    item_var = w @ dev**2 / sw
    total_var = float(w @ dev.sum(axis=1) ** 2 / sw)
    return float(k / (k - 1) * (1 - item_var.sum() / total_var)) if total_var > 0 else float("nan")


def _alpha_if_deleted(x: Array, w: Array) -> Array:
    """Alpha without each item in turn, from the covariance matrix (no refit per item)."""
    k = x.shape[1]
    if k < 3 or w.sum() < 2:
        return np.full(k, np.nan)
    sw = w.sum()
    dev = x - w @ x / sw
    cov = (dev * w[:, None]).T @ dev / sw
    item_var = np.diag(cov)
    total_var = cov.sum()
    var_without = total_var - 2 * cov.sum(axis=1) + item_var
    with np.errstate(invalid="ignore", divide="ignore"):
        return (k - 1) / (k - 2) * (1 - (item_var.sum() - item_var) / var_without)


def classical_analysis(
    scores: ArrayLike,
    *,
    item_ids: list[str] | None = None,
    max_scores: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    level: float = 0.95,
    min_r: float = 0.2,
    min_p: float = 0.05,
    max_p: float = 0.95,
) -> ClassicalAnalysis:
    """Item statistics and alpha of a scored (persons × items) matrix; NaN = not administered.

    ``max_scores``: each item's highest score (default the highest observed, at least 1); ``weights``: frequency
    of each row. Flags (:data:`FLAG_RULES`) use ``min_r``, ``min_p`` and ``max_p``.
    """
    x, w = _as_scores(scores, weights)
    n_items = x.shape[1]
    ids = [f"item{j + 1}" for j in range(n_items)] if item_ids is None else [str(i) for i in item_ids]
    if len(ids) != n_items:
        raise ResponseError(f"{len(ids)} item ids for {n_items} score columns")
    m = _max_scores(x, max_scores)
    # sums over the observed (person, item) pairs only: a sparse pilot answers a tenth of its cells
    pp, jj = np.nonzero(~np.isnan(x))
    xv, wv = x[pp, jj], w[pp]
    n = np.bincount(jj, wv, n_items)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(jj, wv * xv, n_items) / n
        sd = np.sqrt(np.bincount(jj, wv * (xv - mean[jj]) ** 2, n_items) / n)
    total, attainable, prop = proportion_totals(x, m)
    rest_att = attainable[pp] - m[jj]
    with np.errstate(invalid="ignore", divide="ignore"):
        rest = np.where(rest_att > 0, (total[pp] - xv) / rest_att, 0.0)
    pbis = _pair_correlation(jj, xv, prop[pp], wv, n_items)
    corrected = _pair_correlation(jj, xv, rest, np.where(rest_att > 0, wv, 0.0), n_items)
    complete = ~np.isnan(x).any(axis=1) & (w > 0)
    alpha = cronbach_alpha(x, w, level)
    aid = _alpha_if_deleted(x[complete], w[complete])
    p_value = mean / m
    flags = []
    for j in range(n_items):
        f = []
        if corrected[j] < 0:
            f.append("negative_discrimination")
        elif corrected[j] < min_r:
            f.append("low_discrimination")
        if p_value[j] > max_p:
            f.append("very_easy")
        if p_value[j] < min_p:
            f.append("very_hard")
        if aid[j] > alpha.alpha:
            f.append("alpha_rises_if_deleted")
        flags.append(";".join(f))
    items = ItemStatistics(ids, n, m, mean, p_value, sd, pbis, corrected, aid, flags)
    return ClassicalAnalysis(items, alpha, {"min_r": min_r, "min_p": min_p, "max_p": max_p})
