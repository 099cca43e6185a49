"""The frameworks, show and validate subcommands through digicomp.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

from digicomp.bundled import bundled_dir
from digicomp.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def test_frameworks_lists_ids_versions_and_status(capsys):
    assert main(["frameworks"]) == 0
    out = capsys.readouterr().out
    assert "vn-public-security" in out and "placeholder" in out and "Khung năng lực số cho người học" in out


def test_frameworks_json(capsys):
    assert main(["frameworks", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["id"]: r["status"] for r in rows}["vn-tt02-2025"] == "official"
    assert all(set(r["title"]) == {"vi", "en"} for r in rows)


def test_show_prints_levels_areas_and_competences_in_english(capsys):
    assert main(["show", "vn-civil-service", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    for text in ["TC1", "Digital government work", "7.4", "Safe use of AI assistants at work"]:
        assert text in out


def test_show_json_is_the_framework_document(capsys):
    assert main(["show", "digcomp-2.2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "framework" and len([c for a in doc["areas"] for c in a["competences"]]) == 21


def test_show_unknown_framework_is_a_one_line_error(capsys):
    assert main(["show", "no-such-framework"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("digicomp: error: no bundled framework named 'no-such-framework'")
    assert err.count("\n") == 1


def test_validate_bundled_folder_passes(capsys):
    assert main(["validate", str(bundled_dir("frameworks"))]) == 0
    assert "0 with problems" in capsys.readouterr().err


def test_validate_lists_every_problem_of_every_file_and_fails(capsys):
    folder = FIXTURES / "malformed"
    assert main(["validate", str(folder), str(FIXTURES / "valid")]) == 1
    out = capsys.readouterr().out
    for path in folder.glob("*.yaml"):
        assert f"{path}:" in out, path.name
    assert str(FIXTURES / "valid") not in out


def test_validate_reports_missing_and_unknown_kinds(tmp_path, capsys):
    (tmp_path / "a.yaml").write_text("id: x\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("kind: frameworkk\n", encoding="utf-8")
    (tmp_path / "c.yml").write_text("title: y\n", encoding="utf-8")
    assert main(["validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'a.yaml'}:1: kind: missing" in out
    assert f"{tmp_path / 'b.yaml'}:1: kind: unknown kind 'frameworkk'" in out
    assert f"{tmp_path / 'c.yml'}:1: kind: missing" in out


def test_validate_dispatches_on_kind_and_reports_an_absent_validator(tmp_path, capsys, monkeypatch):
    import digicomp.commands.validate as validate

    monkeypatch.setitem(validate.VALIDATORS, "cat_design", "digicomp.no_such_module:validate_file")
    (tmp_path / "design.yaml").write_text("kind: cat_design\n", encoding="utf-8")
    assert main(["validate", str(tmp_path / "design.yaml")]) == 1
    assert "kind: cannot check 'cat_design' documents yet" in capsys.readouterr().out
    (tmp_path / "bank.yaml").write_text("kind: item_bank\n", encoding="utf-8")
    monkeypatch.setitem(validate.VALIDATORS, "item_bank", f"{__name__}:_fake_bank_validator")
    expected = [f"{tmp_path / 'bank.yaml'}:1: checked by the bank validator"]
    assert validate.validate_path(tmp_path / "bank.yaml") == expected


def _fake_bank_validator(path) -> list[str]:
    """Stands in for digicomp.bank:validate_file: validate hands the path to the kind's validator."""
    return [f"{path}:1: checked by the bank validator"]


def test_validate_missing_path_is_an_error(capsys):
    assert main(["validate", "does/not/exist.yaml"]) == 1
    assert "no such file or folder" in capsys.readouterr().err
