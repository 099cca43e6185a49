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


# ------------------------------------------------------------------------------------------------ rule formats-v1
def _writer(kind: str, level: int, **content) -> dict:
    return {"id": f"x-{kind}", "type": kind, "level": level, **content}


@pytest.mark.parametrize(
    ("item", "model", "b"),
    [
        # level 4: b_level = -0.3; 3 keys: steps evenly on [-0.9, 0.3]
        (_writer("multiple_response", 4, keys=["A", "C", "D"]), "GPCM", [-0.9, -0.3, 0.3]),
        # level 3: b_level = -0.9; 4 steps in order give 3 pairs: [-1.5, -0.9, -0.3]
        (_writer("ordering", 3, options=[{}] * 4), "GPCM", [-1.5, -0.9, -0.3]),
        # level 5: b_level = 0.3; 2 premises: the ends of [-0.3, 0.9]
        (_writer("matching", 5, premises=[{}] * 2), "GPCM", [-0.3, 0.9]),
        # one key: K = 1, the single step b_level
        (_writer("multiple_response", 8, keys=["B"]), "GPCM", [2.1]),
        (_writer("multiple_response", 4, keys=["A", "C"], scoring={"rule": "all_or_nothing"}), "2PL", -0.3),
        (_writer("short_answer", 1), "2PL", -2.1),
    ],
)
def test_formats_rule_gives_the_documented_parameters(item, model, b):
    got_model, params = provisional.format_params(item)
    assert got_model == model and params["a"] == 1.0
    assert params["b"] == pytest.approx(b, abs=1e-12) and "c" not in params
    out = provisional.provisional_item(item)
    assert out["calibration"] == {"status": "provisional", "rule": provisional.FORMATS_RULE_ID}


@pytest.mark.parametrize("bank_id", ["civil-service", "public-security"])
def test_bundled_items_of_rule_formats_v1_carry_the_rules_parameters(bank_id):
    """The provisional parameters of the bundled new-format items are re-derived from their level and key."""
    import yaml

    from digicomp.bundled import bundled_path

    data = yaml.safe_load(bundled_path("item_banks", bank_id).read_text(encoding="utf-8"))
    cited = [it for it in data["items"] if it["calibration"].get("rule") == provisional.FORMATS_RULE_ID]
    for item in cited:
        model, params = provisional.format_params(item)
        assert (item["model"], item["params"]) == (model, params), item["id"]
    assert provisional.FORMATS_RULE_ID in data["rules"] or not cited
