"""Content balancing over the framework: per-group minimum/maximum counts, target proportions, exclusions.

Groups are the bank's areas or competences. Hard limits are masks (a group at its maximum is closed; when the
remaining items are just enough for the unmet minimums, only groups below their minimum stay open); target
proportions steer the choice by Kingsbury & Zara's (1989) largest deficit or by Cheng & Chang's (2009)
maximum priority index.

Targets need not cover every group: the groups without a target (and items outside every group) form one
pool, *the rest*, whose target is what the others leave, 1 − Σ targets. The rest is steered like a group, so
a design with targets 0.3 and 0.1 on two of eight areas gives those areas 30% and 10% of the items and the
other six areas 60% between them (shared among them by the selection rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    n_groups: int = field(init=False)
    """Number of content groups G."""
    steers: bool = field(init=False)
    """True when target proportions change the criterion (a method and at least one target)."""
    rest_target: float = field(init=False)
    """The target share of the rest: 1 − Σ targets (groups without a target and items outside every group)."""
    _floor: NDArray[np.float64] = field(init=False, repr=False)
    _has_minimum: bool = field(init=False, repr=False)
    _column: NDArray[np.intp] = field(init=False, repr=False)
    _quotas: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Precompute what every step needs from the (constant) limits."""
        object.__setattr__(self, "n_groups", len(self.names))
        targeted = ~np.isnan(self.target)
        object.__setattr__(self, "steers", self.method != "none" and bool(targeted.any()))
        object.__setattr__(self, "rest_target", max(0.0, 1.0 - float(np.nansum(self.target))))
        object.__setattr__(self, "_floor", np.nan_to_num(self.minimum, nan=0.0))  # minimum, 0 where none
        object.__setattr__(self, "_has_minimum", bool((self._floor > 0).any()))
        # per item its steering column: its group's when the group has a target, else G (the rest)
        has = np.zeros_like(self.group, bool)
        if self.n_groups:
            has = (self.group >= 0) & targeted[np.maximum(self.group, 0)]
        object.__setattr__(self, "_column", np.where(has, self.group, self.n_groups).astype(np.intp))
        object.__setattr__(self, "_quotas", {})

    def add_counts(self, group_counts: NDArray[np.int64], rows: NDArray[np.intp], items: NDArray[np.intp]) -> None:
        """Count each row's new item in its group (``rows`` are distinct, so a fancy-indexed add is exact)."""
        g = self.group[items]
        has = g >= 0
        group_counts[rows[has], g[has]] += 1

    def mask(self, ctx: StepContext) -> NDArray[np.bool_] | None:
        """Items whose group is open for each active person (n, J); None when every allowed item is open.

        The caller ANDs the result with its own mask and ``allowed`` (kept separate so nothing is recomputed).
        """
        if self.n_groups == 0:
            return None
        counts = ctx.state.group_counts[ctx.rows]
        closed = counts >= self.maximum  # NaN compares False
        deficit = np.maximum(self._floor - counts, 0.0)
        remaining = ctx.max_length - ctx.n_given
        forced = deficit.sum(axis=1) >= remaining
        open_ = ~closed & (~forced[:, None] | (deficit > 0))
        ext = np.empty((ctx.n, self.n_groups + 1), bool)
        ext[:, :-1] = open_
        ext[:, -1] = ~forced
        return ext[:, self.group]  # group -1 -> last column

    def minimums_met(self, state, rows: NDArray[np.intp]) -> NDArray[np.bool_] | bool:
        """True for persons who have reached every group minimum (plain True when no group has one)."""
        if not self._has_minimum:
            return True
        return np.all(state.group_counts[rows] >= self._floor, axis=1)

    def steer(self, crit: NDArray[np.float64], ctx: StepContext) -> NDArray[np.float64]:
        """Apply target proportions to the (already masked) criterion."""
        if not self.steers:
            return crit
        counts = self._steering_counts(ctx)
        if self.method == "kingsbury_zara":
            return self._largest_deficit(crit, counts.astype(float), ctx)
        return self._priority_index(crit, counts, ctx)

    def _steering_counts(self, ctx: StepContext) -> NDArray[np.int64]:
        """Items given per steering column (n, G + 1): each targeted group, and the rest in the last column."""
        counts = np.zeros((ctx.n, self.n_groups + 1), np.int64)
        counts[:, :-1] = ctx.state.group_counts[ctx.rows]
        targeted = ~np.isnan(self.target)
        counts[:, :-1][:, ~targeted] = 0
        counts[:, -1] = ctx.n_given - counts[:, :-1].sum(axis=1)
        return counts

    def _targets(self) -> NDArray[np.float64]:
        """Target per steering column (G + 1): the groups' (−inf where none: never a column of its own), the rest's."""
        return np.append(np.where(np.isnan(self.target), -np.inf, self.target), self.rest_target)

    def _largest_deficit(self, crit: NDArray[np.float64], counts: NDArray[np.float64], ctx: StepContext) -> NDArray:
        """Keep only the column (targeted group, or the rest) furthest below its target share, among columns that
        still have candidates (Kingsbury & Zara 1989)."""
        n_done = np.maximum(ctx.n_given, 1)[:, None]
        gap = self._targets()[None, :] - counts / n_done  # −inf for untargeted groups (they are in the rest)
        has = np.zeros_like(gap, bool)
        rows, cols = np.nonzero(np.isfinite(crit))
        has[rows, self._column[cols]] = True
        gap = np.where(has, gap, -np.inf)
        pick = np.argmax(gap, axis=1)
        applies = np.isfinite(gap[np.arange(gap.shape[0]), pick])
        keep = (self._column[None, :] == pick[:, None]) | ~applies[:, None]
        return np.where(keep, crit, -np.inf)

    def _quota(self, max_length: int) -> NDArray[np.float64]:
        """target · L per steering column (1 for untargeted groups, which are never read) for a test of at most
        ``max_length`` items; computed once per length."""
        got = self._quotas.get(max_length)
        if got is None:
            quota = np.append(np.nan_to_num(self.target, nan=1.0), self.rest_target) * max_length
            got = self._quotas[max_length] = quota
        return got

    def _priority_index(self, crit: NDArray[np.float64], counts: NDArray[np.int64], ctx: StepContext) -> NDArray:
        """Multiply the criterion (shifted to be positive) by PI_j = f_c, f_c = max(0, 1 − x_c / (target_c · L)) of
        the item's steering column c (Cheng & Chang 2009); a column whose target is 0 has f = 0."""
        quota = self._quota(ctx.max_length)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.where(quota > 0, 1.0 - counts / np.where(quota > 0, quota, 1.0), 0.0)
        np.maximum(f, 0.0, out=f)
        f += 1e-9  # on (n, G + 1), then gathered to items: the same values as adding after the gather
        finite = np.isfinite(crit)
        low = np.min(crit, axis=1, where=finite, initial=np.inf, keepdims=True)
        out = crit - np.where(np.isfinite(low), low, 0.0)
        out += 1e-12
        out *= f.take(self._column, axis=1)
        np.putmask(out, ~finite, -np.inf)
        return out
