"""digicomp.bank.lint: each rule fires on its cue and stays quiet without it; the bank-level tests hold their level."""

from __future__ import annotations

import copy
import datetime
import itertools
import json

import numpy as np
import pytest

from digicomp.bank.lint import (
    BANK_TESTS,
    LANGS,
    LANGUAGE_FREE,
    RULES,
    exact_placement_test,
    holm,
    law_references,
    lint_bank,
    lint_items,
    placement_null,
    second_person_titles,
    shingle_jaccard,
)
from digicomp.bank.lint.words import option_magnitudes
from digicomp.bank.schema import Item
from digicomp.cli import main
from digicomp.errors import DigicompError

NEUTRAL = ("Mở bản sao hồ sơ", "Gửi tệp cho đơn vị", "Lưu bản ghi trên máy", "Xem danh mục phòng ban")
NEUTRAL_EN = ("Open a copy of the record", "Send the file to the unit", "Store the entry on the PC", "View the list")


def mc(
    item_id: str = "t-1",
    stem: tuple[str, str] = ("Cán bộ nên làm gì với hồ sơ này?", "What should the officer do with this record?"),
    options: list[tuple[str, str]] | None = None,
    key: str = "A",
    **extra,
) -> Item:
    """A valid multiple-choice item with the given stem and options (default: four neutral options)."""
    opts = options or list(zip(NEUTRAL, NEUTRAL_EN))
    return Item.model_validate(
        {
            "id": item_id,
            "competence": "1.1",
            "level": 3,
            "model": "3PL",
            "params": {"a": 1.0, "b": 0.0, "c": 0.2},
            "calibration": {"status": "provisional", "rule": "level-v1"},
            "stem": {"vi": stem[0], "en": stem[1]},
            "options": [{"id": "ABCDEF"[j], "vi": vi, "en": en} for j, (vi, en) in enumerate(opts)],
            "key": key,
            **extra,
        }
    )


def rules_of(*items: Item) -> dict[str, list[str]]:
    """Rule id -> messages of the findings on the given items."""
    out: dict[str, list[str]] = {}
    for f in lint_items(list(items)).findings:
        out.setdefault(f.rule, []).append(f.message)
    return out


def test_neutral_item_has_no_findings():
    assert rules_of(mc()) == {}


# ------------------------------------------------------------------------------------------------ per-item rules
def test_key_length_fires_on_a_much_longer_key_only():
    long_key = [
        ("Mở bản sao hồ sơ, đối chiếu với bản gốc và ghi sổ theo dõi", "Open a copy, compare it with the original")
    ]
    flagged = mc(options=long_key + list(zip(NEUTRAL[1:], NEUTRAL_EN[1:])))
    assert "the key is the longest option" in " ".join(rules_of(flagged)["key-length"])
    assert "key-length" not in rules_of(mc())


def test_option_homogeneity_fires_when_lengths_differ_twofold():
    uneven = [
        ("Gửi", "Send"),
        ("Lưu", "Save"),
        ("Mở bản sao hồ sơ trên máy tính của phòng ban", "Open it"),
        ("Xem", "View"),
    ]
    assert "option-homogeneity" in rules_of(mc(options=uneven, key="B"))
    assert "option-homogeneity" not in rules_of(mc())


def test_absolute_words_in_distractors_fire_and_neutral_options_do_not():
    opts = [(NEUTRAL[0], NEUTRAL_EN[0]), ("Luôn gửi mọi tệp cho đơn vị", "Always send every file to the unit")]
    found = rules_of(mc(options=opts + list(zip(NEUTRAL[2:], NEUTRAL_EN[2:]))))["absolute-words"]
    assert "distractor B ('luôn', 'mọi')" in found[0] and "vi:" in found[0] and "en:" in found[0]
    assert "absolute-words" not in rules_of(mc())


def test_absolute_word_on_the_key_alone_fires():
    opts = [("Không bao giờ mở bản sao", "Never open a copy")] + list(zip(NEUTRAL[1:], NEUTRAL_EN[1:]))
    assert "only the key" in rules_of(mc(options=opts))["absolute-words"][0]


