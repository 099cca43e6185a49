"""Exposure control: how the item to give is chosen from the criterion values (n, J) of the eligible items.

Every method's ``choose`` returns the chosen bank position per active person (-1 when nothing is eligible)
and, for the audit, the rank of the chosen item among the candidates. Methods that depend on past test
takers (item eligibility, progressive–restricted) read an :class:`ExposureLedger`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.context import StepContext
from digicomp.cat.draws import (
    STREAM_ELIGIBILITY,
    STREAM_PROGRESSIVE,
    STREAM_RANDOMESQUE,
    STREAM_SYMPSON_HETTER,
    STREAM_TIES,
    uniforms,
)
from digicomp.errors import DesignError

Choice = tuple[NDArray[np.intp], NDArray[np.intp]]


def tie_order(keys: NDArray[np.uint64], n_items: int) -> NDArray[np.float64]:
    """Each person's own random order of the bank (n, J): among items with equal criteria the higher value wins.

    Drawn from the person's key alone (not the step), so it does not depend on the batch, and a person meets
    tied items in one fixed order while different persons meet them in different orders: exact ties (items with
    equal parameters) spread over the tied items instead of all going to the first in the bank.
    """
    return uniforms(keys, 0, STREAM_TIES, np.arange(n_items))


def ranked(crit: NDArray[np.float64], top: int, keys: NDArray[np.uint64]) -> NDArray[np.intp]:
    """The ``top`` best item positions per row, best first; exact ties go by each row's :func:`tie_order`."""
    return ranked_values(crit, top, keys)[0]


