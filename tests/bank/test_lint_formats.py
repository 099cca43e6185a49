"""The linter on the newer formats and on provenance: option rules read a multiple-response item's keys as 'the key',
skip ordering and matching items; the exact placement null of key sets; citations, sources and review-by dates."""

from __future__ import annotations

import datetime
import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from digicomp.bank.lint import exact_placement_test, lint_bank, lint_items, placement_null
from digicomp.bank.schema import Item
from digicomp.cli import main

FORMATS = Path(__file__).parent / "fixtures" / "formats.yaml"
COMMON = {
    "competence": "1.1",
    "level": 4,
    "calibration": {"status": "provisional", "rule": "r"},
}
NEUTRAL = [
    ("Mở bản sao hồ sơ", "Open a copy of the record"),
    ("Gửi tệp cho đơn vị", "Send the file to the unit"),
    ("Lưu bản ghi trên máy", "Store the entry on the PC"),
    ("Xem danh mục phòng ban", "View the list"),
    ("In phiếu tiếp nhận", "Print the receipt"),
]


def _opts(texts):
    return [{"id": "ABCDEF"[j], "vi": vi, "en": en} for j, (vi, en) in enumerate(texts)]


def mr(item_id="mr-1", texts=None, keys=("A", "C"), stem=("Chọn mọi việc nên làm.", "Choose every right step."), **kw):
    texts = texts or NEUTRAL
    return Item.model_validate(
        {
            "id": item_id,
            "type": "multiple_response",
            **COMMON,
            "model": "GPCM",
            "params": {"a": 1.0, "b": [0.1 * s for s in range(len(keys))]},
            "stem": {"vi": stem[0], "en": stem[1]},
            "options": _opts(texts),
            "keys": list(keys),
            **kw,
        }
    )


def ordering(texts):
    return Item.model_validate(
        {
            "id": "ord-1",
            "type": "ordering",
            **COMMON,
            "model": "GPCM",
            "params": {"a": 1.0, "b": [0.0] * (len(texts) - 1)},
            "stem": {"vi": "Sắp xếp các bước.", "en": "Put the steps in order."},
            "options": _opts(texts),
            "key_order": list("ABCDEF"[: len(texts)]),
        }
    )


def rules_of(*items, today=None):
    out = {}
    for f in lint_items(list(items), today=today).findings:
        out.setdefault(f.rule, []).append(f.message)
    return out


def test_a_neutral_multiple_response_item_has_no_findings():
    assert rules_of(mr()) == {}


def test_keys_all_longer_than_every_distractor_are_flagged_on_a_multiple_response_item():
    texts = list(NEUTRAL)
    texts[0] = (texts[0][0] + " và ghi chú lý do cụ thể", texts[0][1] + " and note the exact reason for it")
    texts[2] = (texts[2][0] + " kèm biên bản bàn giao", texts[2][1] + " together with the handover record")
    found = rules_of(mr(texts=texts))
    assert "the keys are the longest options" in found["key-length"][0]
    texts[1] = (texts[1][0] + " và ghi chú lý do cụ thể hơn", texts[1][1] + " and note the exact reason for it")
    assert "key-length" not in rules_of(mr(texts=texts))  # a distractor as long as the keys: no cue


def test_absolute_words_on_distractors_only_are_flagged_and_on_one_key_too():
    texts = list(NEUTRAL)
    texts[1] = ("Luôn gửi tệp cho đơn vị", "Always send the file to the unit")
    found = rules_of(mr(texts=texts))
    assert found["absolute-words"][0].startswith("vi: distractor B ('luôn') carries absolute words; the keys do not")
    texts[2] = ("Luôn lưu bản ghi trên máy", "Always store the entry on the PC")  # a key carries it too
    assert "absolute-words" not in rules_of(mr(texts=texts))


def test_a_list_form_on_every_key_alone_is_flagged():
    texts = list(NEUTRAL)
    texts[0] = ("Mở hồ sơ; kiểm tra; lưu", "Open; check; store")
    texts[2] = ("Lưu bản ghi; báo cáo", "Store; report")
    assert "only the keys is a list" in rules_of(mr(texts=texts))["list-form"][0]