def test_vietnamese_word_matching_is_whole_word():
    # 'ngay cả' (even) and 'ngày' (day) are not the absolute 'ngay' (at once)
    opts = [(NEUTRAL[0], NEUTRAL_EN[0]), ("Gửi tệp trong ngày, ngay cả khi bận", "Send the file today, even when busy")]
    assert "absolute-words" not in rules_of(mc(options=opts + list(zip(NEUTRAL[2:], NEUTRAL_EN[2:]))))


def test_justification_fires_on_a_reason_only_distractors_give():
    opts = list(zip(NEUTRAL, NEUTRAL_EN))
    opts[2] = ("Lưu bản ghi trên máy vì như vậy nhanh hơn", "Store it on the PC because that is faster")
    assert "justification" in rules_of(mc(options=opts))
    opts[2] = ("Lưu bản ghi trên máy thay vì gửi đi", "Store it on the PC instead of sending it")  # 'thay vì' = instead
    assert "justification" not in rules_of(mc(options=opts))


def test_hedge_on_the_key_alone_fires_and_a_shared_hedge_does_not():
    opts = list(zip(NEUTRAL, NEUTRAL_EN))
    opts[0] = ("Thường mở bản sao hồ sơ", "Usually open a copy")
    assert "hedge-words" in rules_of(mc(options=opts))
    opts[1] = ("Có thể gửi tệp cho đơn vị", "Perhaps send the file to the unit")
    assert "hedge-words" not in rules_of(mc(options=opts))


def test_purpose_fires_when_the_key_alone_lacks_it():
    opts = [(NEUTRAL[0], NEUTRAL_EN[0])] + [(f"{vi} để tiện", f"{en} so that it is easy") for vi, en in opts_tail()]
    assert "purpose" in rules_of(mc(options=opts))
    opts[0] = (NEUTRAL[0] + " để tiện", NEUTRAL_EN[0] + " so that it is easy")
    assert "purpose" not in rules_of(mc(options=opts))


def opts_tail() -> list[tuple[str, str]]:
    return list(zip(NEUTRAL[1:], NEUTRAL_EN[1:]))


def test_list_form_fires_on_a_key_alone_in_list_form():
    opts = [("Mở bản sao; đối chiếu; ghi sổ", "Open a copy; compare; log it")] + opts_tail()
    assert "only the key is a list" in rules_of(mc(options=opts))["list-form"][0]
    all_lists = [(vi + "; ghi sổ", en + "; log it") for vi, en in zip(NEUTRAL, NEUTRAL_EN)]
    assert "list-form" not in rules_of(mc(options=all_lists))


def test_punctuation_fires_on_a_key_alone_ending_with_a_full_stop():
    opts = [(NEUTRAL[0] + ".", NEUTRAL_EN[0] + ".")] + opts_tail()
    assert rules_of(mc(options=opts))["punctuation"] == [
        "vi: only the key ends with punctuation; en: only the key ends with punctuation"
    ]
    stops = [(vi + ".", en + ".") for vi, en in zip(NEUTRAL, NEUTRAL_EN)]
    assert "punctuation" not in rules_of(mc(options=stops))


def test_agreement_fires_when_an_article_fits_only_the_key():
    stem = ("Tệp nào cần mở trước?", "The officer should first open an")
    opts = [("Tệp lưu trữ", "archive"), ("Bảng tính", "spreadsheet"), ("Thư", "letter"), ("Ảnh", "picture")]
    assert "agreement" in rules_of(mc(stem=stem, options=opts))
    vowels = [("Tệp lưu trữ", "archive"), ("Ảnh", "image"), ("Thư", "email"), ("Tệp", "office file")]
    assert "agreement" not in rules_of(mc(stem=stem, options=vowels))


def test_stem_overlap_fires_when_the_key_repeats_the_stem():
    stem = ("Cần bảo vệ dữ liệu cá nhân của người dân thế nào?", "How should citizens' personal data be protected?")
    opts = [("Bảo vệ dữ liệu cá nhân của người dân theo quy trình", "Protect citizens' personal data by procedure")]
    assert "stem-overlap" in rules_of(mc(stem=stem, options=opts + opts_tail()))
    assert "stem-overlap" not in rules_of(mc(stem=stem))


