"""Export of stored responses as a long CSV, one row per response, for other tools (R mirt, pandas, Excel).

The ``long`` layout is exactly ``person,item,response`` (person = session id), which ``digicomp calibrate`` and
``digicomp.io.read_responses`` read; ``full`` adds position, answer, seconds, the pretest flag and the session's
person id, bank, design, status and times.
"""

from __future__ import annotations

import csv
import json
from os import PathLike
from pathlib import Path
from typing import Any, TextIO

from digicomp.errors import StoreError
from digicomp.store.base import ResponseStore
from digicomp.store.calibration_data import _filters

LAYOUTS = {
    "long": ("person", "item", "response"),
    "full": (
        "person",
        "item",
        "response",
        "position",
        "answer",
        "seconds",
        "pretest",
        "person_id",
        "bank_fingerprint",
        "design_hash",
        "status",
        "started_at",
        "finished_at",
    ),
}
_SELECT = {
    "long": "s.session_id, r.item_id, r.score",
    "full": (
        "s.session_id, r.item_id, r.score, r.position, r.answer, r.seconds, r.pretest, s.person_id, "
        "s.bank_fingerprint, s.design_hash, s.status, s.started_at, s.finished_at"
    ),
}


def export_csv(
    store: ResponseStore,
    out: str | PathLike[str] | TextIO,
    *,
    layout: str = "long",
    bank_fingerprint: str | None = None,
    statuses: tuple[str, ...] | None = None,
) -> int:
    """Write the stored responses (optionally of one bank version and some statuses) to ``out``; returns rows.

    Rows are ordered by session (in the order stored) and position, streamed so the file may exceed memory.
    """
    if layout not in LAYOUTS:
        raise StoreError(f"layout {layout!r}: expected one of {', '.join(LAYOUTS)}")
    where, params = _filters(bank_fingerprint, statuses)
    sql = (
        f"SELECT {_SELECT[layout]} FROM responses r JOIN sessions s ON s.ref = r.session_ref{where} "
        "ORDER BY r.session_ref, r.position"
    )
    if isinstance(out, (str, PathLike)):
        try:
            with open(Path(out), "w", newline="", encoding="utf-8") as fh:
                return _write(store, fh, layout, sql, params)
        except OSError as exc:
            raise StoreError(f"{out}: cannot write the export ({exc.strerror})") from None
    return _write(store, out, layout, sql, params)


def _write(store: ResponseStore, fh: TextIO, layout: str, sql: str, params: tuple) -> int:
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(LAYOUTS[layout])
    n = 0
    for row in store.stream(sql, params):
        writer.writerow(row if layout == "long" else _full(row))
        n += 1
    return n


def _full(row: tuple) -> list[Any]:
    """A full-layout row: the answer as its plain value (JSON only for lists and objects), seconds blank if None."""
    out = list(row)
    answer = json.loads(out[4]) if out[4] is not None else None
    out[4] = "" if answer is None else answer if isinstance(answer, (str, int, float)) else json.dumps(answer)
    out[5] = "" if out[5] is None else out[5]
    return out
