"""Organisational units as a tree (province → department → commune/station) and the persons in them.

A unit file is a CSV ``unit,parent,name_vi,name_en[,headcount]`` (parent empty for a root); a person file is
``person,unit``. Both are checked whole: duplicate ids, a parent that is not a unit, a cycle, a person in an
unknown unit or listed twice raise :class:`ProgrammeError` naming the file and line. ``headcount`` (how many people
the unit itself holds, not counting its sub-units) lets the report correct for persons not yet assessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.io.csvfile import read_csv_rows
from digicomp.programme.errors import ProgrammeError

UNIT_COLUMNS = ("unit", "parent", "name_vi", "name_en")
UNASSIGNED = "(no unit)"
"""The group of persons whom no unit claims: reported as a unit of its own (a root), never dropped."""


@dataclass
class UnitTree:
    """Units in a forest: ids, parents (index or -1), names, own headcounts (-1: not given), depth-first order.

    ``order`` lists unit positions depth-first (each parent before its children, siblings by id), which is the
    order of the drill-down table. Index ``len(ids) - 1`` is :data:`UNASSIGNED` when :meth:`with_unassigned` added it.
    """

    ids: list[str]
    parent: NDArray[np.intp]
    name_vi: list[str]
    name_en: list[str]
    headcount: NDArray[np.int64]
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {u: i for i, u in enumerate(self.ids)}

    @property
    def n(self) -> int:
        """Number of units."""
        return len(self.ids)

    def name(self, i: int, lang: str = "vi") -> str:
        """The unit's name in ``lang`` (the other language's, or the id, when missing)."""
        first, second = (self.name_vi, self.name_en) if lang == "vi" else (self.name_en, self.name_vi)
        return first[i] or second[i] or self.ids[i]

    def depth(self) -> NDArray[np.intp]:
        """Depth of each unit (roots 0)."""
        out = np.zeros(self.n, np.intp)
        for i in self.order:
            p = self.parent[i]
            out[i] = 0 if p < 0 else out[p] + 1
        return out

    @property
    def order(self) -> list[int]:
        """Depth-first order, parents before children, siblings sorted by id."""
        children: dict[int, list[int]] = {}
        for i in sorted(range(self.n), key=self.ids.__getitem__):
            children.setdefault(int(self.parent[i]), []).append(i)
        out: list[int] = []
        stack = list(reversed(children.get(-1, [])))
        while stack:
            i = stack.pop()
            out.append(i)
            stack.extend(reversed(children.get(i, [])))
        return out

    def ancestors(self) -> NDArray[np.intp]:
        """(n, depth + 1): each unit's own index then its ancestors', padded with -1."""
        depth = self.depth()
        out = np.full((self.n, int(depth.max(initial=0)) + 1), -1, np.intp)
        out[:, 0] = np.arange(self.n)
        for level in range(1, out.shape[1]):
            prev = out[:, level - 1]
            out[:, level] = np.where(prev >= 0, self.parent[np.maximum(prev, 0)], -1)
        return out

    def subtree(self, unit: str) -> list[int]:
        """Positions of ``unit`` and everything below it (ProgrammeError for an unknown id)."""
        if unit not in self.index:
            raise ProgrammeError(f"unit {unit!r} is not in the unit tree (units: {', '.join(self.ids[:10])}...)")
        root = self.index[unit]
        anc = self.ancestors()
        return [i for i in self.order if (anc[i] == root).any()]

    def with_unassigned(self) -> UnitTree:
        """This tree plus the :data:`UNASSIGNED` root (for persons whom no unit claims)."""
        if UNASSIGNED in self.index:
            return self
        return UnitTree(
            [*self.ids, UNASSIGNED],
            np.append(self.parent, -1),
            [*self.name_vi, "(chưa gắn đơn vị)"],
            [*self.name_en, "(no unit)"],
            np.append(self.headcount, -1),
        )

    def to_rows(self) -> list[dict[str, Any]]:
        """Plain rows (as the store's ``put_units`` takes them), unassigned group left out."""
        return [
            {
                "unit": u,
                "parent": self.ids[self.parent[i]] if self.parent[i] >= 0 else None,
                "name_vi": self.name_vi[i] or None,
                "name_en": self.name_en[i] or None,
                "headcount": int(self.headcount[i]) if self.headcount[i] >= 0 else None,
            }
            for i, u in enumerate(self.ids)
            if u != UNASSIGNED
        ]

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]], where: str = "units", lines: list[int] | None = None) -> UnitTree:
        """A checked tree from rows with ``unit``, ``parent``, names and ``headcount`` (store or file)."""
        lines = lines or [0] * len(rows)

        def at(k: int) -> str:
            return f"{where}:{lines[k]}" if lines[k] else f"{where}: unit {rows[k]['unit']!r}"

        problems: list[str] = []
        first: dict[str, int] = {}
        for k, r in enumerate(rows):
            uid = r["unit"]
            if uid == UNASSIGNED:
                problems.append(f"{at(k)}: unit id {UNASSIGNED!r} is reserved for persons without a unit")
            if uid in first:
                problems.append(f"{at(k)}: unit {uid!r} is listed twice (first at line {lines[first[uid]]})")
            else:
                first[uid] = k
        for k, r in enumerate(rows):
            p = r.get("parent")
            if p and p not in first:
                problems.append(f"{at(k)}: unit {r['unit']!r}: parent {p!r} is not a unit of the file")
            elif p == r["unit"]:
                problems.append(f"{at(k)}: unit {p!r} is its own parent")
        if problems:
            raise ProgrammeError("\n".join(problems))
        ids = [r["unit"] for k, r in enumerate(rows) if first[r["unit"]] == k]
        index = {u: i for i, u in enumerate(ids)}
        parent = np.array([index[r["parent"]] if r.get("parent") else -1 for r in rows], np.intp)
        _check_cycles(ids, parent, [at(first[u]) for u in ids])
        head = np.array([-1 if r.get("headcount") is None else int(r["headcount"]) for r in rows], np.int64)
        return cls(ids, parent, [r.get("name_vi") or "" for r in rows], [r.get("name_en") or "" for r in rows], head)


