"""The state of a batch of persons taking the same adaptive test, as arrays (a live session is N = 1)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

NOT_STOPPED = ""
STATE_FORMAT = "digicomp.session/1"
"""The format tag of a live session's saved JSON state (``Session.to_json``; schema in ``saved_state``)."""


def is_unicode(text: str) -> bool:
    """True when ``text`` encodes as UTF-8 (no lone surrogates): a saved state holding it can be written and signed."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class BatchState:
    """Per-person arrays of a lock-step batch; rows are persons, ``J`` items, ``Q`` grid points, ``L`` max length.

    ``log_post`` (N, Q) is the unnormalised log posterior (log prior + Σ log P of the answers); ``theta``/``se``
    the current estimate; ``administered``/``blocked`` (N, J) the items given and the enemies of items given;
    ``group_counts`` (N, G) items given per content group; ``sequence``/``responses`` (N, L) the items (bank
    positions) and scored categories in order, -1 padded; ``stop_reason`` is "" while a person is testing.
    ``selected``/``exposed`` (J,) count how often each item was considered (Sympson–Hetter's P(S)) and given.
    """

    keys: NDArray[np.uint64]
    log_post: NDArray[np.float64]
    theta: NDArray[np.float64]
    se: NDArray[np.float64]
    administered: NDArray[np.bool_]
    blocked: NDArray[np.bool_]
    group_counts: NDArray[np.int64]
    sequence: NDArray[np.intp]
    responses: NDArray[np.int64]
    n_given: NDArray[np.intp]
    extreme: NDArray[np.bool_]
    stop_reason: NDArray[np.object_]
    selected: NDArray[np.int64]
    exposed: NDArray[np.int64]
    eligible: NDArray[np.bool_] | None = None
    audit: list[list[dict]] | None = None
    info: dict = field(default_factory=dict)
    _scratch: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def empty(
        cls,
        keys: NDArray[np.uint64],
        log_prior: NDArray[np.float64],
        n_items: int,
        n_groups: int,
        max_length: int,
        theta0: float,
        se0: float,
        audit: bool = False,
    ) -> BatchState:
        """N persons who have answered nothing: posterior = prior, θ̂ = the start value."""
        n = keys.size
        return cls(
            keys=np.asarray(keys, dtype=np.uint64).copy(),
            log_post=np.tile(log_prior, (n, 1)),
            theta=np.full(n, float(theta0)),
            se=np.full(n, float(se0)),
            administered=np.zeros((n, n_items), bool),
            blocked=np.zeros((n, n_items), bool),
            group_counts=np.zeros((n, n_groups), np.int64),
            sequence=np.full((n, max_length), -1, np.intp),
            responses=np.full((n, max_length), -1, np.int64),
            n_given=np.zeros(n, np.intp),
            extreme=np.zeros(n, bool),
            stop_reason=np.full(n, NOT_STOPPED, dtype=object),
            selected=np.zeros(n_items, np.int64),
            exposed=np.zeros(n_items, np.int64),
            audit=[[] for _ in range(n)] if audit else None,
        )

    @property
    def n_persons(self) -> int:
        """Number of persons N in the batch."""
        return self.keys.size

    @property
    def active(self) -> NDArray[np.intp]:
        """Rows still testing."""
        return np.flatnonzero(self.stop_reason == NOT_STOPPED)

    @property
    def finished(self) -> bool:
        """True when every person has stopped."""
        return not np.any(self.stop_reason == NOT_STOPPED)

    def scratch(self, name: str, n: int, width: int, dtype: type = np.float64) -> NDArray:
        """A reusable (n, width) work array of this batch, contents undefined; valid until the next call for
        ``name``. Fresh (n, J) temporaries at every step cost more in page faults than the arithmetic on them."""
        buf = self._scratch.get(name)
        if buf is None or buf.shape[0] < n or buf.shape[1] != width or buf.dtype != dtype:
            buf = self._scratch[name] = np.empty((max(n, self.keys.size), width), dtype)
        return buf[:n]

    def release_scratch(self) -> None:
        """Drop the work arrays (a finished batch keeps only its results)."""
        self._scratch.clear()

    def weights(self, rows: NDArray[np.intp]) -> NDArray[np.float64]:
        """Normalised posterior weights (n, Q) of ``rows``; row-wise reductions keep each row batch-independent."""
        w = np.take(self.log_post, rows, axis=0)  # always a copy, so it is worked on in place
        w -= w.max(axis=1, keepdims=True)
        np.exp(w, out=w)
        w /= w.sum(axis=1, keepdims=True)
        return w
