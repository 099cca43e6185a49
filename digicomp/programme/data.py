"""The stored results a programme report needs, read once from the store into arrays.

Only finished sessions count. A person is their ``person_id`` (a session without one is a person of its own,
named by the session id). The per-area scores and "to work on" lists come from the store's ``session_scores`` side
table (:meth:`~digicomp.store.ResponseStore.session_scores`, written with each session), not from the result JSON.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.programme.errors import ProgrammeError
from digicomp.store.scores import ScoreEntries, StoredLikelihoods, WithLikelihoods


@dataclass
class Entries(WithLikelihoods):
    """Rows of a JSON list inside each result (areas or "to work on"): session row, code index, θ, SE, items, and
    the stored log-likelihoods (:class:`~digicomp.store.scores.StoredLikelihoods`; None: none stored)."""

    row: NDArray[np.intp]
    code: NDArray[np.intp]
    codes: list[str]
    theta: NDArray[np.float64]
    se: NDArray[np.float64]
    n_items: NDArray[np.int64]
    loglik: StoredLikelihoods | None = None

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
    scores: Future = field(repr=False, compare=False)
    """(areas, to work on) entries; a future, as they may still be being read (:func:`read_sessions_scores`)."""
    refs: tuple[NDArray[np.int64], NDArray[np.intp]] = field(repr=False, compare=False)
    """The sessions' store refs, sorted, and the session row of each: where the side table's entries go."""

    @property
    def areas(self) -> Entries:
        """Per-area results of every session (waits for them while another thread reads them)."""
        return self.scores.result()[0]

    @property
    def to_work_on(self) -> Entries:
        """The "to work on" competences of every session (waits as :attr:`areas` does)."""
        return self.scores.result()[1]

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


def _entries(found: ScoreEntries, refs: tuple[NDArray, NDArray]) -> Entries:
    """The store's flat entries of one list, placed on the session rows (``refs``: sorted refs, row of each)."""
    pos = np.searchsorted(refs[0], found.ref)
    pos = np.minimum(pos, max(refs[0].size - 1, 0))
    ok = refs[0][pos] == found.ref if refs[0].size else np.zeros(found.ref.size, bool)
    if not ok.all():  # not a finished session (or written after they were read): not in this report
        pos, found = pos[ok], _subset(found, ok)
    return Entries(
        refs[1][pos],
        found.code,
        list(found.codes),
        found.theta,
        found.se,
        found.n_items,
        found.loglik,
    )


def _subset(found: ScoreEntries, keep: NDArray[np.bool_]) -> ScoreEntries:
    return ScoreEntries(
        found.ref[keep],
        found.code[keep],
        found.codes,
        found.theta[keep],
        found.se[keep],
        found.n_items[keep],
        found.level[keep],
        found.levels,
        None if found.loglik is None else found.loglik.subset(keep),
    )


def fill_likelihoods(store: Any, sessions: Sessions, banks: Any = ()) -> int:
    """Back-fill the stored log-likelihoods of the sessions whose per-area entries have none, from their stored
    answers, with each session's bank found by fingerprint (bundled banks, then ``banks`` paths or ids); returns how
    many sessions got them. Sessions whose bank is not found keep none (their areas fall back to θ and SE)."""
    from digicomp.programme.scale import find_banks

    missing = ~sessions.areas.has_likelihood()
    if not missing.any():
        return 0
    rows = np.unique(sessions.areas.row[missing])
    fingerprints = {sessions.bank[r] for r in rows}
    found = find_banks(fingerprints, banks)
    return store.fill_likelihoods(found.values()) if found else 0


def read_sessions(store: Any, *, scores: bool = True) -> Sessions:
    """Every finished session of ``store`` with what the programme report uses.

    ``scores`` False: the per-area entries are left for :func:`read_sessions_scores`, so that one thread can read
    them while another starts the report on the sessions (the overall shares need none of them; the areas wait)."""
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
    sessions = Sessions(
        person_code=code[order],
        persons=[str(p) for p in persons],
        unit_of_session=[unit[i] for i in order],
        finished=finished[order],
        theta=theta_a,
        se=se_a,
        level=[level[i] for i in order],
        bank=[bank[i] for i in order],
        scores=Future(),
        refs=(ref_a[by_ref], by_ref),
    )
    if scores:
        read_sessions_scores(store, sessions)
    return sessions


def read_sessions_scores(store: Any, sessions: Sessions) -> None:
    """Read the per-area and "to work on" entries of ``sessions`` (read by :func:`read_sessions` from ``store``)
    into them; a failure is raised here and to every thread waiting for them, never left pending.

    Read after the sessions, so each session read has its side-table row (written in the same transaction); rows
    of sessions finished since are left out."""
    try:
        found = store.session_scores()  # every session's; those not among the sessions read are left out below
        sorted_refs, row_of = sessions.refs
        missing = ~np.isin(sorted_refs, found.refs)
        if missing.any():
            row = int(row_of[np.flatnonzero(missing)[0]])
            raise ProgrammeError(
                f"{store.url}: {int(missing.sum())} finished session(s), e.g. of person "
                f"{sessions.persons[sessions.person_code[row]]!r} at {sessions.finished[row]}, have no row in "
                "session_scores (written around the store's API?); store.fill_scores() writes them from the results"
            )
        sessions.scores.set_result((_entries(found.areas, sessions.refs), _entries(found.to_work_on, sessions.refs)))
    except BaseException as exc:
        sessions.scores.set_exception(exc)
        raise
