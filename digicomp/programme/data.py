"""The stored results a programme report needs, read once from the store into arrays (one row per session).

Only finished sessions count. A person is their ``person_id`` (a session without one is a person of its own,
named by the session id). Each person's unit is, in order: the person file, the store's person links, the unit the
latest session was taken in; persons still without a unit go to the :data:`~digicomp.programme.units.UNASSIGNED`
group. The per-area scores and "to work on" lists are cut out of the result JSON by the database (SQLite's
``json_extract``, PostgreSQL's ``->``), so the rest of each result is never parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.programme.errors import ProgrammeError


@dataclass
class Sessions:
    """Finished sessions as arrays, in the order (person, finished_at)."""

    person: list[str]
    person_code: NDArray[np.intp]
    unit_of_session: list[str | None]
    finished: NDArray[np.str_]
    """ISO 8601 timestamps (text sorts in time order)."""
    theta: NDArray[np.float64]
    se: NDArray[np.float64]
    level: list[str | None]
    bank: list[str]
    areas: list[str | None]
    """Each session's per-area results as JSON text (parsed on demand: only the latest sessions' are needed)."""
    to_work_on: list[str | None]
    persons: list[str] = field(default_factory=list)

    def area_list(self, row: int) -> list[dict[str, Any]]:
        """The per-area results of session ``row``."""
        text = self.areas[row]
        return json.loads(text) if text else []

    def parsed(self, column: str, rows: NDArray[np.intp]) -> list[list[dict[str, Any]]]:
        """``areas`` or ``to_work_on`` of sessions ``rows``, parsed in one call of the JSON decoder."""
        texts = getattr(self, column)
        return json.loads("[" + ",".join(texts[r] or "[]" for r in rows) + "]")

    def work_list(self, row: int) -> list[dict[str, Any]]:
        """The "to work on" entries of session ``row``."""
        text = self.to_work_on[row]
        return json.loads(text) if text else []

    @property
    def n(self) -> int:
        """Number of sessions."""
        return len(self.person)

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


def _json_parts(dialect: str) -> str:
    if dialect == "postgresql":
        return "(s.result::json)->>'areas', (s.result::json)->>'to_work_on'"
    return "json_extract(s.result, '$.areas'), json_extract(s.result, '$.to_work_on')"


def read_sessions(store: Any) -> Sessions:
    """Every finished session of ``store`` with what the programme report uses."""
    sql = (
        "SELECT COALESCE(s.person_id, s.session_id), s.unit, COALESCE(s.finished_at, s.written_at), s.theta, s.se, "
        f"s.level, s.bank_fingerprint, {_json_parts(store.dialect)} FROM sessions s WHERE s.status = 'finished'"
    )
    rows = list(store.stream(sql))
    if not rows:
        raise ProgrammeError(f"{store.url}: no finished session is stored; nothing to report")
    person, unit, fin, theta, se, level, bank, areas, work = zip(*rows)
    finished = np.asarray(fin, dtype=str)
    persons, code = np.unique(np.asarray(person, dtype=object).astype(str), return_inverse=True)
    order = np.lexsort((finished, code))
    theta_a = np.asarray(theta, float)[order]
    se_a = np.asarray([np.nan if s is None else s for s in se], float)[order]
    bad = ~(np.isfinite(theta_a) & np.isfinite(se_a) & (se_a > 0))
    if bad.any():
        i = int(order[np.flatnonzero(bad)[0]])
        raise ProgrammeError(
            f"{store.url}: finished session of person {person[i]!r} at {fin[i]} has theta {theta[i]!r} and se "
            f"{se[i]!r}; a finished session needs both (a positive SE)"
        )
    return Sessions(
        person=[person[i] for i in order],
        person_code=code[order],
        unit_of_session=[unit[i] for i in order],
        finished=finished[order],
        theta=theta_a,
        se=se_a,
        level=[level[i] for i in order],
        bank=[bank[i] for i in order],
        areas=[areas[i] for i in order],
        to_work_on=[work[i] for i in order],
        persons=[str(p) for p in persons],
    )
