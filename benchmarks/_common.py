"""Shared helpers for the benchmarks: timing, BLAS report, table printing."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def blas_report() -> str:
    """Which BLAS library, kernel (architecture) and thread count numpy runs with."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: threadpoolctl not installed (pip install -e '.[bench]')"
    rows = [
        f"{i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')} threads={i.get('num_threads')}"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return "BLAS: " + ("; ".join(rows) or "none found")


def time_runs(fn: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    """Wall-clock seconds of ``repeats`` calls of ``fn`` (the first call included) and the last result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def summarise(times: list[float]) -> str:
    """'median (min-max)' in seconds."""
    return f"{statistics.median(times):.3f} ({min(times):.3f}-{max(times):.3f})"


def print_table(header: list[str], rows: list[list[Any]]) -> None:
    """A plain aligned text table."""
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[k]) for r in cells) for k in range(len(header))]
    for n, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
