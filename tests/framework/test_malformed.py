"""Every malformed fixture fails with a message naming the file, the node path and the '# ERROR' line."""

from __future__ import annotations

from pathlib import Path

import pytest

from digicomp.errors import FrameworkError
from digicomp.framework import load_crosswalk, load_framework, load_scale

MALFORMED = Path(__file__).parent / "fixtures" / "malformed"
LOADERS = {"framework": load_framework, "scale": load_scale, "crosswalk": load_crosswalk}
FIXTURES = sorted(MALFORMED.glob("*.yaml"))


def _expectation(path: Path) -> tuple[str, str, str, int]:
    """(loader, node path, message fragment, line) from the '# expect:' header and the '# ERROR' marker."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = next(line for line in lines if line.startswith("# expect:"))
    kind, node, fragment = (part.strip() for part in header[len("# expect:") :].split("|"))
    line = next(i for i, text in enumerate(lines, start=1) if text.rstrip().endswith("# ERROR"))
    return kind, node, fragment, line


def test_there_is_a_fixture_for_each_failure_kind():
    assert len(FIXTURES) >= 12


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_malformed_file_names_file_path_and_line(path: Path):
    kind, node, fragment, line = _expectation(path)
    with pytest.raises(FrameworkError) as info:
        LOADERS[kind](path)
    problems = getattr(info.value, "problems", [str(info.value)])
    prefix = f"{path}:{line}:" + (f" {node}:" if node else "")
    matching = [p for p in problems if p.startswith(prefix) and fragment in p]
    assert matching, f"no problem starting {prefix!r} containing {fragment!r} in:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_malformed_file_never_leaks_a_library_traceback(path: Path):
    kind, *_ = _expectation(path)
    with pytest.raises(FrameworkError) as info:
        LOADERS[kind](path)
    text = str(info.value)
    assert "pydantic" not in text and "Traceback" not in text and "For further information" not in text
