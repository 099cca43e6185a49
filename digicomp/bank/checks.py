"""Whole-bank checks that need no framework: unique ids, enemies, described rules, parameter ranges, text form.

Each check returns ``(location, message)`` pairs, the location being a node path in the bank file
(``("items", 12, "enemies", 0)``) so that callers can add the file name and line.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from os import PathLike
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from digicomp.bank import dimensions
from digicomp.bank.formats import format_problems
from digicomp.bank.schema import BankFile, Item, Option, Text
from digicomp.errors import ParameterError
from digicomp.io.param_table import MAX_INTERCEPT, MAX_SLOPE
from digicomp.models import ItemParameters

Problem = tuple[tuple[str | int, ...], str]


def file_form_records(items: list[Item]) -> list[dict[str, Any]]:
    """Parameter records {"id", "model", "a", "b", "c", "d"} of ``items`` for ItemParameters.from_file_form."""
    return [
        {"id": it.id, "model": it.model, **{k: v for k, v in it.params.model_dump().items() if v is not None}}
        for it in items
    ]


def unique_ids(bank: BankFile) -> list[Problem]:
    """Every item id occurs once."""
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for i, item in enumerate(bank.items):
        if item.id in first:
            problems.append((("items", i, "id"), f"duplicate item id {item.id!r} (first at items[{first[item.id]}])"))
        else:
            first[item.id] = i
    return problems


def enemies(bank: BankFile) -> list[Problem]:
    """Enemies name other items of the bank, once each (the relation is symmetric; one side suffices)."""
    known = {item.id for item in bank.items}
    problems: list[Problem] = []
    for i, item in enumerate(bank.items):
        counts = Counter(item.enemies or [])
        for j, other in enumerate(item.enemies or []):
            loc = ("items", i, "enemies", j)
            if other == item.id:
                problems.append((loc, f"item {item.id!r} lists itself as an enemy"))
            elif other not in known:
                problems.append((loc, f"item {item.id!r}: enemy {other!r} is not an item of this bank"))
            elif counts[other] > 1 and (item.enemies or []).index(other) != j:
                problems.append((loc, f"item {item.id!r}: enemy {other!r} is listed twice"))
    return problems


def rules_described(bank: BankFile) -> list[Problem]:
    """Every provisional rule an item cites is described in the bank's ``rules`` (honest provenance)."""
    described = set(bank.rules or {})
    problems: list[Problem] = []
    for i, item in enumerate(bank.items):
        rule = getattr(item.calibration, "rule", None)
        if item.calibration.status == "provisional" and rule not in described:
            problems.append(
                (("items", i, "calibration", "rule"), f"item {item.id!r}: rule {rule!r} is not described in 'rules'")
            )
    cut_rule = bank.scale.cut_source.rule if bank.scale.cut_source else None
    if cut_rule is not None and cut_rule not in described:
        problems.append((("scale", "cut_source", "rule"), f"rule {cut_rule!r} is not described in 'rules'"))
    return problems


def parameters(bank: BankFile) -> list[Problem]:
    """Parameters in range for their model (the checks of digicomp.models) and of a sane size, per bad item.

    Items with slope vectors are checked by :func:`digicomp.bank.dimensions.problems`."""
    keep = [i for i, item in enumerate(bank.items) if not item.params.multidimensional]
    if not keep:
        return []
    records = file_form_records([bank.items[i] for i in keep])
    try:
        params = ItemParameters.from_file_form(records, D=bank.scale.D)
    except ParameterError:
        params = None
    if params is not None:
        return [(("items", keep[loc[1]], *loc[2:]), msg) for loc, msg in magnitudes(params)]
    problems: list[Problem] = []
    for i, rec in zip(keep, records):
        try:
            one = ItemParameters.from_file_form([rec], D=bank.scale.D)
        except ParameterError as exc:
            problems.append((("items", i, "params"), str(exc)))
        else:
            problems += [(("items", i, *loc[2:]), msg) for loc, msg in magnitudes(one)]
    return problems


