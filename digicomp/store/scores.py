"""Each stored session's per-area scores and "to work on" list in a narrow side table, for reports over many sessions.

A session's result (the report of the test) is stored whole as JSON; a programme report over 200,000 sessions
needs only its per-area θ, SE, items and level and its "to work on" competences, and parsing them out of the JSON
took most of that report's time. ``session_scores`` holds them in one row per session, written in the same
transaction as the session (and back-filled from the stored JSON when a store is migrated to schema version 5):

- ``n_areas``, ``areas`` (the area ids as a JSON list), ``area_theta``, ``area_se`` (little-endian float64 arrays,
  NaN where the result had none), ``area_n_items`` (little-endian int32), ``area_level`` (JSON list of level ids or
  null);
- ``n_to_work_on``, ``to_work_on`` (competence ids as a JSON list), ``to_work_on_theta`` (float64 array);
- ``area_loglik`` (schema version 6; NULL when not known): the session's log-likelihood on the fixed θ grid
  :data:`LOGLIK_NODES`, little-endian float32, (1 + n_areas) rows of len(LOGLIK_NODES): first the whole test's
  (every scored item), then each listed area's own items' (0 where the area had none). Computed from the answers
  with the bank's item parameters (:class:`LikelihoodTable`) when the store holds the bank object (registered in
  this process) as the session is written; :func:`backfill_loglik` fills older rows from the stored answers. The
  programme report's per-area shares need them (docs/programme.md, Per area); where they are NULL it falls back to
  the area θ and SE.

One row per session with packed arrays, not one row per area: reading 1.6 million narrow rows through the Python
database drivers takes seconds on its own; 200,000 rows with their arrays joined into one buffer take a fraction
of that. :func:`read_scores` gives flat numpy arrays.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import DigicompError, StoreError

FLOAT = np.dtype("<f8")
INT = np.dtype("<i4")
BACKFILL_BATCH = 5_000
READ_BLOCK = 10_000
"""Rows of ``session_scores`` turned into arrays at a time by :func:`read_scores` (about 16 MB of row objects: a block
of 50,000 made the reading's memory, and its page faults, a third larger)."""

LOGLIK = np.dtype("<f4")
LOGLIK_NODES = np.linspace(-4.0, 4.0, 21)
"""The fixed θ grid of the stored log-likelihoods (0.4 apart: a few-item likelihood changes little between nodes, and
the report interpolates the log linearly; beyond ±4 it is held at the end values)."""

SCORES_COLUMNS = (
    "session_ref, n_areas, areas, area_theta, area_se, area_n_items, area_level, n_to_work_on, to_work_on, "
    "to_work_on_theta, area_loglik"
)
INSERT_SCORES = f"INSERT INTO session_scores ({SCORES_COLUMNS}) VALUES ({', '.join('?' * 11)})"
_INSERT_FROM_RESULT = f"INSERT INTO session_scores ({SCORES_COLUMNS.rpartition(',')[0]}) VALUES ({', '.join('?' * 10)})"
"""What :func:`backfill` writes: the columns of schema version 5, which it fills while migrating to it (the
log-likelihood column comes with version 6 and needs the bank: :func:`backfill_loglik`)."""


def _number(value: Any, where: str) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise StoreError(f"{where}: {value!r}: expected a number or null")
    return float(value)


def _entries(result: dict[str, Any], key: str, who: str) -> list[dict[str, Any]]:
    entries = result.get(key)
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise StoreError(f"{who}: result {key!r}: expected a list of objects, got {str(entries)[:80]}")
    return entries


def _json(values: list[Any]) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def scores_row(ref: int, session_id: str, result: dict[str, Any] | None, loglik: Any = None) -> tuple:
    """The ``session_scores`` row of one session from its result (no lists: zero areas and competences).

    ``loglik``: a :class:`LikelihoodTable` of the session's bank and the session's scored answers, as
    ``(table, [(item id, score), ...])``, to store the per-area log-likelihoods (None: NULL, not known).
    StoreError naming the session when a list is not a list of objects or a score is not a number.
    """
    who = f"session {session_id!r}"
    if result is not None and not isinstance(result, dict):
        raise StoreError(f"{who}: result: expected an object, got {type(result).__name__}")
    areas = _entries(result or {}, "areas", who)
    work = _entries(result or {}, "to_work_on", who)
    where = f"{who}: result 'areas'"
    theta = np.array([_number(e.get("theta"), f"{where} theta") for e in areas], FLOAT)
    se = np.array([_number(e.get("se"), f"{where} se") for e in areas], FLOAT)
    n_items = np.array([int(_number(e.get("n_items", 1), f"{where} n_items")) for e in areas], INT)
    w_theta = np.array([_number(e.get("theta"), f"{who}: result 'to_work_on' theta") for e in work], FLOAT)
    return (
        ref,
        len(areas),
        _json([e.get("area") for e in areas]),
        theta.tobytes(),
        se.tobytes(),
        n_items.tobytes(),
        _json([e.get("level") for e in areas]),
        len(work),
        _json([e.get("competence") for e in work]),
        w_theta.tobytes(),
        None if loglik is None else loglik[0].blob(loglik[1], [e.get("area") for e in areas]),
    )


class LikelihoodTable:
    """One bank version's item log-probabilities on :data:`LOGLIK_NODES` and its items' areas: what a session's
    stored log-likelihoods are computed from.

    ``bank``: an ItemBank. Unidimensional: its ``params.log_prob``, areas by the items' tags. Multidimensional with
    the areas as dimensions and simple structure (each item loading on one area; the MCAT bank): each item's curve
    in its own dimension, areas by dimension, so an area's row is its own items' likelihood of that area value, the
    factor of the joint likelihood that belongs to it; the first row then sums every item's curve on one common
    scale (the rest of the test as one dimension, as for a unidimensional test). StoreError for a multidimensional
    bank whose likelihood does not factor by area (a general dimension, cross-loadings): its rows stay NULL.
    """

    def __init__(self, bank: Any) -> None:
        dims = getattr(bank, "dims", None)
        if dims is None:
            log_prob = np.asarray(bank.params.log_prob(LOGLIK_NODES), float)  # (Q, J, K)
            self.area = np.asarray(bank.area_index, np.intp)
            self.areas = {code: k for k, code in enumerate(bank.areas)}
        else:
            log_prob, self.area, self.areas = _own_area_curves(bank, dims)
        self.table = np.ascontiguousarray(np.moveaxis(log_prob, 0, -1))  # (J, K, Q)
        self.position = {item: j for j, item in enumerate(bank.ids)}

    def blob(self, answers: list[tuple[str, int]], areas: list[Any]) -> bytes | None:
        """The packed ``area_loglik`` of a session with these scored ``answers`` ((item id, score), pretest items
        left out) and result ``areas`` (codes in the result's order); None when an answer is not in the bank or
        its score is not a category of the item (the row then falls back to θ and SE)."""
        try:
            j = np.array([self.position[item] for item, _ in answers], np.intp)
        except KeyError:
            return None
        score = np.array([sc for _, sc in answers], np.intp)
        if score.size and (score.min() < 0 or score.max() >= self.table.shape[1]):
            return None
        ll = self.table[j, score]  # (answers, Q)
        if not np.isfinite(ll).all():
            return None
        out = np.zeros((1 + len(areas), LOGLIK_NODES.size))
        out[0] = ll.sum(axis=0)
        item_area = self.area[j]
        for r, code in enumerate(areas):
            k = self.areas.get(code, -2)
            out[r + 1] = ll[item_area == k].sum(axis=0)
        return out.astype(LOGLIK).tobytes()


def _own_area_curves(bank: Any, dims: Any) -> tuple[NDArray[np.float64], NDArray[np.intp], dict[str, int]]:
    """(log-probabilities (Q, J, K) of each item in its own dimension, each item's dimension, {area code: dimension})
    of a multidimensional bank whose dimensions are areas and whose items each load on one (StoreError otherwise)."""
    from digicomp.models.multidim import own_dimension_log_prob

    if dims.general is not None:
        raise StoreError(
            f"bank {bank.id!r}: it has a general dimension, so an area's likelihood is not one-dimensional"
        )
    m = bank.mparams
    try:
        log_prob = own_dimension_log_prob(LOGLIK_NODES, m.a, m.intercepts, m.c, m.u, m.models, ids=bank.ids)
    except DigicompError as exc:
        raise StoreError(f"bank {bank.id!r}: {exc}") from None
    dim = np.argmax(np.asarray(m.a) != 0, axis=1).astype(np.intp)
    return np.asarray(log_prob, float), dim, {code: d for d, code in enumerate(dims.area) if code is not None}


LIKELIHOOD_TABLES: dict[str, LikelihoodTable] = {}
"""{bank fingerprint: table} of the banks registered in this process, shared by every store object (a service opens
one per connection of its pool and registers its banks on one of them)."""


def backfill_loglik(store: Any, cur: Any, tables: dict[str, LikelihoodTable]) -> int:
    """Fill ``area_loglik`` of every stored session of a bank in ``tables`` ({fingerprint: table}) whose row has
    none, from its stored answers (pretest items left out), in batches of sessions; returns how many rows got one.

    The stored answers are the ones the session was scored with, so this is the likelihood the session would have
    had written with it. Rows of other banks, and of sessions without stored answers, stay NULL (the report falls
    back to their area θ and SE).
    """
    done = 0
    for fp, table in tables.items():
        last = -1
        while True:
            cur.execute(
                store._sql(
                    "SELECT c.session_ref, c.areas FROM session_scores c JOIN sessions s ON s.ref = c.session_ref "
                    "WHERE s.bank_fingerprint = ? AND c.area_loglik IS NULL AND c.session_ref > ? "
                    "ORDER BY c.session_ref LIMIT ?"
                ),
                (fp, last, BACKFILL_BATCH),
            )
            batch = cur.fetchall()
            if not batch:
                break
            refs = [int(r[0]) for r in batch]
            marks = ", ".join("?" * len(refs))
            cur.execute(
                store._sql(
                    f"SELECT session_ref, item_id, score FROM responses WHERE session_ref IN ({marks}) "
                    "AND pretest = 0 ORDER BY session_ref, position"
                ),
                tuple(refs),
            )
            answers: dict[int, list[tuple[str, int]]] = {r: [] for r in refs}
            for ref, item, score in cur.fetchall():
                answers[int(ref)].append((item, int(score)))
            # a session without stored answers (written around the API) has nothing to re-score: it stays NULL
            rows = [
                (table.blob(answers[r], json.loads(areas)), r)
                for r, areas in zip(refs, (b[1] for b in batch))
                if answers[r]
            ]
            rows = [row for row in rows if row[0] is not None]
            if rows:
                cur.executemany(store._sql("UPDATE session_scores SET area_loglik = ? WHERE session_ref = ?"), rows)
            done += len(rows)
            last = refs[-1]
    return done


def backfill(store: Any, cur: Any) -> int:
    """Write the ``session_scores`` row of every stored session that has none, from its stored result JSON.

    Runs inside the schema migration to version 5 (``cur`` is the migration's cursor), in batches of sessions by
    ``ref``; also used after a bulk insert that bypassed :meth:`~digicomp.store.ResponseStore.write_many`.
    Returns how many rows were written. A stored result whose lists are malformed (which ``write_many`` refuses)
    gets empty lists and a warning naming the session, so an old store still opens.
    """
    done, last, malformed = 0, -1, []
    while True:
        cur.execute(
            store._sql(
                "SELECT s.ref, s.session_id, s.result FROM sessions s WHERE s.ref > ? AND NOT EXISTS "
                "(SELECT 1 FROM session_scores c WHERE c.session_ref = s.ref) ORDER BY s.ref LIMIT ?"
            ),
            (last, BACKFILL_BATCH),
        )
        batch = cur.fetchall()
        if not batch:
            _warn_malformed(malformed)
            return done
        rows = []
        for ref, session_id, text in batch:
            try:
                rows.append(scores_row(int(ref), session_id, None if text is None else json.loads(text))[:10])
            except (ValueError, StoreError) as exc:  # a stored session is not refused: its lists are left empty
                malformed.append(f"{session_id!r} ({exc})")
                rows.append(scores_row(int(ref), session_id, None)[:10])
        cur.executemany(store._sql(_INSERT_FROM_RESULT), rows)
        done += len(rows)
        last = int(batch[-1][0])


def _warn_malformed(malformed: list[str]) -> None:
    """Name the stored sessions whose result lists could not be read (a migration cannot refuse stored data)."""
    if malformed:
        warnings.warn(
            f"{len(malformed)} stored session(s) have a result whose per-area or 'to work on' list is malformed; "
            f"their scores are stored empty: {'; '.join(malformed[:5])}",
            stacklevel=3,
        )


@dataclass
class StoredLikelihoods:
    """Log-likelihoods on :data:`LOGLIK_NODES` stored with the sessions: ``rows`` (rows, Q) packed, of every session
    that has them; per area entry the row of its own items' (``own``) and of its session's whole test (``total``),
    -1 where none is stored. Nothing per entry is copied until :meth:`own_and_rest` picks some."""

    rows: NDArray[np.float32]
    own: NDArray[np.int64]
    total: NDArray[np.int64]

    def subset(self, keep: NDArray) -> StoredLikelihoods:
        """The same rows for the entries ``keep`` (a mask or positions)."""
        return StoredLikelihoods(self.rows, self.own[keep], self.total[keep])

    def own_and_rest(self, which: NDArray) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """(own, rest) log-likelihoods (k, Q) of the entries ``which``, each having them: the area's own items', and
        the rest of the test's (whole test − own)."""
        own_row, total_row = self.own[which], self.total[which]
        if np.any(own_row < 0):
            raise StoreError("session_scores: some of these entries have no stored log-likelihood")
        mine = self.rows[own_row]
        return mine, self.rows[total_row] - mine


class WithLikelihoods:
    """Entries that may carry :class:`StoredLikelihoods` in ``loglik`` (None: no session has them): the store's
    :class:`ScoreEntries` and the programme's entries placed on its sessions."""

    loglik: StoredLikelihoods | None
    code: NDArray[np.intp]

    def has_likelihood(self) -> NDArray[np.bool_]:
        """Which entries have their log-likelihoods stored."""
        if self.loglik is None:
            return np.zeros(self.code.size, bool)
        return self.loglik.own >= 0

    def likelihoods(self, which: NDArray) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """(own, rest) log-likelihoods (k, Q) of the entries ``which`` (a mask or positions), each having them."""
        if self.loglik is None:
            raise StoreError("session_scores: no log-likelihoods are stored for these entries")
        return self.loglik.own_and_rest(which)


@dataclass
class ScoreEntries(WithLikelihoods):
    """One list of every session's result, flattened: entry ``i`` belongs to session ``ref[i]``, its id is
    ``codes[code[i]]`` and its level ``levels[level[i]]``; "to work on" entries have SE NaN, 1 item and no level."""

    ref: NDArray[np.int64]
    code: NDArray[np.intp]
    codes: list[str]
    theta: NDArray[np.float64]
    se: NDArray[np.float64]
    n_items: NDArray[np.int64]
    level: NDArray[np.intp]
    levels: list[str | None]
    loglik: StoredLikelihoods | None = None
    """Area entries: their stored log-likelihoods (:class:`StoredLikelihoods`); None when no session has them."""


@dataclass
class SessionScores:
    """The ``session_scores`` of the sessions read: per-area scores and "to work on" entries as flat arrays, and
    ``refs``, every session that has its row (sessions with empty lists included)."""

    areas: ScoreEntries
    to_work_on: ScoreEntries
    refs: NDArray[np.int64]


def read_scores(store: Any, status: str | None = None) -> SessionScores:
    """Every stored session's scores (of one ``status``; None: every session) with one query, as
    :class:`SessionScores` (entries in no particular order of sessions).

    The rows are read in blocks and each block turned into arrays before the next is fetched, the log-likelihoods
    copied straight into one buffer sized by a first query: holding all rows as Python objects, then joining their
    blobs, took three times the memory, and on a machine whose page faults are dear most of the reading's time
    (docs/programme.md, Speed)."""
    where = " WHERE c.session_ref IN (SELECT ref FROM sessions WHERE status = ?)" if status else ""
    params = (status,) if status else ()
    length = "octet_length" if store.dialect == "postgresql" else "length"
    size = store._read(f"SELECT COALESCE(SUM({length}(c.area_loglik)), 0) FROM session_scores c{where}", params)
    reader = _ScoresReader(int(size[0][0]))
    for block in store.blocks(f"SELECT {SCORES_COLUMNS} FROM session_scores c{where}", params, READ_BLOCK):
        reader.add(block)
    return reader.result()


class _IdLists:
    """Each row's JSON list of ids, kept as the index of its distinct list (lists repeat: each is parsed once)."""

    def __init__(self) -> None:
        self.lists: dict[str, int] = {}
        self.which: list[NDArray[np.intp]] = []

    def add(self, texts: tuple[str, ...]) -> None:
        lists = self.lists
        for t in dict.fromkeys(texts):
            lists.setdefault(t, len(lists))
        self.which.append(np.fromiter(map(lists.__getitem__, texts), np.intp, len(texts)))

    def codes(self, counts: NDArray[np.int64], key: Any) -> tuple[list[Any], NDArray[np.intp]]:
        """Flat index of every entry, and the ids indexed; ``key`` turns an id into the dictionary's key (``str``,
        or None to keep ids as they are, None included). StoreError when a list's length is not its row's count."""
        which = np.concatenate(self.which) if self.which else np.zeros(0, np.intp)
        index: dict[Any, int] = {}
        keyed = key or (lambda c: c)
        parsed = [[index.setdefault(keyed(c), len(index)) for c in json.loads(t)] for t in self.lists]
        length = np.array([len(p) for p in parsed], np.int64)
        table = np.zeros((len(parsed), max(int(length.max(initial=0)), 1)), np.intp)
        for k, p in enumerate(parsed):
            table[k, : len(p)] = p
        if not np.array_equal(length[which], counts):
            raise StoreError("session_scores: the id lists disagree with their counts; the table is damaged")
        mask = np.arange(table.shape[1])[None, :] < length[which][:, None]
        return list(index), table[which][mask]


class _ScoresReader:
    """Blocks of ``session_scores`` rows (:data:`SCORES_COLUMNS`) gathered into the flat arrays of
    :class:`SessionScores`; the log-likelihood blobs go into one buffer of ``loglik_bytes`` (grown if more come)."""

    PARTS = {
        "ref": np.int64,
        "n_areas": np.int64,
        "n_work": np.int64,
        "theta": np.float64,
        "se": np.float64,
        "n_items": np.int64,
        "work_theta": np.float64,
    }
    """The per-block arrays kept, and their dtype (that of an empty result too)."""

    def __init__(self, loglik_bytes: int) -> None:
        self.parts: dict[str, list[NDArray]] = {name: [] for name in self.PARTS}
        self.areas, self.levels, self.work = _IdLists(), _IdLists(), _IdLists()
        self.has: list[NDArray[np.bool_]] = []
        self.loglik = np.empty(loglik_bytes, np.uint8)
        self.used = 0

    def add(self, rows: list[tuple]) -> None:
        cols = list(zip(*rows))
        n_a, n_w = np.array(cols[1], np.int64), np.array(cols[7], np.int64)
        block = {
            "ref": np.array(cols[0], np.int64),
            "n_areas": n_a,
            "n_work": n_w,
            "theta": _joined(cols[3], FLOAT, n_a),
            "se": _joined(cols[4], FLOAT, n_a),
            "n_items": _joined(cols[5], INT, n_a),
            "work_theta": _joined(cols[9], FLOAT, n_w),
        }
        for name, values in block.items():
            self.parts[name].append(values)
        self.areas.add(cols[2])
        self.levels.add(cols[6])
        self.work.add(cols[8])
        blobs = cols[10]
        has = np.fromiter(map(operator.is_not, blobs, itertools.repeat(None)), bool, len(blobs))
        self.has.append(has)
        if has.any():
            present = blobs if has.all() else [blobs[i] for i in np.flatnonzero(has)]
            self._keep(_bytes(present))

    def _keep(self, data: bytes) -> None:
        end = self.used + len(data)
        if end > self.loglik.size:  # rows written since the buffer was sized
            grown = np.empty(max(end, 2 * self.loglik.size), np.uint8)
            grown[: self.used] = self.loglik[: self.used]
            self.loglik = grown
        self.loglik[self.used : end] = np.frombuffer(data, np.uint8)
        self.used = end

    def result(self) -> SessionScores:
        ref, n_a, n_w, theta, se, items, w_theta = (
            np.concatenate(chunks) if chunks else np.zeros(0, self.PARTS[name]) for name, chunks in self.parts.items()
        )
        a_codes, a_code = self.areas.codes(n_a, str)
        levels, level = self.levels.codes(n_a, None)
        w_codes, w_code = self.work.codes(n_w, str)
        has = np.concatenate(self.has) if self.has else np.zeros(0, bool)
        areas = ScoreEntries(
            np.repeat(ref, n_a),
            a_code,
            a_codes,
            theta,
            se,
            items,
            level,
            levels,
            _logliks(self.loglik[: self.used].view(LOGLIK), has, n_a) if has.any() else None,
        )
        n_work = int(n_w.sum())
        work = ScoreEntries(
            np.repeat(ref, n_w),
            w_code,
            w_codes,
            w_theta,
            np.full(n_work, np.nan),
            np.ones(n_work, np.int64),
            np.zeros(n_work, np.intp),
            [None],
        )
        return SessionScores(areas, work, ref)


def _bytes(blobs: Any) -> bytes:
    """The blobs joined (a driver may give memoryview objects)."""
    try:
        return b"".join(blobs)
    except TypeError:
        return b"".join(bytes(b) for b in blobs)


def _logliks(packed: NDArray[np.float32], has: NDArray[np.bool_], counts: NDArray[np.int64]) -> StoredLikelihoods:
    """The stored log-likelihoods (``packed``: the blobs of the sessions that ``has``, in order) as
    :class:`StoredLikelihoods`. Nothing per entry is copied (1.6 million entries × 21 values twice took seconds)."""
    q = LOGLIK_NODES.size
    rows = counts[has] + 1
    if packed.size != rows.sum() * q:
        raise StoreError(f"session_scores: {packed.size} log-likelihood values for {int(rows.sum())} rows of {q}")
    own = np.full(int(counts.sum()), -1, np.int64)
    total = np.full_like(own, -1)
    entry_start = np.r_[0, np.cumsum(counts)[:-1]][has]  # first entry of each session with a likelihood
    blob_start = np.r_[0, np.cumsum(rows)[:-1]]  # its whole-test row in ``packed``
    n = counts[has]
    entry = np.repeat(entry_start, n) + _ranks(n)
    own[entry] = np.repeat(blob_start + 1, n) + _ranks(n)
    total[entry] = np.repeat(blob_start, n)
    return StoredLikelihoods(packed.reshape(-1, q), own, total)


def _ranks(counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """0, 1, ..., c − 1 for each count c, concatenated."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.r_[0, np.cumsum(counts)[:-1]], counts)


def _joined(blobs: tuple[Any, ...], dtype: np.dtype, counts: NDArray[np.int64]) -> NDArray:
    """The sessions' packed arrays as one native float64 / int64 array (StoreError when the lengths disagree)."""
    out = np.frombuffer(_bytes(blobs), dtype)
    if out.size != counts.sum():
        raise StoreError(f"session_scores: {out.size} packed values for {int(counts.sum())} entries: table damaged")
    return out.astype(np.float64 if dtype.kind == "f" else np.int64)