def test_ordering_items_get_no_option_findings():
    texts = [("Luôn mở hồ sơ", "Always open the record"), *NEUTRAL[1:4]]
    texts[1] = (texts[1][0] + " rồi ghi chú lý do cụ thể và đầy đủ", texts[1][1] + " then note the full reason")
    assert rules_of(ordering(texts)) == {}


def test_placement_null_of_key_sets_is_the_exact_enumeration():
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 3, size=(4, 5))
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    n_keys = np.array([2, 1, 2, 3])
    pmf = placement_null(scores, mask, n_keys)
    brute = np.zeros(len(pmf))
    sets = [list(itertools.combinations(np.flatnonzero(row), m)) for row, m in zip(mask, n_keys)]
    for choice in itertools.product(*sets):
        brute[sum(scores[i, list(c)].sum() for i, c in enumerate(choice))] += 1
    np.testing.assert_allclose(pmf, brute / brute.sum(), atol=1e-15)
    is_key = np.zeros(mask.shape, dtype=bool)
    for i, c in enumerate(sets):
        is_key[i, list(c[0])] = True
    observed = int(scores[is_key].sum())
    expected = min(1.0, 2 * min(brute[: observed + 1].sum(), brute[observed:].sum()) / brute.sum())
    assert exact_placement_test(scores, mask, is_key) == pytest.approx(expected, abs=1e-12)


def test_keys_of_multiple_response_items_carrying_a_cue_are_a_significant_bank_level_cue():
    texts = list(NEUTRAL)
    texts[0] = ("Mở hồ sơ; kiểm tra; lưu", "Open; check; store")
    texts[2] = ("Lưu bản ghi; báo cáo", "Store; report")
    cued = [
        mr(f"mr-{i}", texts=texts, stem=(f"Câu {i}: chọn mọi việc đúng.", f"Item {i}: choose all.")) for i in range(12)
    ]
    report = lint_items(cued)
    assert report.n_multiple_response == 12 and report.n_multiple_choice == 0
    test = {(t.rule, t.lang): t for t in report.tests}[("list-form", "vi")]
    assert test.significant and test.observed == 1.0 and test.distractors == 0.0
    assert {t.rule for t in report.tests} == {
        "key-longest", "absolute-words", "hedge-words", "justification", "purpose", "list-form", "stem-overlap",
        "multi-key-position",
    }  # fmt: skip  # no key-position or key-length-rank test without multiple-choice items


def test_multiple_response_keys_in_the_first_places_are_a_significant_cue_and_balanced_places_are_not():
    def bank(key_sets):
        stem = ("Câu {}: chọn mọi việc đúng.", "Item {}: choose all.")
        return [
            mr(f"mr-{i}", keys=keys, stem=(stem[0].format(i), stem[1].format(i))) for i, keys in enumerate(key_sets)
        ]

    early = {(t.rule, t.lang): t for t in lint_items(bank([("A", "B")] * 15)).tests}[("multi-key-position", None)]
    # places 0 and 1 of 5 options, relative 0 and 0.25; under random placement the 15 sums average 2 each
    assert early.significant and early.observed == pytest.approx(0.125) and early.statistic == 15
    assert early.distractors == pytest.approx((0.5 + 0.75 + 1.0) / 3)
    spread = [("A", "E"), ("B", "D"), ("B", "E"), ("A", "D")] * 4  # places summing to 4, 4, 5, 3: the mean by chance
    balanced = {(t.rule, t.lang): t for t in lint_items(bank(spread)).tests}[("multi-key-position", None)]
    assert balanced.observed == pytest.approx(0.5) and balanced.p_value == pytest.approx(1.0)
    assert not balanced.significant


