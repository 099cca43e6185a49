"""A stream of test takers for exposure control that reads past test takers (item eligibility, progressive–restricted).

Those methods read an :class:`~digicomp.cat.exposure.ExposureLedger` that a live programme fills as sessions end,
so what they achieve depends on how many people take the test at the same time. The stream models that
arrival process: persons arrive in index order and take one of ``concurrent`` seats; every step, each person
testing answers one item; a person who stops leaves the seat and enters the ledger at the end of that step,
and the next person in line starts at the next step, drawing their item eligibility from the ledger as it
stands then. Progressive–restricted reads the ledger at every step.

Persons are held in blocks of ``block_size`` rows (memory only): the ledger follows the arrival order, never
the blocks, so the study does not depend on ``block_size`` (the ``chunk_size`` of :func:`simulate`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.engine import AdaptiveTest
from digicomp.cat.exposure import ItemEligibility
from digicomp.cat.state import NOT_STOPPED, BatchState
from digicomp.simulation.responder import Responder
from digicomp.simulation.runner import Outcome, Truth, outcome_of

DEFAULT_CONCURRENT = 25
"""Test takers testing at the same time when a study does not say: one computer room of an organised test
session. A programme that expects more at once (an online window, several rooms on one server) should say so
with ``concurrent``; the more at once, the more an item is given before the ledger hears of it."""


@dataclass
class _Block:
    """Rows ``start..stop`` of the stream in one lock-step state; ``started`` rows have arrived."""

    start: int
    stop: int
    state: BatchState
    respond: Responder
    started: int = 0

    @property
    def size(self) -> int:
        return self.stop - self.start

    def testing(self) -> NDArray[np.intp]:
        """Rows that arrived and have not stopped."""
        return np.flatnonzero(self.state.stop_reason[: self.started] == NOT_STOPPED)

    @property
    def done(self) -> bool:
        return self.started == self.size and self.testing().size == 0


def run_stream(
    engine: AdaptiveTest,
    seed: int,
    theta: NDArray[np.float64],
    truth: Truth,
    cuts: NDArray[np.float64],
    concurrent: int,
    block_size: int,
    on_block: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Persons 0..n−1 through ``engine`` as a stream with ``concurrent`` seats; outcomes per block, in order."""
    core = engine.core
    n = theta.size
    eligibility = core.exposure if isinstance(core.exposure, ItemEligibility) else None
    blocks: list[_Block] = []
    outcomes: list[Outcome] = []
    arrived = testing = 0
    while arrived < n or testing:
        free = concurrent - testing
        while free > 0 and arrived < n:  # the next persons in line take the free seats
            if not blocks or blocks[-1].started == blocks[-1].size:
                a, b = arrived, min(arrived + block_size, n)
                state = engine.new_batch(b - a, seed, persons=np.arange(a, b))
                blocks.append(_Block(a, b, state, Responder(truth.params, theta[a:b], truth.items_to_true)))
            blk = blocks[-1]
            k = min(free, blk.size - blk.started)
            rows = np.arange(blk.started, blk.started + k)
            if eligibility is not None:  # drawn at arrival, from the ledger as it stands now
                blk.state.eligible[rows] = eligibility.draw_eligible(blk.state.keys[rows])
            blk.started += k
            arrived += k
            testing += k
            free -= k
        stepped = []
        for blk in blocks:  # one item for everyone testing; the ledger is the same for all of this step
            rows = blk.testing()
            if rows.size:
                served, items = core.select(blk.state, rows)
                if served.size:
                    core.record(blk.state, served, items, blk.respond(blk.state, served, items))
                stepped.append((blk, rows))
        for blk, rows in stepped:  # then who stopped enters the ledger, before anyone new arrives
            ended = rows[blk.state.stop_reason[rows] != NOT_STOPPED]
            if ended.size:
                core.finish(blk.state, ended)
                testing -= ended.size
        while blocks and blocks[0].done:
            blk = blocks.pop(0)
            blk.state.release_scratch()
            persons = np.arange(blk.start, blk.stop)
            outcomes.append(outcome_of(engine, blk.state, persons, theta[persons], cuts))
            if on_block is not None:
                on_block(blk.size)
    return outcomes
