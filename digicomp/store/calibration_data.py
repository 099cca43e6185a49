"""The responses of one bank version read from a store for the calibrator, with what a new bank's provenance says.

Only sessions of exactly that bank version (its fingerprint) and the statuses asked are read, up to the last session
row present when reading began; how many sessions other versions have is reported, never mixed in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from digicomp.errors import StoreError
from digicomp.responses import Responses
from digicomp.store.records import STATUSES


@dataclass
class StoredResponses:
    """Responses of one bank version read from a store, with what a new bank's provenance must say.

    ``responses`` rows are sessions (person ids are session ids), columns the items answered, in bank order;
    ``pretest_items`` were seeded (not scored) in those sessions. ``sessions_sha256`` hashes the sorted session
    ids used, ``max_ref`` is the last session row read (sessions written later are not included).
    """

    responses: Responses
    bank_fingerprint: str
    pretest_items: list[str]
    n_sessions: int
    n_responses: int
    statuses: tuple[str, ...]
    sessions_sha256: str
    max_ref: int
    first_written: str | None
    last_written: str | None
    other_versions: dict[str, int] = field(default_factory=dict)

    def provenance(self) -> dict[str, Any]:
        """Plain data: which sessions (count, hash, row range, write times) and how many responses."""
        return {
            "bank_fingerprint": self.bank_fingerprint,
            "statuses": list(self.statuses),
            "n_sessions": self.n_sessions,
            "n_responses": self.n_responses,
            "sessions_sha256": self.sessions_sha256,
            "max_session_ref": self.max_ref,
            "first_written": self.first_written,
            "last_written": self.last_written,
            "sessions_of_other_bank_versions": self.other_versions,
        }


def read_responses(store: Any, bank: Any, statuses: tuple[str, ...] = ("finished",)) -> StoredResponses:
    """Every response stored in ``store`` to ``bank`` (ItemBank or fingerprint) as :class:`Responses` for the
    calibrator. Only sessions of exactly this bank version and these statuses are read; how many sessions other
    bank versions have is reported in ``other_versions`` (they are not mixed in: their parameters differ).
    """
    fp = bank if isinstance(bank, str) else bank.fingerprint
    bad = [s for s in statuses if s not in STATUSES]
    if bad or not statuses:
        raise StoreError(f"statuses {statuses!r}: expected some of {', '.join(STATUSES)}")
    bank_items = store._bank_items(fp)
    if bank_items is None:
        raise StoreError(f"{store.url}: bank version {fp!r} is not registered in this store; nothing to read")
    where, params = _filters(fp, statuses)
    sessions = store._read(f"SELECT ref, session_id, written_at FROM sessions s{where} ORDER BY ref", params)
    if not sessions:
        raise StoreError(f"{store.url}: no {'/'.join(statuses)} sessions of bank version {fp!r}")
    refs = np.fromiter((r[0] for r in sessions), np.int64, len(sessions))
    max_ref = int(refs[-1])
    rows = store._read(
        f"SELECT r.session_ref, r.item_id, r.score, r.pretest FROM responses r "
        f"JOIN sessions s ON s.ref = r.session_ref{where} AND s.ref <= ?",
        (*params, max_ref),
    )
    order = _item_order(store, fp, bank)
    ref_col, item_col, score_col, pre_col = zip(*rows) if rows else ((), (), (), ())
    person = np.searchsorted(refs, np.fromiter(ref_col, np.int64, len(rows)))
    item_codes = np.fromiter((order[i] for i in item_col), np.intp, len(rows))
    used = np.flatnonzero(np.bincount(item_codes, minlength=len(order)))
    remap = np.full(len(order), -1, np.intp)
    remap[used] = np.arange(used.size)
    item = remap[item_codes]
    value = np.fromiter(score_col, np.int64, len(rows))
    sort = np.lexsort((item, person))
    ordered_ids = sorted(order, key=order.__getitem__)
    item_ids = [ordered_ids[j] for j in used]
    session_ids = [r[1] for r in sessions]
    resp = Responses(person[sort], item[sort], value[sort], len(sessions), used.size, session_ids, item_ids)
    pre_items = np.unique(item[np.fromiter(pre_col, np.int64, len(rows)) == 1])
    digest = hashlib.sha256("\n".join(sorted(session_ids)).encode("utf-8")).hexdigest()
    others = store._read(
        "SELECT bank_fingerprint, COUNT(*) FROM sessions WHERE bank_fingerprint <> ? GROUP BY bank_fingerprint",
        (fp,),
    )
    return StoredResponses(
        resp,
        fp,
        [item_ids[j] for j in pre_items],
        len(sessions),
        len(rows),
        tuple(statuses),
        digest,
        max_ref,
        sessions[0][2],
        max(r[2] for r in sessions),
        {r[0]: int(r[1]) for r in others},
    )


def _item_order(store: Any, fp: str, bank: Any) -> dict[str, int]:
    """Item id → position in the bank (its file order when an ItemBank is given, else sorted ids)."""
    ids = list(bank.ids) if not isinstance(bank, str) else sorted(store._bank_items(fp) or ())
    return {i: k for k, i in enumerate(ids)}


def _filters(fingerprint: str | None, statuses: tuple[str, ...] | None) -> tuple[str, tuple]:
    """A WHERE clause on the sessions alias ``s`` and its parameters."""
    clauses, params = [], []
    if fingerprint is not None:
        clauses.append("s.bank_fingerprint = ?")
        params.append(fingerprint)
    if statuses:
        clauses.append(f"s.status IN ({', '.join('?' * len(statuses))})")
        params += list(statuses)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)
