"""Loading a bank: arrays for the engine, item content by id, and malformed files refused with clear messages."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pytest

from digicomp.bank import ItemBank, load_bank
from digicomp.errors import BankError

from .conftest import MINI


def test_mini_bank_exposes_engine_arrays_in_item_order():
    bank = load_bank(MINI)
    assert bank.ids == ["t-1.1-01", "t-1.2-01", "t-1.1-sa"]
    assert bank.competences == ["1.1", "1.2"]
    np.testing.assert_array_equal(bank.competence_index, [0, 1, 0])
    np.testing.assert_array_equal(bank.level, [3, 6, 0])
    assert bank.kind.tolist() == ["multiple_choice", "multiple_choice", "self_assessment"]
    np.testing.assert_array_equal(bank.is_scored, [True, True, False])
    np.testing.assert_array_equal(bank.enemy_pairs, [[0, 1]])
    np.testing.assert_array_equal(bank.cut_scores, [-1.2, 0.0, 1.2])
    assert bank.scale.D == 1.0 and bank.scale.levels[0] == "foundation"


def test_parameter_arrays_hold_the_file_values():
    bank = load_bank(MINI)
    records = bank.params.to_file_form()
    assert records[0]["model"] == "3PL" and records[0]["c"] == pytest.approx(0.2)
    assert records[1]["a"] == pytest.approx(1.3) and records[1]["b"] == pytest.approx(0.9)
    assert records[2]["b"] == pytest.approx([-1.5, 0.0, 1.5])
    np.testing.assert_array_equal(bank.params.n_categories, [2, 2, 4])


def test_item_gives_content_by_id_and_unknown_id_is_named():
    bank = load_bank(MINI)
    item = bank.item("t-1.1-01")
    assert item.key == "C" and item.stem.vi == "Câu hỏi một?" and item.options[2].en == "Three"
    assert bank.index_of(["t-1.1-sa", "t-1.1-01"]).tolist() == [2, 0]
    with pytest.raises(BankError, match="no item 'nope'"):
        bank.item("nope")


def test_a_bank_path_given_as_text_is_read_as_a_path():
    assert load_bank(str(MINI)).id == "mini"


def test_unknown_bundled_id_lists_what_exists():
    with pytest.raises(Exception, match="no bundled item bank named 'no-such-bank'"):
        load_bank("no-such-bank")


def _mutations():
    """(name, mutate(data), node path expected in the message, words expected in the message)."""

    def item(i, **changes):
        def mutate(data):
            data["items"][i].update(changes)

        return mutate

    def delete(i, key):
        def mutate(data):
            del data["items"][i][key]

        return mutate

    def scale(**changes):
        def mutate(data):
            data["scale"].update(changes)

        return mutate

    def duplicate_id(data):
        data["items"][1]["id"] = data["items"][0]["id"]
        data["items"][0].pop("enemies")

    return [
        ("key not an option", item(0, key="E"), "items[0]", "'key' must be one of the option ids"),
        ("missing stem", delete(0, "stem"), "items[0]", "needs a 'stem'"),
        ("missing vi text", item(0, stem={"en": "Only English"}), "items[0].stem.vi", "required key is missing"),
        ("unknown model", item(0, model="5PL"), "items[0].model", "5PL"),
        ("negative slope", item(1, params={"a": -1.0, "b": 0.0}), "items[1].params", "'a'"),
        ("guessing above one", item(0, params={"a": 1, "b": 0, "c": 1.5, "d": 1}), "items[0].params", "'c'"),
        ("list b for 3PL", item(0, params={"a": 1, "b": [0, 1]}), "items[0]", "params.b as one number"),
        (
            "thresholds not increasing",
            item(2, params={"a": 1, "b": [0.5, 0.0, 1.5]}),
            "items[2].params",
            "strictly increasing",
        ),
        (
            "thresholds do not fit categories",
            item(2, params={"a": 1, "b": [0.0, 1.0]}),
            "items[2]",
            "need 3 thresholds",
        ),
        ("unknown key", item(0, difficulty=3), "items[0].difficulty", "unknown key 'difficulty'"),
        ("enemy missing", item(0, enemies=["ghost"]), "items[0].enemies[0]", "'ghost' is not an item"),
        ("enemy is itself", item(0, enemies=["t-1.1-01"]), "items[0].enemies[0]", "lists itself"),
        ("duplicate id", duplicate_id, "items[1].id", "duplicate item id 't-1.1-01'"),
        (
            "calibrated without se",
            item(1, calibration={"status": "calibrated", "n": 10, "date": "2026-01-01"}),
            "items[1].calibration.se:",
            "required key is missing",
        ),
        (
            "unknown calibration status",
            item(1, calibration={"status": "guessed"}),
            "items[1].calibration",
            "provisional",
        ),
        (
            "undescribed rule",
            item(0, calibration={"status": "provisional", "rule": "gut-feel"}),
            "items[0].calibration.rule",
            "not described in 'rules'",
        ),
        ("cut scores not increasing", scale(cut_scores=[0.0, -1.0, 1.0]), "scale", "strictly increasing"),
        ("one cut too many", scale(cut_scores=[-1.0, 0.0, 1.0, 2.0]), "scale", "need 3 cut_scores"),
        ("cut scores without source", scale(cut_source=None), "scale", "cut_source"),
        ("level zero", item(0, level=0), "items[0].level", "greater than or equal to 1"),
        (
            "decomposed diacritics",
            item(0, stem={"vi": unicodedata.normalize("NFD", "Câu hỏi"), "en": "Q"}),
            "items[0].stem.vi",
            "NFC",
        ),
    ]


@pytest.mark.parametrize("mutate, where, words", [m[1:] for m in _mutations()], ids=[m[0] for m in _mutations()])
def test_malformed_bank_is_refused_naming_file_line_node_and_problem(mini_data, write_bank, mutate, where, words):
    mutate(mini_data)
    path = write_bank(mini_data)
    with pytest.raises(BankError) as info:
        load_bank(path)
    lines = [p for p in info.value.problems if where in p and words in p]
    assert lines, str(info.value)
    assert re.match(rf"^{re.escape(str(path))}:\d+: ", lines[0])
    index = re.match(r"items\[(\d+)\]", where)
    if index:
        assert repr(mini_data["items"][int(index[1])]["id"]) in lines[0]


def test_problem_line_points_at_the_offending_item(mini_data, write_bank):
    mini_data["items"][1]["key"] = "Z"
    path = write_bank(mini_data)
    with pytest.raises(BankError) as info:
        load_bank(path)
    line = int(info.value.problems[0].split(":")[1])
    text = path.read_text(encoding="utf-8").splitlines()
    assert "t-1.2-01" in text[line - 1]


def test_wrong_kind_is_refused(mini_data, write_bank):
    mini_data["kind"] = "framework"
    with pytest.raises(BankError, match="kind: expected 'item_bank'"):
        load_bank(write_bank(mini_data))


def test_duplicate_yaml_key_is_refused(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(MINI.read_text(encoding="utf-8").replace('version: "2026.1"', 'version: "1"\nid: again'))
    with pytest.raises(BankError, match="duplicate key 'id'"):
        load_bank(path)


def test_content_free_bank_needs_no_framework(mini_data, write_bank):
    data = {
        "kind": "item_bank",
        "id": "bare",
        "version": "1",
        "scale": {"D": 1.702},
        "items": [
            {
                "id": "i1",
                "model": "2PL",
                "params": {"a": 1.2, "b": 0.3},
                "calibration": {"status": "imported", "source": "paper.csv"},
            }
        ],
    }
    bank = load_bank(write_bank(data))
    assert bank.kind.tolist() == ["parameters"] and bank.competence_index.tolist() == [-1]
    assert bank.params.D == 1.702
    with pytest.raises(BankError, match="names no framework"):
        _ = bank.framework


def test_bank_is_an_itembank_with_repr():
    bank = load_bank(MINI)
    assert isinstance(bank, ItemBank) and len(bank) == 3 and "mini" in repr(bank)


def test_top_level_package_exposes_load_bank_and_itembank():
    import digicomp

    assert digicomp.load_bank is load_bank and digicomp.ItemBank is ItemBank
