"""The few facts a bank needs from a framework (codes, areas, levels, bands), in one place.

Keeps the bank package's dependency on :mod:`digicomp.framework` to this module.
"""

from __future__ import annotations

from os import PathLike
from typing import Any

from digicomp.errors import BankError


def load(framework: Any) -> Any:
    """``framework`` itself when it is a loaded Framework, else the framework with that id or path."""
    if hasattr(framework, "codes") and hasattr(framework, "levels"):
        return framework
    if not isinstance(framework, (str, PathLike)):
        raise BankError(f"expected a Framework, a framework id or a path, got {type(framework).__name__}")
    from digicomp.framework import load_framework

    return load_framework(framework)


def identity(framework: Any) -> tuple[str, str]:
    """(id, version) of the framework."""
    return framework.id, framework.version


def competence_codes(framework: Any) -> set[str]:
    """Every competence code of the framework."""
    return set(framework.codes)


def area_of(framework: Any, code: str) -> str:
    """Code of the area holding competence ``code``; BankError when the framework lacks it."""
    try:
        return framework.competence(code).area
    except KeyError:
        raise BankError(f"competence {code!r} is not in framework {framework.id!r}") from None


def area_codes(framework: Any) -> list[str]:
    """Area codes of the framework, in framework order."""
    return [area.code for area in framework.areas]


def level_numbers(framework: Any) -> list[int]:
    """The level numbers of the framework's scale (1..8 for DigComp-style frameworks)."""
    return sorted(label.level for label in framework.levels)


def band_ids(framework: Any) -> list[str]:
    """Band ids of the framework's level scale, in order."""
    return [band.id for band in framework.bands]
