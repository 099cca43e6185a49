"""The two bundled banks load by id, validate against their frameworks and meet the issue's coverage numbers."""

from __future__ import annotations

import csv
import importlib.util
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from digicomp.bank import load_bank, validate_file
from digicomp.bank.coverage import coverage
from digicomp.bank.provisional import BANDS, LEVELS_PER_BAND
from digicomp.bundled import list_bundled

BANKS = {"civil-service": "vn-civil-service", "public-security": "vn-public-security"}
MIN_MC_ITEMS = 240
MIN_MC_PER_COMPETENCE = 8
REVIEW = Path(__file__).resolve().parents[2] / "docs" / "content-review"
_SPEC = importlib.util.spec_from_file_location(
    "review_ledger", Path(__file__).resolve().parents[2] / "tools" / "review_ledger.py"
)
review_ledger = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(review_ledger)


@pytest.fixture(scope="module", params=sorted(BANKS))
def bundled(request):
    """(bank, framework) for each bundled bank; a missing bank or framework is a failure, not a skip."""
    from digicomp.framework import load_framework

    assert request.param in list_bundled("item_banks"), f"item_banks/{request.param}.yaml is not bundled"
    framework = load_framework(BANKS[request.param])
    return load_bank(request.param, framework=framework), framework


def test_bank_validates_against_its_framework(bundled):
    bank, framework = bundled
    assert validate_file(bank.source, framework) == []
    assert bank.spec.framework.id == framework.id


def test_bank_has_enough_multiple_choice_items(bundled):
    bank, _ = bundled
    assert int((bank.kind == "multiple_choice").sum()) >= MIN_MC_ITEMS


def _bands(bank):
    """Multiple-choice items per (competence, band), shape (competences, 4)."""
    table = coverage(bank)[:, 1:]
    return table.reshape(len(bank.competences), len(BANDS), LEVELS_PER_BAND).sum(axis=2)


def test_every_competence_has_enough_multiple_choice_items_in_the_lower_bands(bundled):
    bank, framework = bundled
    assert set(bank.competences) == set(framework.codes)
    table = coverage(bank)[:, 1:]
    thin = {code: int(n) for code, n in zip(bank.competences, table.sum(axis=1)) if n < MIN_MC_PER_COMPETENCE}
    assert not thin, f"competences with fewer than {MIN_MC_PER_COMPETENCE} multiple-choice items: {thin}"
    gaps = [code for code, row in zip(bank.competences, _bands(bank)) if np.any(row[:2] == 0)]
    assert not gaps, f"competences missing the foundation or intermediate band: {gaps}"


def _not_met_yet(why: str) -> pytest.MarkDecorator:
    """A coverage target the banks do not meet yet: a strict expected failure, so meeting it turns the test red."""
    return pytest.mark.xfail(
        strict=True, reason=f"{why}: items enter at the level reviewers judge (docs/content-review.md)"
    )


@_not_met_yet("levels 5-8 are not earned in every competence yet, and few items reach 7-8")
def test_every_competence_has_items_in_all_four_bands(bundled):
    bank, _ = bundled
    gaps = [code for code, row in zip(bank.competences, _bands(bank)) if np.any(row == 0)]
    assert not gaps, f"competences missing a band: {gaps}"


def test_two_level_7_items_per_competence_and_a_level_8_item_per_area(bundled):
    """Issue 16's coverage target, met since the thirty-eighth pass (docs/content-review.md)."""
    bank, _ = bundled
    items = [item for item in bank.spec.items if item.kind != "self_assessment"]
    short7 = {c: n for c in bank.competences if (n := sum(i.competence == c and i.level == 7 for i in items)) < 2}
    areas = {c.split(".")[0] for c in bank.competences}
    no8 = sorted(a for a in areas if not any(i.level == 8 and i.competence.split(".")[0] == a for i in items))
    assert not short7 and not no8, f"level 7 short: {short7}; areas without level 8: {no8}"


