"""Reading response files: long CSV (``person,item,response``) or wide CSV (person id, one column per item).

The format is detected from the header (a long file has exactly the columns person, item, response in
any order) and can be forced. Empty cells and ``NA`` mean not administered.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from digicomp.errors import ResponseError
from digicomp.responses import Responses

LONG_COLUMNS = ("person", "item", "response")
_MISSING = {"", "NA", "na", "NaN", "nan", "."}


def detect_format(header: list[str]) -> str:
    """'long' when the header is person,item,response (any order), otherwise 'wide'."""
    return "long" if sorted(h.strip().lower() for h in header) == sorted(LONG_COLUMNS) else "wide"


def read_responses(source: Any, fmt: str = "auto", item_ids: list[str] | None = None) -> Responses:
    """Read a response CSV (path or text buffer) or a pandas DataFrame into :class:`Responses`.

    ``item_ids`` fixes the item order (e.g. a bank's), so unknown items become an error naming them.
    """
    if hasattr(source, "columns") and hasattr(source, "to_numpy"):
        return _from_frame(source, fmt, item_ids)
    where = str(source)
    try:
        text = Path(source).read_text(encoding="utf-8-sig") if not hasattr(source, "read") else source.read()
    except OSError as exc:
        raise ResponseError(f"{where}: cannot read the response file ({exc.strerror})") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise ResponseError(f"{where}: no responses (need a header and at least one row)")
    header = [h.strip() for h in rows[0]]
    fmt = detect_format(header) if fmt == "auto" else fmt
    for n, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise ResponseError(f"{where}: line {n} has {len(r)} fields, the header has {len(header)}")
    body = np.array(rows[1:], dtype=str)
    if fmt == "long":
        col = {h.lower(): k for k, h in enumerate(header)}
        missing_cols = [c for c in LONG_COLUMNS if c not in col]
        if missing_cols:
            raise ResponseError(
                f"{where}: a long response file needs the columns person, item, response; "
                f"missing {', '.join(missing_cols)}"
            )
        values = _parse(body[:, col["response"]], where, "response")
        keep = ~np.isnan(values)
        return Responses.from_long(body[keep, col["person"]], body[keep, col["item"]], values[keep], item_ids=item_ids)
    if fmt != "wide":
        raise ResponseError(f"unknown response format {fmt!r}; expected 'long', 'wide' or 'auto'")
    persons = body[:, 0].tolist()
    if len(set(persons)) != len(persons):
        dup = next(p for p in persons if persons.count(p) > 1)
        raise ResponseError(f"{where}: person {dup!r} appears on more than one row")
    items = header[1:]
    data = np.column_stack([_parse(body[:, k + 1], where, items[k]) for k in range(len(items))]) if items else None
    if data is None:
        raise ResponseError(f"{where}: a wide response file needs item columns after the person column")
    if item_ids is not None:
        unknown = [i for i in items if i not in set(item_ids)]
        if unknown:
            raise ResponseError(f"{where}: unknown item(s) {', '.join(unknown[:5])} (not in the item parameters)")
        full = np.full((len(persons), len(item_ids)), np.nan)
        pos = {i: k for k, i in enumerate(item_ids)}
        full[:, [pos[i] for i in items]] = data
        data, items = full, list(item_ids)
    return Responses.from_dense(data, person_ids=persons, item_ids=items)


def _parse(cells: np.ndarray, where: str, what: str) -> np.ndarray:
    """Cells → floats with NaN for missing; a clear error names a cell that is not a number."""
    missing = np.isin(cells, list(_MISSING))
    out = np.full(cells.shape, np.nan)
    try:
        out[~missing] = cells[~missing].astype(float)
    except ValueError:
        bad = str(next(c for c in cells[~missing] if not _is_number(c)))
        raise ResponseError(f"{where}: column {what!r}: value {bad!r} is not a response code") from None
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _from_frame(frame: Any, fmt: str, item_ids: list[str] | None) -> Responses:
    cols = [str(c) for c in frame.columns]
    fmt = detect_format(cols) if fmt == "auto" else fmt
    if fmt == "long":
        lower = {c.lower(): c for c in cols}
        values = frame[lower["response"]].to_numpy(dtype=float)
        keep = ~np.isnan(values)
        return Responses.from_long(
            frame[lower["person"]].to_numpy()[keep],
            frame[lower["item"]].to_numpy()[keep],
            values[keep],
            item_ids=item_ids,
        )
    data = frame.to_numpy(dtype=float)
    return Responses.from_dense(data, person_ids=[str(i) for i in frame.index], item_ids=cols)