STEM_LAW = ("Theo Nghị định 13/2023/NĐ-CP, chọn mọi việc cần làm.", "Under Decree 13/2023/ND-CP, choose every step.")
SOURCE = {"title": "Nghị định 13/2023/NĐ-CP", "url_or_ref": "13/2023/NĐ-CP"}
TODAY = datetime.date(2026, 12, 2)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, {"law-review-date": "cites Nghị định 13/2023/NĐ-CP but carries no review-by date",
              "law-source": "cites Nghị định 13/2023/NĐ-CP but lists no 'sources'"}),
        ({"sources": [SOURCE]}, {"law-review-date": "source 'Nghị định 13/2023/NĐ-CP' has no review-by date"}),
        ({"sources": [{**SOURCE, "review_by": "2027-06-30"}]}, {}),
        ({"sources": [SOURCE], "review_by": "2027-06-30"}, {}),
        ({"sources": [{**SOURCE, "review_by": "2026-07-01"}]},
         {"review-overdue": "source 'Nghị định 13/2023/NĐ-CP' (review by 2026-07-01): the date has passed (today "
                            "2026-12-02)"}),
        ({"review_by": "2026-12-01", "sources": [{**SOURCE, "review_by": "2027-01-01"}]},
         {"review-overdue": "the item (review by 2026-12-01): the date has passed"}),
    ],
)  # fmt: skip
def test_citations_sources_and_review_dates(extra, expected):
    found = rules_of(mr(stem=STEM_LAW, **extra), today=TODAY)
    assert set(found) == set(expected), found
    for rule, fragment in expected.items():
        assert fragment in found[rule][0]


def test_an_item_listing_sources_without_citing_them_in_text_still_needs_their_review_date():
    found = rules_of(mr(sources=[SOURCE]), today=TODAY)
    assert set(found) == {"law-review-date"}


def test_lint_command_compares_review_dates_with_today(capsys):
    assert main(["lint", str(FORMATS), "--today", "2027-07-01", "--json", "--rule", "review-overdue"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(f["item"], f["severity"]) for f in data["findings"]] == [("f-match", "error")]
    assert data["n_multiple_response"] == 2 and data["failed"] is True
    assert main(["lint", str(FORMATS), "--today", "2027-07-01", "--strict", "--summary"]) == 1
    assert main(["lint", str(FORMATS), "--today", "2027-06-30", "--strict", "--summary"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["lint", str(FORMATS), "--today", "tomorrow"])
    assert exited.value.code == 2
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err


def test_the_formats_bank_lints_with_its_multiple_response_items_counted():
    report = lint_bank(FORMATS, today=TODAY)
    assert report.n_multiple_choice == 1 and report.n_multiple_response == 2 and report.n_items == 8
    assert not report.errors


def numeric(item_id, accepted, tolerance=0.0):
    return Item.model_validate(
        {
            "id": item_id,
            "type": "short_answer",
            **COMMON,
            "model": "2PL",
            "params": {"a": 1.0, "b": 0.0},
            "stem": {"vi": f"Đếm số dòng trong bảng {item_id}.", "en": f"Count the rows of table {item_id}."},
            "answer": {"kind": "number", "accepted": list(accepted), "tolerance": tolerance},
        }
    )


def test_one_number_answering_over_a_quarter_of_the_numeric_short_answers_is_flagged_on_those_items():
    other = [numeric(f"sa-{k}", [10 + k]) for k in range(6)]
    quarter = [numeric("sa-a", [3]), numeric("sa-b", [2.9], tolerance=0.2)]  # 3 within tolerance of 2.9
    assert not [f for f in lint_items(other + quarter).findings if f.rule == "common-number"]  # 2 of 8: 25%
    more = quarter + [numeric("sa-c", [7, 3])]  # any accepted value counts
    found = [f for f in lint_items(other + more).findings if f.rule == "common-number"]
    assert {f.item for f in found} == {"sa-a", "sa-b", "sa-c"}
    assert all("typing 3 answers 3 of the bank's 9" in f.message and f.severity == "warning" for f in found)


def test_common_number_needs_enough_numeric_items_and_ignores_text_answers():
    few = [numeric(f"sa-{k}", [3]) for k in range(7)]
    text = Item.model_validate(
        {
            "id": "txt",
            "type": "short_answer",
            **COMMON,
            "model": "2PL",
            "params": {"a": 1.0, "b": 0.0},
            "stem": {"vi": "Gõ phần mở rộng.", "en": "Type the extension."},
            "answer": {"kind": "text", "accepted": ["3"]},
        }
    )
    assert not [f for f in lint_items([*few, text]).findings if f.rule == "common-number"]
    assert len([f for f in lint_items([*few, numeric("sa-7", [3])]).findings if f.rule == "common-number"]) == 8
