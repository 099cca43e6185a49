"""The lock-step batch core: selection → exposure → record → estimate → stop, for all active persons at once.

A live session and a 100,000-person simulation run this same code; a session is a batch of one. Each part
(rule, exposure control, content control, estimator, stopper) is a small object with one job, composed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.content import ContentControl
from digicomp.cat.context import StepContext
from digicomp.cat.exposure import (
    ExposureLedger,
    ItemEligibility,
    NoExposureControl,
    ProgressiveRestricted,
    SympsonHetter,
)
from digicomp.cat.selection import Rule, owns_output
from digicomp.cat.state import BatchState
from digicomp.cat.stopping import Stopper
from digicomp.cat.tables import Tables
from digicomp.errors import ResponseError

AUDIT_TOP = 5

Responder = Callable[[BatchState, NDArray[np.intp], NDArray[np.intp]], NDArray[np.int64]]
"""(state, rows, items) -> the scored category of each row's answer to its item."""


@dataclass
class CatCore:
    """The composed engine parts plus the tables they share; holds no per-person state (thread-safe to share).

    ``enemies`` (J, J) bool marks pairs never given together; ``n_pretest`` first items are chosen by
    ``pretest_rule`` without exposure control; ``ledger`` holds past test takers' exposure counts.
    """

    tables: Tables
    rule: Rule
    rule_name: str
    pretest_rule: Rule | None
    n_pretest: int
    exposure: object
    content: ContentControl
    estimator: object
    stopper: Stopper
    theta0: float
    enemies: NDArray[np.bool_] | None
    ledger: ExposureLedger
    max_length: int = field(init=False)
    """Hard maximum number of items (the stopper's)."""
    prior_sd: float = field(init=False)
    """SD of the prior on the grid (the SE before any answer)."""
    _may_block: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Precompute the constants every step reads."""
        self.max_length = self.stopper.max_items
        w = np.exp(self.tables.log_prior - self.tables.log_prior.max())
        w /= w.sum()
        mean = w @ self.tables.points
        self.prior_sd = float(np.sqrt(w @ (self.tables.points - mean) ** 2))
        # state.blocked is only ever set by enemies and Sympson-Hetter (or, conservatively, a custom rule)
        self._may_block = (
            self.enemies is not None or isinstance(self.exposure, SympsonHetter) or self.rule_name == "custom"
        )

    # ------------------------------------------------------------------ batch life cycle
    def new_batch(self, keys: NDArray[np.uint64], audit: bool = False) -> BatchState:
        """A batch of persons with these random keys (see :func:`digicomp.cat.draws.person_keys`), nothing answered."""
        keys = np.atleast_1d(np.asarray(keys, dtype=np.uint64))
        state = BatchState.empty(
            keys,
            self.tables.log_prior,
            self.tables.n_items,
            self.content.n_groups,
            self.max_length,
            self.theta0,
            self.prior_sd,
            audit,
        )
        if isinstance(self.exposure, ItemEligibility):
            state.eligible = self.exposure.draw_eligible(keys)
        return state

    def finish(self, state: BatchState, rows: NDArray[np.intp] | None = None) -> None:
        """Add finished persons (all stopped rows by default) to the exposure ledger."""
        rows = np.flatnonzero(state.stop_reason != "") if rows is None else rows
        eligible = (
            state.eligible[rows]
            if state.eligible is not None
            else np.ones((rows.size, state.administered.shape[1]), bool)
        )
        self.ledger.add(eligible, state.administered[rows])

    def run(self, state: BatchState, respond: Responder) -> BatchState:
        """Advance every person until all have stopped; ``respond`` scores each served item."""
        while True:
            rows, items = self.select(state)
            if rows.size == 0:
                state.release_scratch()
                return state
            self.record(state, rows, items, respond(state, rows, items))

    # ------------------------------------------------------------------ one step
    def eligible(self, ctx: StepContext) -> NDArray[np.bool_]:
        """Items each active person may be given now (n, J)."""
        st, rows = ctx.state, ctx.rows
        given = st.administered
        if rows.size and rows.min() >= 0 and rows.max() < given.shape[0]:  # into a work array ("clip" is unbuffered)
            work = st.scratch("eligible", rows.size, given.shape[1], bool)
            mask = np.take(given, rows, axis=0, out=work, mode="clip")
        else:  # empty, negative or out-of-range rows: plain indexing (and its IndexError)
            mask = given[rows]
        if self._may_block:
            mask |= st.blocked[rows]
        np.logical_not(mask, out=mask)
        mask &= self.content.allowed
        if (open_ := self.content.mask(ctx)) is not None:
            mask &= open_
        if st.eligible is not None:
            mask &= st.eligible[rows]
        if isinstance(self.exposure, ProgressiveRestricted):
            mask &= ~self.exposure.restricted()
        return mask

    def select(
        self, state: BatchState, rows: NDArray[np.intp] | None = None
    ) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """The next item (bank position) of each active person: (rows served, items).

        Persons with no eligible item left stop with reason ``no_items`` and are not in the result.
        """
        rows = state.active if rows is None else np.asarray(rows, dtype=np.intp)
        chosen = np.full(rows.size, -1, np.intp)
        if rows.size == 0:
            return rows, chosen
        ctx = StepContext(self.tables, state, rows, self.max_length)
        ctx.eligible = self.eligible(ctx)
        pre = ctx.n_given < self.n_pretest if self.pretest_rule is not None else None
        if pre is None or not pre.any():
            chosen = self._choose(ctx, self.rule, self.exposure, self.rule_name)
        else:
            for part, rule, exposure, name in (
                (np.flatnonzero(pre), self.pretest_rule, NoExposureControl(), "first_items"),
                (np.flatnonzero(~pre), self.rule, self.exposure, self.rule_name),
            ):
                if part.size:
                    sub = StepContext(self.tables, state, rows[part], self.max_length, ctx.eligible[part])
                    chosen[part] = self._choose(sub, rule, exposure, name)
        none = chosen < 0
        if not none.any():
            return rows, chosen
        state.stop_reason[rows[none]] = "no_items"
        return rows[~none], chosen[~none]

    def _choose(self, ctx: StepContext, rule: Rule, exposure: object, name: str) -> NDArray[np.intp]:
        """The item ``exposure`` picks by ``rule`` among each row's eligible items (-1 where none is left)."""
        crit = rule(ctx)
        if owns_output(rule):  # in place: an (n, J) temporary costs more than the pass
            shut = np.logical_not(ctx.eligible, out=ctx.state.scratch("ineligible", ctx.n, crit.shape[1], bool))
            np.putmask(crit, shut, -np.inf)
        else:
            crit = np.where(ctx.eligible, crit, -np.inf)
        crit = self.content.steer(crit, ctx)
        chosen, rank = exposure.choose(crit, ctx)
        if ctx.state.audit is not None:
            self._audit(ctx, crit, chosen, rank, name, exposure)
        return chosen

    def check_responses(self, items: NDArray[np.intp], responses: NDArray[np.int64]) -> None:
        """ResponseError naming the first item whose response is outside its categories."""
        k = self.tables.params.n_categories[items]
        outside = (responses < 0) | (responses >= k)
        if outside.any():
            i = np.flatnonzero(outside)[0]
            raise ResponseError(
                f"item {self.tables.params.ids[items[i]]!r}: response {responses[i]!r} is outside "
                f"its categories 0..{k[i] - 1}"
            )

    def record(self, state: BatchState, rows: NDArray[np.intp], items: NDArray[np.intp], responses: NDArray) -> None:
        """Add the scored answers of ``rows`` to ``items``: one posterior row-add each, then θ̂, SE and stopping."""
        rows = np.asarray(rows, dtype=np.intp)
        items = np.asarray(items, dtype=np.intp)
        responses = np.asarray(responses, dtype=np.int64)
        self.check_responses(items, responses)
        state.log_post[rows] += self.tables.log_prob_jkq[items, responses]
        pos = state.n_given[rows]
        state.sequence[rows, pos] = items
        state.responses[rows, pos] = responses
        state.administered[rows, items] = True
        if self.enemies is not None:
            state.blocked[rows] |= self.enemies[items]
        if self.content.n_groups:
            self.content.add_counts(state.group_counts, rows, items)
        if items.size == 1:
            state.exposed[items] += 1
        else:
            state.exposed += np.bincount(items, minlength=self.tables.n_items)
        state.n_given[rows] += 1
        self.estimator.update(state, rows, self.tables)
        stop, reasons = self.stopper.decide(StepContext(self.tables, state, rows, self.max_length))
        if stop is not None:
            state.stop_reason[rows[stop]] = reasons

    # ------------------------------------------------------------------ audit (live sessions; off in simulation)
    def _audit(self, ctx: StepContext, crit: NDArray, chosen: NDArray, rank: NDArray, rule: str, exposure) -> None:
        """Why each item was chosen: rule, θ̂/SE, top candidates, what removed the others."""
        ids = self.tables.params.ids
        st = ctx.state
        top = np.argsort(-crit, axis=1, kind="stable")[:, :AUDIT_TOP]
        for i, row in enumerate(ctx.rows):
            given = st.administered[row]
            st.audit[row].append(
                {
                    "step": int(ctx.n_given[i]) + 1,
                    "rule": rule,
                    "theta": round(float(ctx.theta[i]), 4),
                    "se": round(float(ctx.se[i]), 4),
                    "item": ids[chosen[i]] if chosen[i] >= 0 else None,
                    "candidates": [
                        {"item": ids[j], "value": round(float(crit[i, j]), 6)}
                        for j in top[i]
                        if np.isfinite(crit[i, j])
                    ],
                    "removed": {
                        "administered": int(given.sum()),
                        "enemies": int((st.blocked[row] & ~given).sum()),
                        "content_or_excluded": int((~ctx.eligible[i] & ~given & ~st.blocked[row]).sum()),
                        "content_steering": int((ctx.eligible[i] & ~np.isfinite(crit[i])).sum()),
                    },
                    "exposure": {"method": getattr(exposure, "name", "none"), "rank_chosen": int(rank[i])},
                }
            )
            shadow = st.info.get("shadow", {}).get(int(row)) if rule == "shadow" else None
            if shadow is not None:  # the shadow test the item came from (cat.shadow)
                st.audit[row][-1]["shadow_test"] = [ids[j] for j in shadow]