def test_levels_are_the_levels_the_reviews_judged(bundled):
    """Every item the reviews judged is in the bank at the level of its latest review: the level audit, then the
    review of the new items, then the reviews of the rewritten items that were applied, then the fifth pass's
    sample, then the sixth pass's review of every item not reviewed before, then the seventh pass's new items, then
    the eighth to twelfth passes' rewrites of the items failing their latest review (each later one overrides)."""
    bank, _ = bundled
    level = {item.id: item.level for item in bank.spec.items}
    withdrawn = review_ledger.withdrawn_items(bank.id)  # items withdrawn since: as they were when they left
    assert not set(withdrawn) & set(level)
    level.update({item: it["level"] for item, it in withdrawn.items()})
    judged: dict[str, int] = {}
    with open(REVIEW / f"level-audit-2026-12-03-{bank.id}.csv", encoding="utf-8") as fh:
        judged.update({row["item"]: int(row["level_new"]) for row in csv.DictReader(fh)})
    with open(REVIEW / f"new-items-2026-12-03-{bank.id}.csv", encoding="utf-8") as fh:
        added = [row for row in csv.DictReader(fh) if row["item_in_bank"]]
    judged.update({row["item_in_bank"]: int(row["level_judged"]) for row in added})
    rewrites = []
    for round_ in ("f", "g"):  # the fourth pass and its second round, in that order
        with open(REVIEW / f"rewrite-2026-12-03{round_}-{bank.id}.csv", encoding="utf-8") as fh:
            applied = [row for row in csv.DictReader(fh) if row["applied"] == "1"]
        judged.update({row["item"]: int(row["level_judged"]) for row in applied})
        rewrites += applied
    # the fifth pass: a fresh random sample of 80 items, each at the level judged of the version kept or applied
    with open(REVIEW / f"rewrite-2026-12-03h-{bank.id}.csv", encoding="utf-8") as fh:
        sample = list(csv.DictReader(fh))
    assert len(sample) == 80
    judged.update({row["item"]: int(row["level_judged"]) for row in sample})
    # the sixth pass: every item never reviewed before, each at the level its review judged (the rewrite's review
    # where a rewrite was applied)
    with open(REVIEW / f"sixth-pass-2026-12-04k-{bank.id}.csv", encoding="utf-8") as fh:
        sixth = list(csv.DictReader(fh))
    assert len(sixth) > 200
    for row in sixth:
        applied = row["decision"] == "rewrite applied"
        assert int(row["level_in_bank"]) == int(row["review2_level_judged" if applied else "review1_level_judged"])
    judged.update({row["item"]: int(row["level_in_bank"]) for row in sixth})
    # the seventh pass: new items written for levels 7-8; those applied are at the level their latest review judged
    # (the revision's where a revision was applied), those not applied are not in the bank
    with open(REVIEW / f"seventh-pass-2026-12-04m-{bank.id}.csv", encoding="utf-8") as fh:
        seventh = list(csv.DictReader(fh))
    assert len(seventh) > 30
    for row in seventh:
        if row["decision"].startswith("not applied"):
            assert row["item"] not in level, row
            continue
        revision = row["decision"].startswith("revision applied")
        assert int(row["level_in_bank"]) == int(row["review2_level_judged" if revision else "review1_level_judged"])
        assert row["review2_pass" if revision else "review1_pass"] == "1"
    judged.update({row["item"]: int(row["level_in_bank"]) for row in seventh if row["level_in_bank"]})
    # the eighth pass: items failing their latest review, rewritten (mostly into constructed formats); a rewrite is in
    # the bank, in its new format, at the level its fresh review judged, when and only when it passed that review
    with open(REVIEW / f"eighth-pass-2026-12-05n-{bank.id}.csv", encoding="utf-8") as fh:
        eighth = list(csv.DictReader(fh))
    assert len(eighth) > 100
    kind = {item.id: item.kind for item in bank.spec.items}
    kind.update(review_ledger.withdrawn_formats(bank.id))
    # the ninth to twenty-sixth passes' records: every pass the ledger reads after the eighth except the count
    # variation, the rated tasks and the twenty-fifth pass's new items (checked apart); an item a later pass replaced
    # is checked against that pass
    later = {}
    checked_apart = {
        "seventh-pass-2026-12-04m",
        "eighth-pass-2026-12-05n",
        "count-variation-2026-12-05p",
        *review_ledger.NEW_ITEM_PASSES,
    }
    names = tuple(name for name, kind in review_ledger.LATER_RECORDS if kind == "pass" and name not in checked_apart)
    assert names[0] == "ninth-pass-2026-12-05q" and len(names) >= 16
    for name in names:  # a pass that touched no item of this bank has no file for it: no rows
        later[name] = review_ledger._rows(f"{name}-{bank.id}.csv")

    applied_in = {
        name: {r["item"] for r in rows if r["decision"].startswith("rewrite applied")} for name, rows in later.items()
    }
    replaced_after = {name: set().union(*list(applied_in.values())[k + 1 :]) for k, name in enumerate(names)}
    replaced_later = set().union(*applied_in.values())

    for row in eighth:
        if row["item"] in replaced_later:  # its format is checked against the later pass below
            continue
        if row["decision"].startswith("rewrite applied"):
            assert row["review_pass"] == "1" and int(row["level_in_bank"]) == int(row["review_level_judged"]), row
            assert kind[row["item"]] == row["format_after"], row
        elif row["decision"].startswith("revision applied"):  # round 2: the failed rewrite revised, then passed
            assert row["review2_pass"] == "1" and int(row["level_in_bank"]) == int(row["review2_level_judged"]), row
            assert kind[row["item"]] == row["format_revised"], row
        else:
            assert kind[row["item"]] == row["format_before"], row
    judged.update({row["item"]: int(row["level_in_bank"]) for row in eighth})
    # then five civil-service counting items whose data were changed so that 3 stops being the common answer
    varied = []
    if bank.id == "civil-service":  # the only bank whose counting items clustered on one answer
        with open(REVIEW / f"count-variation-2026-12-05p-{bank.id}.csv", encoding="utf-8") as fh:
            varied = list(csv.DictReader(fh))
        assert len(varied) == 5
    for row in varied:
        applied = row["decision"].startswith("applied")
        assert not applied or row["review_pass"] == "1", row
    judged.update({row["item"]: int(row["level_in_bank"]) for row in varied})
    # the ninth to twenty-sixth passes: items failing their latest review (the fresh samples of 5 December included),
    # rewritten, most as multiple choice; a rewrite is in the bank at the level its review judged when and only when
    # it passed that review and, if multiple choice, not both blind readers picked its key from the options alone
    with open(REVIEW / f"expert-review-2026-12-05x-{bank.id}.csv", encoding="utf-8") as fh:
        failed_re_review = {r["item"] for r in csv.DictReader(fh) if r["pass"] == "0"}
    for name, rows in later.items():
        if name == "thirteenth-pass-2026-12-05y":  # its list: every item that failed the re-review before it
            assert {r["item"] for r in rows} == failed_re_review and len(rows) == len(failed_re_review) > 50
        elif name in ("fourteenth-pass-2026-12-05z", "sixteenth-pass-2026-12-05zd"):  # the rewrites of the pass
            previous = names[names.index(name) - 1]  # before it that it did not apply
            left_out = {
                r["item"]
                for r in later[previous]
                if r["rewritten"] == "1" and not r["decision"].startswith("rewrite applied")
            }
            assert {r["item"] for r in rows} == left_out and len(rows) == len(left_out) > 20
        elif name == "twenty-first-pass-2026-12-05zn":  # its list: the items the fresh sample before it failed
            with open(REVIEW / f"expert-review-2026-12-05zm-{bank.id}.csv", encoding="utf-8") as fh:
                sample = list(csv.DictReader(fh))
            ids = [r["item"] for r in sample]  # some withdrawn since
            before = review_ledger.verdicts(bank.id, before="expert-review-2026-12-05zm", items=ids)
            failed = {r["item"] for r in sample if r["pass"] == "0" and before[r["item"]][0]}
            assert {r["item"] for r in rows} == failed and len(rows) == len(failed) > 5
        elif name == "twenty-second-pass-2026-12-05zp":  # rated tasks the re-review of every task failed
            with open(REVIEW / f"expert-review-2026-12-05zo-{bank.id}.csv", encoding="utf-8") as fh:
                failed = {r["item"] for r in csv.DictReader(fh) if r["pass"] == "0"}
            assert {r["item"] for r in rows} <= failed and len(rows) > 2
            assert {r["format_before"] for r in rows} == {"rated_task"}
        elif name == "thirty-seventh-pass-2026-12-07c":  # the rewrites of the items the thirteenth sample failed on a
            # fact (criterion 6): cs-7.2-04 only, none applied
            with open(REVIEW / f"expert-review-2026-12-07a-{bank.id}.csv", encoding="utf-8") as fh:
                factual = {r["item"] for r in csv.DictReader(fh) if "6" in r["failed_criteria"].split(";")}
            assert {r["item"] for r in rows} == factual and {r["format_before"] for r in rows} <= {"multiple_choice"}
        elif name == "twenty-sixth-pass-2026-12-05zw":  # the multiple-choice items failing after the sixth sample,
            # and three passing public-security items whose English key was re-translated (tests/test_review_ledger.py)
            assert len(rows) > 4 and {r["format_before"] for r in rows} == {"multiple_choice"}
        elif name in (
            "fifteenth-pass-2026-12-05zc",
            "seventeenth-pass-2026-12-05ze",
            "eighteenth-pass-2026-12-05zf",
            "nineteenth-pass-2026-12-05zi",
            "twentieth-pass-2026-12-05zl",
            "twenty-third-pass-2026-12-05zr",
            "twenty-fourth-pass-2026-12-05zt",
        ):
            # the multiple-choice items still failing (the ledger test checks they were all)
            assert len(rows) > 10 and {r["format_before"] for r in rows} == {"multiple_choice"}
        else:
            assert len(rows) > 100
        replaced = replaced_after[name]
        for row in rows:
            if row["decision"].startswith("rewrite applied"):
                assert row["review_pass"] == "1" and int(row["level_in_bank"]) == int(row["review_level_judged"]), row
                if row["item"] not in replaced:
                    assert kind[row["item"]] == row["format_after"], row
                if row["format_after"] == "multiple_choice":
                    assert int(row["blind_key_picked"]) < int(row["blind_readers"]) == 2, row
            elif row["item"] not in replaced:
                assert kind[row["item"]] == row["format_before"], row
        judged.update({row["item"]: int(row["level_in_bank"]) for row in rows})
    # the rated tasks written for levels 7-8: in the bank, as rated tasks at the level judged, when and only when
    # their latest reviewed version (of up to three rounds) passed its review
    with open(REVIEW / f"rated-tasks-2026-12-05zk-{bank.id}.csv", encoding="utf-8") as fh:
        tasks = list(csv.DictReader(fh))
    assert len(tasks) > 60
    for row in tasks:
        if row["decision"].startswith("applied"):
            assert row["review_pass"] == "1" and int(row["level_in_bank"]) == int(row["review_level_judged"]), row
            assert kind[row["item"]] == "rated_task", row
        else:
            assert row["review_pass"] == "0" and row["item"] not in level, row
    # (a task a later pass revised is at the level of that pass's review, checked above)
    judged.update(
        {
            row["item"]: int(row["level_in_bank"])
            for row in tasks
            if row["level_in_bank"] and row["item"] not in replaced_later
        }
    )
    # the passes of new items: the twenty-fifth (multiple choice, for the competences holding guard-kept failing
    # items), the twenty-seventh (any format, for levels 7 and 8), the twenty-eighth (selected response and short
    # answers, for level 7), the twenty-ninth (multiple response, short answers and rated tasks, for levels 7-8) and
    # the thirtieth and thirty-first (multiple response and short answers for level 7, multiple choice beside the
    # guard-kept failing items), the thirty-second to thirty-fifth (level 7 for competences holding none or one),
    # the thirty-sixth (level-8 rated tasks for the areas holding none), the thirty-eighth (level-8 rated tasks for
    # the areas still holding none, and multiple choice beside the guard-kept failing items);
    # a new item is in the bank, in its format at the level its review judged, when and only when it passed that
    # review and, if multiple choice, not both blind readers picked its key; the others never entered the bank
    for name, at_least, formats in (
        ("twenty-fifth-pass-2026-12-05zu", 10, {"multiple_choice"}),
        ("twenty-seventh-pass-2026-12-06zx", 20, None),
        ("twenty-eighth-pass-2026-12-06zz", 20, {"multiple_choice", "multiple_response", "short_answer"}),
        ("twenty-ninth-pass-2026-12-06zza", 20, {"multiple_response", "short_answer", "rated_task"}),
        ("thirtieth-pass-2026-12-06zzd", 20, {"multiple_response", "short_answer", "multiple_choice"}),
        ("thirty-first-pass-2026-12-06zzf", 10, {"multiple_response", "short_answer", "multiple_choice"}),
        ("thirty-second-pass-2026-12-06zzg", 3, {"multiple_response", "short_answer"}),
        ("thirty-third-pass-2026-12-06zzi", 5, {"multiple_response"}),
        ("thirty-fourth-pass-2026-12-06zzj", 1, {"multiple_response"}),
        ("thirty-fifth-pass-2026-12-06zzl", 3, {"multiple_response", "rated_task"}),
        ("thirty-sixth-pass-2026-12-07b", 4, {"rated_task"}),
        ("thirty-eighth-pass-2026-12-07d", 6, {"rated_task", "multiple_choice"}),
    ):
        new_items = review_ledger._rows(f"{name}-{bank.id}.csv")
        assert len(new_items) > at_least
        # a task a pass left out may come back as a later version that a later pass applied (the thirty-eighth
        # pass revised three level-8 tasks the thirty-sixth had left out); it is then checked with that pass
        later_versions = {
            r["item"]
            for later in review_ledger.NEW_ITEM_PASSES[review_ledger.NEW_ITEM_PASSES.index(name) + 1 :]
            for r in review_ledger._rows(f"{later}-{bank.id}.csv")
            if r["decision"].startswith("new item applied")
        }
        for row in new_items:
            if row["decision"].startswith("new item applied"):
                assert row["review_pass"] == "1" and int(row["level_in_bank"]) == int(row["review_level_judged"]), row
                if row["format_after"] == "multiple_choice":
                    assert int(row["blind_key_picked"]) < int(row["blind_readers"]) == 2, row
                assert kind[row["item"]] == row["format_after"], row
                assert formats is None or row["format_after"] in formats, row
                judged[row["item"]] = int(row["level_in_bank"])
            else:
                assert row["item"] not in level or row["item"] in later_versions, row
    assert len(judged) > 250 and rewrites
    wrong = sorted(item for item, lv in judged.items() if level.get(item) != lv)
    assert not wrong, f"items not at the level their latest review judged: {wrong}"


