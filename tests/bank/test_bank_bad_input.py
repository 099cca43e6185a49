"""Banks whose parameters would be misread are refused by load_bank and flagged by validate, with the item named;
validate lists schema problems and meaning problems of one file in one run."""

from __future__ import annotations

import pytest

from digicomp.bank import load_bank, validate_file
from digicomp.errors import BankError

from .test_bank_validate import FRAMEWORK

ITEM_2PL = 1  # items[1] of the mini bank is the 2PL item t-1.2-01; items[0] is the 3PL t-1.1-01


@pytest.mark.parametrize(
    ("index", "change", "node", "fragment"),
    [
        (1, {"params": {"a": 1.3, "b": 0.9, "c": 0.2}}, "items[1]", "model 2PL has no lower asymptote"),
        (1, {"model": "Rasch", "params": {"b": 0.9, "d": 0.9}}, "items[1]", "model Rasch has no upper asymptote"),
        (0, {"params": {"a": 1.0, "b": -0.9, "c": 0.2, "d": 0.5}}, "items[0]", "model 3PL has no upper asymptote"),
        (
            1,
            {"calibration": {"status": "calibrated", "n": 1200, "date": "2026-01-15", "se": {"a": -0.08, "b": 0.05}}},
            "items[1].calibration.se.a",
            "greater than or equal to 0",
        ),
        (1, {"level": True}, "items[1].level", "valid integer"),
        (1, {"params": {"a": True, "b": 0.9}}, "items[1].params.a", "valid number"),
        (1, {"params": {"a": 1.3, "b": 1e308}}, "items[1].params.b", "beyond ±500"),
    ],
)
def test_misread_parameters_are_refused_and_flagged(mini_data, write_bank, index, change, node, fragment):
    mini_data["items"][index].update(change)
    path = write_bank(mini_data)
    problems = [p for p in validate_file(path, FRAMEWORK) if fragment in p]
    assert problems, validate_file(path, FRAMEWORK)
    item = mini_data["items"][index]["id"]
    assert any(f": {node}" in p and f"item {item!r}" in p for p in problems), problems
    with pytest.raises(BankError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        load_bank(path)


def test_validate_reports_schema_and_meaning_problems_in_one_run(mini_data, write_bank):
    mini_data["items"][1]["level"] = True  # schema
    mini_data["items"][0]["enemies"] = ["t-9.9-99"]  # meaning: no such item
    mini_data["items"][2]["calibration"]["rule"] = "no-such-rule"  # meaning: undescribed rule
    mini_data["items"][2]["competence"] = "9.9"  # meaning: not in the framework
    problems = validate_file(write_bank(mini_data), FRAMEWORK)
    text = "\n".join(problems)
    assert ": items[1].level: item 't-1.2-01': " in text
    assert ": items[0].enemies[0]: item 't-1.1-01': enemy 't-9.9-99' is not an item of this bank" in text
    assert ": items[2].calibration.rule: item 't-1.1-sa': rule 'no-such-rule' is not described" in text
    assert ": items[2].competence: item 't-1.1-sa': competence '9.9' is not in framework" in text
    assert len(problems) == 4


def test_a_part_with_a_schema_problem_is_not_reported_again_as_missing(mini_data, write_bank):
    mini_data["items"][1]["level"] = True  # t-1.2-01 is left out of the meaning checks ...
    problems = validate_file(write_bank(mini_data), FRAMEWORK)  # ... but t-1.1-01 names it as an enemy
    assert len(problems) == 1 and "items[1].level" in problems[0]


def test_meaning_problems_after_a_left_out_item_keep_their_file_position(mini_data, write_bank):
    mini_data["items"][0]["level"] = True
    mini_data["items"][2]["competence"] = "9.9"
    problems = validate_file(write_bank(mini_data), FRAMEWORK)
    assert any(": items[2].competence: item 't-1.1-sa'" in p for p in problems), problems
