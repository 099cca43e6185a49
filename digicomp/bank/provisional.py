"""Provisional item parameters and cut scores from intended levels (rule ``level-v1``).

Expert-set values that make a bank usable before response data exist; every item they are applied to is
labelled ``calibration: {status: provisional, rule: level-v1}`` so nobody mistakes them for estimates.

Rule ``level-v1`` (D = 1.0, θ on the N(0, 1) reference scale):

* multiple-choice item of intended level L (1..8) with k options: 3PL with a = 1.0,
  b = -2.1 + 0.6 (L - 1) (level 1 → -2.1 … level 8 → +2.1), c = 0.8 / k (a guessing floor a little below
  the blind-guess rate 1 / k), d = 1.0; values rounded to 3 decimals;
* self-assessment item with K ordered categories: GRM with a = 1.0 and K - 1 thresholds evenly spaced on
  [-1.5, 1.5] (K = 4 → -1.5, 0.0, 1.5);
* cut scores between the four bands of the 8-level scale (levels 1-2, 3-4, 5-6, 7-8): midpoints between the
  bands' mean b, i.e. -1.2, 0.0, 1.2.
"""

from __future__ import annotations

import numpy as np

from digicomp.errors import BankError

RULE_ID = "level-v1"
N_LEVELS = 8
BANDS = ("foundation", "intermediate", "advanced", "highly_specialised")
LEVELS_PER_BAND = N_LEVELS // len(BANDS)

_B_LEVEL1 = -2.1
_B_STEP = 0.6
_C_MASS = 0.8
_SA_SPAN = 1.5
_DECIMALS = 3


def _check_level(level: int, where: str) -> None:
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not 1 <= level <= N_LEVELS:
        raise BankError(f"{where}: field 'level' must be an integer 1..{N_LEVELS} for rule {RULE_ID}, got {level!r}")


def level_difficulty(level: int) -> float:
    """Provisional difficulty b of an item written for ``level`` (1..8): -2.1 + 0.6 (level - 1)."""
    _check_level(level, "level_difficulty")
    return round(_B_LEVEL1 + _B_STEP * (int(level) - 1), _DECIMALS)


def multiple_choice_params(level: int, n_options: int, item_id: str = "?") -> dict[str, float]:
    """File-form 3PL parameters {a, b, c, d} of a multiple-choice item under rule level-v1."""
    _check_level(level, f"item {item_id!r}")
    if n_options < 2:
        raise BankError(f"item {item_id!r}: field 'options' needs at least 2 options, got {n_options}")
    return {"a": 1.0, "b": level_difficulty(level), "c": round(_C_MASS / n_options, _DECIMALS), "d": 1.0}


def self_assessment_params(n_categories: int, item_id: str = "?") -> dict[str, float | list[float]]:
    """File-form GRM parameters {a, b: [thresholds]} of a self-assessment item under rule level-v1."""
    if n_categories < 2:
        raise BankError(f"item {item_id!r}: field 'categories' needs at least 2 categories, got {n_categories}")
    thresholds = np.linspace(-_SA_SPAN, _SA_SPAN, n_categories - 1) if n_categories > 2 else np.zeros(1)
    return {"a": 1.0, "b": [round(float(t), _DECIMALS) + 0.0 for t in thresholds]}


def band_cut_scores() -> list[float]:
    """θ cut scores between the four bands: midpoints of consecutive bands' mean provisional b."""
    levels = np.arange(1, N_LEVELS + 1)
    b = _B_LEVEL1 + _B_STEP * (levels - 1)
    centres = b.reshape(len(BANDS), LEVELS_PER_BAND).mean(axis=1)
    return [round(float(x), _DECIMALS) + 0.0 for x in (centres[:-1] + centres[1:]) / 2]


FORMATS_RULE_ID = "formats-v1"
"""The rule of the multiple-response, ordering, matching, short-answer and rated-task items' provisional parameters."""
_STEP_SPAN = 0.6
_PARTIAL = {"multiple_response": "keys_minus_wrong", "ordering": "adjacent_pairs", "matching": "count_correct"}


def format_params(item: dict) -> tuple[str, dict[str, float | list[float]]]:
    """(model, file-form params) of a multiple-response, ordering, matching, short-answer or rated-task item (writer
    form) under rule formats-v1: b_level = -2.1 + 0.6 (level - 1); a 0/1 score (short answer, all_or_nothing): 2PL
    with a = 1.0, b = b_level; a partial-credit score 0..K (K a rated task's rubric total): GPCM with a = 1.0 and K
    steps evenly spaced on [b_level - 0.6, b_level + 0.6] (b_level alone when K = 1)."""
    item_id, kind = item.get("id", "?"), item.get("type")
    b_level = level_difficulty(_level(item, item_id))
    rule = (item.get("scoring") or {}).get("rule", _PARTIAL.get(kind))
    if kind == "short_answer" or rule == "all_or_nothing":
        return "2PL", {"a": 1.0, "b": b_level}
    sizes = {"multiple_response": "keys", "ordering": "options", "matching": "premises", "rated_task": "rubric"}
    if kind not in sizes:
        raise BankError(f"item {item_id!r}: type {kind!r} has no formats-v1 parameters")
    if kind == "rated_task":
        k = sum(int(c.get("points", 0)) for c in item.get("rubric") or [])
    else:
        k = len(item.get(sizes[kind]) or []) - (kind == "ordering")
    if k < 1:
        raise BankError(f"item {item_id!r}: field {sizes[kind]!r} gives no score above 0")
    steps = np.linspace(b_level - _STEP_SPAN, b_level + _STEP_SPAN, k) if k > 1 else np.array([b_level])
    return "GPCM", {"a": 1.0, "b": [round(float(x), _DECIMALS) + 0.0 for x in steps]}


def _level(item: dict, item_id: str) -> int:
    _check_level(item.get("level"), f"item {item_id!r}")
    return int(item["level"])


def provisional_item(item: dict) -> dict:
    """Return ``item`` (writer form) with ``model``, ``params`` and ``calibration`` set by rule level-v1 (multiple
    choice, self-assessment) or formats-v1 (the other formats)."""
    item_id = item.get("id", "?")
    out = dict(item)
    if item.get("type") in _PARTIAL or item.get("type") in ("short_answer", "rated_task"):
        out["model"], out["params"] = format_params(item)
        out["calibration"] = {"status": "provisional", "rule": FORMATS_RULE_ID}
        return out
    if item.get("type") == "self_assessment":
        out["model"] = "GRM"
        out["params"] = self_assessment_params(len(item.get("categories") or []), item_id)
    else:
        out["model"] = "3PL"
        out["params"] = multiple_choice_params(item.get("level"), len(item.get("options") or []), item_id)
    out["calibration"] = {"status": "provisional", "rule": RULE_ID}
    return out
