"""What the store keeps of one test session: a :class:`SessionRecord` with its :class:`ServedItem` rows."""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from digicomp.errors import StoreError

STATUSES = ("finished", "abandoned")


def utc_now() -> str:
    """The current time as ISO 8601 UTC with microseconds (how the store writes timestamps)."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class ServedItem:
    """One item served in a session: its 1-based ``position``, raw ``answer``, scored ``score``, seconds taken.

    ``pretest`` items were seeded for calibration: not scored in the test, stored for recalibration.
    ``answer`` is the raw answer the client sent, kept as JSON: an option id or typed text, a category, a list of
    option ids (multiple response, ordering) or {premise id: choice id} (matching); ``seconds`` may be None.
    """

    position: int
    item_id: str
    score: int
    answer: Any = None
    seconds: float | None = None
    pretest: bool = False


@dataclass(frozen=True)
class SessionRecord:
    """A finished or abandoned session as stored: identity, bank and design, items served, final result.

    ``unit`` is the organisational unit the person was in when the session started (None: not known); it must
    be one of the store's units (:meth:`~digicomp.store.ResponseStore.put_units`) when given.
    """

    session_id: str
    person_id: str | None
    bank_fingerprint: str
    design_hash: str | None
    items: tuple[ServedItem, ...]
    status: str = "finished"
    started_at: str | None = None
    finished_at: str | None = None
    stop_reason: str | None = None
    theta: float | None = None
    se: float | None = None
    level: str | None = None
    result: dict[str, Any] | None = field(default=None, compare=False)
    unit: str | None = None

    def check(self) -> None:
        """StoreError naming the session and field when the record cannot be stored as it is."""
        who = f"session {self.session_id!r}"
        if not isinstance(self.session_id, str) or not self.session_id:
            raise StoreError(f"session id {self.session_id!r}: expected a non-empty string")
        if self.status not in STATUSES:
            raise StoreError(f"{who}: status {self.status!r}: expected one of {', '.join(STATUSES)}")
        if not isinstance(self.bank_fingerprint, str) or not self.bank_fingerprint:
            raise StoreError(f"{who}: bank_fingerprint: expected the bank's fingerprint, got {self.bank_fingerprint!r}")
        positions = [it.position for it in self.items]
        if positions != list(range(1, len(positions) + 1)):
            raise StoreError(f"{who}: items: positions must be 1..{len(positions)} in order, got {positions[:10]}")
        ids = [it.item_id for it in self.items]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise StoreError(f"{who}: item {dup!r} is served more than once")
        for it in self.items:
            if isinstance(it.score, bool) or not isinstance(it.score, int) or it.score < 0:
                raise StoreError(
                    f"{who}: item {it.item_id!r} at position {it.position}: score {it.score!r}: "
                    "expected a category 0, 1, 2, ..."
                )
            try:
                json.dumps(it.answer, allow_nan=False)
            except (TypeError, ValueError):
                raise StoreError(
                    f"{who}: item {it.item_id!r} at position {it.position}: answer {it.answer!r}: expected plain "
                    "JSON (an option id or text, a category, a list of option ids, {premise id: choice id})"
                ) from None
            if it.seconds is not None and not (math.isfinite(it.seconds) and it.seconds >= 0):
                raise StoreError(f"{who}: item {it.item_id!r}: seconds {it.seconds!r}: expected a time >= 0 or None")
        if self.unit is not None and (not isinstance(self.unit, str) or not self.unit):
            raise StoreError(f"{who}: unit {self.unit!r}: expected a unit id (a non-empty string) or None")
        if self.status == "finished" and self.theta is None:
            raise StoreError(f"{who}: a finished session needs its final theta")

    @property
    def n_items(self) -> int:
        """Number of items served (operational and pretest)."""
        return len(self.items)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "items"}
        out["items"] = [dict(it.__dict__) for it in self.items]
        return out

    @classmethod
    def from_session(
        cls,
        session: Any,
        session_id: str,
        *,
        seconds: Sequence[float | None] | None = None,
        started_at: str | None = None,
        finished_at: str | None = None,
        status: str | None = None,
        unit: str | None = None,
    ) -> SessionRecord:
        """The record of a live :class:`~digicomp.cat.Session`: items in served order (pretest ones flagged).

        ``seconds`` gives the time taken per served item in position order (None: not measured); ``status``
        defaults to ``finished`` for a finished session and ``abandoned`` otherwise.
        """
        state = json.loads(session.to_json())
        report = session.report()
        report.pop("audit", None)
        return cls.from_state(
            state,
            report,
            session_id,
            seconds=seconds,
            started_at=started_at,
            finished_at=finished_at,
            status=status or ("finished" if session.finished else "abandoned"),
            unit=unit,
        )

    @classmethod
    def from_state(
        cls,
        state: dict[str, Any],
        report: dict[str, Any] | None,
        session_id: str,
        *,
        seconds: Sequence[float | None] | None = None,
        started_at: str | None = None,
        finished_at: str | None = None,
        status: str = "finished",
        unit: str | None = None,
    ) -> SessionRecord:
        """The record of a saved session state (``session.to_json()`` parsed) and its report (or None)."""
        seeded = {s["position"]: s for s in state.get("seeded", [])}
        operational = iter(zip(state["items"], state["scores"], state["answers"], strict=True))
        n = len(state["items"]) + len(seeded)
        if seconds is not None and len(seconds) != n:
            raise StoreError(f"session {session_id!r}: seconds has {len(seconds)} entries for {n} items served")
        items = []
        for pos in range(1, n + 1):
            if pos in seeded:
                s = seeded[pos]
                item, score, answer, pre = s["item"], s["score"], s["answer"], True
            else:
                item, score, answer = next(operational)
                pre = False
            sec = None if seconds is None or seconds[pos - 1] is None else float(seconds[pos - 1])
            items.append(ServedItem(pos, item, int(score), answer, sec, pre))
        level = (report or {}).get("level")
        return cls(
            session_id=session_id,
            person_id=state.get("person"),
            bank_fingerprint=state["bank"],
            design_hash=state.get("design"),
            items=tuple(items),
            status=status,
            started_at=started_at,
            finished_at=finished_at or (utc_now() if status == "finished" else None),
            stop_reason=state.get("stop_reason"),
            theta=None if report is None else report.get("theta"),
            se=None if report is None else report.get("se"),
            level=level.get("id") if isinstance(level, dict) else level,
            result=report,
            unit=unit,
        )
