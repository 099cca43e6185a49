"""The service's test sessions, independent of HTTP: start, show, answer, report, abandon; state in the store.

A worker keeps nothing that matters: every request reads the session's row, and an answer is accepted only by the
``UPDATE ... WHERE version = v`` that moves the row from the version it read (:mod:`digicomp.store.live`). A small
per-worker cache of resumed :class:`~digicomp.cat.Session` objects, keyed by session and version, saves replaying
the answers on every request; a stale or missing entry only costs a replay.

Steps: ``step`` is the number of answers accepted so far. A client answers the item it was shown at step ``s`` by
sending ``step = s``. The same request again (same step, item and answer) after it was accepted is a retry and gets
the same reply; any other request with an old or future step is refused (409 ``step_mismatch`` or
``already_answered``), and of two requests racing for one step exactly one is accepted (the other: 409
``conflict``).
"""

from __future__ import annotations

import datetime
import json
import queue
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from digicomp.cat import AdaptiveTest, InvalidAnswerError, Session
from digicomp.errors import DigicompError
from digicomp.service.config import DesignEntry, ServiceConfig
from digicomp.service.errors import ApiError
from digicomp.store import ResponseStore, SessionRecord, open_store
from digicomp.store import live as live_store
from digicomp.store.records import utc_now

LANGS = ("vi", "en")
MAX_PERSON_CHARS = 128


