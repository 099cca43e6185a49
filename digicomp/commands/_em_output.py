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


@contextmanager
def warnings_to_stderr() -> Iterator[None]:
    """Collect the warnings of the block and print each as one ``warning:`` line on stderr afterwards."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        sys.stderr.write(f"warning: {w.message}\n")
