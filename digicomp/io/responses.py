"""Reading response files: long CSV (``person,item,response``) or wide CSV (person id, one column per item).

The format is detected from the header (a long file has exactly the columns person, item, response in
any order) and can be forced. A cell is either a response code, a whole number 0..``MAX_CODE`` (``1`` or
``1.0``), or missing: empty, ``NA``, ``NaN`` or ``.`` (any case) means not administered. Anything else, a
negative code, ``inf``, ``1e30`` or text, is a :class:`ResponseError` naming the line, person and item:
no cell is silently read as missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import ResponseError
from digicomp.io.csvfile import read_csv_rows
from digicomp.responses import MAX_CODE, Responses

LONG_COLUMNS = ("person", "item", "response")
MISSING_CELLS = ("", "na", "nan", ".")
"""Cells (after trimming spaces, any case) that mean not administered."""


def detect_format(header: list[str]) -> str:
    """'long' when the header is person,item,response (any order), otherwise 'wide'."""
    return "long" if sorted(h.strip().lower() for h in header) == sorted(LONG_COLUMNS) else "wide"


def read_responses(source: Any, fmt: str = "auto", item_ids: list[str] | None = None) -> Responses:
    """Read a response CSV (path or text buffer) or a pandas DataFrame into :class:`Responses`.

    ``item_ids`` fixes the item order (e.g. a bank's), so unknown items become an error naming them.
    """
    if hasattr(source, "columns") and hasattr(source, "to_numpy"):
        return _from_frame(source, fmt, item_ids)
    rows, where = read_csv_rows(source, ResponseError, "response file")
    if len(rows) < 2:
        raise ResponseError(f"{where}: no responses (need a header and at least one row)")
    header = [h.strip() for h in rows[0][1]]
    fmt = detect_format(header) if fmt == "auto" else fmt
    if fmt not in ("long", "wide"):
        raise ResponseError(f"unknown response format {fmt!r}; expected 'long', 'wide' or 'auto'")
    lines = np.array([line for line, _ in rows[1:]])
    for line, r in rows[1:]:
        if len(r) != len(header):
            raise ResponseError(f"{where}:{line}: the row has {len(r)} fields, the header has {len(header)}")
    body = np.array([r for _, r in rows[1:]], dtype=str)
    body = np.char.strip(body)
    if fmt == "long":
        col = {h.lower(): k for k, h in enumerate(header)}
        missing_cols = [c for c in LONG_COLUMNS if c not in col]
        if missing_cols:
            raise ResponseError(
                f"{where}: a long response file needs the columns person, item, response; "
                f"missing {', '.join(missing_cols)}"
            )
        persons, items = body[:, col["person"]], body[:, col["item"]]
        for ids, what in ((persons, "person"), (items, "item")):
            if np.any(ids == ""):
                raise ResponseError(f"{where}:{lines[np.argmax(ids == '')]}: the {what} id is empty")
        values = parse_codes(
            body[:, col["response"]],
            lambda k: (lines[k], f"person {str(persons[k])!r}, item {str(items[k])!r}, column 'response'"),
            where,
        )
        keep = ~np.isnan(values)
        return Responses.from_long(persons[keep], items[keep], values[keep], item_ids=item_ids)
    persons = body[:, 0].tolist()
    if "" in persons:
        raise ResponseError(f"{where}:{lines[persons.index('')]}: the person id (first column) is empty")
    if len(set(persons)) != len(persons):
        dup = next(p for p in persons if persons.count(p) > 1)
        raise ResponseError(f"{where}: person {dup!r} appears on more than one row")
    items = header[1:]
    if not items:
        raise ResponseError(f"{where}: a wide response file needs item columns after the person column")
    _check_columns(items, where)
    data = parse_codes(body[:, 1:], lambda k: (lines[k[0]], f"person {persons[k[0]]!r}, column {items[k[1]]!r}"), where)
    if item_ids is not None:
        known = set(item_ids)
        unknown = [i for i in items if i not in known]
        if unknown:
            raise ResponseError(f"{where}: unknown item(s) {', '.join(unknown[:5])} (not in the item parameters)")
        full = np.full((len(persons), len(item_ids)), np.nan)
        pos = {i: k for k, i in enumerate(item_ids)}
        full[:, [pos[i] for i in items]] = data
        data, items = full, list(item_ids)
    return Responses.from_dense(data, person_ids=persons, item_ids=items)


def _check_columns(items: list[str], where: str) -> None:
    """Item columns of a wide file have ids, each once (a repeated column would hide one of the two)."""
    for k, item in enumerate(items):
        if item == "":
            raise ResponseError(f"{where}:1: column {k + 2} has no item id in the header")
    seen: dict[str, int] = {}
    for k, item in enumerate(items):
        if item in seen:
            raise ResponseError(
                f"{where}:1: item {item!r} has two columns ({seen[item] + 2} and {k + 2}); keep one column per item"
            )
        seen[item] = k


def parse_codes(cells: NDArray[np.str_], who: Any, where: str) -> NDArray[np.float64]:
    """Trimmed text cells → float codes with NaN for missing; ResponseError on the first cell that is neither.

    ``who(index)`` gives (line, "person 'p', column 'q'") of the cell at ``index`` (an int, or a tuple for 2-D cells).
    """
    lower = np.char.lower(cells)
    missing = np.isin(lower, MISSING_CELLS)
    parts = np.char.partition(cells, ".")
    head, dot, tail = parts[..., 0], parts[..., 1], parts[..., 2]
    whole = np.char.isdecimal(head) & ((dot == "") | (np.char.strip(tail, "0") == ""))
    short = np.char.str_len(head) <= len(str(MAX_CODE))
    good = missing | (whole & short)
    out = np.full(cells.shape, np.nan)
    out[good & ~missing] = head[good & ~missing].astype(float)
    bad = ~good | (out > MAX_CODE)
    if np.any(bad):
        index = np.argwhere(bad)[0]
        k = int(index[0]) if cells.ndim == 1 else tuple(int(i) for i in index)
        line, place = who(k)
        cell = str(cells[k])
        shown = repr(cell) if len(cell) <= 30 else f"{cell[:27]!r}... ({len(cell)} characters)"
        why = "negative; " if cell.startswith("-") and len(cell) > 1 else ""
        more = int(bad.sum()) - 1
        raise ResponseError(
            f"{where}:{line}: {place}: value {shown} is not a response code ({why}expected a "
            f"whole number 0..{MAX_CODE}, or an empty cell or NA for not administered)"
            + (f"; {more} more such cell{'s' if more != 1 else ''}" if more else "")
        )
    return out


def check_frame_codes(values: NDArray[np.float64], who: Any, where: str) -> None:
    """Numeric codes of a table: NaN or -1 (not administered) or whole numbers 0..MAX_CODE; else ResponseError."""
    with np.errstate(invalid="ignore"):
        ok = np.isnan(values) | (values == -1) | ((values >= 0) & (values <= MAX_CODE) & (values == np.round(values)))
    if not np.all(ok):
        index = np.argwhere(~ok)[0]
        k = int(index[0]) if values.ndim == 1 else tuple(int(i) for i in index)
        row, person, item = (str(x) for x in who(k))
        raise ResponseError(
            f"{where}: row {row}: person {person!r}, item {item!r}: {float(values[k])!r} is not a response code "
            f"(expected a whole number 0..{MAX_CODE}, or NaN / -1 for not administered)"
        )


def _from_frame(frame: Any, fmt: str, item_ids: list[str] | None) -> Responses:
    """Responses from a pandas DataFrame in long or wide form (NaN or -1 = not administered)."""
    cols = [str(c) for c in frame.columns]
    fmt = detect_format(cols) if fmt == "auto" else fmt
    if fmt not in ("long", "wide"):
        raise ResponseError(f"unknown response format {fmt!r}; expected 'long', 'wide' or 'auto'")
    lower = {c.lower(): c for c in cols}
    if fmt == "long" and any(c not in lower for c in LONG_COLUMNS):
        missing = ", ".join(c for c in LONG_COLUMNS if c not in lower)
        raise ResponseError(f"DataFrame: long responses need the columns person, item, response; missing {missing}")
    try:
        if fmt == "long":
            values = frame[lower["response"]].to_numpy(dtype=float)
        else:
            values = frame.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ResponseError(f"DataFrame: responses must be numbers ({exc})") from None
    if fmt == "long":
        persons = frame[lower["person"]].to_numpy()
        items = frame[lower["item"]].to_numpy()
        check_frame_codes(values, lambda k: (k + 1, persons[k], items[k]), "DataFrame")
        keep = ~np.isnan(values) & (values >= 0)
        return Responses.from_long(persons[keep], items[keep], values[keep], item_ids=item_ids)
    if len(set(cols)) != len(cols):
        dup = next(c for c in cols if cols.count(c) > 1)
        raise ResponseError(f"DataFrame: item {dup!r} has two columns; keep one column per item")
    person_ids = [str(i) for i in frame.index]
    check_frame_codes(values, lambda k: (k[0] + 1, person_ids[k[0]], cols[k[1]]), "DataFrame")
    return Responses.from_dense(values, person_ids=person_ids, item_ids=cols)
