"""The stored results a programme report needs, read once from the store into arrays.

Only finished sessions count. A person is their ``person_id`` (a session without one is a person of its own,
named by the session id). The per-area scores and "to work on" lists come from the store's ``session_scores`` side
table (:meth:`~digicomp.store.ResponseStore.session_scores`, written with each session), not from the result JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def read_sessions(store: Any) -> Sessions:
    """Every finished session of ``store`` with what the programme report uses."""
    sql = (
        "SELECT s.ref, COALESCE(s.person_id, s.session_id), s.unit, COALESCE(s.finished_at, s.written_at), s.theta, "
        "s.se, s.level, s.bank_fingerprint FROM sessions s WHERE s.status = 'finished'"
    )
    rows = list(store.stream(sql))
    scores = store.session_scores()  # every session's; those not among the finished rows read are left out below
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
    missing = ~np.isin(ref_a, scores.refs)
    if missing.any():
        i = int(order[np.flatnonzero(missing)[0]])
        raise ProgrammeError(
            f"{store.url}: {int(missing.sum())} finished session(s), e.g. of person {person[i]!r} at {fin[i]}, have no "
            "row in session_scores (written around the store's API?); store.fill_scores() writes them from the results"
        )
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
        areas=_entries(scores.areas, refs),
        to_work_on=_entries(scores.to_work_on, refs),
    )
