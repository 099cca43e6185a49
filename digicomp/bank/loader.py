"""Load an item bank from a bundled id or a YAML path, with every problem reported by file and line."""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path
from typing import Any

from digicomp.bank import checks
from digicomp.bank.itembank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.errors import BankError
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


def resolve(id_or_path: str | PathLike[str]) -> Path:
    """The file of a bundled bank id (``civil-service``) or of a path (anything with a suffix or a slash)."""
    text = str(id_or_path)
    if isinstance(id_or_path, PathLike) or text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        return Path(id_or_path)
    from digicomp.bundled import bundled_path

    return bundled_path("item_banks", text)


_ITEM_NODE = re.compile(r"^(?P<head>.*?:\d+: items\[(?P<index>\d+)\][^:]*: )")


def check_bank_file(path: str | PathLike[str]) -> tuple[BankFile | None, LineMap, list[str], Partial]:
    """Parse and schema-check a bank file: (the bank of the items that passed or None, lines, problems, parts).

    Malformed YAML and a document of another kind raise BankError at once; schema problems are returned as
    ``FILE:LINE: path: message`` lines, with the bank built from what passed for the meaning checks.
    """
    data, linemap = load_yaml(path, BankError)
    if not isinstance(data, dict) or data.get("kind") != "item_bank":
        kind = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise BankError(f"{path}:1: kind: expected 'item_bank', got {kind!r}")
    found = validate_partial(BankFile, data)
    problems = [_name_item(line, data) for line in error_lines(found.errors, path, linemap, BankFile, data)]
    return found.model, linemap, problems, found


def read_bank_file(path: str | PathLike[str]) -> tuple[BankFile, LineMap]:
    """Parse and schema-check a bank file; raise BankError listing every problem as FILE:LINE: path: message."""
    spec, linemap, problems, _ = check_bank_file(path)
    if problems or spec is None:
        raise_problems(BankError, path, problems)
    return spec, linemap  # type: ignore[return-value]


def _name_item(line: str, data: dict[str, Any]) -> str:
    """Add ``item '<id>':`` to a problem located inside an item, so messages name the item, not only its index."""
    match = _ITEM_NODE.match(line)
    items = data.get("items")
    if not match or not isinstance(items, list) or int(match["index"]) >= len(items):
        return line
    item = items[int(match["index"])]
    item_id = item.get("id") if isinstance(item, dict) else None
    if item_id is None or f"item {item_id!r}" in line:
        return line
    return f"{match['head']}item {item_id!r}: {line[match.end() :]}"


def located(path: str | PathLike[str], linemap: LineMap, found: list[checks.Problem]) -> list[str]:
    """Problems as ``FILE:LINE: node.path: message`` lines."""
    return [problem(path, linemap, loc, message) for loc, message in found]


def located_in_file(
    path: str | PathLike[str], linemap: LineMap, partial: Partial, found: list[checks.Problem]
) -> list[str]:
    """Meaning problems of the items that passed the schema, at their places in the file; a problem that only
    names a part left out for its schema problems is not repeated."""
    kept = [(partial.relocate(loc), msg) for loc, msg in found if not mentions(msg, partial.dropped)]
    return located(path, linemap, kept)


def load_bank(id_or_path: str | PathLike[str], framework: Any = None) -> ItemBank:
    """Load a bank by bundled id or path; refuse it (BankError) unless it passes the self-contained checks.

    Every problem comes at once: schema problems, and the self-contained checks on the items that passed the
    schema. Checks against the framework (competences and levels exist) are :func:`digicomp.bank.validate_bank`'s;
    ``framework`` (a loaded Framework) is used instead of loading the bank's framework by id.
    """
    path = resolve(id_or_path)
    spec, linemap, problems, partial = check_bank_file(path)
    if spec is not None:
        found = checks.self_contained(spec) + checks.media_files(spec, path.parent)
        problems = problems + located_in_file(path, linemap, partial, found)
    if problems or spec is None:
        raise_problems(BankError, path, problems)
    return ItemBank(spec, source=path, framework=framework)
