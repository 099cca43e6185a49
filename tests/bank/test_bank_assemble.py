"""Assembling a bank from content parts: provisional parameters, enemies on both sides, refused malformed parts."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from digicomp.bank import ItemBank
from digicomp.bank.assemble import assemble, symmetric_enemies
from digicomp.bank.coverage import coverage, format_coverage
from digicomp.bank.schema import BankFile
from digicomp.errors import BankError

OPTIONS = [{"id": k, "vi": f"Phương án {k}", "en": f"Option {k}"} for k in "ABCD"]


def _mc(item_id: str, competence: str, level: int, **extra):
    return {
        "id": item_id,
        "competence": competence,
        "level": level,
        "stem": {"vi": "Hỏi?", "en": "Ask?"},
        "options": OPTIONS,
        "key": "B",
        **extra,
    }


def _sa(item_id: str, competence: str):
    cats = [{"vi": f"Mức {k}", "en": f"Level {k}"} for k in range(4)]
    return {
        "id": item_id,
        "competence": competence,
        "type": "self_assessment",
        "stem": {"vi": "Tôi làm được.", "en": "I can."},
        "categories": cats,
    }


@pytest.fixture
def parts(tmp_path):
    a = {"items": [_mc("x-1.1-01", "1.1", 1, enemies=["x-1.2-01"]), _mc("x-1.1-02", "1.1", 8), _sa("x-1.1-sa", "1.1")]}
    b = {"items": [_mc("x-1.2-01", "1.2", 5, enemies=[]), _mc("x-1.2-02", "1.2", 5, options=OPTIONS[:3])]}
    paths = []
    for name, data in (("a", a), ("b", b)):
        path = tmp_path / f"part-{name}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        paths.append(path)
    return paths


def test_assembled_bank_validates_and_carries_rule_level_v1(parts):
    data = assemble("civil-service", parts, "1.0")
    bank = ItemBank(BankFile.model_validate(data))
    assert bank.ids == ["x-1.1-01", "x-1.1-02", "x-1.1-sa", "x-1.2-01", "x-1.2-02"]
    assert data["scale"]["cut_scores"] == [-1.2, 0.0, 1.2]
    assert data["framework"] == {"id": "vn-civil-service", "version": "1.0"}
    assert "level-v1" in data["rules"]
    assert {it["calibration"]["rule"] for it in data["items"]} == {"level-v1"}
    file_form = bank.params.to_file_form()
    assert [r["b"] for r in file_form if r["model"] == "3PL"] == pytest.approx([-2.1, 2.1, 0.3, 0.3])
    assert file_form[4]["c"] == pytest.approx(0.267)
    assert file_form[2]["model"] == "GRM" and file_form[2]["b"] == pytest.approx([-1.5, 0.0, 1.5])


def test_assembled_items_have_keys_in_documented_order(parts):
    item = assemble("civil-service", parts, "1.0")["items"][0]
    assert list(item)[:7] == ["id", "competence", "level", "model", "params", "calibration", "stem"]


def test_enemies_are_written_on_both_sides(parts):
    items = {it["id"]: it for it in assemble("civil-service", parts, "1.0")["items"]}
    assert items["x-1.1-01"]["enemies"] == ["x-1.2-01"]
    assert items["x-1.2-01"]["enemies"] == ["x-1.1-01"]
    assert "enemies" not in items["x-1.1-02"]


def test_symmetric_enemies_does_not_duplicate_pairs_given_twice():
    items = symmetric_enemies([{"id": "a", "enemies": ["b"]}, {"id": "b", "enemies": ["a"]}, {"id": "c"}])
    assert [it.get("enemies") for it in items] == [["b"], ["a"], None]


def test_part_with_other_top_level_keys_is_refused(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("id: x\nitems: []\n", encoding="utf-8")
    with pytest.raises(BankError, match="bad.yaml: a part file holds exactly one key"):
        assemble("civil-service", [path], "1.0")


def test_item_with_unknown_key_is_refused_naming_it(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"items": [_mc("x-1", "1.1", 2, difficulty="hard")]}), encoding="utf-8")
    with pytest.raises(BankError, match="item 'x-1': unknown keys \\['difficulty'\\]"):
        assemble("civil-service", [path], "1.0")


def test_coverage_counts_items_per_competence_and_level(parts):
    bank = ItemBank(BankFile.model_validate(assemble("civil-service", parts, "1.0")))
    table = coverage(bank)
    assert table.shape == (2, 9)
    np.testing.assert_array_equal(table[0, [1, 8]], [1, 1])
    np.testing.assert_array_equal(table[1, 5], 2)
    assert table.sum() == 4
    assert coverage(bank, "self_assessment")[:, 0].tolist() == [1, 0]
    text = format_coverage(bank)
    assert text.splitlines()[-1].split() == ["total", "1", "0", "0", "0", "2", "0", "0", "1", "4", "1"]


def test_new_format_items_get_rule_formats_v1_and_keep_their_content(tmp_path):
    mr = {
        "id": "x-1.1-mr",
        "type": "multiple_response",
        "competence": "1.1",
        "level": 4,
        "stem": {"vi": "Chọn mọi việc đúng.", "en": "Choose every right step."},
        "options": [{"id": k, "vi": f"Việc {k}", "en": f"Step {k}"} for k in "ABCDE"],
        "keys": ["A", "C", "D"],
        "sources": [{"title": "Luật Giao dịch điện tử 2023", "url_or_ref": "20/2023/QH15", "review_by": "2027-06-30"}],
    }
    path = tmp_path / "part.yaml"
    path.write_text(yaml.safe_dump({"items": [_mc("x-1.1-01", "1.1", 2), mr]}, allow_unicode=True), encoding="utf-8")
    data = assemble("civil-service", [path], "0.1.0")
    assert set(data["rules"]) == {"level-v1", "formats-v1"}
    item = ItemBank(BankFile.model_validate(data)).item("x-1.1-mr")
    assert item.model == "GPCM" and item.params.b == [-0.9, -0.3, 0.3] and item.keys == ["A", "C", "D"]
    assert item.calibration.rule == "formats-v1" and str(item.sources[0].review_by) == "2027-06-30"
