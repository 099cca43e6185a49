"""The two bundled banks load by id, validate against their frameworks and meet the issue's coverage numbers."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from digicomp.bank import load_bank, validate_file
from digicomp.bank.coverage import coverage
from digicomp.bank.provisional import BANDS, LEVELS_PER_BAND
from digicomp.bundled import list_bundled

BANKS = {"civil-service": "vn-civil-service", "public-security": "vn-public-security"}
MIN_MC_ITEMS = 240
MIN_MC_PER_COMPETENCE = 8


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


def test_every_competence_has_enough_items_spread_over_all_four_bands(bundled):
    bank, framework = bundled
    assert set(bank.competences) == set(framework.codes)
    table = coverage(bank)[:, 1:]
    per_band = table.reshape(len(bank.competences), len(BANDS), LEVELS_PER_BAND).sum(axis=2)
    thin = {code: int(n) for code, n in zip(bank.competences, table.sum(axis=1)) if n < MIN_MC_PER_COMPETENCE}
    assert not thin, f"competences with fewer than {MIN_MC_PER_COMPETENCE} multiple-choice items: {thin}"
    gaps = [code for code, row in zip(bank.competences, per_band) if np.any(row == 0)]
    assert not gaps, f"competences missing a band: {gaps}"


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