@pytest.mark.parametrize(
    ("vi", "en"),
    [("Tất cả các phương án trên", "All of the above"), ("Không có phương án nào đúng", "None of the above")],
)
def test_all_or_none_of_the_above_fires(vi, en):
    assert "all-none-of-above" in rules_of(mc(options=[*zip(NEUTRAL[:3], NEUTRAL_EN[:3]), (vi, en)]))


def test_negative_stem_fires_unless_emphasised():
    plain = ("Việc nào sau đây không nên làm?", "Which of these should not be done?")
    found = rules_of(mc(stem=plain))["negative-stem"][0]
    assert "vi: 'không'" in found and "en: 'not'" in found
    emphasised = ("Việc nào sau đây KHÔNG nên làm?", "Which of these should NOT be done?")
    assert "negative-stem" not in rules_of(mc(stem=emphasised))
    # a negation inside a subordinate clause does not make the question negative
    clause = ("Khi không phát biểu, đồng chí Long nên làm gì?", "What should Long do while he is not speaking?")
    assert "negative-stem" not in rules_of(mc(stem=clause))
    assert "negative-stem" in rules_of(mc(stem=("Phát biểu nào sai?", "Which statement is false?")))


def test_duplicate_stems_are_errors_and_near_duplicates_warnings():
    a = mc("t-1", stem=("Chị Lan cần gửi báo cáo tháng cho phòng. Chị nên làm gì?", "Lan must send a report. What?"))
    b = mc("t-2", stem=("Chị Lan cần gửi báo cáo tháng cho phòng. Chị nên làm gì?", "Lan must send a report. What?"))
    c = mc("t-3", stem=("Chị Lan cần gửi báo cáo tháng cho phòng ban. Chị nên làm gì?", "Lan sends a report. What?"))
    d = mc("t-4", stem=("Máy in không in được. Anh Nam kiểm tra gì trước?", "The printer does not print. What first?"))
    report = lint_items([a, b, c, d])
    dup = [f for f in report.findings if f.rule == "duplicate-stem"]
    near = [f for f in report.findings if f.rule == "near-duplicate-stem"]
    assert [(f.item, f.severity) for f in dup] == [("t-2", "error")]
    assert {f.item for f in near} == {"t-3"} and all(f.severity == "warning" for f in near)
    assert report.failed


def test_shingle_jaccard_matches_the_set_definition():
    texts = ["a b c d e", "a b c d f", "x y z", ""]
    sim = shingle_jaccard(texts)
    sets = [{" ".join(t.split()[j : j + 3]) for j in range(len(t.split()) - 2)} for t in texts]
    for i, j in itertools.product(range(3), repeat=2):
        union = sets[i] | sets[j]
        assert sim[i, j] == pytest.approx(len(sets[i] & sets[j]) / len(union) if union else 0.0)
    assert sim[3, 3] == 0.0


# ------------------------------------------------------------------------------------------------ gendered address
@pytest.mark.parametrize(
    ("vi", "en"),
    [
        ("Anh được giao xây dựng quy trình ứng phó. Quy trình nào đúng nhất?", "You are asked to design a procedure."),
        ("Chị Nga hỏi anh: con gái chị có được làm thẻ không?", "Nga asks you whether her daughter can get a card."),
        ("Đồng nghiệp nhờ anh góp ý trước khi đăng video.", "A colleague asks for feedback before posting a video."),
        ("Chỉ huy hỏi ý kiến anh về cách tăng an toàn.", "The commander asks how to make them safer."),
    ],
)
def test_second_person_anh_or_chi_is_flagged(vi, en):
    assert second_person_titles(vi, en)
    assert "gendered-address" in rules_of(mc(stem=(vi, en)))


