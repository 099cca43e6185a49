"""Chunks of persons over worker processes; the merged outcome does not depend on the number of processes.

Every person's draws are keyed by (seed, person index) (:mod:`digicomp.cat.draws`), chunks are fixed by
``chunk_size`` alone and merged in person order, so 1 or 8 processes give the same study. On Linux workers are
forked and inherit the engine; elsewhere they are spawned and rebuild it from the bank and the design.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.engine import AdaptiveTest
from digicomp.simulation.runner import Outcome, Truth, run_chunk

_WORKER: dict = {}

AUTO_PERSONS_PER_PROCESS = 10_000
"""With ``processes=None``, one process per this many persons (at least 1, at most the CPU count)."""


def auto_processes(n: int) -> int:
    """Processes worth starting for ``n`` persons: 1 for small studies, up to the CPU count for large ones."""
    return max(1, min(os.cpu_count() or 1, n // AUTO_PERSONS_PER_PROCESS))


def chunks(n: int, size: int) -> list[tuple[int, int]]:
    """[start, stop) person ranges of at most ``size``."""
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def _context() -> mp.context.BaseContext:
    return mp.get_context("fork" if sys.platform == "linux" else "spawn")


def _init(engine: AdaptiveTest | tuple, seed: int, theta: NDArray, truth: Truth, cuts: NDArray) -> None:
    _WORKER.update(
        engine=engine if isinstance(engine, AdaptiveTest) else AdaptiveTest(*engine),
        seed=seed,
        theta=theta,
        truth=truth,
        cuts=cuts,
    )
    try:  # one BLAS thread per worker: the processes already use the cores
        from threadpoolctl import threadpool_limits

        _WORKER["limits"] = threadpool_limits(1)
    except ImportError:
        pass


def _task(span: tuple[int, int]) -> Outcome:
    w = _WORKER
    start, stop = span
    return run_chunk(w["engine"], w["seed"], np.arange(start, stop), w["theta"][start:stop], w["truth"], w["cuts"])


def run_chunks(
    engine: AdaptiveTest,
    seed: int,
    theta: NDArray,
    truth: Truth,
    cuts: NDArray,
    chunk_size: int,
    processes: int,
    on_chunk: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """Outcomes of every chunk in person order, computed here (processes = 1) or by a pool of workers."""
    spans = chunks(theta.size, chunk_size)
    results: Iterator[Outcome]
    if processes <= 1 or len(spans) == 1:
        results = (run_chunk(engine, seed, np.arange(a, b), theta[a:b], truth, cuts) for a, b in spans)
        return _collect(results, spans, on_chunk)
    ctx = _context()
    payload = engine if ctx.get_start_method() == "fork" else (engine.bank, engine.design)
    with ProcessPoolExecutor(
        min(processes, len(spans)), mp_context=ctx, initializer=_init, initargs=(payload, seed, theta, truth, cuts)
    ) as pool:
        return _collect(pool.map(_task, spans), spans, on_chunk)


def _collect(results: Iterator[Outcome], spans: list[tuple[int, int]], on_chunk) -> list[Outcome]:
    out = []
    for (a, b), outcome in zip(spans, results):
        out.append(outcome)
        if on_chunk is not None:
            on_chunk(b - a)
    return out
