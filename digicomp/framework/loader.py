"""Load frameworks, level scales and crosswalks by bundled id or by path, validating everything at the edge.

Bundled files (package data, so this works from a wheel): ``frameworks/<id>.yaml``,
``frameworks/scales/<id>.yaml``, ``frameworks/crosswalks/<from>--<to>.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from digicomp.bundled import bundled_dir, bundled_path, list_bundled
from digicomp.errors import DigicompError, FrameworkError
from digicomp.framework.crosswalk import Crosswalk, crosswalk_problems
from digicomp.framework.model import Framework, framework_problems
from digicomp.framework.scale import LevelScale, scale_problems
from digicomp.framework.schema import Problem
from digicomp.io.yamlfile import (
    LineMap,
    Partial,
    error_lines,
    load_yaml,
    mentions,
    problem,
    raise_problems,
    validate_partial,
)

M = TypeVar("M", bound=BaseModel)
PathOrId = str | PathLike[str]


@dataclass(frozen=True)
class FrameworkInfo:
    """One line of the bundled-framework catalogue."""

    id: str
    version: str
    title_vi: str
    title_en: str
    status: str


def _is_path(ref: PathOrId) -> bool:
    """A reference is a path when it is a PathLike, has a YAML suffix, or contains a directory separator."""
    if isinstance(ref, PathLike):
        return True
    return ref.endswith((".yaml", ".yml")) or "/" in ref or "\\" in ref


def _bundled_sub(sub: str, ident: str) -> Path:
    """Path of ``frameworks/<sub>/<ident>.yaml`` inside the package; FrameworkError listing what exists."""
    folder = bundled_dir("frameworks").joinpath(sub)
    for suffix in (".yaml", ".yml"):
        entry = folder.joinpath(ident + suffix)
        if entry.is_file():
            return Path(str(entry))
    raise FrameworkError(f"no bundled {sub[:-1]} named {ident!r} (bundled: {', '.join(_list_sub(sub)) or 'none'})")


def _list_sub(sub: str) -> list[str]:
    """Ids of the YAML files in ``frameworks/<sub>/``."""
    folder = bundled_dir("frameworks").joinpath(sub)
    if not folder.is_dir():
        return []
    return sorted(e.name.rsplit(".", 1)[0] for e in folder.iterdir() if e.name.endswith((".yaml", ".yml")))


def _resolve(ref: PathOrId, sub: str | None, relative_to: Path | None = None) -> Path:
    """A path (made relative to ``relative_to`` when given) or a bundled id in ``frameworks/[sub/]``."""
    if _is_path(ref):
        path = Path(ref)
        return relative_to / path if relative_to is not None and not path.is_absolute() else path
    ident = str(ref)
    if sub is None:
        try:
            return bundled_path("frameworks", ident)
        except DigicompError as exc:  # keep the framework error class for callers
            raise FrameworkError(str(exc)) from None
    return _bundled_sub(sub, ident)


def _read(path: Path, model_cls: type[M]) -> tuple[M | None, LineMap, list[str], Partial]:
    """Load and schema-check one document: (model of the parts that passed or None, lines, problems, left out).

    Malformed YAML and a document of another kind raise FrameworkError at once; schema problems are returned,
    with the model built from the parts that passed (see :func:`validate_partial`) for the meaning checks.
    """
    data, linemap = load_yaml(path, FrameworkError)
    if isinstance(data, dict) and "kind" in data:
        expected = model_cls.model_fields["kind"].annotation.__args__[0]  # type: ignore[union-attr]
        if data["kind"] != expected:
            msg = f"this file is a {data['kind']!r}, expected {expected!r}"
            raise FrameworkError(problem(path, linemap, "kind", msg))
    found = validate_partial(model_cls, data)
    return found.model, linemap, error_lines(found.errors, path, linemap, model_cls, data), found


def _parse(path: Path, model_cls: type[M]) -> tuple[M, LineMap]:
    """Load and schema-validate one document; FrameworkError listing every problem with its line."""
    model, linemap, problems, _ = _read(path, model_cls)
    if problems or model is None:
        raise_problems(FrameworkError, path, problems)
    return model, linemap  # type: ignore[return-value]


def _finish(path: Path, linemap: LineMap, schema: list[str], partial: Partial, found: list[Problem]) -> None:
    """Raise FrameworkError listing the schema problems and the meaning problems together, if any.

    A meaning problem that names a part left out for its schema problems (an undefined source that was
    only badly written) is not repeated.
    """
    meaning = [
        problem(path, linemap, partial.relocate(loc), msg) for loc, msg in found if not mentions(msg, partial.dropped)
    ]
    if schema or meaning:
        raise_problems(FrameworkError, path, schema + meaning)


def load_scale(id_or_path: PathOrId) -> LevelScale:
    """A level scale by bundled id (``digcomp-8``) or YAML path, fully validated (every problem at once)."""
    path = _resolve(id_or_path, "scales")
    scale, linemap, schema, partial = _read(path, LevelScale)
    _finish(path, linemap, schema, partial, scale_problems(scale) if scale is not None else [])
    return scale  # type: ignore[return-value]


def load_framework(id_or_path: PathOrId) -> Framework:
    """A framework by bundled id (``vn-civil-service``) or YAML path, validated and bound to its level scale.

    The scale is ``level_scale``: a bundled scale id, or a YAML path relative to the framework file. Schema
    problems and meaning problems (sources, codes, levels) are reported together.
    """
    path = _resolve(id_or_path, None)
    fw, linemap, schema, partial = _read(path, Framework)
    if fw is None:
        raise_problems(FrameworkError, path, schema)
    try:
        scale = load_scale(_resolve(fw.level_scale, "scales", path.parent))
    except FrameworkError as exc:
        msg = f"cannot load level scale: {exc}"
        raise_problems(FrameworkError, path, [*schema, problem(path, linemap, "level_scale", msg)])
    _finish(path, linemap, schema, partial, framework_problems(fw, scale))
    fw._scale = scale
    return fw


def source_files(framework: PathOrId, level_scale: PathOrId) -> list[Path]:
    """The framework's file and its level scale's file, found as :func:`load_framework` finds them (``level_scale``:
    the framework's ``level_scale`` reference): what a value derived from the framework depends on."""
    path = _resolve(framework, None)
    return [path, _resolve(level_scale, "scales", path.parent)]


def load_crosswalk(id_or_path: PathOrId, check: bool = True) -> Crosswalk:
    """A crosswalk by bundled id (``vn-tt02-2025--digcomp-2.2``) or YAML path.

    With ``check`` (default) both frameworks are loaded and every mapped code must exist in them.
    """
    path = _resolve(id_or_path, "crosswalks")
    cw, linemap, schema, partial = _read(path, Crosswalk)
    if cw is None:
        raise_problems(FrameworkError, path, schema)
    codes: list[list[str] | None] = [None, None]
    if check:
        for i, (key, side) in enumerate((("from", cw.from_), ("to", cw.to))):
            try:
                fw = load_framework(_resolve(side.framework, None, path.parent))
            except FrameworkError as exc:
                msg = f"cannot load framework: {exc}"
                raise_problems(FrameworkError, path, [*schema, problem(path, linemap, f"{key}.framework", msg)])
            if side.version is not None and side.version != fw.version:
                msg = f"crosswalk is for version {side.version!r} but {fw.id!r} is version {fw.version!r}"
                raise_problems(FrameworkError, path, [*schema, problem(path, linemap, f"{key}.version", msg)])
            codes[i] = fw.codes
    _finish(path, linemap, schema, partial, crosswalk_problems(cw, codes[0], codes[1]))
    return cw


def find_crosswalk(from_id: str, to_id: str) -> Crosswalk:
    """The bundled crosswalk from ``from_id`` to ``to_id``, read backwards if only the reverse file exists."""
    bundled = set(list_crosswalks())
    if f"{from_id}--{to_id}" in bundled:
        return load_crosswalk(f"{from_id}--{to_id}")
    if f"{to_id}--{from_id}" in bundled:
        return load_crosswalk(f"{to_id}--{from_id}").reversed()
    known = ", ".join(sorted(bundled)) or "none"
    raise FrameworkError(f"no bundled crosswalk between {from_id!r} and {to_id!r} (bundled: {known})")


def list_frameworks() -> list[FrameworkInfo]:
    """Catalogue of the bundled frameworks (id, version, title, status), sorted by id."""
    out = []
    for ident in list_bundled("frameworks"):
        fw, _ = _parse(bundled_path("frameworks", ident), Framework)
        out.append(FrameworkInfo(fw.id, fw.version, fw.title.vi, fw.title.en, fw.status))
    return out


def list_scales() -> list[str]:
    """Ids of the bundled level scales."""
    return _list_sub("scales")


def list_crosswalks() -> list[str]:
    """Ids (``<from>--<to>``) of the bundled crosswalks."""
    return _list_sub("crosswalks")


def _validator(loader: Any):
    """Turn a loader into ``validate_file(path) -> list of problem lines`` (empty when valid)."""

    def validate_file(path: PathOrId) -> list[str]:
        try:
            loader(Path(path))
        except FrameworkError as exc:
            return list(getattr(exc, "problems", [str(exc)]))
        return []

    validate_file.__doc__ = f"Problems of the file as 'FILE:LINE: path: message' lines ({loader.__name__})."
    return validate_file


validate_framework_file = _validator(load_framework)
validate_scale_file = _validator(load_scale)
validate_crosswalk_file = _validator(load_crosswalk)