def test_exactly_one_graded_self_assessment_item_per_competence(bundled):
    bank, _ = bundled
    sa = coverage(bank, "self_assessment").sum(axis=1)
    assert sa.tolist() == [1] * len(bank.competences)
    assert set(bank.params.models[bank.kind == "self_assessment"]) == {"GRM"}


def test_parameters_are_labelled_provisional_with_the_documented_rule(bundled):
    bank, _ = bundled
    assert {item.calibration.status for item in bank.spec.items} == {"provisional"}
    assert bank.scale.cut_source.status == "provisional" and "level-v1" in bank.spec.rules
    np.testing.assert_array_equal(bank.cut_scores, [-1.2, 0.0, 1.2])


def test_sources_cite_public_references_not_local_files(bundled):
    """A source is something a reviewer elsewhere can open: no path into the writer's machine (a local research note
    was once cited beside a URL)."""
    bank, _ = bundled
    local = re.compile(r"(^|[\s;(])(/[\w.-]+/|\.\./|~/|file:)")  # an absolute or relative path, not " / " prose
    found = [
        (item.id, s.url_or_ref) for item in bank.spec.items for s in item.sources or [] if local.search(s.url_or_ref)
    ]
    assert not found, found


def test_no_catch_all_options(bundled):
    bank, _ = bundled
    pattern = re.compile(
        r"all of the above|none of the above|tất cả các (phương án|đáp án|ý) trên|"
        r"cả [a-d], [a-d] (và|và cả) [a-d]|không (phương án|đáp án) nào",
        re.IGNORECASE,
    )
    found = [
        (item.id, opt.id)
        for item in bank.spec.items
        for opt in item.options or []
        if pattern.search(opt.vi) or pattern.search(opt.en)
    ]
    assert not found


def test_keys_are_spread_over_option_positions(bundled):
    bank, _ = bundled
    keys = Counter(item.key for item in bank.spec.items if item.key is not None)
    share = max(keys.values()) / sum(keys.values())
    assert share < 0.4, f"one key position dominates: {dict(keys)}"


def test_bank_loads_by_bundled_id_with_its_framework_on_first_use(bundled):
    bank, framework = bundled
    again = load_bank(bank.id)
    assert again.fingerprint == bank.fingerprint
    assert again.framework.id == framework.id
    assert again.areas == [area.code for area in framework.areas]
    assert np.all(again.area_index >= 0)
