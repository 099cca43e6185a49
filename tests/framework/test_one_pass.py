"""`digicomp validate` and the framework loaders report schema and meaning problems of one file in one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from digicomp.errors import FrameworkError
from digicomp.framework import load_framework, validate_framework_file

MIXED = Path(__file__).parent / "fixtures" / "mixed" / "framework-schema-and-meaning.yaml"


def _line(marker: str) -> int:
    lines = MIXED.read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, start=1) if marker in text)


def test_schema_and_meaning_problems_come_together_at_their_lines():
    problems = validate_framework_file(MIXED)
    expected = [
        (_line("title: {vi: Hỏng}"), "sources.broken.title.en: required key is missing"),
        (_line("name: {vi: Tìm kiếm}"), "areas[0].competences[0].name.en: required key is missing"),
        (_line("official without a document"), "areas[0].competences[1].status: status 'official' needs a source"),
        (_line("code outside its area"), "areas[1].competences[0].code: competence code '3.1' should start with"),
        (_line("undefined source"), "areas[1].competences[0].source[1]: source 'nowhere' is not defined"),
    ]
    for line, text in expected:
        assert any(p.startswith(f"{MIXED}:{line}: {text}") for p in problems), (line, text, problems)
    assert len(problems) == len(expected)


def test_a_reference_to_a_left_out_part_is_not_reported_twice():
    problems = validate_framework_file(MIXED)
    # competence 1.2 is related to 1.1, which has a schema problem: 1.1 is not reported as undefined
    assert not any("'1.1' is referenced but not defined" in p for p in problems)


def test_the_loader_raises_with_every_problem():
    with pytest.raises(FrameworkError) as info:
        load_framework(MIXED)
    assert len(info.value.problems) == 5


def test_the_command_prints_every_problem(capsys):
    from digicomp.cli import main

    assert main(["validate", str(MIXED)]) == 1
    assert len(capsys.readouterr().out.strip().splitlines()) == 5
