"""Validation against the framework: competences, levels and reporting bands must exist there."""

from __future__ import annotations

import re

import pytest

from digicomp.bank import load_bank, validate_bank, validate_file
from digicomp.framework import load_framework

from .conftest import FIXTURES, MINI

FRAMEWORK = load_framework(FIXTURES / "mini-framework.yaml")


def test_mini_bank_is_valid_against_its_framework():
    assert validate_file(MINI, FRAMEWORK) == []
    assert validate_bank(load_bank(MINI, framework=FRAMEWORK)) == []


def test_areas_come_from_the_framework():
    bank = load_bank(MINI, framework=FRAMEWORK)
    assert bank.areas == ["1"] and bank.area_index.tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    "path, value, where, words",
    [
        (("items", 0, "competence"), "9.9", "items[0].competence", "competence '9.9' is not in framework"),
        (("items", 1, "level"), 9, "items[1].level", "level 9 is not on the framework's scale"),
        (("scale", "levels", 1), "middling", "scale.levels[1]", "'middling' is not a band"),
        (("framework", "version"), "0.9", "framework.version", "version '0.9'"),
        (("framework", "id"), "vn-public-security", "framework.id", "'vn-public-security'"),
    ],
)
def test_framework_mismatch_is_reported_with_file_line_and_field(mini_data, write_bank, path, value, where, words):
    node = mini_data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    bank_path = write_bank(mini_data)
    problems = validate_file(bank_path, FRAMEWORK)
    hits = [p for p in problems if where in p and words in p]
    assert hits, problems
    assert re.match(rf"^{re.escape(str(bank_path))}:\d+: ", hits[0])


def test_reporting_levels_out_of_scale_order_are_reported(mini_data, write_bank):
    mini_data["scale"]["levels"] = ["intermediate", "foundation", "advanced", "highly_specialised"]
    problems = validate_file(write_bank(mini_data), FRAMEWORK)
    assert any("must follow the scale's order" in p for p in problems), problems


def test_validate_file_returns_schema_problems_instead_of_raising(mini_data, write_bank):
    mini_data["items"][0]["key"] = "Q"
    problems = validate_file(write_bank(mini_data), FRAMEWORK)
    assert len(problems) == 1 and "'key' must be one of the option ids" in problems[0]


def test_unloadable_framework_is_one_clear_problem(mini_data, write_bank):
    mini_data["framework"]["id"] = "no-such-framework"
    problems = validate_file(write_bank(mini_data))
    assert len(problems) == 1 and "framework.id: cannot load the framework" in problems[0]
