"""The constraint model shared by fixed forms and shadow tests: count rows over the bank's items, enemies, fixings.

A spec's constraints become rows ``lo ≤ Σ_j m_rj x_j ≤ hi`` over binary item indicators ``x_j``, where ``m_r`` is
the 0/1 mask of the items the row counts; a ``"*"`` filter expands to one row per value. Each row remembers the
spec node it came from (``constraints[3]``), so a diagnosis can name the file line.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.assembly.errors import AssemblyError
from digicomp.assembly.spec import AssemblySpec, Problem, length_problems
from digicomp.io.yamlfile import LineMap, format_path, problem


@dataclass(frozen=True)
class Row:
    """One count constraint: ``lo ≤`` (items of ``mask`` in the test) ``≤ hi``; ``where`` is its spec node."""

    label: str
    mask: NDArray[np.bool_]
    lo: float
    hi: float
    where: tuple[str | int, ...]


def item_attributes(bank: Any) -> dict[str, tuple[list[str], NDArray[np.intp]]]:
    """Per attribute the values the bank has and each item's value position (-1 where an item has none).

    ``level_band`` is the band (of the bank's framework scale) holding the item's intended level; ``item_type``
    the item's kind (multiple_choice, short_answer, ...). A bank without a framework has no areas or competences.
    """
    J = bank.n_items
    none = np.full(J, -1, np.intp)
    out: dict[str, tuple[list[str], NDArray[np.intp]]] = {}
    framework = getattr(getattr(bank, "spec", None), "framework", None)
    if framework is not None:
        out["area"] = (list(bank.areas), np.asarray(bank.area_index, np.intp))
        out["competence"] = (list(bank.competences), np.asarray(bank.competence_index, np.intp))
        fw = bank.framework
        levels = np.asarray(bank.level)
        bands = [b.id for b in fw.bands]
        band_of = {int(lv): bands.index(fw.band_of(int(lv)).id) for lv in np.unique(levels) if lv > 0}
        out["level_band"] = (bands, np.array([band_of.get(int(lv), -1) for lv in levels], np.intp))
    else:
        out["area"], out["competence"], out["level_band"] = ([], none), ([], none), ([], none)
    kinds = sorted(set(bank.kind.tolist()))
    out["item_type"] = (kinds, np.array([kinds.index(k) for k in bank.kind.tolist()], np.intp))
    return out


@dataclass
class ConstraintModel:
    """Rows, fixings and enemies of one test of ``length`` items from a bank of ``n_items``.

    ``allowed`` (J,) False for excluded items; ``included`` bank positions every form must hold; ``enemies``
    (E, 2) pairs of allowed items never in one form. ``source``/``linemap`` locate rows in the spec file.
    """

    n_items: int
    length: int
    rows: list[Row]
    allowed: NDArray[np.bool_]
    included: NDArray[np.intp]
    enemies: NDArray[np.intp]
    ids: list[str]
    overlap_max: int | None = None
    max_forms: int | None = None
    source: str | None = None
    linemap: LineMap = field(default_factory=dict)

    @property
    def matrix(self) -> NDArray[np.float64]:
        """The rows' masks as a (R, J) 0/1 matrix."""
        if not self.rows:
            return np.zeros((0, self.n_items))
        return np.array([r.mask for r in self.rows], dtype=float)

    @property
    def lower(self) -> NDArray[np.float64]:
        """Lower bounds of the rows (R,)."""
        return np.array([r.lo for r in self.rows], dtype=float)

    @property
    def upper(self) -> NDArray[np.float64]:
        """Upper bounds of the rows (R,)."""
        return np.array([r.hi for r in self.rows], dtype=float)

    def locate(self, where: tuple[str | int, ...]) -> str:
        """``FILE:LINE: node`` of a spec node (just the node when the model was not read from a file)."""
        if self.source is None:
            return format_path(where) or "(spec)"
        return problem(self.source, self.linemap, where, "").rstrip(": ")

    def violations(self, tests: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Per test (rows of ``tests``, (n, J) bool) the number of rows, enemy pairs and exclusions it breaks."""
        tests = np.atleast_2d(tests)
        counts = tests.astype(float) @ self.matrix.T if self.rows else np.zeros((tests.shape[0], 0))
        bad = ((counts < self.lower - 1e-9) | (counts > self.upper + 1e-9)).sum(axis=1)
        if self.enemies.size:
            bad += (tests[:, self.enemies[:, 0]] & tests[:, self.enemies[:, 1]]).sum(axis=1)
        bad += (tests & ~self.allowed).sum(axis=1)
        bad += (~tests[:, self.included]).sum(axis=1) if self.included.size else 0
        return bad.astype(np.int64)

    def row_violations(self, tests: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Per row, how many of ``tests`` (n, J) break it (R,)."""
        counts = np.atleast_2d(tests).astype(float) @ self.matrix.T
        return ((counts < self.lower - 1e-9) | (counts > self.upper + 1e-9)).sum(axis=0).astype(np.int64)


def _expand(bank_attrs: dict, c: Any) -> tuple[list[tuple[str, NDArray[np.bool_]]], list[str]]:
    """(label, mask) per row of constraint ``c`` ("*" expanded) and the unknown values it names."""
    J = next(iter(bank_attrs.values()))[1].size
    axes: list[list[tuple[str, NDArray[np.bool_]]]] = []
    unknown: list[str] = []
    for attr, value in c.filters().items():
        names, index = bank_attrs[attr]
        if value == "*":
            if not names:
                unknown.append(f"{attr} '*': the bank has no {attr}s")
            axes.append([(f"{attr} {v}", index == k) for k, v in enumerate(names)])
            continue
        wanted = [value] if isinstance(value, str) else value
        missing = [v for v in wanted if v not in names]
        if missing:
            unknown.append(f"{attr} {missing} not in the bank (has: {', '.join(names) or 'none'})")
        mask = np.isin(index, [names.index(v) for v in wanted if v in names])
        axes.append([(f"{attr} {'/'.join(wanted)}", mask)])
    if not axes:
        return [("all items", np.ones(J, bool))], unknown
    rows = []
    for combo in itertools.product(*axes):
        label = ", ".join(lbl for lbl, _ in combo)
        mask = np.logical_and.reduce([m for _, m in combo])
        rows.append((label, mask))
    return rows, unknown


def spec_problems(bank: Any, spec: AssemblySpec, length: int | None = None) -> list[Problem]:
    """Every place ``spec`` does not fit ``bank`` (unknown values and items, limits the bank cannot fill), at once."""
    out: list[Problem] = list(length_problems(spec))
    attrs = item_attributes(bank)
    known = set(bank.ids)
    for k, item_id in enumerate(spec.include):
        if item_id not in known:
            out.append((("include", k), f"bank {bank.id!r} has no item {item_id!r}"))
    for k, item_id in enumerate(spec.exclude.ids):
        if item_id not in known:
            out.append((("exclude", "ids", k), f"bank {bank.id!r} has no item {item_id!r}"))
        elif item_id in spec.include:
            out.append((("exclude", "ids", k), f"item {item_id!r} is both included and excluded"))
    for k, kind in enumerate(spec.exclude.item_types):
        if kind not in attrs["item_type"][0]:
            out.append((("exclude", "item_types", k), f"bank {bank.id!r} has no items of type {kind!r}"))
    allowed = _allowed(bank, spec)
    for i, c in enumerate(spec.constraints):
        rows, unknown = _expand(attrs, c)
        for msg in unknown:
            out.append((("constraints", i), msg))
        if unknown:
            continue
        for label, mask in rows:
            have = int((mask & allowed).sum())
            if c.min is not None and have < c.min:
                out.append((("constraints", i, "min"), f"{label}: min = {c.min} but the bank has {have} usable items"))
    n = length if length is not None else spec.length
    if n is not None and int(allowed.sum()) < n:
        out.append((("length",), f"the bank has {int(allowed.sum())} usable items for a form of {n}"))
    return out


def _allowed(bank: Any, spec: AssemblySpec) -> NDArray[np.bool_]:
    """Items a form may use: not excluded by id, flag or type (unknown ids are problems, not errors here)."""
    allowed = np.ones(bank.n_items, bool)
    position = {i: j for j, i in enumerate(bank.ids)}
    for item_id in spec.exclude.ids:
        if item_id in position:
            allowed[position[item_id]] = False
    if spec.exclude.flags:
        flags = set(spec.exclude.flags)
        allowed &= ~np.array([bool(flags & set(it.flags or [])) for it in bank.spec.items], bool)
    if spec.exclude.item_types:
        allowed &= ~np.isin(bank.kind, spec.exclude.item_types)
    if not asks_for_rated_tasks(spec):  # a form that needs raters is a choice the spec states
        rated = bank.is_rated.copy()
        rated[[position[i] for i in spec.include if i in position]] = False
        allowed &= ~rated
    return allowed


def asks_for_rated_tasks(spec: AssemblySpec) -> bool:
    """True when a constraint names the item type ``rated_task`` (alone or in a list; ``"*"`` does not count)."""
    for c in spec.constraints:
        value = c.item_type
        if value == "rated_task" or (isinstance(value, list) and "rated_task" in value):
            return True
    return False


def build_model(
    bank: Any,
    spec: AssemblySpec,
    length: int | None = None,
    *,
    source: str | PathLike[str] | None = None,
    linemap: LineMap | None = None,
    enemy_pairs: NDArray[np.intp] | None = None,
) -> ConstraintModel:
    """The constraint model of ``spec`` on ``bank`` for tests of ``length`` items (default ``spec.length``).

    AssemblyError lists every problem (unknown areas or items, limits the bank cannot fill) with its file line
    when ``source`` and ``linemap`` are given. ``enemy_pairs`` overrides the bank's (when the caller has them).
    """
    length = spec.length if length is None else length
    where = str(source) if source is not None else None
    linemap = linemap or {}
    if length is None:
        raise AssemblyError(f"{where or 'spec'}: length: the spec gives no test length (and none was passed)")
    problems = spec_problems(bank, spec, length)
    if spec.length is not None and length != spec.length:
        problems.append((("length",), f"length = {spec.length} but the test has {length} items"))
    if problems:
        if where is None:
            raise AssemblyError("spec: " + "; ".join(f"{format_path(loc)}: {msg}" for loc, msg in problems))
        from digicomp.io.yamlfile import raise_problems

        raise_problems(AssemblyError, where, [problem(where, linemap, loc, msg) for loc, msg in problems])
    attrs = item_attributes(bank)
    rows = [Row("length", np.ones(bank.n_items, bool), length, length, ("length",))]
    for i, c in enumerate(spec.constraints):
        for label, mask in _expand(attrs, c)[0]:
            name = f"{c.name}: {label}" if c.name else label
            lo = 0 if c.min is None else c.min
            hi = length if c.max is None else c.max
            rows.append(Row(name, mask, lo, hi, ("constraints", i)))
    pairs = getattr(bank, "enemy_pairs", np.zeros((0, 2), np.intp)) if enemy_pairs is None else enemy_pairs
    pairs = np.asarray(pairs, np.intp).reshape(-1, 2) if spec.enemies else np.zeros((0, 2), np.intp)
    allowed = _allowed(bank, spec)
    pairs = pairs[allowed[pairs[:, 0]] & allowed[pairs[:, 1]]] if pairs.size else pairs
    included = np.array([bank.ids.index(i) for i in spec.include], np.intp)
    return ConstraintModel(
        n_items=bank.n_items,
        length=length,
        rows=rows,
        allowed=allowed,
        included=included,
        enemies=pairs,
        ids=list(bank.ids),
        overlap_max=spec.overlap.max if spec.overlap is not None else None,
        max_forms=spec.exposure.max_forms if spec.exposure is not None else None,
        source=where,
        linemap=linemap,
    )


def validate_file(path: str | PathLike[str]) -> list[str]:
    """Every problem of the assembly spec at ``path`` as ``FILE:LINE: node: message`` lines ([] when valid): the
    schema, and against its ``bank:`` (a bundled id, or a path from the spec's folder) when it names one."""
    from pathlib import Path

    from digicomp.assembly.spec import read_spec
    from digicomp.errors import DigicompError

    try:
        spec, linemap, problems = read_spec(path)
    except DigicompError as exc:
        return list(getattr(exc, "problems", [str(exc)]))
    if spec is None or spec.bank is None:
        return problems
    ref: str | Path = spec.bank
    if spec.bank.endswith((".yaml", ".yml")) or "/" in spec.bank:
        ref = Path(spec.bank) if Path(spec.bank).is_absolute() else Path(path).parent / spec.bank
    try:
        from digicomp.bank import load_bank

        bank = load_bank(ref)
    except DigicompError as exc:
        return problems + [problem(path, linemap, "bank", f"cannot load the bank: {exc}")]
    for loc, msg in spec_problems(bank, spec):
        line = problem(path, linemap, loc, msg)
        if line not in problems:
            problems.append(line)
    return problems
