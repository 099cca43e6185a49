"""The README's test command works on a fresh machine: the ``test`` extra holds what the tests import, CI runs it."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python 3.11's tomllib")

ROOT = Path(__file__).resolve().parent.parent
README_TEST_COMMAND = 'pip install -e ".[test]" && python -m pytest -m "not slow"'


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _names(requirements: list[str]) -> set[str]:
    """Normalised distribution names of requirement strings ("psycopg[binary]>=3.1" -> "psycopg")."""
    return {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def _imports(path: Path) -> tuple[list[str], list[Path]]:
    """(absolute module names imported at module level or asked for with ``importorskip``, local files imported)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names, local = [], []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            local.append(base.joinpath(*(node.module or "").split(".")).with_suffix(".py"))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "importorskip"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.append(node.args[0].value)
    local += [ROOT.joinpath(*n.split(".")).with_suffix(".py") for n in names if n.split(".")[0] == "tests"]
    return names, [p for p in local if p.is_file()]


def _third_party_modules_the_tests_need() -> dict[str, str]:
    """Third-party top-level modules that collected test files (and the local modules they import) need -> a file.

    Starts from what pytest collects (test_*.py and conftest.py); scripts beside them that pytest does not
    collect (e.g. the long atheris fuzzing runs) are not part of the README's test command.
    """
    todo = sorted(p for p in (ROOT / "tests").rglob("*.py") if p.name.startswith("test_") or p.name == "conftest.py")
    seen: set[Path] = set()
    found: dict[str, str] = {}
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        names, local = _imports(path)
        todo += local
        for name in names:
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names and top not in ("digicomp", "tests", "__future__"):
                found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_the_test_extra_holds_every_module_the_tests_import_or_skip_without():
    project = _project()
    available = _names(project["dependencies"]) | _names(project["optional-dependencies"]["test"])
    dists = packages_distributions()
    missing = []
    for module, where in _third_party_modules_the_tests_need().items():
        names = {d.lower().replace("_", "-") for d in dists.get(module, [module])}
        if not names & available:
            missing.append(f"{module} ({where})")
    assert not missing, f"the test extra lacks what these tests import: {', '.join(missing)}"


def test_the_test_extra_runs_the_postgresql_half_of_the_store_tests():
    """The store tests run on PostgreSQL as well as SQLite (tests/store/conftest.py): psycopg is a test need."""
    extras = _project()["optional-dependencies"]
    assert _names(extras["postgres"]) <= _names(extras["test"])
    assert "postgresql" in (ROOT / "tests" / "store" / "conftest.py").read_text(encoding="utf-8")


def test_ci_runs_the_readmes_test_command_as_written():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert README_TEST_COMMAND in readme
    assert README_TEST_COMMAND in ci and "README.md" in ci
    installs = [line for line in ci.splitlines() if re.match(r"\s*(python3? -m )?pip3? install", line)]
    assert installs == [], f".ci/run installs on its own instead of through README's command: {installs}"
