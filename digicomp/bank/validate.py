"""Validation of an item bank against its framework: competences, levels and reporting bands exist.

``validate_file`` is what ``digicomp validate`` runs on a ``kind: item_bank`` file: schema, self-contained
checks (:mod:`digicomp.bank.checks`) and framework checks, every problem as ``FILE:LINE: path: message``.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import Any

from digicomp.bank import checks, dimensions, frameworkview
from digicomp.bank.itembank import ItemBank
from digicomp.bank.loader import check_bank_file, located, located_in_file
from digicomp.bank.schema import BankFile
from digicomp.errors import DigicompError
from digicomp.io.yamlfile import format_path


def framework_problems(spec: BankFile, framework: Any) -> list[checks.Problem]:
    """Items' competences and levels, and the scale's reporting levels, exist in ``framework``."""
    ref = spec.framework
    if ref is None:
        return [(("framework",), "the bank names no framework to validate against")]
    problems: list[checks.Problem] = []
    fw_id, fw_version = frameworkview.identity(framework)
    if ref.id != fw_id:
        problems.append((("framework", "id"), f"bank is tagged for framework {ref.id!r}, validated against {fw_id!r}"))
    if ref.version != fw_version:
        problems.append(
            (
                ("framework", "version"),
                f"bank is tagged for version {ref.version!r} of {ref.id!r}; the framework is version {fw_version!r}",
            )
        )
    codes = frameworkview.competence_codes(framework)
    levels = frameworkview.level_numbers(framework)
    for i, item in enumerate(spec.items):
        if item.competence is not None and item.competence not in codes:
            problems.append(
                (
                    ("items", i, "competence"),
                    f"item {item.id!r}: competence {item.competence!r} is not in framework {fw_id!r}",
                )
            )
        if item.level is not None and item.level not in levels:
            problems.append(
                (
                    ("items", i, "level"),
                    f"item {item.id!r}: level {item.level} is not on the framework's scale "
                    f"(levels {min(levels)}..{max(levels)})",
                )
            )
    bands = frameworkview.band_ids(framework)
    for j, level in enumerate(spec.scale.levels or []):
        if level not in bands:
            problems.append(
                (
                    ("scale", "levels", j),
                    f"reporting level {level!r} is not a band of the framework's scale ({', '.join(bands)})",
                )
            )
    reported = [lv for lv in spec.scale.levels or [] if lv in bands]
    if reported != sorted(reported, key=bands.index):
        problems.append((("scale", "levels"), f"reporting levels must follow the scale's order ({', '.join(bands)})"))
    return problems + dimensions.framework_problems(spec, framework)


def _framework_for(spec: BankFile, framework: Any) -> Any:
    """The given framework, or the bank's framework loaded by id (DigicompError if it cannot be found)."""
    if framework is not None:
        return frameworkview.load(framework)
    return frameworkview.load(spec.framework.id)


def validate_bank(bank: ItemBank, framework: Any = None) -> list[str]:
    """Problems of a loaded bank against its framework (or ``framework``: an object, id or path); [] if none."""
    where = str(bank.source) if bank.source else bank.id
    if bank.spec.framework is None:
        return []
    try:
        fw = _framework_for(bank.spec, framework if framework is not None else bank._framework)
    except DigicompError as exc:
        return [f"{where}: framework: {exc}"]
    return [f"{where}: {format_path(loc)}: {msg}" for loc, msg in framework_problems(bank.spec, fw)]


def validate_file(path: str | PathLike[str], framework: Any = None) -> list[str]:
    """Every problem of the bank file at ``path`` as ``FILE:LINE: path: message``; [] when it is valid.

    Schema problems and the meaning checks (ids, enemies, rules, parameters, framework) come in one list: the
    meaning checks run on the items that passed the schema, and a meaning problem that only names a part
    with a schema problem (an enemy whose item is malformed) is not repeated.
    """
    try:
        spec, linemap, problems, partial = check_bank_file(path)
    except DigicompError as exc:
        return list(getattr(exc, "problems", None) or [str(exc)])
    if spec is None:
        return problems

    found = checks.self_contained(spec) + checks.media_files(spec, Path(path).parent)
    problems = problems + located_in_file(path, linemap, partial, found)
    if spec.framework is not None or framework is not None:
        try:
            fw = _framework_for(spec, framework)
        except DigicompError as exc:
            return problems + located(path, linemap, [(("framework", "id"), f"cannot load the framework: {exc}")])
        problems += located_in_file(path, linemap, partial, framework_problems(spec, fw))
    return problems
