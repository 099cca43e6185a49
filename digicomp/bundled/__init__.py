"""Bundled frameworks and item banks, resolved through importlib.resources (works from a wheel)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from digicomp.errors import DigicompError

_KINDS = {"frameworks": "digicomp.bundled.frameworks", "item_banks": "digicomp.bundled.item_banks"}


def bundled_dir(kind: str):
    """Return the Traversable folder holding bundled files of ``kind`` ('frameworks' or 'item_banks')."""
    return resources.files(_KINDS[kind])


def list_bundled(kind: str) -> list[str]:
    """Ids (file stems) of the bundled YAML files of ``kind``, sorted."""
    folder = bundled_dir(kind)
    return sorted(
        entry.name.rsplit(".", 1)[0]
        for entry in folder.iterdir()
        if entry.is_file() and entry.name.endswith((".yaml", ".yml")) and not entry.name.startswith("_")
    )


def bundled_path(kind: str, ident: str) -> Path:
    """Path of the bundled YAML file ``ident`` of ``kind``; raises a DigicompError listing what exists."""
    folder = bundled_dir(kind)
    for suffix in (".yaml", ".yml"):
        entry = folder.joinpath(ident + suffix)
        if entry.is_file():
            return Path(str(entry))
    known = ", ".join(list_bundled(kind)) or "none"
    raise DigicompError(f"no bundled {kind[:-1].replace('_', ' ')} named {ident!r} (bundled: {known})")
