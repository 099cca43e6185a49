"""Replay protection for client-held session states: a session nonce and a step counter with a high-water mark.

A signed state proves the engine wrote it, not that it is the newest one: a client could keep the state it had
before an answer and send it again to answer that item a second time. With a :class:`ReplayGuard` on the engine
(``AdaptiveTest(..., replay_guard=...)``) every session gets a random ``nonce`` and every state its ``step`` (the
answers recorded so far, seeded ones included). Before an answer changes the session the guard moves the nonce's
mark from ``step`` to ``step + 1`` atomically, and refuses the move when the mark is already there or past it: so
of two uses of one state exactly one answer is accepted, and an older state can never answer again.

The mark must be shared by every process that resumes states: :class:`StoreReplayGuard` keeps it in the response
store (SQLite or PostgreSQL) for several workers and hosts; :class:`MemoryReplayGuard` serves one process.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from digicomp.cat.errors import ReplayedStateError


class ReplayGuard(Protocol):
    """Where the high-water marks live: one integer per session nonce."""

    def advance(self, nonce: str, step: int) -> None:
        """Move ``nonce``'s mark from below ``step`` to ``step`` atomically; ReplayedStateError when it is already
        at ``step`` or past it (the state answering now is not the newest)."""
        ...

    def mark(self, nonce: str) -> int:
        """The highest step reached by session ``nonce`` (0 for a session that has answered nothing)."""
        ...


class MemoryReplayGuard:
    """High-water marks in a dict behind a lock: for one process (tests, a single-process embedding)."""

    def __init__(self) -> None:
        self._marks: dict[str, int] = {}
        self._lock = threading.Lock()

    def advance(self, nonce: str, step: int) -> None:
        """See :meth:`ReplayGuard.advance`."""
        with self._lock:
            have = self._marks.get(nonce, 0)
            if have >= step:
                raise ReplayedStateError(replayed_message(nonce, step, have))
            self._marks[nonce] = step

    def mark(self, nonce: str) -> int:
        """See :meth:`ReplayGuard.mark`."""
        with self._lock:
            return self._marks.get(nonce, 0)


class StoreReplayGuard:
    """High-water marks in the response store's ``replay_marks`` table, shared by every worker and host.

    ``store`` is a :class:`~digicomp.store.ResponseStore` or a callable returning one (a store holds one
    connection: a threaded server hands each thread its own).
    """

    def __init__(self, store: Any) -> None:
        self._store = store

    def _get(self) -> Any:
        return self._store() if callable(self._store) else self._store

    def advance(self, nonce: str, step: int) -> None:
        """See :meth:`ReplayGuard.advance`."""
        from digicomp.store.live import advance_mark

        if not advance_mark(self._get(), nonce, step):
            raise ReplayedStateError(replayed_message(nonce, step, self.mark(nonce)))

    def mark(self, nonce: str) -> int:
        """See :meth:`ReplayGuard.mark`."""
        from digicomp.store.live import read_mark

        return read_mark(self._get(), nonce)


def replayed_message(nonce: str, step: int, have: int) -> str:
    """The refusal's text: which session, which step was tried and how far the session already is."""
    return (
        f"session {nonce[:8]}…: a state at step {step - 1} answered again, but the session has already reached "
        f"step {have}; an older (replayed) state cannot answer"
    )
