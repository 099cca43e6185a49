"""Writing a programme report: one CSV per table and report.json, into a folder."""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path

from digicomp.io.csvfile import write_csv
from digicomp.programme.build import ProgrammeReport
from digicomp.programme.errors import ProgrammeError

TABLES = ("units", "shares", "targets", "needs", "retests", "monthly")
FILE_NAMES = {"needs": "training_needs"}


def write_report(report: ProgrammeReport, out: str | PathLike[str]) -> list[Path]:
    """Write ``units.csv``, ``shares.csv``, ``targets.csv``, ``training_needs.csv``, ``retests.csv``,
    ``monthly.csv`` (each only when it has rows) and ``report.json`` into ``out``; returns the paths."""
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in TABLES:
            rows = getattr(report, name)
            if not rows:
                continue
            header = list(rows[0])
            path = folder / f"{FILE_NAMES.get(name, name)}.csv"
            written.append(write_csv(path, header, ([r.get(c) for c in header] for r in rows)))
        path = folder / "report.json"
        path.write_text(json.dumps(report.to_dict(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        written.append(path)
    except OSError as exc:
        raise ProgrammeError(f"{folder}: cannot write the report: {exc.strerror or exc}") from None
    return written
