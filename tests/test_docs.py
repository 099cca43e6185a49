"""The README and docs/ run as written: every ``python`` and ``bash`` block runs, and documented outputs are true.

Conventions in the markdown (an HTML comment on the line before the fence, invisible when rendered):

* ``<!-- no-run: why -->``: an illustrative fragment (placeholders, a server, a database elsewhere); not run.
* ``<!-- slow -->``: runs only with ``-m slow`` (a block taking more than a few seconds); later default blocks of
  the same file must not depend on it. Markers combine: ``<!-- output slow -->``.
* a ``yaml`` block that is a whole document (first key ``kind:``) must pass ``digicomp validate`` unless marked
  ``<!-- no-run: why -->`` (an abridged example).
* ``<!-- output -->`` before a ``text`` block whose first line is ``$ COMMAND``: the command runs (any exit code:
  documented errors are outputs too) and its stdout must match the rest of the block line by line (trailing
  spaces ignored; a line ``…`` stands for any lines, a ``…`` inside a line for any text, e.g. a timing).

The blocks of one markdown file run in order in one fresh folder (with ``examples/``, ``item_banks/`` and
``frameworks/`` linked in), python blocks sharing one namespace, as a newcomer pasting them would; bash blocks get
answers on stdin so ``digicomp take`` finishes. Regenerate documented outputs with
``python tests/test_docs.py --update`` (it rewrites the ``<!-- output -->`` blocks from the code).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINKED = ("examples", "item_banks", "frameworks", "benchmarks")
FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!--\s*((?:(?:no-run|slow|output)\s*)+):?\s*(.*?)\s*-->\s*$")
# option numbers for multiple-choice, multiple-response and matching prompts, and every step id for ordering items
# of 3 to 6 steps (``digicomp take`` asks again after a line that does not fit the item, so each item finds one).
# The test's items are drawn at random, so the lines used vary (136-174 of 240 in twelve runs; a run with many
# matching rows used them all and failed in CI): repeat enough for any 30-item test (at most 8 lines per prompt).
ANSWERS = "2\n1\nA B C D\n3\n4\nA B C\nA B C D E\nA B C D E F\n" * 300


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its code and its marker ('' when unmarked)."""

    path: Path
    line: int  # 1-based line of the opening fence
    end: int  # 1-based line of the closing fence
    lang: str
    code: str
    marks: frozenset[str]

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path`` with the marker on the line before its fence."""
    lines = path.read_text(encoding="utf-8").split("\n")
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        prev = lines[i - 1].strip() if i > 0 else ""
        mark = MARK.match(prev)
        marks = frozenset(mark.group(1).split()) if mark else frozenset()
        out.append(Block(path, i + 1, j + 1, m.group(1), "\n".join(lines[i + 1 : j]), marks))
        i = j + 1
    return out


def workspace(tmp: Path) -> Path:
    """A fresh folder with the repository's example data linked in."""
    for name in LINKED:
        (tmp / name).symlink_to(ROOT / name, target_is_directory=True)
    return tmp


def _env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONIOENCODING": "utf-8",
        "MPLBACKEND": "Agg",
        "PYTHONPATH": str(ROOT),
    }


def run_bash(code: str, cwd: Path, where: str, check: bool = True) -> str:
    """Run ``code`` with ``bash -e``; fail naming ``where`` unless it exits 0 (when ``check``); returns stdout."""
    proc = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", code],
        cwd=cwd,
        input=ANSWERS,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(),
        timeout=600,
    )
    if check and proc.returncode != 0:
        tail = f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
        pytest.fail(f"{where}: exit {proc.returncode}\n{tail}")
    return proc.stdout


def run_python(code: str, namespace: dict, where: str) -> None:
    """Execute ``code`` in ``namespace``; fail naming ``where`` on any exception."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(code, where, "exec"), namespace)
    except Exception as exc:  # noqa: BLE001 - any failure of a documented snippet is the finding
        pytest.fail(f"{where}: {type(exc).__name__}: {exc}")


def line_matches(expected: str, actual: str) -> bool:
    """One line: equal, or with each '…' inside the line standing for any text (timings, paths)."""
    pattern = ".*".join(re.escape(part) for part in expected.rstrip().split("…"))
    return re.fullmatch(pattern, actual.rstrip()) is not None


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line match, a line '…' standing for any run of lines (trailing spaces ignored)."""
    if not expected:
        return not actual
    if expected[0].strip() == "…":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and line_matches(expected[0], actual[0]) and matches(expected[1:], actual[1:])


