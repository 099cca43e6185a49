"""Rule level-v1: the documented values, monotone in level, and the cut scores between the bands."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digicomp.bank import provisional
from digicomp.errors import BankError


def test_level_difficulty_spans_minus_to_plus_2_1():
    assert [provisional.level_difficulty(lv) for lv in range(1, 9)] == [-2.1, -1.5, -0.9, -0.3, 0.3, 0.9, 1.5, 2.1]


def test_four_option_item_gets_documented_3pl_values():
    assert provisional.multiple_choice_params(3, 4) == {"a": 1.0, "b": -0.9, "c": 0.2, "d": 1.0}


def test_self_assessment_with_four_categories_gets_documented_grm_thresholds():
    assert provisional.self_assessment_params(4) == {"a": 1.0, "b": [-1.5, 0.0, 1.5]}


def test_cut_scores_are_midpoints_of_band_centres():
    assert provisional.band_cut_scores() == [-1.2, 0.0, 1.2]


@given(st.integers(1, 7), st.integers(2, 6))
def test_difficulty_increases_with_level_and_guessing_stays_below_chance(level, n_options):
    lo = provisional.multiple_choice_params(level, n_options)
    hi = provisional.multiple_choice_params(level + 1, n_options)
    assert hi["b"] > lo["b"]
    assert 0 < lo["c"] < 1 / n_options


@given(st.integers(2, 9))
def test_self_assessment_thresholds_increase_and_fit_categories(n_categories):
    b = provisional.self_assessment_params(n_categories)["b"]
    assert len(b) == n_categories - 1
    assert all(x < y for x, y in zip(b, b[1:]))


@pytest.mark.parametrize("level", [0, 9, None, 2.5, True])
def test_level_outside_scale_is_refused_naming_the_item(level):
    with pytest.raises(BankError, match=r"item 'x-1'.*'level'"):
        provisional.multiple_choice_params(level, 4, "x-1")


def test_provisional_item_labels_its_calibration_with_the_rule():
    item = {"id": "x", "competence": "1.1", "level": 8, "options": [{"id": "A"}, {"id": "B"}, {"id": "C"}]}
    out = provisional.provisional_item(item)
    assert out["model"] == "3PL"
    assert out["params"] == {"a": 1.0, "b": 2.1, "c": 0.267, "d": 1.0}
    assert out["calibration"] == {"status": "provisional", "rule": "level-v1"}
    assert "model" not in item
