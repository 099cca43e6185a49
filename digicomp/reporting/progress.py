"""What the calibrating commands print while they work: EM progress and the warnings raised on the way."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def em_progress(quiet: bool) -> Callable[[int, float, float], None]:
    """A progress callback printing the first EM cycle and every tenth on stderr (nothing when ``quiet``)."""

    def progress(iteration: int, loglik: float, change: float) -> None:
        if not quiet and (iteration % 10 == 0 or iteration == 1):
            sys.stderr.write(f"EM cycle {iteration:4d}  logLik {loglik:.4f}  max change {change:.2e}\n")

    return progress


def se_progress(quiet: bool) -> Callable[[str, int, int], None]:
    """A callback printing on stderr which SE method runs, how much work it has, and each further tenth of it."""
    shown = {"tenth": -1}

    def progress(method: str, done: int, total: int) -> None:
        if quiet:
            return
        unit = "E-steps" if method == "numerical" else "chunks of persons"
        if done == 0:
            shown["tenth"] = 0
            sys.stderr.write(f"standard errors ({method}): {total} {unit}\n")
            return
        tenth = 10 * done // max(total, 1)
        if tenth > shown["tenth"]:
            shown["tenth"] = tenth
            sys.stderr.write(f"standard errors ({method}): {done}/{total} {unit}\n")

    return progress


@contextmanager
def warnings_to_stderr() -> Iterator[None]:
    """Collect the warnings of the block and print each as one ``warning:`` line on stderr afterwards."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        sys.stderr.write(f"warning: {w.message}\n")