def is_document(code: str) -> bool:
    """A YAML block that is a whole digicomp document (its first key is ``kind:``): it must validate."""
    first = next((ln for ln in code.split("\n") if ln.strip() and not ln.lstrip().startswith("#")), "")
    return first.startswith("kind:")


def documented_output(block: Block) -> tuple[str, list[str]]:
    """The command (first line, after '$ ') and expected stdout lines of an output block."""
    first, *rest = block.code.split("\n")
    if not first.startswith("$ "):
        raise AssertionError(f"{block.where}: an <!-- output --> block starts with '$ COMMAND'")
    return first[2:], rest


def run_file(path: Path, tmp: Path, slow: bool, outputs: dict | None = None) -> None:
    """Run the runnable blocks of ``path`` in order (slow ones only when ``slow``).

    With ``outputs`` (a dict) documented outputs are collected there (block → actual lines), not compared.
    """
    cwd = workspace(tmp)
    namespace: dict = {"__name__": "__docs__"}
    old = Path.cwd()
    os.chdir(cwd)
    try:
        for block in blocks(path):
            if "no-run" in block.marks or ("slow" in block.marks and not slow):
                continue
            if "output" in block.marks:
                command, expected = documented_output(block)
                actual = run_bash(command, cwd, block.where, check=False).rstrip("\n").split("\n")
                if outputs is not None:
                    outputs[block] = actual
                elif not matches(expected, actual):
                    pytest.fail(
                        f"{block.where}: documented output of `{command}` is stale; run "
                        f"`python tests/test_docs.py --update`\n--- documented\n"
                        + "\n".join(expected)
                        + "\n--- actual\n"
                        + "\n".join(actual)
                    )
            elif block.lang == "python":
                run_python(block.code, namespace, block.where)
            elif block.lang == "bash":
                run_bash(block.code, cwd, block.where)
            elif block.lang == "yaml" and is_document(block.code):
                doc = cwd / f"doc-{block.line}.yaml"
                doc.write_text(block.code + "\n", encoding="utf-8")
                run_bash(f"digicomp validate {doc.name}", cwd, block.where)
    finally:
        os.chdir(old)


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def test_every_runnable_looking_block_is_run_or_marked():
    """A python/bash block is run unless marked; an output block has its command line; markers are known."""
    for path in DOCS:
        for block in blocks(path):
            if "output" in block.marks:
                documented_output(block)
            elif block.lang not in ("python", "bash", "yaml") and block.marks:
                raise AssertionError(f"{block.where}: marker {set(block.marks)} on a {block.lang or 'plain'} block")


def test_output_matching_rule():
    assert matches(["a", "…", "d"], ["a", "b", "c", "d"]) and matches(["a", "…"], ["a"])
    assert matches(["x: 1; … s"], ["x: 1; 0.61 s"]) and not matches(["x: 1; … s"], ["x: 2; 0.61 s"])
    assert not matches(["a", "b"], ["a", "c"]) and not matches(["a"], ["a", "b"])


@pytest.mark.parametrize("path", DOCS, ids=_ids(DOCS))
def test_docs_run_as_written(path: Path, tmp_path: Path):
    run_file(path, tmp_path, slow=False)


SLOW_DOCS = [p for p in DOCS if any("slow" in b.marks for b in blocks(p))]


@pytest.mark.slow
@pytest.mark.parametrize("path", SLOW_DOCS, ids=_ids(SLOW_DOCS))
def test_docs_run_as_written_with_slow_blocks(path: Path, tmp_path: Path):
    run_file(path, tmp_path, slow=True)


def update(paths: list[Path]) -> None:
    """Rewrite every ``<!-- output -->`` block from its command's present output (each file run as the test does)."""
    import tempfile

    for path in paths:
        if not any("output" in b.marks for b in blocks(path)):
            continue
        outputs: dict[Block, list[str]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            run_file(path, Path(tmp), slow=True, outputs=outputs)
        text = path.read_text(encoding="utf-8").split("\n")
        for block in sorted(outputs, key=lambda b: -b.line):
            command, old = documented_output(block)
            new = [
                old[k] if k < len(old) and "…" in old[k] and line_matches(old[k], line) else line
                for k, line in enumerate(outputs[block])
            ]  # a documented '…' (a timing) that still matches is kept
            text[block.line : block.end - 1] = [f"$ {command}", *new]
        path.write_text("\n".join(text), encoding="utf-8")
        print(f"updated {path.relative_to(ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:2] != ["--update"]:
        raise SystemExit("usage: python tests/test_docs.py --update [FILE.md ...]")
    update([Path(p).resolve() for p in sys.argv[2:]] or DOCS)
