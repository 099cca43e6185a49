"""Q-matrix CSV files: which dimensions each item loads on, ``item,<dim1>,<dim2>,...`` with 0/1 cells.

Read at the edge into plain data ({item: {dimension: 0/1}}, dimension order as in the header) for
:mod:`digicomp.calibration.structure`. Refused with a ParameterError naming the file and line: a header without
``item`` first, a repeated or empty dimension name, a cell that is not 0 or 1, an item listed twice, an item row of
zeros, and (given ``known_items``) an item the responses do not have.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from digicomp.errors import ParameterError
from digicomp.io.csvfile import read_csv_rows


def read_q_matrix(source: Any, known_items: Collection[str] | None = None) -> dict[str, dict[str, int]]:
    """{item: {dimension: 0/1}} from a Q-matrix CSV (path or text buffer); dimensions in header order."""
    rows, where = read_csv_rows(source, ParameterError, "Q-matrix")
    if not rows:
        raise ParameterError(f"{where}: the Q-matrix is empty")
    line, header = rows[0]
    header = [h.strip() for h in header]
    if not header or header[0].lower() not in ("item", "id", "items"):
        raise ParameterError(f"{where}:{line}: the first column must be 'item' (then one column per dimension)")
    dims = header[1:]
    if not dims:
        raise ParameterError(f"{where}:{line}: no dimension columns after 'item'")
    for k, d in enumerate(dims):
        if not d:
            raise ParameterError(f"{where}:{line}: column {k + 2} has no dimension name")
        if dims.index(d) != k:
            raise ParameterError(f"{where}:{line}: dimension {d!r} appears twice")
    out: dict[str, dict[str, int]] = {}
    seen: dict[str, int] = {}
    known = None if known_items is None else set(known_items)
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            raise ParameterError(f"{where}:{line}: the row has {len(cells)} fields, the header has {len(header)}")
        item = cells[0].strip()
        if not item:
            raise ParameterError(f"{where}:{line}: the item id is empty")
        if item in seen:
            raise ParameterError(f"{where}:{line}: item {item!r} is listed twice (first on line {seen[item]})")
        if known is not None and item not in known:
            raise ParameterError(f"{where}:{line}: item {item!r} is not among the items of the responses")
        seen[item] = line
        row = {}
        for d, cell in zip(dims, cells[1:]):
            value = cell.strip()
            if value not in ("0", "1"):
                raise ParameterError(f"{where}:{line}: item {item!r}, dimension {d!r}: {value!r} is not 0 or 1")
            row[d] = int(value)
        if not any(row.values()):
            raise ParameterError(f"{where}:{line}: item {item!r} loads on no dimension (a row of zeros)")
        out[item] = row
    if not out:
        raise ParameterError(f"{where}: the Q-matrix has no item rows")
    return out