def magnitudes(params: ItemParameters) -> list[Problem]:
    """Slopes up to MAX_SLOPE and intercepts within ±MAX_INTERCEPT (see :mod:`digicomp.io.param_table`)."""
    problems: list[Problem] = []
    with np.errstate(invalid="ignore"):
        far = np.nanmax(np.abs(params.intercepts), axis=1, initial=0.0)
    for j in np.flatnonzero((params.slope > MAX_SLOPE) | (far > MAX_INTERCEPT)):
        ident = params.ids[j]
        if params.slope[j] > MAX_SLOPE:
            problems.append(
                (
                    ("items", int(j), "params", "a"),
                    f"item {ident!r}: slope D·a = {params.slope[j]:g} is above {MAX_SLOPE:g} logits per θ unit "
                    "(a step function; check for a typo or a failed estimate)",
                )
            )
        else:
            problems.append(
                (
                    ("items", int(j), "params", "b"),
                    f"item {ident!r}: D·a·b = {far[j]:g} is beyond ±{MAX_INTERCEPT:g}; its probabilities would be "
                    "0 or 1 for everyone (check b for a typo)",
                )
            )
    return problems


def _texts(value: Any, loc: tuple[str | int, ...]):
    """Yield (location, string) for every human-facing string inside ``value``."""
    if isinstance(value, (Text, Option)):
        for lang, text in value.model_dump().items():
            if lang != "id" and isinstance(text, str):
                yield loc + (lang,), text
    elif isinstance(value, list):
        for j, v in enumerate(value):
            yield from _texts(v, loc + (j,))


def normalized_text(bank: BankFile) -> list[Problem]:
    """Texts are Unicode NFC: decomposed Vietnamese diacritics look the same but break search and hashing."""
    problems: list[Problem] = []
    for i, item in enumerate(bank.items):
        for field in ("stem", "options", "categories", "premises", "choices", "explanation"):
            for loc, text in _texts(getattr(item, field), ("items", i, field)):
                if unicodedata.normalize("NFC", text) != text:
                    problems.append((loc, f"item {item.id!r}: text is not in Unicode NFC form; normalise it"))
    return problems


def self_contained(bank: BankFile) -> list[Problem]:
    """All checks that need nothing but the bank itself."""
    return (
        unique_ids(bank)
        + enemies(bank)
        + rules_described(bank)
        + parameters(bank)
        + normalized_text(bank)
        + format_problems(bank)
        + dimensions.problems(bank)
    )


MEDIA_SUFFIXES = {"image": (".svg", ".png", ".jpg", ".jpeg", ".webp")}
MAX_MEDIA_BYTES = 2_000_000
"""Largest media file accepted (a screenshot in a bank is tens of kilobytes; more is not a picture for an item)."""
"""File types a media ``kind`` may have (audio and video are not checked by suffix)."""
_EXTERNAL = re.compile(
    rb"""(?:href|src)\s*=\s*["']\s*(?:(?!data:)[a-z][a-z0-9+.-]*:|//)|<script|url\(\s*["']?\s*(?:https?:|//)""", re.I
)
"""A reference to another resource (any scheme but data:, or //host) or a script, in an SVG file's bytes."""


def media_files(bank: BankFile, folder: str | PathLike[str]) -> list[Problem]:
    """Each item's media file exists inside ``folder`` (the bank file's folder), has an image suffix for an image,
    is at most MAX_MEDIA_BYTES, and (SVG) loads nothing from elsewhere and runs no script."""
    root = Path(folder).resolve()
    problems: list[Problem] = []
    for i, item in enumerate(bank.items):
        if item.media is None:
            continue
        loc, src = ("items", i, "media", "src"), item.media.src
        message = _media_problem(root, src, item.media.kind)
        if message is not None:
            problems.append((loc, f"item {item.id!r}: {message}"))
    return problems


def _media_problem(root: Path, src: str, kind: str) -> str | None:
    """What is wrong with media file ``src`` of kind ``kind`` under ``root`` (None when nothing is)."""
    rel = PurePosixPath(src.replace("\\", "/"))
    if not rel.parts or rel.is_absolute() or ".." in rel.parts or ":" in rel.parts[0]:
        return f"media {src!r} must be a relative path inside the bank's folder"
    path = root / rel
    suffixes = MEDIA_SUFFIXES.get(kind)
    if suffixes and path.suffix.lower() not in suffixes:
        return f"an {kind} file is one of {', '.join(suffixes)}, got {src!r}"
    try:
        if not path.is_file():
            return f"media file {src!r} not found (looked for {path})"
        size = path.stat().st_size
        if size > MAX_MEDIA_BYTES:
            return f"media file {src!r} has {size:,} bytes; a bank's picture has at most {MAX_MEDIA_BYTES:,}"
        if path.suffix.lower() == ".svg" and _EXTERNAL.search(path.read_bytes()):
            return f"SVG {src!r} loads another resource or runs a script; make it self-contained"
    except (OSError, ValueError) as exc:
        return f"media file {src!r} cannot be read ({getattr(exc, 'strerror', None) or exc})"
    return None