@pytest.mark.parametrize(
    ("vi", "en"),
    [
        ("Chị Lan cần rời bàn làm việc. Chị nên làm gì?", "Lan has to leave her desk. What should she do?"),
        ("Anh/chị được giao xây dựng quy trình. Cách nào đúng?", "You are asked to design a procedure."),
        ("Anh (chị) cần làm gì trước tiên?", "What should you do first?"),
        ("Đồng chí được giao soạn quy trình. Cách nào đúng?", "You are asked to draft a procedure."),
        (
            "Trưởng phòng yêu cầu chỉnh sửa sao cho anh thấy rõ từng chỗ.",
            "The head asks for edits so that he sees them.",
        ),
        ("Bản tin viết bằng tiếng Anh và tiếng Việt; bạn cần sửa gì?", "The bulletin is in English; what do you fix?"),
        ("Anh Nam được giao việc; anh ấy nên làm gì?", "Nam is given a task; what should you advise?"),
    ],
)
def test_third_person_and_neutral_address_are_not_flagged(vi, en):
    assert second_person_titles(vi, en) == []
    assert "gendered-address" not in rules_of(mc(stem=(vi, en)))


def test_options_keep_the_stems_named_person():
    stem = ("Chị Thoa cần chia sẻ tệp. Cách nào phù hợp?", "Thoa must share files. Which way is right?")
    opts = [("Cho mượn mật khẩu của chị", "Lend them your password")] + opts_tail()
    assert "gendered-address" not in rules_of(mc(stem=stem, options=opts))


# ------------------------------------------------------------------------------------------------ law references
def test_law_references_are_found_in_both_languages():
    assert law_references("Nghị định số 13/2023/NĐ-CP đã bị thay thế", "vi") == ["Nghị định 13/2023/NĐ-CP"]
    assert law_references("Luật An ninh mạng năm 2025 bổ sung", "vi") == ["Luật An ninh mạng 2025"]
    assert law_references("Luật Bảo vệ dữ liệu cá nhân cấm mua bán", "vi") == ["Luật Bảo vệ dữ liệu cá nhân"]
    assert law_references("Luật sư nói rằng Quyết định nào cũng được", "vi") == []
    assert law_references("Decree 13/2023/ND-CP was replaced", "en") == ["Decree 13/2023/ND-CP"]


def test_law_without_review_date_fires_and_a_dated_item_does_not():
    stem = ("Theo Nghị định 13/2023/NĐ-CP, cán bộ cần làm gì?", "Under Decree 13/2023/ND-CP, what must the officer do?")
    assert "Nghị định 13/2023/NĐ-CP" in rules_of(mc(stem=stem))["law-review-date"][0]
    assert "law-review-date" not in rules_of(mc())

    class Dated(Item):
        review_by: str | None = None

    dated = Dated.model_validate({**mc(stem=stem).model_dump(exclude_none=True), "review_by": "2026-12-31"})
    assert "law-review-date" not in rules_of(dated)


# ------------------------------------------------------------------------------------------------ bank-level tests
def test_placement_null_is_the_exact_enumeration():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, size=(4, 4))
    mask = np.array([[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]], dtype=bool)
    pmf = placement_null(scores, mask)
    brute = np.zeros(len(pmf))
    choices = [np.flatnonzero(row) for row in mask]
    for keys in itertools.product(*choices):
        brute[sum(scores[i, k] for i, k in enumerate(keys))] += 1
    brute /= brute.sum()
    np.testing.assert_allclose(pmf, brute, atol=1e-15)


def test_holm_adjustment():
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.5]), [0.04, 0.09, 0.09, 0.5])


def _random_options(rng: np.random.Generator, n: int) -> list[list[tuple[str, str]]]:
    words_vi = ["mở", "tệp", "gửi", "đơn", "lưu", "bản", "sao", "hồ", "sơ", "máy", "mạng", "phòng"]
    words_en = ["open", "file", "send", "unit", "store", "copy", "record", "computer", "network", "office"]
    out = []
    for _ in range(n):
        sizes = rng.integers(3, 12, size=4)
        out.append(
            [
                (" ".join(rng.choice(words_vi, s)).capitalize(), " ".join(rng.choice(words_en, s)).capitalize())
                for s in sizes
            ]
        )
    return out


def _bank(options: list[list[tuple[str, str]]], keys: list[int]) -> list[Item]:
    return [
        mc(f"t-{i}", stem=(f"Câu hỏi số {i}?", f"Question {i}?"), options=opts, key="ABCD"[k])
        for i, (opts, k) in enumerate(zip(options, keys))
    ]


