"""The stored results a programme report needs, read once from the store into arrays.

Only finished sessions count. A person is their ``person_id`` (a session without one is a person of its own,
named by the session id). Only the per-area scores and "to work on" lists are taken from each result: PostgreSQL
flattens them into rows itself (``json_array_elements``); from SQLite the lists come as text, parsed in one call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.programme.errors import ProgrammeError


@dataclass
class Entries:
    """Rows of a JSON list inside each result (areas or "to work on"): session row, code index, θ, SE, items."""

    row: NDArray[np.intp]
    code: NDArray[np.intp]
    codes: list[str]
    theta: NDArray[np.float64]
    se: NDArray[np.float64]
    n_items: NDArray[np.int64]

    def of(self, rows: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        """Position of each entry's session among ``rows`` (sorted session rows) and which entries belong to them."""
        pos = np.searchsorted(rows, self.row)
        pos = np.minimum(pos, max(rows.size - 1, 0))
        return pos, (rows.size > 0) & (rows[pos] == self.row) if rows.size else np.zeros(self.row.size, bool)


@dataclass
class Sessions:
    """Finished sessions as arrays, in the order (person, finished_at)."""

    person_code: NDArray[np.intp]
    persons: list[str]
    unit_of_session: list[str | None]
    finished: NDArray[np.str_]
    """ISO 8601 timestamps (text sorts in time order)."""
    theta: NDArray[np.float64]
    se: NDArray[np.float64]
    level: list[str | None]
    bank: list[str]
    areas: Entries
    to_work_on: Entries

    @property
    def n(self) -> int:
        """Number of sessions."""
        return int(self.person_code.size)

    def latest(self, before: str | None = None) -> NDArray[np.intp]:
        """Row of each person's latest session (finished before ``before`` when given), persons in code order."""
        rows = np.arange(self.n)
        if before is not None:
            rows = rows[self.finished < before]
        codes = self.person_code[rows]
        last = np.flatnonzero(np.r_[codes[1:] != codes[:-1], True]) if rows.size else rows
        return rows[last]

    def first(self) -> NDArray[np.intp]:
        """Row of each person's first session."""
        codes = self.person_code
        return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if self.n else np.arange(0)


_FLAT = {
    "postgresql": (  # the result text is parsed once per session (LATERAL), not once per use
        "SELECT s.ref, e->>'{code}', (e->>'theta')::float8, {se}, {n} FROM sessions s "
        "CROSS JOIN LATERAL (SELECT (s.result::json)->'{key}' AS v) j "
        "CROSS JOIN LATERAL json_array_elements(CASE WHEN json_typeof(j.v) = 'array' THEN j.v ELSE '[]'::json END) e "
        "WHERE s.status = 'finished'"
    ),
}
_FIELDS = {
    "postgresql": {"se": "(e->>'se')::float8", "n": "COALESCE((e->>'n_items')::int, 1)"},
}


def _entries(store: Any, key: str, code: str, refs: tuple[NDArray, NDArray], with_se: bool) -> Entries:
    """The ``key`` list of every finished session's result as flat columns (see :class:`Entries`)."""
    if store.dialect == "postgresql":
        fields = _FIELDS["postgresql"] if with_se else {"se": "NULL", "n": "1"}
        rows = list(store.stream(_FLAT["postgresql"].format(key=key, code=code, **fields)))
        ref = [r[0] for r in rows]
        names, theta, se, n_items = ([r[i] for r in rows] for i in range(1, 5))
    else:
        # SQLite: cutting the list out as text and parsing all of it in one call of the JSON decoder is about
        # twice as fast as json_each with a json_extract per field
        texts = list(
            store.stream(
                f"SELECT s.ref, json_extract(s.result, '$.{key}') FROM sessions s WHERE s.status = 'finished' "
                f"AND json_type(s.result, '$.{key}') = 'array'"
            )
        )
        lists = json.loads("[" + ",".join(t for _, t in texts) + "]")
        ref = [r for (r, _), entries in zip(texts, lists) for _ in entries]
        flat = [e for entries in lists for e in entries]
        names = [e.get(code) for e in flat]
        theta = [e.get("theta") for e in flat]
        se = [e.get("se") for e in flat] if with_se else [None] * len(flat)
        n_items = [e.get("n_items", 1) for e in flat] if with_se else [1] * len(flat)
    if not ref:
        empty = np.zeros(0)
        return Entries(empty.astype(np.intp), empty.astype(np.intp), [], empty, empty, empty.astype(np.int64))
    index: dict[str, int] = {}
    code_a = np.fromiter((index.setdefault(str(c), len(index)) for c in names), np.intp, len(ref))
    theta_a = np.array([np.nan if t is None else t for t in theta], float)
    se_a = np.array([np.nan if x is None else x for x in se], float)
    n_a = np.array([1 if x is None else x for x in n_items], np.int64)
    row = np.searchsorted(refs[0], np.fromiter(ref, np.int64, len(ref)))
    return Entries(refs[1][row], code_a, list(index), theta_a, se_a, n_a)


def read_sessions(store: Any) -> Sessions:
    """Every finished session of ``store`` with what the programme report uses."""
    sql = (
        "SELECT s.ref, COALESCE(s.person_id, s.session_id), s.unit, COALESCE(s.finished_at, s.written_at), s.theta, "
        "s.se, s.level, s.bank_fingerprint FROM sessions s WHERE s.status = 'finished'"
    )
    rows = list(store.stream(sql))
    if not rows:
        raise ProgrammeError(f"{store.url}: no finished session is stored; nothing to report")
    ref, person, unit, fin, theta, se, level, bank = zip(*rows)
    finished = np.asarray(fin, dtype=str)
    persons, code = np.unique(np.asarray(person, dtype=object).astype(str), return_inverse=True)
    order = np.lexsort((finished, code))
    theta_a = np.asarray([np.nan if t is None else t for t in theta], float)[order]
    se_a = np.asarray([np.nan if s is None else s for s in se], float)[order]
    bad = ~(np.isfinite(theta_a) & np.isfinite(se_a) & (se_a > 0))
    if bad.any():
        i = int(order[np.flatnonzero(bad)[0]])
        raise ProgrammeError(
            f"{store.url}: finished session of person {person[i]!r} at {fin[i]} has theta {theta[i]!r} and se "
            f"{se[i]!r}; a finished session needs both (a positive SE)"
        )
    ref_a = np.fromiter(ref, np.int64, len(rows))[order]
    by_ref = np.argsort(ref_a)
    refs = (ref_a[by_ref], by_ref)  # sorted refs and the session row of each
    return Sessions(
        person_code=code[order],
        persons=[str(p) for p in persons],
        unit_of_session=[unit[i] for i in order],
        finished=finished[order],
        theta=theta_a,
        se=se_a,
        level=[level[i] for i in order],
        bank=[bank[i] for i in order],
        areas=_entries(store, "areas", "area", refs, True),
        to_work_on=_entries(store, "to_work_on", "competence", refs, False),
    )
