"""Agreement between two raters who scored the same responses: exact and adjacent agreement, weighted kappa.

Arrays in, numbers out. Cohen's weighted kappa (Cohen 1968) with quadratic weights, the usual index for ordered
rubric scores: κ_w = 1 - Σ w_ij O_ij / Σ w_ij E_ij, w_ij = (i - j)² / (K - 1)², O the observed joint proportions
over K categories and E the product of the two raters' marginal proportions. It is undefined (NaN) when the
expected disagreement is 0: both raters gave every response the same one score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


def weighted_kappa(first: ArrayLike, second: ArrayLike, n_categories: int, power: int = 2) -> float:
    """Cohen's weighted kappa of two raters' scores 0..n_categories-1 (power 2: quadratic, 1: linear weights)."""
    a = np.asarray(first, dtype=np.intp)
    b = np.asarray(second, dtype=np.intp)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"two raters' scores must be 1-d arrays of one length, got {a.shape} and {b.shape}")
    if n_categories < 2:
        raise ValueError(f"weighted kappa needs at least 2 categories, got {n_categories}")
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_categories):
        raise ValueError(f"scores must lie in 0..{n_categories - 1}")
    if a.size == 0:
        return float("nan")
    k = n_categories
    observed = np.bincount(a * k + b, minlength=k * k).reshape(k, k) / a.size
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    cats = np.arange(k)
    weights = np.abs(cats[:, None] - cats[None, :]) ** power / (k - 1) ** power
    chance = float((weights * expected).sum())
    return float("nan") if chance == 0.0 else 1.0 - float((weights * observed).sum()) / chance


@dataclass(frozen=True)
class Agreement:
    """Two raters on ``n`` responses: share with equal scores, share within one point, and weighted kappa."""

    n: int
    exact: float
    adjacent: float
    kappa: float

    def to_dict(self) -> dict[str, float | int | None]:
        """Plain JSON data; a kappa that is undefined is null."""
        kappa = None if np.isnan(self.kappa) else round(self.kappa, 4)
        return {"n": self.n, "exact": round(self.exact, 4), "adjacent": round(self.adjacent, 4), "kappa": kappa}


def agreement(first: ArrayLike, second: ArrayLike, n_categories: int) -> Agreement:
    """Exact and adjacent (|difference| ≤ 1) agreement and quadratic weighted kappa of two raters' scores."""
    a, b = np.asarray(first, dtype=np.intp), np.asarray(second, dtype=np.intp)
    kappa = weighted_kappa(a, b, n_categories)
    if a.size == 0:
        return Agreement(0, float("nan"), float("nan"), kappa)
    diff: NDArray[np.intp] = np.abs(a - b)
    return Agreement(int(a.size), float(np.mean(diff == 0)), float(np.mean(diff <= 1)), kappa)