def _tests(report) -> dict[tuple[str, str | None], object]:
    return {(t.rule, t.lang): t for t in report.tests}


def test_keys_always_longest_are_a_significant_cue_and_random_keys_are_not():
    rng = np.random.default_rng(20260101)
    options = _random_options(rng, 120)
    keys = rng.integers(0, 4, size=120)
    longest = [max(range(4), key=lambda j: (len(o[j][0]), j)) for o in options]
    # make the longest (vi) option strictly longest in both languages, and put the key there
    for opts, j in zip(options, longest):
        opts[j] = (opts[j][0] + " mở tệp lưu bản sao", opts[j][1] + " open the file and store a copy")
    cued = _tests(lint_items(_bank(options, longest)))
    for lang in LANGS:
        assert cued[("key-length-rank", lang)].significant
        assert cued[("key-longest", lang)].significant
        assert cued[("key-longest", lang)].observed == 1.0
    fair = lint_items(_bank(options, list(keys)))
    assert not fair.significant_cues, [(t.rule, t.lang, t.p_value) for t in fair.significant_cues]
    assert {t.rule for t in fair.tests} == set(BANK_TESTS) - {"multi-key-position"}  # no multiple-response items


def test_absolute_words_only_in_distractors_are_a_significant_cue():
    rng = np.random.default_rng(7)
    options = _random_options(rng, 60)
    keys = rng.integers(0, 4, size=60)
    for opts, k in zip(options, keys):
        j = (k + 1) % 4
        opts[j] = ("Luôn " + opts[j][0].lower(), "Always " + opts[j][1].lower())
    report = _tests(lint_items(_bank(options, list(keys))))
    for lang in LANGS:
        test = report[("absolute-words", lang)]
        assert test.significant and test.observed == 0.0 and test.expected == pytest.approx(0.25)


def test_keys_all_in_one_position_are_a_significant_cue():
    rng = np.random.default_rng(11)
    options = _random_options(rng, 40)
    report = _tests(lint_items(_bank(options, [0] * 40)))
    assert report[("key-position", None)].significant
    balanced = _tests(lint_items(_bank(options, [i % 4 for i in range(40)])))
    assert balanced[("key-position", None)].p_value == 1.0


def test_options_on_one_scale_are_numbers_with_one_unit_or_sets_of_numbered_parts():
    assert option_magnitudes(["Part (1)", "Parts (2) and (3)", "Parts (1), (2) and (4)", "Part (a)"]) == [1, 2, 3, 1]
    assert option_magnitudes(["16.3 MB", "2 MB", "1,240 MB", "−3 MB"]) == [16.3, 2.0, 1240.0, -3.0]
    assert option_magnitudes(["1 day", "3 days", "10 days", "2 days"]) == [1.0, 3.0, 10.0, 2.0]
    assert option_magnitudes(["25%", "30%", "45%", "60%"]) == [25.0, 30.0, 45.0, 60.0]
    assert option_magnitudes(["3 days", "3 weeks", "5 days", "1 day"]) is None  # two units: no common scale
    assert option_magnitudes(["Open the file", "3 days", "5 days", "1 day"]) is None
    assert option_magnitudes(["01/7/2026", "01/01/2027", "3", "4"]) is None  # dates are not magnitudes


def _numeric_bank(key_rank: list[int]) -> list[Item]:
    """Items whose options are four amounts in shuffled order, the key at the given rank (0 smallest .. 3 largest)."""
    rng = np.random.default_rng(29)
    items = []
    for i, rank in enumerate(key_rank):
        values = sorted(rng.choice(np.arange(1, 90), size=4, replace=False).tolist())
        order = rng.permutation(4)
        options = [(f"{values[j]} tệp", f"{values[j]} files") for j in order]
        key = "ABCD"[int(np.flatnonzero(order == rank)[0])]
        stem = (f"Câu {i}: bao nhiêu tệp?", f"Item {i}: how many files?")
        items.append(mc(f"t-{i}", stem=stem, options=options, key=key))
    return items


