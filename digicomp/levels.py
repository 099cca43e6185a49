"""θ → reporting level by the bank's cut scores, level probabilities, per-area sub-scores, what to work on next.

Levels are the bank's ``scale.levels`` (bands of the framework's level scale) separated by ``scale.cut_scores``;
a θ exactly on a cut belongs to the higher level. Sub-scores are EAPs from one area's (or competence's) items
only, on the same grid and prior as the overall score, flagged ``imprecise`` when they rest on too few items
or their SE is too large to report a level with confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.errors import ParameterError


def check_cuts(cuts: ArrayLike, where: str = "cuts") -> NDArray[np.float64]:
    """``cuts`` as a float array; ParameterError naming the first cut that is not finite or not above the one before."""
    try:
        arr = np.asarray(cuts, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{where}: expected a list of numbers (cut scores on θ), got {cuts!r}") from None
    if arr.ndim != 1:
        raise ParameterError(f"{where}: expected a flat list of cut scores, got an array of shape {arr.shape}")
    for i, value in enumerate(arr):
        if not np.isfinite(value):
            raise ParameterError(f"{where}[{i}] = {value}: a cut score must be a finite number on the θ scale")
        if i and value <= arr[i - 1]:
            raise ParameterError(
                f"{where}[{i}] = {value} is not above {where}[{i - 1}] = {arr[i - 1]}: cut scores must be strictly "
                "increasing, lowest level first (they are not sorted for you, so a typo cannot reorder the levels)"
            )
    return arr


def level_index(theta: ArrayLike, cuts: ArrayLike) -> NDArray[np.intp]:
    """Index 0..len(cuts) of the level holding each θ (a θ on a cut is in the level above)."""
    return np.searchsorted(np.asarray(cuts, dtype=float), np.asarray(theta, dtype=float), side="right")


def level_probabilities(weights: NDArray[np.float64], points: NDArray[np.float64], cuts: ArrayLike) -> NDArray:
    """Posterior probability of each level (n, len(cuts) + 1) from weights on a quadrature grid.

    Each grid point stands for the cell halfway to its neighbours (the rectangle rule the posterior uses);
    a cell that a cut crosses gives each level the share of its width on that side, so a cut lying on a
    grid point splits that point's mass evenly instead of handing it all to one level.
    """
    w = np.atleast_2d(weights)
    # a row-wise sum over the grid per level (not a matrix product, whose rounding depends on the number of rows):
    # a person's level probabilities are the same bits in a live session and in a simulation batch of any size
    return (w[:, None, :] * level_cell_fractions(points, cuts).T).sum(axis=2)


def level_cell_fractions(points: NDArray[np.float64], cuts: ArrayLike) -> NDArray[np.float64]:
    """(Q, len(cuts) + 1): the fraction of each grid point's cell that lies in each level."""
    pts = np.asarray(points, dtype=float)
    cuts = np.asarray(cuts, dtype=float)
    half = np.diff(pts) / 2
    lo = pts - np.concatenate([half[:1], half])
    hi = pts + np.concatenate([half, half[-1:]])
    bounds = np.concatenate([[-np.inf], cuts, [np.inf]])
    overlap = np.minimum(hi[:, None], bounds[None, 1:]) - np.maximum(lo[:, None], bounds[None, :-1])
    return np.clip(overlap, 0.0, None) / (hi - lo)[:, None]


def group_scores(
    log_prob_jkq: NDArray[np.float64],
    log_prior: NDArray[np.float64],
    points: NDArray[np.float64],
    items: NDArray[np.intp],
    responses: NDArray[np.int64],
    group: NDArray[np.intp],
    n_groups: int,
) -> tuple[NDArray, NDArray, NDArray]:
    """EAP θ, posterior SD and item count per group for one person's answers (items/responses (L,)).

    Groups with no answered item get the prior mean and SD and a count of 0.
    """
    g = group[items]
    keep = g >= 0
    onehot = (g[keep][:, None] == np.arange(n_groups)[None, :]).astype(float)  # (L, G)
    log_post = onehot.T @ log_prob_jkq[items[keep], responses[keep]] + log_prior  # (G, Q)
    w = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    mean = w @ points
    sd = np.sqrt(np.maximum(w @ points**2 - mean**2, 0.0))
    return mean, sd, onehot.sum(axis=0).astype(np.int64)


@dataclass(frozen=True)
class LevelNames:
    """Ids and (optionally) human labels of the reporting levels, lowest first."""

    ids: list[str]
    names: list[str | None]
    descriptions: list[str | None]

    @classmethod
    def of_bank(cls, bank: Any, lang: str = "vi") -> LevelNames:
        """The bank's reporting levels, labelled from its framework when it can be loaded."""
        cuts = np.asarray(getattr(bank, "cut_scores", []), dtype=float)
        ids = list(bank.scale.levels or []) or [f"L{i + 1}" for i in range(cuts.size + 1)]
        names: list[str | None] = [None] * len(ids)
        descs: list[str | None] = [None] * len(ids)
        if bank.spec.framework is not None and bank.scale.levels:
            try:
                fw = bank.framework
                for i, band in enumerate(ids):
                    names[i], descs[i] = fw.describe_band(band, lang)
            except Exception:  # noqa: BLE001 - labels are optional; ids are always reported
                pass
        return cls(ids, names, descs)

    def describe(self, index: int) -> dict[str, Any]:
        """``{id, index, name, description}`` of level ``index``."""
        return {
            "id": self.ids[index],
            "index": int(index),
            "name": self.names[index],
            "description": self.descriptions[index],
        }


def to_work_on(
    codes: list[str], theta: NDArray[np.float64], counts: NDArray[np.int64], goal: float
) -> list[dict[str, Any]]:
    """Assessed competences whose sub-score lies below ``goal`` (the next cut up), weakest first."""
    order = np.argsort(theta, kind="stable")
    return [
        {"competence": codes[c], "theta": round(float(theta[c]), 3), "n_items": int(counts[c])}
        for c in order
        if counts[c] > 0 and theta[c] < goal
    ]


def next_goal(theta: float, cuts: NDArray[np.float64]) -> float:
    """The cut score just above θ (θ itself at the top level): the bar a learner works toward."""
    above = cuts[cuts > theta]
    return float(above[0]) if above.size else float(theta)
