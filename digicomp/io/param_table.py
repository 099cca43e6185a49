"""Item parameter tables in the column conventions of R mirt and catR, read and written as CSV.

mirt (``coef(mod, simplify = TRUE)$items``, slope-intercept, D = 1 inside mirt): dichotomous ``a1, d, g, u``;
graded ``a1, d1..dk``; generalized partial credit ``a1, d1..dk`` with scoring 0..K-1 (``ak*``/``d0``
columns, if present, must be mirt's defaults 0..K-1 and 0). catR (``a, b, c, d``, IRT form).
An ``item`` (or ``id``) column names the items; an ``itemtype`` (or ``model``) column selects the model
for polytomous rows (``graded`` or ``gpcm``; ``Rasch`` with ``d1..`` means the partial credit model).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from digicomp.errors import ParameterError
from digicomp.io.csvfile import read_csv_rows, write_csv
from digicomp.models import ItemParameters
from digicomp.models.names import TO_MIRT, model_name
from digicomp.models.parameters import DICHOTOMOUS_MODELS

MAX_SLOPE = 100.0
"""Largest slope a table may give, in logits per θ unit (mirt's a1 = D·a): beyond it an item is a step function."""
MAX_INTERCEPT = 500.0
"""Largest |intercept| (mirt's d, or D·a·b for each threshold): beyond it every probability is 0 or 1 to
hundreds of digits on any θ a person can have, so the parameters carry no information but can overflow."""
_MIRT_ONLY = ("a1", "g", "u")
_LINE = "\x00line"  # the file line of each row, kept beside the columns (CSV sources only)
_CATR_ONLY = ("a", "b", "c")


def _read_columns(source: Any) -> tuple[dict[str, list[str]], str]:
    """Columns of a CSV path, CSV text buffer, mapping of columns or pandas DataFrame, as strings."""
    if hasattr(source, "to_dict") and hasattr(source, "columns"):
        frame = source.reset_index() if "item" not in source.columns and source.index.name else source
        names = [str(c) for c in frame.columns]
        _check_unique(names, "table")
        return {
            str(k): ["" if v is None else str(v) for v in vals] for k, vals in frame.to_dict("list").items()
        }, "table"
    if isinstance(source, Mapping):
        return {str(k): [str(v) for v in np.atleast_1d(vals)] for k, vals in source.items()}, "table"
    rows, where = read_csv_rows(source, ParameterError, "parameter table")
    if not rows:
        raise ParameterError(f"{where}: the parameter table is empty")
    header = [h.strip() for h in rows[0][1]]
    if header and header[0] == "":
        header[0] = "item"  # R's write.csv puts the row names in an unnamed first column
    _check_unique(header, where)
    body = rows[1:]
    for line, r in body:
        if len(r) != len(header):
            raise ParameterError(f"{where}:{line}: the row has {len(r)} fields, the header has {len(header)}")
    cols = {h: [r[k].strip() for _, r in body] for k, h in enumerate(header)}
    cols[_LINE] = [str(line) for line, _ in body]
    return cols, where


def _check_unique(header: list[str], where: str) -> None:
    """Each column once (a repeated column would hide one of the two)."""
    seen: dict[str, int] = {}
    for k, name in enumerate(header):
        if name in seen:
            raise ParameterError(
                f"{where}:1: column {name!r} appears twice (columns {seen[name] + 1} and {k + 1}); keep one"
            )
        seen[name] = k


def _check_convention(cols: dict[str, list[str]], where: str, multidim: bool = False) -> None:
    """One column convention per table: mirt's (a1, d, g, u, d1..dk) or catR's (a, b, c, d), unidimensional."""
    mirt = [c for c in cols if c in _MIRT_ONLY or (c[:1] == "d" and c[1:].isdigit())]
    catr = [c for c in cols if c in _CATR_ONLY]
    if mirt and catr:
        raise ParameterError(
            f"{where}: columns {', '.join(mirt)} (mirt, slope-intercept) and {', '.join(catr)} (catR, a b c d) "
            "are two conventions; a table uses one of them"
        )
    extra_slopes = [c for c in cols if c[:1] == "a" and c[1:].isdigit() and c != "a1"]
    if extra_slopes and not multidim:
        raise ParameterError(
            f"{where}: columns {', '.join(extra_slopes)}: multidimensional slopes are not supported by "
            "read_param_table (unidimensional items, a1 only); read the table with read_multidim_param_table"
        )


KNOWN_COLUMNS = ("item", "id", "items", "itemtype", "model", "status", "a1", "d", "g", "u", "a", "b", "c")


def _check_known(cols: dict[str, list[str]], where: str) -> None:
    """Every column is one the conventions define (or a ``_se`` column beside one): a typo such as ``itemtyp``
    would otherwise be ignored and change how every row is read."""
    for name in cols:
        if name == _LINE:
            continue
        base = name.removesuffix("_se")
        if (
            base in KNOWN_COLUMNS
            or (base[:1] == "d" and base[1:].isdigit())
            or (base[:2] == "ak" and base[2:].isdigit())
        ):
            continue
        if base[:1] == "a" and base[1:].isdigit():
            continue  # multidimensional slopes: refused with their own message
        hint = difflib.get_close_matches(name, KNOWN_COLUMNS, n=1)
        raise ParameterError(
            f"{where}{':1' if _LINE in cols else ''}: unknown column {name!r}"
            + (f" (did you mean {hint[0]!r}?)" if hint else "")
            + f"; a table has {', '.join(KNOWN_COLUMNS)}, d1..dk (and mirt's ak0..akk, d0), or NAME_se"
        )


def _check_gpcm_scoring(cols: dict[str, list[str]], where: str, ids: list[str]) -> None:
    """mirt's gpcm scoring columns, where given, are its defaults (ak<k> = k, d0 = 0): others are not supported."""
    for name in cols:
        if name == "d0" or (name[:2] == "ak" and name[2:].isdigit()):
            default = 0.0 if name == "d0" else float(name[2:])
            values = _numbers(cols, name, where, ids)
            bad = np.flatnonzero(np.isfinite(values) & (values != default))
            if bad.size:
                raise ParameterError(
                    f"{where}: item {ids[int(bad[0])]!r}: column {name!r} = {values[bad[0]]:g}; only mirt's default "
                    f"gpcm scoring ({name} = {default:g}) is supported"
                )


def _check_asymptotes(models: list[str], lower: np.ndarray, upper: np.ndarray, where: str, ids: list[str]) -> None:
    """A model without a lower (upper) asymptote has c = 0 (d = 1): another value would be silently ignored."""
    for k, model in enumerate(models):
        if model in ("Rasch", "1PL", "2PL") and lower[k] != 0:
            raise ParameterError(
                f"{where}: item {ids[k]!r}: model {model} has no lower asymptote, got {lower[k]:g}; "
                "declare 3PL (or 4PL), or leave the guessing column empty"
            )
        if model in ("Rasch", "1PL", "2PL", "3PL") and upper[k] != 1:
            raise ParameterError(
                f"{where}: item {ids[k]!r}: model {model} has no upper asymptote, got {upper[k]:g}; "
                "declare 4PL, or leave the upper-asymptote column empty"
            )


def check_magnitudes(params: ItemParameters, where: str) -> None:
    """Refuse slopes above MAX_SLOPE and intercepts beyond ±MAX_INTERCEPT, naming the item (ParameterError)."""
    steep = np.flatnonzero(params.slope > MAX_SLOPE)
    if steep.size:
        j = int(steep[0])
        raise ParameterError(
            f"{where}: item {params.ids[j]!r}: slope D·a = {params.slope[j]:g} is above {MAX_SLOPE:g} "
            "logits per θ unit; such an item is a step function (check the file for a typo or a failed estimate)"
        )
    with np.errstate(invalid="ignore"):
        far = np.flatnonzero(np.nanmax(np.abs(params.intercepts), axis=1, initial=0.0) > MAX_INTERCEPT)
    if far.size:
        j = int(far[0])
        raise ParameterError(
            f"{where}: item {params.ids[j]!r}: an intercept (D·a·b or mirt's d) of "
            f"{np.nanmax(np.abs(params.intercepts[j])):g} is beyond ±{MAX_INTERCEPT:g}; its probabilities "
            "would be 0 or 1 for everyone (check b for a typo)"
        )


def _numbers(cols: dict[str, list[str]], name: str, where: str, ids: list[str]) -> np.ndarray:
    """Column ``name`` as floats (NaN for an empty or NA cell); ParameterError naming a cell that is not finite."""
    out = np.full(len(ids), np.nan)
    lines = cols.get(_LINE)
    for k, cell in enumerate(cols[name]):
        at = f"{where}:{lines[k]}" if lines else where
        if cell in ("", "NA", "NaN", "nan", "None"):
            continue
        try:
            out[k] = float(cell)
        except ValueError:
            shown = repr(cell) if len(cell) <= 30 else f"{cell[:27]!r}... ({len(cell)} characters)"
            raise ParameterError(f"{at}: item {ids[k]!r}: column {name!r} = {shown} is not a number") from None
        if not np.isfinite(out[k]):
            raise ParameterError(f"{at}: item {ids[k]!r}: column {name!r} = {cell!r} is not a finite number")
    return out


def read_param_table(source: Any, D: float = 1.0) -> ItemParameters:
    """Item parameters from a mirt-style or catR-style table (CSV path, mapping or DataFrame).

    mirt tables are slope-intercept; with a bank scaling constant D the file-form slope is a1 / D. A table
    mixing the two conventions, repeating a column, giving a model a parameter it does not have (a 2PL with
    g = 0.3) or parameters beyond MAX_SLOPE / MAX_INTERCEPT is refused with a ParameterError naming the item.
    """
    params = _read_param_table(source, D)
    check_magnitudes(params, _where(source))
    return params


def _where(source: Any) -> str:
    """How messages name a table: its path, or 'table' for a mapping or DataFrame."""
    return "table" if isinstance(source, Mapping) or hasattr(source, "columns") else str(source)


def _read_param_table(source: Any, D: float) -> ItemParameters:
    """The table's items, before the magnitude check."""
    cols, where = _read_columns(source)
    _check_convention(cols, where)
    _check_known(cols, where)
    n = len(next(iter(cols.values()), []))
    if n == 0:
        raise ParameterError(f"{where}: the parameter table has no rows")
    id_col = next((c for c in ("item", "id", "items") if c in cols), None)
    ids = cols[id_col] if id_col else [f"item{k + 1}" for k in range(n)]
    type_col = next((c for c in ("itemtype", "model") if c in cols), None)
    if "b" in cols and "a1" not in cols:
        a = _numbers(cols, "a", where, ids) if "a" in cols else np.ones(n)
        b = _numbers(cols, "b", where, ids)
        c = np.nan_to_num(_numbers(cols, "c", where, ids), nan=0.0) if "c" in cols else np.zeros(n)
        d = np.nan_to_num(_numbers(cols, "d", where, ids), nan=1.0) if "d" in cols else np.ones(n)
        models = [_model_name(cols[type_col][k], where, ids[k]) for k in range(n)] if type_col else None
        if models is not None:
            _check_asymptotes(models, c, d, where, ids)
        return ItemParameters.dichotomous(a, b, c, d, D=D, ids=ids, model=models)
    if "a1" not in cols:
        raise ParameterError(
            f"{where}: unrecognised parameter table; expected mirt columns (a1, d, g, u / a1, d1..dk) "
            f"or catR columns (a, b, c, d), found {', '.join(c for c in cols if c != _LINE)}"
        )
    a1 = _numbers(cols, "a1", where, ids)
    _check_gpcm_scoring(cols, where, ids)
    steps = sorted((c for c in cols if c[:1] == "d" and c[1:].isdigit() and c != "d0"), key=lambda c: int(c[1:]))
    missing = [f"d{k}" for k in range(1, len(steps) + 1) if f"d{k}" not in cols]
    if missing:
        raise ParameterError(f"{where}: threshold columns {', '.join(steps)} skip {', '.join(missing)}")
    poly = np.column_stack([_numbers(cols, c, where, ids) for c in steps]) if steps else np.full((n, 1), np.nan)
    dich_d = _numbers(cols, "d", where, ids) if "d" in cols else np.full(n, np.nan)
    g = _numbers(cols, "g", where, ids) if "g" in cols else np.full(n, np.nan)
    u = _numbers(cols, "u", where, ids) if "u" in cols else np.full(n, np.nan)
    models, width = [], max(poly.shape[1], 1)
    icpt = np.full((n, width), np.nan)
    for k in range(n):
        declared = _model_name(cols[type_col][k], where, ids[k]) if type_col else None
        has_poly = bool(np.any(np.isfinite(poly[k])))
        if has_poly:
            model = declared if declared in ("GRM", "GPCM", "PCM") else ("PCM" if declared == "Rasch" else "GRM")
            if declared in DICHOTOMOUS_MODELS and declared != "Rasch":
                raise ParameterError(f"{where}: item {ids[k]!r}: itemtype {declared} but columns d1..dk are filled")
            filled = np.isfinite(poly[k])
            count = int(filled.sum())
            if not filled[:count].all():
                gap = steps[int(np.argmin(filled))]
                raise ParameterError(
                    f"{where}: item {ids[k]!r}: column {gap!r} is empty but a later threshold is given; "
                    "fill d1..dk from d1 without gaps"
                )
            icpt[k, :count] = poly[k, :count]
        else:
            if not np.isfinite(dich_d[k]):
                raise ParameterError(f"{where}: item {ids[k]!r}: no intercept (column 'd' or 'd1..dk') is given")
            gk = 0.0 if not np.isfinite(g[k]) else g[k]
            uk = 1.0 if not np.isfinite(u[k]) else u[k]
            model = declared or ("4PL" if uk < 1 else "3PL" if gk > 0 else "2PL")
            icpt[k, 0] = dich_d[k]
            g[k], u[k] = gk, uk
        models.append(model)
    is_dich = np.array([m in DICHOTOMOUS_MODELS for m in models])
    _check_asymptotes([m if d else "" for m, d in zip(models, is_dich)], g, u, where, ids)
    lower = np.where(is_dich, g, 0.0)
    upper = np.where(is_dich, u, 1.0)
    return ItemParameters(models, a1, icpt, np.nan_to_num(lower), np.nan_to_num(upper, nan=1.0), D=D, ids=ids)


def _model_name(raw: str, where: str, ident: str) -> str:
    return model_name(raw, where=f"{where}: item {ident!r}: itemtype")


def param_table(params: ItemParameters, style: str = "mirt") -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of the parameter table in mirt or catR columns."""
    if style == "mirt":
        width = max(params.max_categories - 1, 1)
        poly = [f"d{k}" for k in range(1, width + 1)] if not params.is_dichotomous else []
        header = ["item", "itemtype", "a1", "d", "g", "u", *poly]
        rows = []
        for j in range(params.n_items):
            model = str(params.models[j])
            row: list[Any] = [params.ids[j], TO_MIRT[model], _num(params.slope[j])]
            if model in DICHOTOMOUS_MODELS:
                row += [_num(params.intercepts[j, 0]), _num(params.lower[j]), _num(params.upper[j])] + [""] * len(poly)
            else:
                k = int(params.n_categories[j]) - 1
                row += ["", "", ""] + [_num(v) for v in params.intercepts[j, :k]] + [""] * (len(poly) - k)
            rows.append(row)
        return header, rows
    if style == "catR":
        if not params.is_dichotomous:
            raise ParameterError("catR's a, b, c, d table holds dichotomous items only; use style='mirt'")
        header = ["item", "a", "b", "c", "d"]
        rows = [[r["id"], _num(r["a"]), _num(r["b"]), _num(r["c"]), _num(r["d"])] for r in params.to_file_form()]
        return header, rows
    raise ParameterError(f"unknown parameter-table style {style!r}; expected 'mirt' or 'catR'")


def write_param_table(params: ItemParameters, path: str | Path, style: str = "mirt") -> Path:
    """Write the parameter table as CSV in mirt or catR columns; returns the path."""
    return write_csv(path, *param_table(params, style))


def _num(x: float) -> str:
    return repr(float(x))


# ---------------------------------------------------------------------------------------------- multidimensional
@dataclass
class MultidimTable:
    """A multidimensional mirt table as arrays: slopes ``a`` (J, K), intercepts (J, W) NaN-padded (``d`` or
    ``d1..``), asymptotes ``c`` (mirt's g) and ``u``, model names, and the ``_se`` columns given (name -> (J,))."""

    ids: list[str]
    models: list[str]
    a: np.ndarray
    intercepts: np.ndarray
    c: np.ndarray
    u: np.ndarray
    se: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_dims(self) -> int:
        """Number of slope columns K."""
        return int(self.a.shape[1])


def _slope_columns(cols: dict[str, list[str]], where: str) -> list[str]:
    """a1..aK in order; a gap (a1, a3 without a2) is an error naming the missing column."""
    found = sorted((c for c in cols if c[:1] == "a" and c[1:].isdigit()), key=lambda c: int(c[1:]))
    if not found:
        raise ParameterError(f"{where}: no slope column (a1, a2, ...); a multidimensional mirt table has a1..aK")
    missing = [f"a{k}" for k in range(1, int(found[-1][1:]) + 1) if f"a{k}" not in cols]
    if missing:
        raise ParameterError(f"{where}:1: slope columns {', '.join(found)} skip {', '.join(missing)}")
    return found


def read_multidim_param_table(source: Any, n_dims: int | None = None) -> MultidimTable:
    """A mirt table with slope columns a1..aK (``coef(mod, simplify=TRUE)$items``) as multidimensional arrays.

    Columns: ``item``, optional ``itemtype``, ``a1..aK``, ``d`` (dichotomous) or ``d1..dm`` (graded / gpcm),
    ``g``, ``u`` and ``<col>_se``. With ``n_dims`` (a bank's dimensions) K must equal it. A column that cannot be
    used (unknown, a catR column, a gap in a1..aK or d1..dm, a parameter the item's model lacks) is a
    ParameterError naming the column and the file line.
    """
    cols, where = _read_columns(source)
    catr = [c for c in cols if c in _CATR_ONLY]
    if catr:
        raise ParameterError(
            f"{where}:1: column {catr[0]!r} is catR's (a, b, c, d); a multidimensional table uses mirt's "
            "slope-intercept columns a1..aK, d / d1..dm, g, u"
        )
    _check_known(cols, where)
    n = len(next(iter(cols.values()), []))
    if n == 0:
        raise ParameterError(f"{where}: the parameter table has no rows")
    lines = cols.get(_LINE)
    id_col = next((c for c in ("item", "id", "items") if c in cols), None)
    ids = cols[id_col] if id_col else [f"item{k + 1}" for k in range(n)]
    _check_unique_ids(ids, where, lines)
    type_col = next((c for c in ("itemtype", "model") if c in cols), None)
    slopes = _slope_columns(cols, where)
    K = len(slopes)
    if n_dims is not None and K != n_dims:
        raise ParameterError(f"{where}:1: the table has {K} slope columns (a1..a{K}); the bank has {n_dims} dimensions")
    _check_gpcm_scoring(cols, where, ids)
    a = np.column_stack([np.nan_to_num(_numbers(cols, c, where, ids), nan=0.0) for c in slopes])
    steps = sorted((c for c in cols if c[:1] == "d" and c[1:].isdigit() and c != "d0"), key=lambda c: int(c[1:]))
    gap = [f"d{k}" for k in range(1, len(steps) + 1) if f"d{k}" not in cols]
    if gap:
        raise ParameterError(f"{where}:1: intercept columns {', '.join(steps)} skip {', '.join(gap)}")
    poly = np.column_stack([_numbers(cols, c, where, ids) for c in steps]) if steps else np.full((n, 0), np.nan)
    dich_d = _numbers(cols, "d", where, ids) if "d" in cols else np.full(n, np.nan)
    g = _numbers(cols, "g", where, ids) if "g" in cols else np.full(n, np.nan)
    u = _numbers(cols, "u", where, ids) if "u" in cols else np.full(n, np.nan)
    width = max(poly.shape[1], 1)
    icpt = np.full((n, width), np.nan)
    models: list[str] = []
    for k in range(n):
        at = f"{where}:{lines[k]}" if lines else where
        declared = _model_name(cols[type_col][k], at, ids[k]) if type_col else None
        filled = np.isfinite(poly[k]) if poly.size else np.zeros(0, dtype=bool)
        if filled.any():
            count = int(filled.sum())
            if not filled[:count].all():
                raise ParameterError(
                    f"{at}: item {ids[k]!r}: column {steps[int(np.argmin(filled))]!r} is empty but a "
                    "later intercept is given; fill d1..dm from d1 without gaps"
                )
            if declared in DICHOTOMOUS_MODELS:
                raise ParameterError(f"{at}: item {ids[k]!r}: itemtype {declared} but columns d1..dm are filled")
            if np.isfinite(dich_d[k]) or np.isfinite(g[k]) or np.isfinite(u[k]):
                col = "d" if np.isfinite(dich_d[k]) else "g" if np.isfinite(g[k]) else "u"
                raise ParameterError(f"{at}: item {ids[k]!r}: column {col!r} is given for a polytomous item (d1..dm)")
            model = declared if declared in ("GRM", "GPCM") else "GRM"
            icpt[k, :count] = poly[k, :count]
        else:
            if not np.isfinite(dich_d[k]):
                raise ParameterError(f"{at}: item {ids[k]!r}: no intercept (column 'd' or 'd1..dm') is given")
            gk = 0.0 if not np.isfinite(g[k]) else g[k]
            uk = 1.0 if not np.isfinite(u[k]) else u[k]
            model = declared or ("4PL" if uk < 1 else "3PL" if gk > 0 else "2PL")
            if model in ("Rasch", "1PL", "PCM"):
                raise ParameterError(f"{at}: item {ids[k]!r}: itemtype {model} has no slope vector; use 2PL")
            icpt[k, 0] = dich_d[k]
            g[k], u[k] = gk, uk
        if not np.any(a[k] != 0):
            raise ParameterError(f"{at}: item {ids[k]!r}: every slope a1..a{K} is 0 (the item measures nothing)")
        models.append(model)
    dich = np.array([m in DICHOTOMOUS_MODELS for m in models])
    _check_asymptotes([m if d else "" for m, d in zip(models, dich)], g, u, where, ids)
    se = {}
    for name in cols:
        if name.endswith("_se"):
            se[name.removesuffix("_se")] = _numbers(cols, name, where, ids)
    c_arr = np.where(dich, np.nan_to_num(g), 0.0)
    u_arr = np.where(dich, np.nan_to_num(u, nan=1.0), 1.0)
    table = MultidimTable(list(ids), models, a, icpt, c_arr, u_arr, se)
    _check_multidim_magnitudes(table, where, lines)
    return table


def _check_unique_ids(ids: list[str], where: str, lines: list[str] | None) -> None:
    seen: dict[str, int] = {}
    for k, i in enumerate(ids):
        if i in seen:
            at = f"{where}:{lines[k]}" if lines else where
            raise ParameterError(f"{at}: item {i!r} appears twice (rows {seen[i] + 1} and {k + 1})")
        seen[i] = k


def _check_multidim_magnitudes(t: MultidimTable, where: str, lines: list[str] | None) -> None:
    """Slopes within ±MAX_SLOPE and intercepts within ±MAX_INTERCEPT, naming the item and line."""
    for name, arr, bound in (("slope", np.abs(t.a), MAX_SLOPE), ("intercept", np.abs(t.intercepts), MAX_INTERCEPT)):
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(np.nanmax(arr, axis=1, initial=0.0) > bound)
        if bad.size:
            k = int(bad[0])
            at = f"{where}:{lines[k]}" if lines else where
            raise ParameterError(
                f"{at}: item {t.ids[k]!r}: a {name} of {np.nanmax(arr[k]):g} is beyond ±{bound:g} "
                "(check the file for a typo or a failed estimate)"
            )


def multidim_param_table(
    ids: list[str],
    models: list[str],
    a: np.ndarray,
    intercepts: np.ndarray,
    c: np.ndarray,
    u: np.ndarray,
    se: dict[str, np.ndarray] | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of mirt's multidimensional table: item, itemtype, a1..aK, d, g, u (when some item is
    dichotomous), d1..dm (when some item is polytomous), then ``_se`` columns for the parameters in ``se`` (keys
    a1.., d, g, u, d1..; values (J,), NaN = not estimated)."""
    J, K = a.shape
    poly = any(m not in DICHOTOMOUS_MODELS for m in models)
    width = intercepts.shape[1] if poly else 0
    any_dich = any(m in DICHOTOMOUS_MODELS for m in models)
    cols = [f"a{k + 1}" for k in range(K)] + (["d", "g", "u"] if any_dich else []) + [f"d{k + 1}" for k in range(width)]
    se = se or {}
    se_cols = [c_ for c_ in cols if c_ in se]
    header = ["item", "itemtype", *cols, *[f"{c_}_se" for c_ in se_cols]]
    rows = []
    for j in range(J):
        dich = models[j] in DICHOTOMOUS_MODELS
        values: dict[str, float] = {f"a{k + 1}": a[j, k] for k in range(K)}
        if dich:
            values.update(d=intercepts[j, 0], g=c[j], u=u[j])
        else:
            values.update({f"d{k + 1}": intercepts[j, k] for k in range(width)})
        row: list[Any] = [ids[j], TO_MIRT.get(models[j], models[j])]
        row += [_cell(values.get(c_)) for c_ in cols]
        row += [_cell(se[c_][j]) if (c_ in values) else "" for c_ in se_cols]
        rows.append(row)
    return header, rows


def write_multidim_param_table(path: str | Path, *args: Any, **kwargs: Any) -> Path:
    """Write :func:`multidim_param_table` as CSV; returns the path."""
    return write_csv(path, *multidim_param_table(*args, **kwargs))


def _cell(x: float | None) -> str:
    return "" if x is None or not np.isfinite(x) else repr(float(x))
