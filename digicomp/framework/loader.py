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
from digicomp.io.yamlfile import LineMap, load_yaml, problem, raise_problems, validate_model

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


def _parse(path: Path, model_cls: type[M]) -> tuple[M, LineMap]:
    """Load and schema-validate one document; FrameworkError listing every problem with its line."""
    data, linemap = load_yaml(path, FrameworkError)
    if isinstance(data, dict) and "kind" in data:
        expected = model_cls.model_fields["kind"].annotation.__args__[0]  # type: ignore[union-attr]
        if data["kind"] != expected:
            msg = f"this file is a {data['kind']!r}, expected {expected!r}"
            raise FrameworkError(problem(path, linemap, "kind", msg))
    return validate_model(model_cls, data, path, linemap, FrameworkError), linemap


def _raise_if(path: Path, linemap: LineMap, problems: list[Problem]) -> None:
    """Raise FrameworkError listing the cross-reference problems, if any."""
    if problems:
        raise_problems(FrameworkError, path, [problem(path, linemap, loc, msg) for loc, msg in problems])


def load_scale(id_or_path: PathOrId) -> LevelScale:
    """A level scale by bundled id (``digcomp-8``) or YAML path, fully validated."""
    path = _resolve(id_or_path, "scales")
    scale, linemap = _parse(path, LevelScale)
    _raise_if(path, linemap, scale_problems(scale))
    return scale


def load_framework(id_or_path: PathOrId) -> Framework:
    """A framework by bundled id (``vn-civil-service``) or YAML path, validated and bound to its level scale.

    The scale is ``level_scale``: a bundled scale id, or a YAML path relative to the framework file.
    """
    path = _resolve(id_or_path, None)
    fw, linemap = _parse(path, Framework)
    try:
        scale = load_scale(_resolve(fw.level_scale, "scales", path.parent))
    except FrameworkError as exc:
        msg = f"cannot load level scale: {exc}"
        raise FrameworkError(problem(path, linemap, "level_scale", msg)) from None
    _raise_if(path, linemap, framework_problems(fw, scale))
    fw._scale = scale
    return fw


def load_crosswalk(id_or_path: PathOrId, check: bool = True) -> Crosswalk:
    """A crosswalk by bundled id (``vn-tt02-2025--digcomp-2.2``) or YAML path.

    With ``check`` (default) both frameworks are loaded and every mapped code must exist in them.
    """
    path = _resolve(id_or_path, "crosswalks")
    cw, linemap = _parse(path, Crosswalk)
    codes: list[list[str] | None] = [None, None]
    if check:
        for i, (key, side) in enumerate((("from", cw.from_), ("to", cw.to))):
            try:
                fw = load_framework(_resolve(side.framework, None, path.parent))
            except FrameworkError as exc:
                msg = f"cannot load framework: {exc}"
                raise FrameworkError(problem(path, linemap, f"{key}.framework", msg)) from None
            if side.version is not None and side.version != fw.version:
                raise FrameworkError(
                    problem(
                        path,
                        linemap,
                        f"{key}.version",
                        f"crosswalk is for version {side.version!r} but {fw.id!r} is version {fw.version!r}",
                    )
                )
            codes[i] = fw.codes
    _raise_if(path, linemap, crosswalk_problems(cw, codes[0], codes[1]))
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