def ranked_values(
    crit: NDArray[np.float64], top: int, keys: NDArray[np.uint64]
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """:func:`ranked` and the criterion values at those positions (n, top)."""
    n, J = crit.shape
    top = min(top, J)
    if top < J:
        part = np.argpartition(-crit, top - 1, axis=1)[:, :top]
    else:
        part = np.broadcast_to(np.arange(J), crit.shape)
    r = np.arange(n)[:, None]
    vals = crit[r, part]
    order = np.lexsort((part, -vals), axis=1)
    part, vals = part[r, order], vals[r, order]
    # rows where a finite value is shared, among the chosen or with one left out at the boundary: rank by the
    # criterion, then the row's tie order (then bank position, should two draws be equal)
    low = vals[:, -1:]
    tied = np.isfinite(low[:, 0]) & ((crit >= low).sum(axis=1) > top)
    tied |= (np.isfinite(vals[:, 1:]) & (vals[:, 1:] == vals[:, :-1])).any(axis=1)
    if tied.any():
        rows = np.flatnonzero(tied)
        sub = crit[rows]
        full = np.lexsort((np.broadcast_to(np.arange(J), sub.shape), -tie_order(keys[rows], J), -sub), axis=1)
        part[rows] = full[:, :top]
        vals[rows] = sub[np.arange(rows.size)[:, None], part[rows]]
    return part, vals


def best(crit: NDArray[np.float64], keys: NDArray[np.uint64]) -> NDArray[np.intp]:
    """The best eligible item per row, -1 where every item is masked (criterion −inf); exact ties go by each
    row's :func:`tie_order`."""
    n, J = crit.shape
    j = np.argmax(crit, axis=1)
    top = crit[np.arange(n), j]
    tied = crit == top[:, None]
    many = np.isfinite(top) & (np.count_nonzero(tied, axis=1) > 1)
    if many.any():
        rows = np.flatnonzero(many)
        j[rows] = np.argmax(np.where(tied[rows], tie_order(keys[rows], J), -1.0), axis=1)
    return np.where(np.isneginf(top), -1, j)


@dataclass
class ExposureLedger:
    """Counts over finished test takers: persons, times each item was eligible and given; thread-safe."""

    n_items: int
    persons: int = 0
    eligible: NDArray[np.int64] = field(default=None)  # type: ignore[assignment]
    given: NDArray[np.int64] = field(default=None)  # type: ignore[assignment]
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.eligible = np.zeros(self.n_items, np.int64) if self.eligible is None else self.eligible
        self.given = np.zeros(self.n_items, np.int64) if self.given is None else self.given

    def add(self, eligible: NDArray[np.bool_], administered: NDArray[np.bool_]) -> None:
        """Add finished persons: their eligibility masks and administered masks (n, J)."""
        with self._lock:
            self.persons += administered.shape[0]
            self.eligible += eligible.sum(axis=0)
            self.given += administered.sum(axis=0)

    def rates(self) -> NDArray[np.float64]:
        """Exposure rate of each item so far (0 before anyone finished)."""
        with self._lock:
            return self.given / max(self.persons, 1)

    def at_target(self, r_max: float) -> NDArray[np.bool_]:
        """Items whose exposure rate so far has reached ``r_max`` (none before anyone finished)."""
        with self._lock:
            return (self.given >= r_max * self.persons) & (self.persons > 0)

    def eligibility_probability(self, r_max: float) -> NDArray[np.float64]:
        """P(E_j) = min(1, r_max · ε_j / α_j) (van der Linden & Veldkamp 2004, eq. 9), 1 without history."""
        with self._lock:
            with np.errstate(divide="ignore", invalid="ignore"):
                p = np.where(self.given > 0, r_max * self.eligible / np.maximum(self.given, 1), 1.0)
        return np.minimum(p, 1.0)


class NoExposureControl:
    """Give the best item."""

    name = "none"

    def choose(self, crit: NDArray[np.float64], ctx: StepContext) -> Choice:
        """Best item, rank 0."""
        chosen = best(crit, ctx.keys)
        return chosen, np.zeros(chosen.size, np.intp)


@dataclass(frozen=True)
class Randomesque:
    """Choose at random among the k best eligible items (Kingsbury & Zara 1989)."""

    k: int
    name = "randomesque"

    def choose(self, crit: NDArray[np.float64], ctx: StepContext) -> Choice:
        """A uniform pick among the ≤ k finite best candidates per person."""
        top, vals = ranked_values(crit, self.k, ctx.keys)
        m = np.isfinite(vals).sum(axis=1)
        u = uniforms(ctx.keys, ctx.n_given, STREAM_RANDOMESQUE)
        rank = np.minimum((u * m).astype(np.intp), np.maximum(m - 1, 0))
        chosen = np.where(m > 0, top[np.arange(top.shape[0]), rank], -1)
        return chosen, rank


@dataclass(frozen=True)
class SympsonHetter:
    """Sympson & Hetter (1985): walk down the ranked items, giving item j with probability K_j.

    Every item walked past or given counts as *selected* (P(S_j)); a refused item is set aside for the rest of
    that person's test (``state.blocked``), so P(A_j) = P(S_j)·K_j as the method assumes. If every eligible item
    is refused, the best one is given (so a test never ends for want of luck).
    """

    k: NDArray[np.float64]
    name = "sympson_hetter"
    window: int = 64

    def choose(self, crit: NDArray[np.float64], ctx: StepContext) -> Choice:
        """The first accepted item in rank order; draws are keyed by item so the window size cannot matter."""
        n, J = crit.shape
        chosen = np.full(n, -1, np.intp)
        rank = np.zeros(n, np.intp)
        todo = np.arange(n)
        width = min(self.window, J)
        while todo.size:
            top, vals = ranked_values(crit[todo], width, ctx.keys[todo])
            u = uniforms(ctx.keys[todo], ctx.n_given[todo], STREAM_SYMPSON_HETTER, top)
            accept = (u < self.k[top]) & np.isfinite(vals)
            got = accept.any(axis=1)
            first = np.argmax(accept, axis=1)
            exhausted = ~got & (~np.isfinite(vals).all(axis=1) | (width == J))
            walked = np.where(got, first + 1, np.where(exhausted, np.isfinite(vals).sum(axis=1), width))
            seen = (np.arange(width)[None, :] < walked[:, None]) & np.isfinite(vals)
            np.add.at(ctx.state.selected, top[seen], 1)
            refused = seen & (np.arange(width)[None, :] != np.where(got, first, -1)[:, None])
            r, c = np.nonzero(refused)
            ctx.state.blocked[ctx.rows[todo[r]], top[r, c]] = True
            chosen[todo[got]] = top[got, first[got]]
            rank[todo[got]] = first[got]
            fallback = todo[exhausted]
            chosen[fallback] = best(crit[fallback], ctx.keys[fallback])
            todo = todo[~got & ~exhausted]
            width = min(width * 4, J)
        return chosen, rank


@dataclass
class ItemEligibility:
    """van der Linden & Veldkamp (2004): at the start each item is eligible for a person with probability
    P(E_j) from the ledger; ineligible items are masked for the whole test.

    One addition: an item whose exposure rate in the ledger has reached r_max is not eligible for the persons
    who start now (the restriction of Revuelta & Ponsoda 1998). P(E_j) = r_max · ε_j / α_j uses P(A_j | E_j)
    estimated over all past tests, which lags while the set of eligible competitors changes, so without the
    restriction rates settle above r_max for the first thousands of test takers (0.23 with r_max = 0.2 over
    1,000 persons of the civil-service bank even one at a time); with it, they stay within r_max plus what
    the test takers testing at the same time add.
    """

    r_max: float
    ledger: ExposureLedger
    name = "item_eligibility"

    def draw_eligible(self, keys: NDArray[np.uint64]) -> NDArray[np.bool_]:
        """Each person's eligible items (N, J), drawn once at the start from the ledger as it stands."""
        p = np.where(self.ledger.at_target(self.r_max), 0.0, self.ledger.eligibility_probability(self.r_max))
        return uniforms(keys, 0, STREAM_ELIGIBILITY, np.arange(p.size)) < p

    def choose(self, crit: NDArray[np.float64], ctx: StepContext) -> Choice:
        """Best item among the eligible (the mask was applied by the core)."""
        chosen = best(crit, ctx.keys)
        return chosen, np.zeros(chosen.size, np.intp)


@dataclass
class ProgressiveRestricted:
    """Revuelta & Ponsoda (1998): items whose exposure rate reached r_max are withheld (restricted), and the
    criterion is blended with a random part that fades as the test goes on (progressive):
    (1 − s/L)·U·max(criterion) + (s/L)·criterion, s items given of at most L."""

    r_max: float
    ledger: ExposureLedger
    name = "progressive_restricted"

    def restricted(self) -> NDArray[np.bool_]:
        """Items withheld now: exposure rate ≥ r_max."""
        return self.ledger.rates() >= self.r_max

    def choose(self, crit: NDArray[np.float64], ctx: StepContext) -> Choice:
        """Best item by the blended criterion."""
        J = crit.shape[1]
        finite = np.isfinite(crit)
        top = np.where(finite, crit, -np.inf).max(axis=1, keepdims=True)
        top = np.where(np.isfinite(top), np.abs(top), 0.0)
        s = (ctx.n_given / ctx.max_length)[:, None]
        u = uniforms(ctx.keys, ctx.n_given, STREAM_PROGRESSIVE, np.arange(J))
        blended = np.where(finite, (1 - s) * u * top + s * np.where(finite, crit, 0.0), -np.inf)
        chosen = best(blended, ctx.keys)
        return chosen, np.zeros(chosen.size, np.intp)


def build_exposure(method: str, n_items: int, ledger: ExposureLedger, **options) -> object:
    """The exposure method ``method`` configured from the design's options."""
    if method == "none":
        return NoExposureControl()
    if method == "randomesque":
        return Randomesque(int(options.get("k") or 5))
    if method == "sympson_hetter":
        k = options.get("parameters")
        k = np.ones(n_items) if k is None else np.asarray(k, dtype=float)
        if k.shape != (n_items,) or np.any((k <= 0) | (k > 1)):
            raise DesignError(f"exposure.parameters must be {n_items} values in (0, 1], one per bank item")
        return SympsonHetter(k)
    if method == "item_eligibility":
        return ItemEligibility(float(options["r_max"]), ledger)
    if method == "progressive_restricted":
        return ProgressiveRestricted(float(options["r_max"]), ledger)
    raise DesignError(
        f"exposure.method = {method!r}; expected none, randomesque, sympson_hetter, "
        "item_eligibility or progressive_restricted"
    )
