"""What both ways of testing IRT DIF (conditional and refit) produce per item, and the base model's items they
read: one place for the raw statistics, their Benjamini–Hochberg flags and the column bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from digicomp.analysis.dif import benjamini_hochberg
from digicomp.calibration.multigroup import SEP, MultiGroupResult

Array = NDArray[np.float64]


@dataclass
class ItemTests:
    """Per-item statistics of one round (before the p-values and the final table)."""

    item: list[str]
    chi2: Array
    df: Array
    a: Array  # (J, G)
    b: Array  # (J, G)
    excluded: dict[str, str]
    flagged: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    chi2_uniform: Array | None = None  # intercepts free per group, slopes held (conditional method only)
    df_uniform: Array | None = None
    chi2_lr: Array | None = None
    chi2_wald: Array | None = None


def flag_items(raw: ItemTests, alpha: float = 0.05) -> ItemTests:
    """Flag the items whose Benjamini–Hochberg q is below ``alpha`` (the purification rounds read the flags)."""
    from digicomp.analysis.probability import chi2_sf

    raw.flagged = np.nan_to_num(benjamini_hochberg(chi2_sf(raw.chi2, raw.df)), nan=1.0) < alpha
    return raw


def base_items(base: MultiGroupResult) -> tuple[list[str], NDArray[np.intp], NDArray[np.intp]]:
    """Original item ids (fit order) and, per expanded column, its original item and group (-1: anchored)."""
    names, orig, grp = [], [], []
    pos: dict[str, int] = {}
    for e in base.params.ids:
        i, _, g = e.partition(SEP)
        if i not in pos:
            pos[i] = len(names)
            names.append(i)
        orig.append(pos[i])
        grp.append(base.groups.index(g) if g else -1)
    return names, np.array(orig, dtype=np.intp), np.array(grp, dtype=np.intp)


def eta_of_columns(base: MultiGroupResult) -> dict[int, tuple[str, Array]]:
    """(family, η) of every expanded column of the base model's engine."""
    out = {}
    for b in base.engine.blocks:
        for r, j in enumerate(b.index):
            out[int(j)] = (b.family, b.eta[r].copy())
    return out


def slope_difficulty(family: str, eta: Array) -> tuple[float, float]:
    """Slope and (dichotomous items only) difficulty b = -d/a from slope-intercept η."""
    a = float(eta[0])
    b = float(-eta[1] / eta[0]) if family == "dichotomous" else float("nan")
    return a, b
