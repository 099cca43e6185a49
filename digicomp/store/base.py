"""The response store's interface and the SQL it runs, shared by the SQLite and PostgreSQL back ends.

A back end supplies a connection, a transaction context (:meth:`ResponseStore._transaction`), its parameter
style and which driver exceptions mean what; everything else (schema migration, validation, writing whole
sessions atomically; reading responses into the calibrator in :mod:`digicomp.store.calibration_data`) is written once
here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from digicomp.errors import DigicompError, StoreError
from digicomp.store.calibration_data import StoredResponses, _filters, read_responses
from digicomp.store.records import ServedItem, SessionRecord, utc_now
from digicomp.store.schema import MIGRATIONS, SCHEMA_TABLE, SCHEMA_VERSION
from digicomp.store.scores import (
    INSERT_SCORES,
    LIKELIHOOD_TABLES,
    LikelihoodTable,
    SessionScores,
    backfill,
    backfill_loglik,
    read_scores,
    scores_row,
)

FETCH_ROWS = 50_000


class ResponseStore:
    """Sessions and their responses in SQL. Use :func:`digicomp.store.open_store` to get one.

    Every write is one transaction: a session (or a batch of them) is stored whole or not at all.
    Sessions are refused when their bank version was not registered (:meth:`register_bank`), when they
    name an item that bank lacks, or when their id is already stored.
    """

    dialect = "sql"
    _id_type = "INTEGER PRIMARY KEY"
    _blob_type = "BLOB"
    _driver_error: type[Exception] = Exception
    _integrity_error: type[Exception] = Exception

    def __init__(self, url: str) -> None:
        self.url = url
        self._banks: dict[str, set[str]] = {}
        self._loglik_tables = LIKELIHOOD_TABLES
        """Item log-probabilities of the banks registered in this process (by any store object: a service's pool
        of connections shares them): sessions of these banks are written with their log-likelihoods
        (``session_scores.area_loglik``)."""
        self._units: set[str] | None = None
        self._conn: Any = None

    # ------------------------------------------------------------------ back-end hooks
    def _transaction(self) -> AbstractContextManager[Any]:
        """A cursor inside one write transaction, committed on success and rolled back on error."""
        raise NotImplementedError

    def _sql(self, text: str) -> str:
        """``text`` with ``?`` placeholders in the driver's parameter style."""
        return text

    def _lock_schema(self, cur: Any) -> None:
        """Serialise concurrent migrations (inside the migration transaction)."""

    def _tables(self, cur: Any) -> set[str]:
        """Names of the tables in the database."""
        raise NotImplementedError

    def _insert_sessions(self, cur: Any, rows: list[tuple]) -> list[int]:
        """Insert sessions rows and return their ``ref`` values, in order."""
        refs = []
        for row in rows:
            cur.execute(self._sql(_INSERT_SESSION + " RETURNING ref"), row)
            refs.append(int(cur.fetchone()[0]))
        return refs

    def _insert_scores(self, cur: Any, rows: list[tuple]) -> None:
        """Insert ``session_scores`` rows (:func:`digicomp.store.scores.scores_row`)."""
        if rows:
            cur.executemany(self._sql(INSERT_SCORES), rows)

    def check(self) -> list[str]:
        """Sessions that are not whole: responses missing, extra, or not at positions 1..n_items ([] when sound)."""
        rows = self._read(
            "SELECT s.session_id, s.n_items, COUNT(r.position), MIN(r.position), MAX(r.position) "
            "FROM sessions s LEFT JOIN responses r ON r.session_ref = s.ref "
            "GROUP BY s.session_id, s.n_items HAVING COUNT(r.position) <> s.n_items "
            "OR MIN(r.position) <> 1 OR MAX(r.position) <> s.n_items"
        )
        return [
            f"session {sid!r}: {n} responses at positions {lo}..{hi}, expected {want} at 1..{want}"
            for sid, want, n, lo, hi in rows
        ]

    # ------------------------------------------------------------------ life cycle
    def close(self) -> None:
        """Close the connection (the store object is unusable afterwards)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> ResponseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def _fail(self, what: str, exc: Exception) -> StoreError:
        return StoreError(f"{self.url}: {what}: {type(exc).__name__}: {str(exc).strip()}")

    def _read_cursor(self) -> Any:
        """A cursor for a read-only query (the driver's default; PostgreSQL's asks for binary results)."""
        return self._conn.cursor()

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            cur = self._read_cursor()
            cur.execute(self._sql(sql), params)
            return cur.fetchall()
        except self._driver_error as exc:
            raise self._fail("cannot read", exc) from None

    # ------------------------------------------------------------------ schema
    def _migrate(self) -> None:
        """Create the tables, or bring an older store up to :data:`SCHEMA_VERSION`, in one transaction."""
        try:
            with self._transaction() as cur:
                self._lock_schema(cur)
                tables = self._tables(cur)
                if SCHEMA_TABLE in tables:
                    cur.execute(f"SELECT MAX(version) FROM {SCHEMA_TABLE}")
                    version = int(cur.fetchone()[0] or 0)
                elif tables & {"sessions", "responses", "banks"}:
                    raise StoreError(
                        f"{self.url}: has tables {sorted(tables)[:5]} but no {SCHEMA_TABLE}: not a "
                        "digicomp store; refusing to write into it"
                    )
                else:
                    version = 0
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.url}: schema version {version} was written by a newer digicomp "
                        f"(this one knows up to {SCHEMA_VERSION}); upgrade digicomp to use it"
                    )
                for v in range(version, SCHEMA_VERSION):
                    for statement in MIGRATIONS[v]:
                        if callable(statement):
                            statement(self, cur)
                        else:
                            cur.execute(statement.replace("{ID}", self._id_type).replace("{BLOB}", self._blob_type))
                    cur.execute(
                        self._sql(f"INSERT INTO {SCHEMA_TABLE} (version, migrated_at) VALUES (?, ?)"),
                        (v + 1, utc_now()),
                    )
        except self._driver_error as exc:
            raise self._fail("cannot create or migrate the store's tables", exc) from None

    @property
    def schema_version(self) -> int:
        """The schema version of the database (always :data:`SCHEMA_VERSION` once opened)."""
        return int(self._read(f"SELECT MAX(version) FROM {SCHEMA_TABLE}")[0][0])

    # ------------------------------------------------------------------ banks
    def register_bank(self, bank: Any) -> str:
        """Accept sessions of this bank version (an ItemBank); returns its fingerprint. Idempotent."""
        fp = bank.fingerprint
        ids = list(bank.ids)
        try:
            with self._transaction() as cur:
                cur.execute(
                    self._sql(
                        "INSERT INTO banks (fingerprint, bank_id, version, items, registered_at) "
                        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING"
                    ),
                    (fp, bank.id, str(bank.version), json.dumps(ids), utc_now()),
                )
        except self._driver_error as exc:
            raise self._fail(f"cannot register bank {bank.id!r} ({fp})", exc) from None
        self._banks[fp] = set(ids)
        self._likelihood_table(bank)
        return fp

    def _likelihood_table(self, bank: Any) -> LikelihoodTable | None:
        """The bank's :class:`LikelihoodTable`, kept per fingerprint; None when its likelihood cannot be stored by
        area (a content-free bank has no areas; a multidimensional one may not factor by area): its sessions'
        rows stay NULL and the report uses their θ and SE."""
        fp = bank.fingerprint
        if fp not in self._loglik_tables:
            try:
                self._loglik_tables[fp] = LikelihoodTable(bank)
            except DigicompError:
                return None
        return self._loglik_tables[fp]

    def _loglik_of(self, record: SessionRecord) -> tuple[LikelihoodTable, list[tuple[str, int]]] | None:
        """The session's bank table and scored answers, when this process holds the bank (else None: NULL)."""
        table = self._loglik_tables.get(record.bank_fingerprint)
        if table is None:
            return None
        return table, [(it.item_id, it.score) for it in record.items if not it.pretest]

    def fill_likelihoods(self, banks: Iterable[Any]) -> int:
        """Write ``session_scores.area_loglik`` for every stored session of these bank versions (ItemBanks) that has
        none, from its stored answers (one transaction); returns how many. Sessions of other banks keep NULL."""
        tables = {bank.fingerprint: t for bank in banks if (t := self._likelihood_table(bank)) is not None}
        try:
            with self._transaction() as cur:
                return backfill_loglik(self, cur, tables)
        except self._driver_error as exc:
            raise self._fail("cannot fill the sessions' log-likelihoods", exc) from None

    def banks(self) -> list[dict[str, Any]]:
        """The registered bank versions with their session counts."""
        rows = self._read(
            "SELECT b.fingerprint, b.bank_id, b.version, b.registered_at, COUNT(s.ref) FROM banks b "
            "LEFT JOIN sessions s ON s.bank_fingerprint = b.fingerprint "
            "GROUP BY b.fingerprint, b.bank_id, b.version, b.registered_at ORDER BY b.registered_at"
        )
        return [
            {"fingerprint": r[0], "id": r[1], "version": r[2], "registered_at": r[3], "sessions": int(r[4])}
            for r in rows
        ]

    def _bank_items(self, fingerprint: str) -> set[str] | None:
        if fingerprint not in self._banks:
            rows = self._read("SELECT items FROM banks WHERE fingerprint = ?", (fingerprint,))
            if not rows:
                return None
            self._banks[fingerprint] = set(json.loads(rows[0][0]))
        return self._banks[fingerprint]

    def _validate(self, record: SessionRecord) -> None:
        record.check()
        items = self._bank_items(record.bank_fingerprint)
        if items is None:
            known = ", ".join(f"{b['id']} {b['version']} {b['fingerprint'][:19]}" for b in self.banks()) or "none"
            raise StoreError(
                f"{self.url}: session {record.session_id!r} was taken with bank version "
                f"{record.bank_fingerprint!r}, which this store does not accept (registered: {known}); "
                "register that bank version first"
            )
        if record.unit is not None and record.unit not in self._known_units(record.unit):
            raise StoreError(
                f"{self.url}: session {record.session_id!r}: unit {record.unit!r} is not one of the store's "
                "units; load the unit tree first (put_units / digicomp progress --units)"
            )
        unknown = [it.item_id for it in record.items if it.item_id not in items]
        if unknown:
            raise StoreError(
                f"{self.url}: session {record.session_id!r}: item {unknown[0]!r} is not in bank "
                f"version {record.bank_fingerprint!r}"
            )

    # ------------------------------------------------------------------ organisational units
    def put_units(self, units: Iterable[dict[str, Any]]) -> int:
        """Add or replace units (dicts with ``unit``, ``parent``, ``name_vi``, ``name_en``, ``headcount``).

        The tree's consistency (parents known, no cycle) is checked by :mod:`digicomp.programme` when it loads
        the unit file; here a unit id must be a non-empty string and a headcount a whole number >= 0 or None.
        Returns how many units were written (in one transaction).
        """
        rows = []
        for u in units:
            uid = u.get("unit")
            if not isinstance(uid, str) or not uid:
                raise StoreError(f"{self.url}: unit {uid!r}: expected a non-empty string id")
            head = u.get("headcount")
            if head is not None and (isinstance(head, bool) or not isinstance(head, int) or head < 0):
                raise StoreError(f"{self.url}: unit {uid!r}: headcount {head!r}: expected a whole number >= 0")
            rows.append((uid, u.get("parent") or None, u.get("name_vi"), u.get("name_en"), head))
        try:
            with self._transaction() as cur:
                cur.executemany(
                    self._sql(
                        "INSERT INTO units (unit, parent, name_vi, name_en, headcount) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT (unit) DO UPDATE SET parent = excluded.parent, name_vi = excluded.name_vi, "
                        "name_en = excluded.name_en, headcount = excluded.headcount"
                    ),
                    rows,
                )
        except self._driver_error as exc:
            raise self._fail(f"cannot write {len(rows)} units (none written)", exc) from None
        self._units = None
        return len(rows)

    def units(self) -> list[dict[str, Any]]:
        """The stored units (``unit``, ``parent``, ``name_vi``, ``name_en``, ``headcount``), by id."""
        rows = self._read("SELECT unit, parent, name_vi, name_en, headcount FROM units ORDER BY unit")
        keys = ("unit", "parent", "name_vi", "name_en", "headcount")
        return [dict(zip(keys, r)) for r in rows]

    def _known_units(self, wanted: str) -> set[str]:
        """The stored unit ids (cached; read again when ``wanted`` is not among them, as another writer may add it)."""
        cache = self._units
        if cache is None or wanted not in cache:
            cache = self._units = {r[0] for r in self._read("SELECT unit FROM units")}
        return cache

    def link_persons(self, links: dict[str, str]) -> int:
        """Record each person's unit ({person id: unit id}), replacing an earlier link; returns how many.

        A unit that is not among the store's units is a StoreError naming the person (nothing is written).
        """
        rows = []
        for person, unit in links.items():
            if not isinstance(person, str) or not person:
                raise StoreError(f"{self.url}: person {person!r}: expected a non-empty string id")
            if not isinstance(unit, str) or unit not in self._known_units(unit):
                raise StoreError(
                    f"{self.url}: person {person!r}: unit {unit!r} is not one of the store's units; none of the "
                    f"{len(links)} links was written"
                )
            rows.append((person, unit, utc_now()))
        try:
            with self._transaction() as cur:
                cur.executemany(
                    self._sql(
                        "INSERT INTO person_units (person_id, unit, linked_at) VALUES (?, ?, ?) "
                        "ON CONFLICT (person_id) DO UPDATE SET unit = excluded.unit, linked_at = excluded.linked_at"
                    ),
                    rows,
                )
        except self._driver_error as exc:
            raise self._fail(f"cannot link {len(rows)} persons to units (none written)", exc) from None
        return len(rows)

    def person_units(self) -> dict[str, str]:
        """{person id: unit id} as linked in the store."""
        return {r[0]: r[1] for r in self._read("SELECT person_id, unit FROM person_units")}

    # ------------------------------------------------------------------ derived values
    def get_derived(self, key: str) -> str | None:
        """The value a report kept under ``key`` (:mod:`digicomp.store.cache`), or None."""
        from digicomp.store import cache

        return cache.get(self, key)

    def put_derived(self, key: str, value: str) -> bool:
        """Keep ``value`` under ``key`` for later reports; False when the store refused the write (read-only)."""
        from digicomp.store import cache

        return cache.put(self, key, value)

    # ------------------------------------------------------------------ writing
    def write(self, record: SessionRecord) -> None:
        """Store one session, whole (its row and every response) or not at all."""
        self.write_many([record])

    def write_many(self, records: Iterable[SessionRecord]) -> int:
        """Store sessions in one transaction: all of them, or (on any error) none. Returns how many."""
        records = list(records)
        for rec in records:
            self._validate(rec)
        ids = [r.session_id for r in records]
        if len(set(ids)) != len(ids):
            dup = next(i for i in ids if ids.count(i) > 1)
            raise StoreError(
                f"{self.url}: session {dup!r} appears twice in one batch; none of the "
                f"{len(records)} sessions was written"
            )
        written = utc_now()
        try:
            with self._transaction() as cur:
                refs = self._insert_sessions(cur, [_session_row(rec, written) for rec in records])
                rows = [_response_row(ref, it) for ref, rec in zip(refs, records) for it in rec.items]
                cur.executemany(self._sql(_INSERT_RESPONSE), rows)
                scores = [scores_row(ref, r.session_id, r.result, self._loglik_of(r)) for ref, r in zip(refs, records)]
                self._insert_scores(cur, scores)
        except self._integrity_error as exc:
            stored = self._already_stored(ids)
            if stored:
                raise StoreError(
                    f"{self.url}: session {stored[0]!r} is already stored ({len(stored)} of this batch "
                    f"are); none of the {len(records)} sessions was written"
                ) from None
            raise self._fail(f"refused {len(records)} sessions (none written)", exc) from None
        except self._driver_error as exc:
            raise self._fail(f"cannot write {len(records)} sessions (none written)", exc) from None
        return len(records)

    def _already_stored(self, ids: list[str]) -> list[str]:
        found: list[str] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found += [
                r[0] for r in self._read(f"SELECT session_id FROM sessions WHERE session_id IN ({marks})", tuple(chunk))
            ]
        order = {i: k for k, i in enumerate(ids)}
        return sorted(found, key=order.__getitem__)

    # ------------------------------------------------------------------ reading
    def count(self, bank_fingerprint: str | None = None, status: str | None = None) -> tuple[int, int]:
        """(sessions, responses) stored, optionally of one bank version and one status."""
        where, params = _filters(bank_fingerprint, (status,) if status else None)
        n_sessions = self._read(f"SELECT COUNT(*) FROM sessions s{where}", params)[0][0]
        n_responses = self._read(
            f"SELECT COUNT(*) FROM responses r JOIN sessions s ON s.ref = r.session_ref{where}", params
        )[0][0]
        return int(n_sessions), int(n_responses)

    def get(self, session_id: str) -> SessionRecord:
        """The stored session ``session_id`` (StoreError when absent)."""
        rows = self._read(f"SELECT {_SESSION_COLUMNS}, ref FROM sessions WHERE session_id = ?", (session_id,))
        if not rows:
            raise StoreError(f"{self.url}: no session {session_id!r}")
        *values, ref = rows[0]
        items = self._read(
            "SELECT position, item_id, score, answer, seconds, pretest FROM responses "
            "WHERE session_ref = ? ORDER BY position",
            (ref,),
        )
        served = tuple(ServedItem(int(p), i, int(s), _load(a), sec, bool(pre)) for p, i, s, a, sec, pre in items)
        rec = dict(zip(_SESSION_COLUMNS.split(", "), values))
        rec.pop("written_at")
        rec.pop("n_items")
        rec["result"] = _load(rec["result"])
        return SessionRecord(items=served, **rec)

    def session_scores(self, status: str | None = None) -> SessionScores:
        """Every session's per-area scores and "to work on" entries (of one ``status``; None: all) as flat arrays,
        read with one query from the side table written with each session (:mod:`digicomp.store.scores`)."""
        return read_scores(self, status)

    def fill_scores(self) -> int:
        """Write the ``session_scores`` row of every session that lacks one (sessions put into the table by other
        means than :meth:`write_many`), from its stored result; returns how many (one transaction)."""
        try:
            with self._transaction() as cur:
                return backfill(self, cur)
        except self._driver_error as exc:
            raise self._fail("cannot fill the session scores", exc) from None

    def stream(self, sql: str, params: tuple = ()) -> Iterator[tuple]:
        """Rows of a read-only query, fetched in blocks (for exports larger than memory)."""
        for block in self.blocks(sql, params):
            yield from block

    def blocks(self, sql: str, params: tuple = (), size: int = FETCH_ROWS) -> Iterator[list[tuple]]:
        """Rows of a read-only query in lists of at most ``size``, never the whole result in memory at once (a
        reader that turns each block into arrays holds one block of Python objects, not all of them)."""
        try:
            with self._streaming_cursor() as cur:
                cur.execute(self._sql(sql), params)
                while rows := cur.fetchmany(size):
                    yield rows
        except self._driver_error as exc:
            raise self._fail("cannot read", exc) from None

    @contextmanager
    def _streaming_cursor(self) -> Iterator[Any]:
        """A cursor whose rows come from the database as they are fetched (SQLite's always do)."""
        yield self._read_cursor()

    def read_responses(self, bank: Any, *, statuses: tuple[str, ...] = ("finished",)) -> StoredResponses:
        """Every stored response to ``bank`` (ItemBank or fingerprint) as :class:`Responses` for the calibrator
        (:func:`digicomp.store.calibration_data.read_responses`)."""
        return read_responses(self, bank, statuses)

    # ------------------------------------------------------------------ recalibrations
    def record_recalibration(self, source: str, new: str, mode: str, provenance: dict[str, Any]) -> None:
        """Remember that bank version ``new`` was calibrated from this store's sessions of ``source``.

        ``provenance`` is the JSON-ready record; its ``data`` holds ``n_sessions`` and ``n_responses``.
        """
        try:
            with self._transaction() as cur:
                cur.execute(
                    self._sql(
                        "INSERT INTO recalibrations (made_at, source_fingerprint, new_fingerprint, "
                        "mode, n_sessions, n_responses, provenance) VALUES (?, ?, ?, ?, ?, ?, ?)"
                    ),
                    (
                        utc_now(),
                        source,
                        new,
                        mode,
                        provenance["data"]["n_sessions"],
                        provenance["data"]["n_responses"],
                        json.dumps(provenance, ensure_ascii=False),
                    ),
                )
        except self._driver_error as exc:
            raise self._fail("cannot record the recalibration", exc) from None

    def recalibrations(self) -> list[dict[str, Any]]:
        """The recalibrations made from this store, oldest first."""
        rows = self._read(
            "SELECT made_at, source_fingerprint, new_fingerprint, mode, n_sessions, n_responses, "
            "provenance FROM recalibrations ORDER BY ref"
        )
        keys = ("made_at", "source_fingerprint", "new_fingerprint", "mode", "n_sessions", "n_responses")
        return [{**dict(zip(keys, r[:6])), "provenance": json.loads(r[6])} for r in rows]

    def info(self) -> dict[str, Any]:
        """Schema version, counts by bank version and status, and the recalibrations made."""
        rows = self._read(
            "SELECT bank_fingerprint, status, COUNT(*), SUM(n_items) FROM sessions "
            "GROUP BY bank_fingerprint, status ORDER BY bank_fingerprint, status"
        )
        return {
            "url": self.url,
            "backend": self.dialect,
            "schema_version": self.schema_version,
            "banks": self.banks(),
            "sessions": [
                {"bank_fingerprint": r[0], "status": r[1], "sessions": int(r[2]), "responses": int(r[3] or 0)}
                for r in rows
            ],
            "recalibrations": len(self.recalibrations()),
        }


_SESSION_COLUMNS = (
    "session_id, person_id, bank_fingerprint, design_hash, status, started_at, finished_at, "
    "written_at, stop_reason, theta, se, level, n_items, result, unit"
)
_INSERT_SESSION = f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES ({', '.join('?' * 15)})"
_INSERT_RESPONSE = (
    "INSERT INTO responses (session_ref, position, item_id, score, answer, seconds, pretest) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _session_row(rec: SessionRecord, written: str) -> tuple:
    result = None if rec.result is None else json.dumps(rec.result, ensure_ascii=False, separators=(",", ":"))
    return (
        rec.session_id,
        rec.person_id,
        rec.bank_fingerprint,
        rec.design_hash,
        rec.status,
        rec.started_at,
        rec.finished_at,
        written,
        rec.stop_reason,
        rec.theta,
        rec.se,
        rec.level,
        rec.n_items,
        result,
        rec.unit,
    )


def _response_row(ref: int, it: ServedItem) -> tuple:
    answer = None if it.answer is None else json.dumps(it.answer, ensure_ascii=False)
    return (ref, it.position, it.item_id, int(it.score), answer, it.seconds, int(it.pretest))


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)
