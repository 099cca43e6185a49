"""CSV files at the edge: reading a path or text buffer into rows with their line numbers, and writing tables.

Reading refuses what is not a UTF-8 text CSV (invalid UTF-8, NUL bytes, a field longer than the csv module's
limit) with the caller's error class naming the file and line, never a ``UnicodeDecodeError`` or ``csv.Error``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from digicomp.errors import DigicompError


def read_csv_rows(
    source: Any, error_cls: type[DigicompError], what: str = "CSV file"
) -> tuple[list[tuple[int, list[str]]], str]:
    """(line, cells) of every non-blank row of a CSV path or text buffer, and the name to cite it by.

    ``line`` is the 1-based line where the row starts (quoted fields may span lines). ``what`` names the
    file in messages ("response file", "parameter table").
    """
    where = str(source)
    try:
        if hasattr(source, "read"):
            content = source.read()
        else:
            content = Path(source).read_bytes()
    except OSError as exc:
        raise error_cls(f"{where}: cannot read the {what} ({exc.strerror or exc})") from None
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = content.count(b"\n", 0, exc.start) + 1
            raise error_cls(
                f"{where}:{line}: the {what} is not UTF-8 text (byte {content[exc.start]:#04x} at offset {exc.start}); "
                "save it as UTF-8 CSV"
            ) from None
    elif not isinstance(content, str):
        raise error_cls(f"{where}: the {what} gave {type(content).__name__}, expected text")
    else:
        content = content.removeprefix("\ufeff")
    if "\x00" in content:
        line = content.count("\n", 0, content.index("\x00")) + 1
        raise error_cls(f"{where}:{line}: the {what} contains a NUL byte; it is not a text CSV file")
    reader = csv.reader(io.StringIO(content))
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise error_cls(f"{where}:{start}: the {what} cannot be read as CSV: {exc}") from None
    return rows, where


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """Write ``header`` then ``rows`` to ``path``; returns the path."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path