class StorePool:
    """``size`` store connections shared by a worker's threads (a store object holds one connection)."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self._free: queue.LifoQueue[ResponseStore | None] = queue.LifoQueue()
        self._made = 0
        self._size = size
        self._lock = threading.Lock()

    @contextmanager
    def get(self) -> Iterator[ResponseStore]:
        """A store for the duration of the block (opened on first need, at most ``size`` of them).

        A store whose connection was lost during the block (the database restarted) is closed and its place
        reopened by the next request, so the pool heals without a restart of the worker.
        """
        with self._lock:
            if self._free.empty() and self._made < self._size:
                self._made += 1
                self._free.put(None)  # a place: opened below
        store = self._free.get()
        if store is None:
            try:
                store = open_store(self.url)
            except BaseException:
                self._free.put(None)
                raise
        lost = False
        try:
            yield store
        except BaseException:
            conn = getattr(store, "_conn", None)
            lost = conn is None or bool(getattr(conn, "broken", False) or getattr(conn, "closed", False))
            raise
        finally:
            if lost:
                store.close()
                self._free.put(None)
            else:
                self._free.put(store)

    def close(self) -> None:
        """Close the idle connections."""
        while not self._free.empty():
            store = self._free.get()
            if store is not None:
                store.close()


def build_engine(entry: DesignEntry) -> AdaptiveTest:
    """The engine of a configured design (the terminal test's design when the entry names none)."""
    from digicomp.commands.take import design_for

    design = design_for(entry.design, "vi")
    return AdaptiveTest(entry.bank, design)


class SessionService:
    """Everything a test taker (API or page) does, on the store through ``pool``, with one engine per design."""

    def __init__(self, config: ServiceConfig, pool: StorePool, engines: dict[str, AdaptiveTest]) -> None:
        self.config = config
        self.pool = pool
        self.engines = engines
        self.units = {u.unit for u in config.units}
        self._cache: OrderedDict[str, tuple[int, Session]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_size = 4096

    # ------------------------------------------------------------------ the per-worker session cache
    def _take(self, live: live_store.LiveSession) -> Session:
        """The session at ``live.version``: from the cache (removed from it: one request owns it), else replayed."""
        with self._cache_lock:
            hit = self._cache.pop(live.session_id, None)
        if hit is not None and hit[0].version == live.version:
            return hit[1]
        engine = self.engines.get(live.design)
        if engine is None:
            raise ApiError(409, "design_withdrawn", f"design {live.design!r} is no longer offered by this service")
        return engine.resume(live.state, trusted=True)  # the state never left the store: no choice re-derived

    def _take_cached(self, session_id: str, step: int) -> tuple[live_store.LiveSession, Session] | None:
        """The cached row and session when they are active at ``step`` (removed from the cache), else None.

        A cached row may be stale (another worker moved the session on): the caller's conditional update then
        fails, and it decides on the stored row instead.
        """
        with self._cache_lock:
            hit = self._cache.get(session_id)
            if hit is None or hit[0].step != step or hit[0].status != "active":
                return None
            return self._cache.pop(session_id)

    def _keep(self, live: live_store.LiveSession, session: Session) -> None:
        with self._cache_lock:
            self._cache[live.session_id] = (live, session)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _load(self, store: ResponseStore, session_id: str) -> live_store.LiveSession:
        if not isinstance(session_id, str) or not 8 <= len(session_id) <= 64:
            raise ApiError(404, "unknown_session", "no such session")
        live = live_store.load(store, session_id)
        if live is None:
            raise ApiError(404, "unknown_session", "no such session")
        return live

    # ------------------------------------------------------------------ test taker
    def start(self, design: str | None, person: str | None, unit: str | None, lang: str) -> dict[str, Any]:
        """A new session; its first item. ApiError for an unknown design, unit or language, or a bad person id."""
        design = design or self.config.designs[0].id
        engine = self.engines.get(design)
        if engine is None:
            raise ApiError(
                404, "unknown_design", f"design {design!r} is not offered (offered: {', '.join(self.engines)})"
            )
        if lang not in LANGS:
            raise ApiError(422, "unknown_language", f"language {lang!r}: expected one of {', '.join(LANGS)}")
        if person is not None and (not person.strip() or len(person) > MAX_PERSON_CHARS or not person.isprintable()):
            raise ApiError(422, "bad_person", f"a person id is 1..{MAX_PERSON_CHARS} printable characters")
        if unit is not None and unit not in self.units:
            raise ApiError(422, "unknown_unit", f"unit {unit!r} is not a unit of this service")
        if unit is None and self.config.require_unit:
            raise ApiError(422, "unit_required", "this service needs the unit the test taker belongs to")
        session = engine.start(person_id=person, audit=False)  # the record keeps answers; no per-step audit
        item = session.next_item()
        now = utc_now()
        sid = new_session_id()
        status = "active" if item is not None else "finished"
        live = live_store.LiveSession(
            sid, design, person, unit, lang, status, 0, 0, session.to_json(), None, None, now, [], now, now
        )
        with self.pool.get() as store:
            live_store.create(store, live)
        self._keep(live, session)
        return self._reply(live, session, item)

    def current(self, session_id: str) -> tuple[live_store.LiveSession, dict[str, Any]]:
        """The session's row and what a client sees now (the served item, or that the test is over)."""
        with self.pool.get() as store:
            live = self._load(store, session_id)
        if live.status != "active":
            return live, self._reply(live, None, None)
        session = self._take(live)
        item = session.next_item()
        self._keep(live, session)
        return live, self._reply(live, session, item)

    def answer(self, session_id: str, step: Any, item_id: Any, answer: Any) -> dict[str, Any]:
        """Record the answer to the item shown at ``step``; the next item or the end. See the module text.

        With the session cached at ``step`` the stored row is not read first: the conditional update checks it,
        and only when that fails (or the request is refused) is the stored row read and the request decided on it.
        """
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ApiError(422, "bad_step", f"step must be a whole number >= 0, got {step!r}")
        if not isinstance(item_id, str):
            raise ApiError(422, "bad_item", f"item must be the id (a string) of the item shown, got {item_id!r}")
        request = {"step": step, "item": item_id, "answer": answer}
        with self.pool.get() as store:
            cached = self._take_cached(session_id, step)
            if cached is not None:
                try:
                    return self._apply(store, *cached, request)
                except (ApiError, live_store.VersionConflict):
                    pass  # decided on the stored row below (the cached session was dropped)
            live = self._load(store, session_id)
            if step == live.step - 1 and live.last_request == request and live.last_reply is not None:
                return live.last_reply  # a retry of the accepted request: the same reply
            if live.status == "abandoned":
                raise ApiError(409, "session_abandoned", "the session was abandoned; start a new one")
            if live.status == "finished":
                raise ApiError(409, "session_finished", "the test is over; no answer can be recorded")
            if step == live.step - 1:
                raise ApiError(
                    409, "already_answered", f"step {step} was already answered (differently)", expected_step=live.step
                )
            if step != live.step:
                raise ApiError(
                    409,
                    "step_mismatch",
                    f"the answer is for step {step}, but the session is at step {live.step}",
                    expected_step=live.step,
                )
            try:
                return self._apply(store, live, self._take(live), request)
            except live_store.VersionConflict:  # the session object moved on without the store: dropped
                raise ApiError(
                    409, "conflict", "another request answered this step at the same time; reload the session"
                ) from None

    def _apply(
        self, store: ResponseStore, live: live_store.LiveSession, session: Session, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Record ``request`` on ``session`` (at ``live``) and store it if the row is still at ``live.version``.

        ApiError for the wrong item or an invalid answer (the session is kept, unchanged); VersionConflict when
        the row moved on (the session is dropped).
        """
        session_id, item_id, answer = live.session_id, request["item"], request["answer"]
        served = session.next_item()
        if served is None or served.id != item_id:
            self._keep(live, session)
            raise ApiError(
                409,
                "wrong_item",
                f"item {item_id!r} is not the item shown at step {live.step}",
                expected_step=live.step,
            )
        try:
            session.record(item_id, answer)
        except DigicompError as exc:  # a refused answer changes nothing: the session stays usable
            self._keep(live, session)
            code = "invalid_answer" if isinstance(exc, InvalidAnswerError) else "refused_answer"
            raise ApiError(422, code, str(exc)) from None
        seconds = [*live.seconds, _elapsed(live.served_at)]
        item = session.next_item()
        status = "finished" if item is None else "active"
        state = session.to_json()
        now = utc_now()
        after = _replace(
            live,
            step=live.step + 1,
            version=live.version + 1,
            status=status,
            state=state,
            last_request=request,
            served_at=now,
            seconds=seconds,
            updated_at=now,
        )
        reply = self._reply(after, session, item)
        after = _replace(after, last_reply=reply)
        record = None
        if item is None:
            record = SessionRecord.from_session(
                session,
                session_id,
                seconds=seconds,
                started_at=live.created_at,
                finished_at=now,
                status="finished",
                unit=live.unit,
            )
        live_store.advance(
            store,
            live,
            state=state,
            status=status,
            request=request,
            reply=reply,
            served_at=now,
            seconds=seconds,
            answer=(item_id, answer, _last_score(session, item_id)),
            record=record,
        )
        self._keep(after, session)
        return reply

    def report(self, session_id: str, lang: str | None = None) -> dict[str, Any]:
        """The result of a finished session in ``lang`` (the session's language by default)."""
        from digicomp.reporting.result import build_result

        with self.pool.get() as store:
            live = self._load(store, session_id)
        if live.status != "finished":
            raise ApiError(409, "not_finished", f"the session is {live.status}; its report comes when it is finished")
        lang = lang or live.lang
        if lang not in LANGS:
            raise ApiError(422, "unknown_language", f"language {lang!r}: expected one of {', '.join(LANGS)}")
        session = self._take(live)
        result = build_result(session, lang)
        self._keep(live, session)
        for key in ("curves", "path", "items"):
            result.pop(key, None)
        result["session"] = session_id
        return result

    def abandon(self, session_id: str) -> dict[str, Any]:
        """End an active session as abandoned (written to the store as an abandoned SessionRecord)."""
        with self.pool.get() as store:
            live = self._load(store, session_id)
            if live.status != "active":
                raise ApiError(409, f"session_{live.status}", f"the session is already {live.status}")
            session = self._take(live)
            record = SessionRecord.from_session(
                session,
                session_id,
                seconds=live.seconds,
                started_at=live.created_at,
                finished_at=utc_now(),
                status="abandoned",
                unit=live.unit,
            )
            gone = _replace(live, status="abandoned")
            reply = self._reply(gone, None, None)
            try:
                live_store.advance(
                    store,
                    live,
                    state=live.state,
                    status="abandoned",
                    request=None,
                    reply=None,
                    served_at=None,
                    seconds=live.seconds,
                    answer=None,
                    record=record,
                )
            except live_store.VersionConflict:
                raise ApiError(409, "conflict", "the session changed at the same time; try again") from None
        return reply

    # ------------------------------------------------------------------ replies
    def _reply(self, live: live_store.LiveSession, session: Session | None, item: Any) -> dict[str, Any]:
        engine = self.engines.get(live.design)
        stop = engine.design.stop if engine is not None else None
        out: dict[str, Any] = {
            "session": live.session_id,
            "design": live.design,
            "status": live.status,
            "step": live.step,
            "lang": live.lang,
            "progress": {
                "answered": live.step,
                "min_items": stop.min_items if stop else None,
                "max_items": stop.max_items if stop else None,
            },
        }
        if item is not None:
            out["item"] = item.to_dict()
        return out


def new_session_id() -> str:
    """A random session id (32 URL-safe characters) starting with a letter or digit: an id starting with '-' would be
    taken for a formula by a spreadsheet and changed by the CSV export's guard, and no longer match the store."""
    while True:
        sid = secrets.token_urlsafe(24)
        if sid[0].isalnum():
            return sid


def _replace(live: live_store.LiveSession, **changes: Any) -> live_store.LiveSession:
    from dataclasses import replace

    return replace(live, **changes)


def _elapsed(since: str | None) -> float | None:
    """Seconds from ``since`` (ISO time the item was served) to now; None when unknown."""
    if since is None:
        return None
    then = datetime.datetime.fromisoformat(since)
    return round(max(0.0, (datetime.datetime.now(datetime.timezone.utc) - then).total_seconds()), 3)


def _last_score(session: Session, item_id: str) -> int:
    """The score the session gave its last answer (an operational or a seeded item)."""
    if session.seeded and session.seeded[-1]["item"] == item_id:
        return int(session.seeded[-1]["score"])
    n = int(session.state.n_given[0])
    return int(session.state.responses[0, n - 1])


def dumps(data: Any) -> str:
    """Compact JSON (UTF-8 text kept readable)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