def _check_cycles(ids: list[str], parent: NDArray[np.intp], where: list[str]) -> None:
    """ProgrammeError naming the line of a unit on a cycle of parents (such units would reach no root)."""
    state = np.zeros(len(ids), np.int8)  # 0 unseen, 1 on the current path, 2 reaches a root
    for start in range(len(ids)):
        path = []
        i = start
        while i >= 0 and state[i] == 0:
            state[i] = 1
            path.append(i)
            i = int(parent[i])
        if i >= 0 and state[i] == 1:
            cycle = path[path.index(i) :]
            names = " → ".join(ids[j] for j in [*cycle, i])
            raise ProgrammeError(f"{where[i]}: unit {ids[i]!r} is on a cycle of parents: {names}")
        state[path] = 2


def load_units(path: str | PathLike[str]) -> UnitTree:
    """The unit tree of a CSV file ``unit,parent,name_vi,name_en[,headcount]`` (header required)."""
    rows, where = read_csv_rows(path, ProgrammeError, "unit file")
    if not rows:
        raise ProgrammeError(f"{where}: the unit file is empty; expected a header {','.join(UNIT_COLUMNS)}")
    line, header = rows[0]
    header = [h.strip() for h in header]
    missing = [c for c in ("unit", "parent") if c not in header]
    unknown = [c for c in header if c not in (*UNIT_COLUMNS, "headcount")]
    if missing or unknown:
        raise ProgrammeError(
            f"{where}:{line}: header {','.join(header)}: "
            + (f"missing column {', '.join(missing)}; " if missing else "")
            + (f"unknown column {', '.join(unknown)}; " if unknown else "")
            + f"expected {','.join(UNIT_COLUMNS)}[,headcount]"
        )
    col = {c: header.index(c) for c in header}
    out, lines = [], []
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            raise ProgrammeError(f"{where}:{line}: {len(cells)} fields, the header has {len(header)}")
        row = {c: cells[col[c]].strip() for c in col}
        if not row["unit"]:
            raise ProgrammeError(f"{where}:{line}: empty unit id")
        head = row.get("headcount") or ""
        if head:
            if not head.isdigit():
                raise ProgrammeError(
                    f"{where}:{line}: unit {row['unit']!r}: headcount {head!r}: expected a whole number >= 0"
                )
            row["headcount"] = int(head)
        else:
            row["headcount"] = None
        out.append(row)
        lines.append(line)
    if not out:
        raise ProgrammeError(f"{where}: the unit file lists no unit")
    return UnitTree.from_rows(out, where, lines)


def load_persons(path: str | PathLike[str], tree: UnitTree) -> dict[str, str]:
    """{person: unit} from a CSV ``person,unit``; a unit not in ``tree`` or a person listed twice names the line."""
    rows, where = read_csv_rows(path, ProgrammeError, "person file")
    if not rows:
        raise ProgrammeError(f"{where}: the person file is empty; expected a header person,unit")
    line, header = rows[0]
    header = [h.strip() for h in header]
    if "person" not in header or "unit" not in header:
        raise ProgrammeError(f"{where}:{line}: header {','.join(header)}: expected columns person,unit")
    pc, uc = header.index("person"), header.index("unit")
    out: dict[str, str] = {}
    first: dict[str, int] = {}
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            raise ProgrammeError(f"{where}:{line}: {len(cells)} fields, the header has {len(header)}")
        person, unit = cells[pc].strip(), cells[uc].strip()
        if not person:
            raise ProgrammeError(f"{where}:{line}: empty person id")
        if unit not in tree.index or unit == UNASSIGNED:
            raise ProgrammeError(
                f"{where}:{line}: person {person!r} is in unit {unit!r}, which is not in the unit tree"
            )
        if person in first:
            raise ProgrammeError(f"{where}:{line}: person {person!r} is listed twice (first at line {first[person]})")
        first[person] = line
        out[person] = unit
    return out