def test_keys_never_at_the_smallest_or_largest_amount_are_a_significant_cue():
    middle = _tests(lint_items(_numeric_bank([1, 2] * 20)))[("key-extreme", None)]
    assert middle.significant and middle.n_items == 40 and middle.statistic == 0
    assert middle.expected == pytest.approx(0.5)
    spread = _tests(lint_items(_numeric_bank([0, 1, 2, 3] * 10)))[("key-extreme", None)]
    assert not spread.significant and spread.statistic == 20 and spread.p_value == pytest.approx(1.0)
    words = _tests(lint_items(_bank(_random_options(np.random.default_rng(3), 20), [0] * 20)))
    assert words[("key-extreme", None)].n_items == 0  # options on no common scale carry no cue


def test_key_length_rank_is_pearsons_chi_square_of_the_rank_table():
    from scipy import stats

    rng = np.random.default_rng(13)
    options = _random_options(rng, 80)
    keys = rng.integers(0, 4, size=80)
    ranks = np.zeros(4)
    for opts, k in zip(options, keys):
        lengths = np.array([len(vi) for vi, _ in opts])
        ties = lengths == lengths[k]
        below = int((lengths < lengths[k]).sum())
        ranks[below : below + ties.sum()] += 1 / ties.sum()
    rank = _tests(lint_items(_bank(options, list(keys))))[("key-length-rank", "vi")]
    expected = stats.chisquare(ranks)
    assert rank.df == 3
    assert rank.statistic == pytest.approx(expected.statistic) and rank.p_value == pytest.approx(expected.pvalue)


def test_chi_square_tables_with_too_few_items_are_shown_not_tested():
    rng = np.random.default_rng(17)
    report = _tests(lint_items(_bank(_random_options(rng, 3), [0, 0, 0])))
    position = report[("key-position", None)]
    assert position.p_value == 1.0 and position.df == 0 and "not tested" in position.detail


def test_exact_placement_test_holds_its_level_under_random_placement():
    rng = np.random.default_rng(5)
    reps, n, alpha = 400, 40, 0.05
    rejections = 0
    for _ in range(reps):
        cue = rng.random((n, 4)) < 0.3
        mask = np.ones((n, 4), dtype=bool)
        key = rng.integers(0, 4, size=n)
        rejections += exact_placement_test(cue.astype(np.int64), mask, key) <= alpha
    se = np.sqrt(alpha * (1 - alpha) / reps)
    assert rejections / reps <= alpha + 3 * se


@pytest.mark.slow
def test_banks_without_cues_fail_strict_at_most_alpha_of_the_time():
    rng = np.random.default_rng(23)
    reps, alpha = 100, 0.05
    flagged = 0
    for _ in range(reps):
        options = _random_options(rng, 80)
        flagged += bool(lint_items(_bank(options, list(rng.integers(0, 4, size=80))), alpha=alpha).significant_cues)
    assert flagged / reps <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / reps)


def test_alpha_outside_the_unit_interval_is_refused():
    with pytest.raises(DigicompError, match="alpha"):
        lint_items([mc()], alpha=1.5)


def test_lint_bank_takes_a_bank_a_spec_or_a_path(mini_data, write_bank):
    from digicomp.bank import load_bank

    path = write_bank(mini_data)
    bank = load_bank(path)
    by_path, by_bank, by_spec = lint_bank(path), lint_bank(bank), lint_bank(bank.spec)
    assert by_path.findings == by_bank.findings == by_spec.findings
    assert by_path.bank == "mini" and by_path.n_items == 3 and by_path.n_multiple_choice == 2
    with pytest.raises(DigicompError, match="expected an ItemBank"):
        lint_bank(42)


def test_counts_are_items_per_rule():
    same = ("Câu hỏi giống nhau?", "Same question?")
    report = lint_items([mc("t-1", stem=same), mc("t-2", stem=same), mc("t-3", stem=same)])
    assert report.counts() == {"duplicate-stem": 2}
    assert len([f for f in report.findings if f.rule == "duplicate-stem"]) == 3  # t-3 duplicates t-1 and t-2


# ------------------------------------------------------------------------------------------------ bundled banks
@pytest.fixture(scope="module", params=["civil-service", "public-security"])
def bundled_report(request):
    return lint_bank(request.param)


