"""The package's floors hold: a package imports only from packages below it, math knows nothing of files or banks,
and the modules of the adaptive engine (``digicomp/cat``) import each other without a circle.

Read from the source with ``ast`` (every import, module level or inside a function), so a lazy import cannot
hide an upward step or a circle. Imports under ``if TYPE_CHECKING:`` are annotations only and are left out.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "digicomp"

FLOORS = [
    ["errors"],
    ["bundled", "parallel"],
    ["models"],
    ["responses"],
    ["io"],
    ["store"],
    ["levels"],
    ["scoring"],
    ["framework"],
    ["bank"],
    ["calibration"],
    ["analysis"],
    ["assembly"],
    ["face"],
    ["cat"],
    ["simulation"],
    ["programme"],
    ["reporting"],
    ["loop"],
    ["commands"],
    ["service"],
    ["cli"],
]
"""The layout of DESIGN.md, bottom first, with the helper modules it leaves out placed under their users (errors,
bundled-data paths, the process pool, level arithmetic), and ``face/`` (``digicomp.calibrate`` and
``digicomp.score`` from files and banks) right above the math, files and banks it joins. ``loop/`` sits below
``commands/``: the layout lists the subcommands before the loop, but names ``loop/`` → ``commands/`` as the one
upward step to remove, so commands (one module per subcommand) are the floor above everything they run."""

FLOOR = {name: level for level, names in enumerate(FLOORS) for name in names}

MATH = {"models", "responses", "scoring", "calibration", "analysis"}
"""Packages that work on arrays only: "math knows nothing of YAML, banks or sessions" (DESIGN.md, Layout)."""

FILES_AND_BANKS = {"io", "store", "framework", "bank", "cat"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside ``if TYPE_CHECKING:`` blocks."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


@cache
def _imports(module: str) -> frozenset[tuple[str, int]]:
    """(digicomp module imported, line) for every import in ``module``; ``from pkg import mod`` names pkg.mod."""
    path = _modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[tuple[str, int]] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "digicomp"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            if base.split(".")[0] != "digicomp":
                continue
            if base == "digicomp" and all(a.name == "__version__" for a in node.names):
                continue  # the version string, not the public face
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add((sub if sub in _modules() else base, node.lineno))
    return frozenset(found)


def _floor_of(module: str) -> str:
    """The package (floor) a module belongs to: ``digicomp.cat.engine`` -> ``cat``; the root is the public face."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "digicomp"


def test_every_package_has_a_floor():
    floors = {_floor_of(m) for m in _modules()} - {"digicomp"}
    assert floors <= set(FLOOR), f"place these in FLOORS: {sorted(floors - set(FLOOR))}"


def _steps(allowed) -> list[str]:
    out = []
    for module, path in _modules().items():
        here = _floor_of(module)
        for target, line in sorted(_imports(module)):
            there = _floor_of(target)
            if here != there and not allowed(here, there):
                out.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {here} imports {target}")
    return out


def test_no_package_imports_a_package_above_it():
    """The root module (the public face) may import anything; every other package only floors below its own."""
    upward = _steps(lambda here, there: here == "digicomp" or (there != "digicomp" and FLOOR[there] < FLOOR[here]))
    assert upward == []


def test_math_imports_no_files_banks_or_sessions():
    leaks = _steps(lambda here, there: here not in MATH or there not in FILES_AND_BANKS)
    assert leaks == []


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle in ``graph`` (as the list of modules around it), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def _package_graph(package: str) -> dict[str, set[str]]:
    """Imports between the modules of ``package`` (its ``__init__``, the re-exporting face, left out)."""
    inside = [m for m in _modules() if m.startswith(package + ".")]
    return {m: {t for t, _ in _imports(m) if t in inside} for m in inside}


@pytest.mark.parametrize("package", ["digicomp.cat"])
def test_the_modules_of_a_package_import_each_other_without_a_circle(package):
    assert _cycle(_package_graph(package)) is None


def test_a_circle_is_found_where_there_is_one():
    """The checker itself: a two-module circle and a three-module one are found, a chain is not."""
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_lazy_and_relative_imports_are_seen(tmp_path, monkeypatch):
    """An import inside a function, and a relative one, count; one under TYPE_CHECKING does not."""
    pkg = tmp_path / "digicomp" / "cat"
    pkg.mkdir(parents=True)
    (tmp_path / "digicomp" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from digicomp.cat import c\n"
        "def f():\n    from digicomp.cat.b import g\n"
    )
    (pkg / "b.py").write_text("from . import a\ndef g(): ...\n")
    (pkg / "c.py").write_text("")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path / "digicomp")
    _modules.cache_clear()
    _imports.cache_clear()
    try:
        graph = _package_graph("digicomp.cat")
    finally:
        _modules.cache_clear()
        _imports.cache_clear()
    assert graph["digicomp.cat.a"] == {"digicomp.cat.b"} and graph["digicomp.cat.b"] == {"digicomp.cat.a"}
    assert _cycle(graph) is not None
