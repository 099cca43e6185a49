"""``digicomp validate PATH...``: check YAML documents of every kind and list every problem found.

Each document names its ``kind``; the validator of that kind is looked up in ``VALIDATORS`` and imported only
when needed, so a kind whose module is not installed yet is reported, not crashed on.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module
from pathlib import Path

VALIDATORS: dict[str, str] = {
    "framework": "digicomp.framework:validate_framework_file",
    "level_scale": "digicomp.framework:validate_scale_file",
    "crosswalk": "digicomp.framework:validate_crosswalk_file",
    "item_bank": "digicomp.bank:validate_file",
    "cat_design": "digicomp.cat.engine:validate_file",
    "assembly_spec": "digicomp.assembly.model:validate_file",
}
"""kind -> "module:function"; the function takes a path and returns its problem lines ([] if valid)."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="validate frameworks, scales, crosswalks, item banks and CAT designs")
    p.add_argument("paths", nargs="+", metavar="PATH", help="YAML files, or folders to search")
    p.set_defaults(run=run)


def yaml_files(paths: list[str]) -> list[Path]:
    """The files named, and the YAML files under the folders named, in a stable order."""
    from digicomp.errors import DigicompError

    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
        elif path.is_file():
            out.append(path)
        else:
            raise DigicompError(f"{raw}: no such file or folder")
    return out


def validate_path(path: Path) -> list[str]:
    """Problems of one YAML document of any known kind, as ``FILE:LINE: path: message`` lines."""
    from digicomp.errors import DigicompError
    from digicomp.io.yamlfile import line_of, load_yaml

    try:
        data, linemap = load_yaml(path)
    except DigicompError as exc:
        return list(getattr(exc, "problems", [str(exc)]))
    kinds = ", ".join(VALIDATORS)
    if not isinstance(data, dict) or "kind" not in data:
        return [f"{path}:1: kind: missing; every document starts with 'kind:' (one of {kinds})"]
    kind = data["kind"]
    target = VALIDATORS.get(kind) if isinstance(kind, str) else None
    if target is None:
        return [f"{path}:{line_of(linemap, 'kind')}: kind: unknown kind {kind!r}; expected one of {kinds}"]
    module_name, func_name = target.split(":")
    try:
        validator = getattr(import_module(module_name), func_name)
    except (ImportError, AttributeError) as exc:
        return [
            f"{path}:{line_of(linemap, 'kind')}: kind: cannot check {kind!r} documents yet "
            f"({target} is not available: {exc})"
        ]
    return list(validator(path))


def run(args: argparse.Namespace) -> int:
    files = yaml_files(args.paths)
    failed = 0
    for path in files:
        problems = validate_path(path)
        if problems:
            failed += 1
            for line in problems:
                print(line)
    ok = len(files) - failed
    plural = "s" if len(files) != 1 else ""
    sys.stderr.write(f"validate: {len(files)} file{plural}, {ok} valid, {failed} with problems\n")
    return 1 if failed else 0
