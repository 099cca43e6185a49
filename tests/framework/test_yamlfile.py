"""digicomp.io.yamlfile: line maps, malformed YAML and validation errors name file, node path and line."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from digicomp.errors import DigicompError, FrameworkError
from digicomp.io.yamlfile import format_path, line_of, load_yaml, validate_model


class _Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    vi: str
    en: str


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    name: _Text


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    items: list[_Item]


def _write(tmp_path, text: str):
    path = tmp_path / "doc.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_linemap_records_every_node_with_its_line(tmp_path):
    path = _write(tmp_path, 'id: x\nitems:\n  - code: "a"\n    name: {vi: "Tên", en: "Name"}\n')
    data, linemap = load_yaml(path)
    assert data["items"][0]["name"]["vi"] == "Tên"
    assert linemap["items[0].code"] == 3
    assert linemap["items[0].name.en"] == 4
    assert line_of(linemap, "items[0].name.missing") == 4


def test_format_path_quotes_keys_that_are_not_identifiers():
    assert format_path(["areas", 2, "competences", 0, "code"]) == "areas[2].competences[0].code"
    assert format_path(["descriptors", "1.1"]) == "descriptors['1.1']"


def test_malformed_yaml_names_file_and_line(tmp_path):
    path = _write(tmp_path, "id: x\nitems: [a, b\n")
    with pytest.raises(FrameworkError, match=r"doc\.yaml:3:\d+: malformed YAML"):
        load_yaml(path, FrameworkError)


def test_duplicate_mapping_key_is_an_error_not_an_overwrite(tmp_path):
    path = _write(tmp_path, "id: x\nid: y\nitems: []\n")
    with pytest.raises(DigicompError, match=r"doc\.yaml:2: id: duplicate key 'id' \(first given on line 1\)"):
        load_yaml(path)


def test_unreadable_file_is_a_clean_error(tmp_path):
    with pytest.raises(FrameworkError, match="cannot read file"):
        load_yaml(tmp_path / "absent.yaml", FrameworkError)


def test_validation_lists_every_problem_with_line_and_hint(tmp_path):
    text = "id: x\nitems:\n  - code: 1.1\n    nmae: {vi: a, en: b}\n  - code: b\n    name: {vi: c}\n"
    path = _write(tmp_path, text)
    data, linemap = load_yaml(path)
    with pytest.raises(FrameworkError) as info:
        validate_model(_Doc, data, path, linemap, FrameworkError)
    problems = info.value.problems
    assert f'{path}:3: items[0].code: expected text, got the number 1.1; quote it in YAML ("1.1")' in problems
    assert f"{path}:3: items[0].name: required key is missing" in problems
    typo = f"{path}:4: items[0].nmae: unknown key 'nmae' (did you mean 'name'?)"
    assert any(p.startswith(typo) for p in problems)
    assert f"{path}:6: items[1].name.en: required key is missing" in problems
    assert len(problems) == 4
    assert "3 problems" not in str(info.value) and "4 problems" in str(info.value)


def test_valid_document_returns_the_model(tmp_path):
    path = _write(tmp_path, "id: x\nitems:\n  - {code: a, name: {vi: á, en: a}}\n")
    data, linemap = load_yaml(path)
    assert validate_model(_Doc, data, path, linemap).items[0].name.vi == "á"
