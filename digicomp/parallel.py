"""Thread-level parallelism for the numpy hot paths.

numpy releases the GIL inside matrix products and ufunc loops, so blocks of persons processed on one
thread per core run in parallel. Results are returned in input order, so sums over blocks are the same
whatever the scheduling.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def n_workers() -> int:
    """Threads to use: the machine's cores (``DIGICOMP_THREADS`` overrides)."""
    env = os.environ.get("DIGICOMP_THREADS")
    return max(1, int(env)) if env else max(1, os.cpu_count() or 1)


def thread_map(fn: Callable[[T], R], tasks: Sequence[T]) -> list[R]:
    """``[fn(t) for t in tasks]``, on a thread per core when there is more than one task.

    While the threads run, BLAS is held to one thread each: the cores are already busy, and a
    multi-threaded BLAS inside every block would oversubscribe them (measured: 30% slower EAP).
    """
    workers = min(n_workers(), len(tasks))
    if workers <= 1:
        return [fn(t) for t in tasks]
    from concurrent.futures import ThreadPoolExecutor  # on first use: a command start need not pay for it

    with single_threaded_blas() or contextlib.nullcontext(), ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, tasks))


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, scanned once (a scan reads /proc: ~3 ms)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency; keep working without it
        return None
    return ThreadpoolController()


def single_threaded_blas() -> contextlib.AbstractContextManager | None:
    """A context holding BLAS libraries to one thread, or None without threadpoolctl (extra ``parallel``): callers
    that must not run threads beside a multi-threaded BLAS then run serially."""
    controller = _blas_controller()
    return None if controller is None else controller.limit(limits=1, user_api="blas")


def block_rows(n_rows: int, n_points: int, max_cells: int = 8_000_000, min_rows: int = 2048) -> int:
    """Rows per block: enough blocks to keep every core busy, each at most ``max_cells`` rows × points."""
    per_core = -(-n_rows // (2 * n_workers()))
    return max(1, min(max_cells // max(n_points, 1), max(min_rows, per_core)))