def test_bundled_banks_lint_to_well_formed_reports(bundled_report):
    from digicomp.bank import load_bank

    ids = set(load_bank(bundled_report.bank).ids)
    assert bundled_report.n_multiple_choice > 0
    assert all(f.item in ids and f.rule in RULES and f.message for f in bundled_report.findings)
    assert len(bundled_report.tests) == 2 * (len(BANK_TESTS) - len(LANGUAGE_FREE)) + len(LANGUAGE_FREE)
    assert all(0.0 <= t.p_value <= t.p_holm <= 1.0 for t in bundled_report.tests)
    json.dumps(bundled_report.to_dict(), ensure_ascii=False)


REWRITE_DATE = datetime.date(2026, 12, 3)
"""The day the rewritten banks were checked (review-by dates are compared with it, so the test does not age)."""


class TestBundledBanksAfterTheRewrite:
    """Issue 16's targets for the rewritten bundled banks, as the linter measures them.

    Before the rewrite both banks showed significant wording and structure cues (absolute words and reason clauses
    on distractors, keys in list form; in public-security the key length rank), about 40 items addressed the
    candidate as 'anh', and no item carried a review-by date.
    """

    def test_no_bank_level_cue_is_distinguishable_from_chance(self, bundled_report):
        assert not bundled_report.significant_cues, [
            (t.rule, t.lang, round(t.p_holm, 4), t.detail) for t in bundled_report.significant_cues
        ]

    def test_the_tests_cover_the_multiple_choice_and_multiple_response_items(self, bundled_report):
        assert bundled_report.n_multiple_choice > 0
        assert bundled_report.n_multiple_response > 0
        assert {t.rule for t in bundled_report.tests} == set(BANK_TESTS)

    def test_no_candidate_is_addressed_as_anh_or_chi_alone(self, bundled_report):
        assert "gendered-address" not in bundled_report.counts()

    def test_every_cited_legal_document_is_a_source_with_a_review_date_not_yet_passed(self, bundled_report):
        dated = lint_bank(bundled_report.bank, today=REWRITE_DATE)
        counts = dated.counts()
        assert not {"law-review-date", "law-source", "review-overdue"} & set(counts), counts

    def test_no_duplicate_stems_or_other_errors(self, bundled_report):
        assert not lint_bank(bundled_report.bank, today=REWRITE_DATE).errors


# ------------------------------------------------------------------------------------------------ command
def test_lint_command_json_and_strict(mini_data, write_bank, capsys):
    cued = copy.deepcopy(mini_data)  # the candidate addressed as 'anh' (a warning), two items with one stem (an error)
    cued["items"][0]["stem"] = {"vi": "Anh nên làm gì với hồ sơ?", "en": "What should you do with the record?"}
    cued["items"][1]["stem"] = dict(cued["items"][0]["stem"])
    path = str(write_bank(cued, "cued.yaml"))
    assert main(["lint", path, "--json", "--rule", "gendered-address"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["bank"] == "mini" and data["failed"] is True
    assert {f["rule"] for f in data["findings"]} == {"gendered-address"}
    assert data["counts"]["duplicate-stem"] == 1 and data["counts"]["gendered-address"] == 2
    assert main(["lint", path, "--strict", "--summary"]) == 1
    out = capsys.readouterr().out
    assert "Bank-level cues" in out and "key-length-rank" in out and "Findings" not in out


def test_lint_command_strict_passes_a_clean_bank_and_fails_on_duplicate_stems(mini_data, write_bank, capsys):
    assert main(["lint", str(write_bank(mini_data)), "--strict"]) == 0
    dup = copy.deepcopy(mini_data)
    dup["items"][1]["stem"] = dict(dup["items"][0]["stem"])
    assert main(["lint", str(write_bank(dup, "dup.yaml")), "--strict"]) == 1
    assert "duplicate-stem" in capsys.readouterr().out


def test_lint_command_refuses_unknown_rules(capsys):
    assert main(["lint", "civil-service", "--rule", "no-such-rule"]) == 1
    assert "unknown rule" in capsys.readouterr().err
