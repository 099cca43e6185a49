"""Live sessions in the store: the state of a test in progress, with a version number for optimistic concurrency.

``digicomp serve`` keeps no session in a worker: each answer reads the session's row, computes the next state and
writes it back with ``UPDATE ... WHERE version = <the version read>``. Of two requests that read the same version
(two tabs, two workers) exactly one update matches; the other is told so (:class:`VersionConflict`) and nothing of
it is stored. The accepted answer's row in ``live_answers`` and, when the test ends, the finished
:class:`~digicomp.store.SessionRecord` are written in the same transaction, so an acknowledged answer is stored and
no answer is stored twice (the primary key is session and step).

``advance_mark``/``read_mark`` keep the replay guard's high-water marks (:class:`digicomp.cat.replay.StoreReplayGuard`)
in the same store, for client-held signed states resumed by several processes or hosts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from digicomp.errors import StoreError
from digicomp.store.base import _INSERT_RESPONSE, ResponseStore, _response_row, _session_row
from digicomp.store.records import SessionRecord, utc_now
from digicomp.store.scores import scores_row

LIVE_STATUSES = ("active", "finished", "abandoned")

_COLUMNS = (
    "session_id, design, person_id, unit, lang, status, version, step, state, last_request, last_reply, "
    "served_at, seconds, created_at, updated_at"
)


class VersionConflict(StoreError):
    """The live session changed since it was read (another request won the race); nothing was written."""


@dataclass(frozen=True)
class LiveSession:
    """One row of ``live_sessions``: ``state`` is the engine's JSON state, ``step`` the answers accepted so far,
    ``version`` the optimistic-concurrency counter, ``last_request``/``last_reply`` the last accepted answer and
    what was replied (a retried request gets the same reply), ``seconds`` the time taken per answered item."""

    session_id: str
    design: str
    person_id: str | None
    unit: str | None
    lang: str
    status: str
    version: int
    step: int
    state: str
    last_request: dict[str, Any] | None
    last_reply: dict[str, Any] | None
    served_at: str | None
    seconds: list[float | None]
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: tuple) -> LiveSession:
        values = dict(zip(_COLUMNS.split(", "), row))
        for key in ("last_request", "last_reply"):
            values[key] = None if values[key] is None else json.loads(values[key])
        values["seconds"] = json.loads(values["seconds"])
        values["version"], values["step"] = int(values["version"]), int(values["step"])
        return cls(**values)

    def summary(self) -> dict[str, Any]:
        """What an administrator's list shows (never the state)."""
        return {
            "session": self.session_id,
            "design": self.design,
            "person": self.person_id,
            "unit": self.unit,
            "status": self.status,
            "step": self.step,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def create(store: ResponseStore, live: LiveSession) -> None:
    """Insert a new live session (StoreError when its id exists)."""
    row = (
        live.session_id,
        live.design,
        live.person_id,
        live.unit,
        live.lang,
        live.status,
        live.version,
        live.step,
        live.state,
        _dump(live.last_request),
        _dump(live.last_reply),
        live.served_at,
        json.dumps(live.seconds),
        live.created_at,
        live.updated_at,
    )
    try:
        with store._transaction() as cur:
            cur.execute(store._sql(f"INSERT INTO live_sessions ({_COLUMNS}) VALUES ({', '.join('?' * 15)})"), row)
    except store._driver_error as exc:
        raise store._fail(f"cannot create live session {live.session_id!r}", exc) from None


def load(store: ResponseStore, session_id: str) -> LiveSession | None:
    """The live session ``session_id``, or None."""
    rows = store._read(f"SELECT {_COLUMNS} FROM live_sessions WHERE session_id = ?", (session_id,))
    return LiveSession.from_row(rows[0]) if rows else None


def advance(
    store: ResponseStore,
    before: LiveSession,
    *,
    state: str,
    status: str,
    request: dict[str, Any] | None,
    reply: dict[str, Any] | None,
    served_at: str | None,
    seconds: list[float | None],
    answer: tuple[str, Any, int] | None,
    record: SessionRecord | None = None,
) -> int:
    """Write the session's next state if it is still at ``before.version``; returns the new version.

    ``answer`` (item id, raw answer, score) goes into ``live_answers`` at step ``before.step + 1``; ``record``
    (the finished or abandoned session) into ``sessions``/``responses``; all in one transaction.
    VersionConflict when another request changed the session first (nothing is written).
    """
    if status not in LIVE_STATUSES:
        raise StoreError(f"live session status {status!r}: expected one of {', '.join(LIVE_STATUSES)}")
    if record is not None:
        store._validate(record)
    now = utc_now()
    step = before.step + (answer is not None)
    values = (
        status,
        before.version + 1,
        step,
        state,
        _dump(request),
        _dump(reply),
        served_at,
        json.dumps(seconds),
        now,
        before.session_id,
        before.version,
    )
    if store.dialect == "postgresql" and answer is not None and record is None:
        return _advance_one_statement(store, before, values, answer, step, now)
    try:
        with store._transaction() as cur:
            cur.execute(store._sql(_UPDATE), values)
            if cur.rowcount != 1:
                raise VersionConflict(
                    f"live session {before.session_id!r} changed since version {before.version} was read"
                )
            if answer is not None:
                item_id, raw, score = answer
                cur.execute(
                    store._sql(
                        "INSERT INTO live_answers (session_id, step, item_id, answer, score, answered_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)"
                    ),
                    (before.session_id, step, item_id, _dump(raw), int(score), now),
                )
            if record is not None:
                (ref,) = store._insert_sessions(cur, [_session_row(record, now)])
                cur.executemany(store._sql(_INSERT_RESPONSE), [_response_row(ref, it) for it in record.items])
                store._insert_scores(cur, [scores_row(ref, record.session_id, record.result, store._loglik_of(record))])
    except VersionConflict:
        raise
    except store._integrity_error as exc:  # the answer's (session, step) row exists: another request won
        raise VersionConflict(f"live session {before.session_id!r}: step {step} is already stored ({exc})") from None
    except store._driver_error as exc:
        raise store._fail(f"cannot write live session {before.session_id!r}", exc) from None
    return before.version + 1


_UPDATE = (
    "UPDATE live_sessions SET status = ?, version = ?, step = ?, state = ?, last_request = ?, "
    "last_reply = ?, served_at = ?, seconds = ?, updated_at = ? WHERE session_id = ? AND version = ?"
)


def _advance_one_statement(
    store: ResponseStore, before: LiveSession, values: tuple, answer: tuple[str, Any, int], step: int, now: str
) -> int:
    """PostgreSQL: the update and the answer's row in one statement (one round trip, its own transaction).

    The INSERT reads the UPDATE's returned row, so it inserts nothing when the version moved on.
    """
    item_id, raw, score = answer
    sql = (
        f"WITH moved AS ({_UPDATE} RETURNING session_id) "
        "INSERT INTO live_answers (session_id, step, item_id, answer, score, answered_at) "
        "SELECT session_id, ?, ?, ?, ?, ? FROM moved"
    )
    try:
        cur = store._conn.cursor()
        cur.execute(store._sql(sql), (*values, step, item_id, _dump(raw), int(score), now))
        inserted = cur.rowcount
    except store._integrity_error as exc:
        raise VersionConflict(f"live session {before.session_id!r}: step {step} is already stored ({exc})") from None
    except store._driver_error as exc:
        raise store._fail(f"cannot write live session {before.session_id!r}", exc) from None
    if inserted != 1:
        raise VersionConflict(f"live session {before.session_id!r} changed since version {before.version} was read")
    return before.version + 1


def listing(
    store: ResponseStore, units: list[str] | None = None, status: str | None = None, limit: int = 1000
) -> list[LiveSession]:
    """Live sessions, newest first, of ``units`` (None: every unit) and one status (None: any)."""
    clauses, params = [], []
    if units is not None:
        if not units:
            return []
        clauses.append(f"unit IN ({', '.join('?' * len(units))})")
        params += units
    if status is not None:
        clauses.append("status = ?")
        params.append(status)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = store._read(
        f"SELECT {_COLUMNS} FROM live_sessions{where} ORDER BY created_at DESC LIMIT ?", (*params, int(limit))
    )
    return [LiveSession.from_row(r) for r in rows]


def answers(store: ResponseStore, units: list[str] | None = None) -> list[tuple]:
    """Every acknowledged answer as (session, person, unit, design, step, item, answer JSON, score, answered_at),
    ordered by session and step; of ``units`` only when given."""
    where, params = "", ()
    if units is not None:
        if not units:
            return []
        where, params = f" WHERE s.unit IN ({', '.join('?' * len(units))})", tuple(units)
    return store._read(
        "SELECT a.session_id, s.person_id, s.unit, s.design, a.step, a.item_id, a.answer, a.score, a.answered_at "
        f"FROM live_answers a JOIN live_sessions s ON s.session_id = a.session_id{where} "
        "ORDER BY a.session_id, a.step",
        params,
    )


def check(store: ResponseStore) -> list[str]:
    """Live sessions whose answers are not steps 1..step exactly, and finished ones without a stored record."""
    rows = store._read(
        "SELECT s.session_id, s.step, COUNT(a.step), MIN(a.step), MAX(a.step) FROM live_sessions s "
        "LEFT JOIN live_answers a ON a.session_id = s.session_id GROUP BY s.session_id, s.step "
        "HAVING COUNT(a.step) <> s.step OR (s.step > 0 AND (MIN(a.step) <> 1 OR MAX(a.step) <> s.step))"
    )
    out = [f"live session {sid!r}: {n} answers at steps {lo}..{hi}, expected {want}" for sid, want, n, lo, hi in rows]
    missing = store._read(
        "SELECT l.session_id FROM live_sessions l LEFT JOIN sessions s ON s.session_id = l.session_id "
        "WHERE l.status = 'finished' AND s.ref IS NULL"
    )
    return out + [f"live session {r[0]!r}: finished but not written as a session record" for r in missing]


def advance_mark(store: ResponseStore, nonce: str, step: int) -> bool:
    """Move ``nonce``'s replay mark to ``step`` if it is below it (one conditional upsert, so two processes moving the
    same nonce to the same step cannot both succeed); False when the mark was already there or past it."""
    try:
        with store._transaction() as cur:
            cur.execute(
                store._sql(
                    "INSERT INTO replay_marks (nonce, step, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (nonce) DO UPDATE SET step = excluded.step, updated_at = excluded.updated_at "
                    "WHERE replay_marks.step < excluded.step"
                ),
                (nonce, int(step), utc_now()),
            )
            return cur.rowcount == 1
    except store._driver_error as exc:
        raise store._fail("cannot move a replay mark", exc) from None


def read_mark(store: ResponseStore, nonce: str) -> int:
    """``nonce``'s replay mark (0 when it has none)."""
    rows = store._read("SELECT step FROM replay_marks WHERE nonce = ?", (nonce,))
    return int(rows[0][0]) if rows else 0
