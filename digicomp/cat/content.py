"""Content balancing over the framework: per-group minimum/maximum counts, target proportions, exclusions.

Groups are the bank's areas or competences. Hard limits are masks (a group at its maximum is closed; when the
remaining items are just enough for the unmet minimums, only groups below their minimum stay open); target
proportions steer the choice by Kingsbury & Zara's (1989) largest deficit or by Cheng & Chang's (2009)
maximum priority index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.context import StepContext


@dataclass(frozen=True)
class ContentControl:
    """Per item its group (-1 = none), per group min/max/target (NaN = none), and the static allowed mask."""

    group: NDArray[np.intp]
    names: list[str]
    minimum: NDArray[np.float64]
    maximum: NDArray[np.float64]
    target: NDArray[np.float64]
    method: str
    allowed: NDArray[np.bool_]

    @property
    def n_groups(self) -> int:
        """Number of content groups G."""
        return len(self.names)

    def counts_of(self, items: NDArray[np.intp]) -> NDArray[np.int64]:
        """One-hot group rows (n, G) of the given items (for updating counts)."""
        out = np.zeros((items.size, max(self.n_groups, 1)), np.int64)[:, : self.n_groups]
        g = self.group[items]
        has = g >= 0
        out[np.flatnonzero(has), g[has]] = 1
        return out

    def mask(self, ctx: StepContext) -> NDArray[np.bool_]:
        """Items whose group is open for each active person (n, J)."""
        if self.n_groups == 0:
            return np.broadcast_to(self.allowed, (ctx.n, self.allowed.size))
        counts = ctx.state.group_counts[ctx.rows]
        closed = counts >= self.maximum  # NaN compares False
        deficit = np.maximum(np.nan_to_num(self.minimum, nan=0.0) - counts, 0.0)
        remaining = ctx.max_length - ctx.n_given
        forced = deficit.sum(axis=1) >= remaining
        open_ = ~closed & (~forced[:, None] | (deficit > 0))
        open_items = np.concatenate([open_, ~forced[:, None]], axis=1)[:, self.group]  # group -1 -> last column
        return open_items & self.allowed

    def minimums_met(self, state, rows: NDArray[np.intp]) -> NDArray[np.bool_]:
        """True for persons who have reached every group minimum."""
        if self.n_groups == 0:
            return np.ones(rows.size, bool)
        return np.all(state.group_counts[rows] >= np.nan_to_num(self.minimum, nan=0.0), axis=1)

    def steer(self, crit: NDArray[np.float64], ctx: StepContext) -> NDArray[np.float64]:
        """Apply target proportions to the (already masked) criterion."""
        targeted = ~np.isnan(self.target)
        if self.method == "none" or not targeted.any():
            return crit
        counts = ctx.state.group_counts[ctx.rows].astype(float)
        if self.method == "kingsbury_zara":
            return self._largest_deficit(crit, counts, ctx)
        return self._priority_index(crit, counts, ctx)

    def _largest_deficit(self, crit: NDArray[np.float64], counts: NDArray[np.float64], ctx: StepContext) -> NDArray:
        """Keep only the targeted group furthest below its target proportion (among groups with candidates)."""
        n_done = np.maximum(ctx.n_given, 1)[:, None]
        gap = np.where(np.isnan(self.target), -np.inf, self.target - counts / n_done)
        g = np.where(self.group >= 0, self.group, 0)
        has = np.zeros_like(gap, bool)
        rows, cols = np.nonzero(np.isfinite(crit) & (self.group >= 0))
        has[rows, g[cols]] = True
        gap = np.where(has, gap, -np.inf)
        pick = np.argmax(gap, axis=1)
        applies = np.isfinite(gap[np.arange(gap.shape[0]), pick])
        keep = (self.group[None, :] == pick[:, None]) | ~applies[:, None]
        return np.where(keep, crit, -np.inf)

    def _priority_index(self, crit: NDArray[np.float64], counts: NDArray[np.float64], ctx: StepContext) -> NDArray:
        """Multiply the criterion (shifted to be positive) by PI_j = f_g, f_g = 1 − x_g / (target_g · L)."""
        quota = self.target * ctx.max_length
        f = np.where(np.isnan(quota), 1.0, np.maximum(1.0 - counts / np.where(np.isnan(quota), 1.0, quota), 0.0))
        pi = np.concatenate([f, np.ones((f.shape[0], 1))], axis=1)[:, self.group]
        finite = np.isfinite(crit)
        low = np.where(finite, crit, np.inf).min(axis=1, keepdims=True)
        shifted = np.where(finite, crit - np.where(np.isfinite(low), low, 0.0) + 1e-12, 0.0)
        return np.where(finite, shifted * (pi + 1e-9), -np.inf)
