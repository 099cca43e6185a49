"""Banks and answers shared by the engine, simulation and fuzz tests (one builder, each suite its own settings)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from digicomp.bank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.bank.scoring import answer_for as content_answer

SCALE = {
    "D": 1.0,
    "levels": ["foundation", "intermediate", "advanced", "highly_specialised"],
    "cut_scores": [-1.0, 0.0, 1.0],
    "cut_source": {"status": "provisional", "rule": "r"},
}


def content_bank_data(
    competences: Sequence[str],
    n: int,
    seed: int,
    *,
    enemies: int = 0,
    self_assessment: int = 0,
    flagged: Sequence[int] = (),
    bank_id: str = "cat-test",
    id_digits: int = 3,
) -> dict[str, Any]:
    """Bank data tagged to vn-civil-service: ``n`` multiple-choice 3PL items over ``competences`` in turn
    (a ~ lognormal(0, 0.3), b ~ N(0, 1), c = 0.2), the first ``enemies`` pairs enemies, items ``flagged``
    flagged ``pretest``, then ``self_assessment`` GRM self-assessment items; cuts -1, 0, 1."""
    rng = np.random.default_rng(seed)
    items = []
    for j in range(n):
        items.append(
            {
                "id": f"q{j:0{id_digits}d}",
                "competence": competences[j % len(competences)],
                "level": int(rng.integers(1, 9)),
                "model": "3PL",
                "params": {"a": float(rng.lognormal(0, 0.3)), "b": float(rng.normal()), "c": 0.2},
                "calibration": {"status": "provisional", "rule": "r"},
                "stem": {"vi": f"Câu {j}?", "en": f"Question {j}?"},
                "options": [{"id": o, "vi": o, "en": o} for o in "ABCD"],
                "key": "ABCD"[j % 4],
            }
        )
    for e in range(enemies):
        items[2 * e]["enemies"] = [items[2 * e + 1]["id"]]
    for j in flagged:
        items[j]["flags"] = ["pretest"]
    for s in range(self_assessment):
        items.append(
            {
                "id": f"sa{s}",
                "competence": competences[s],
                "type": "self_assessment",
                "model": "GRM",
                "params": {"a": 1.2, "b": [-1.0, 0.0, 1.0]},
                "calibration": {"status": "provisional", "rule": "r"},
                "stem": {"vi": "Tự đánh giá", "en": "Self-assessment"},
                "categories": [{"vi": str(k), "en": str(k)} for k in range(4)],
            }
        )
    return {
        "kind": "item_bank",
        "id": bank_id,
        "version": "1",
        "framework": {"id": "vn-civil-service", "version": "0.1.0"},
        "scale": dict(SCALE),
        "rules": {"r": {"vi": "quy tắc", "en": "rule"}},
        "items": items,
    }


def build_bank(data: dict[str, Any]) -> ItemBank:
    """An ItemBank from bank data (validated as a bank file)."""
    return ItemBank(BankFile.model_validate(data))


def answer_for(bank: ItemBank, item_id: str, score: int) -> Any:
    """The raw answer a client would send to get ``score`` on ``item_id`` (any item format)."""
    item = bank.item(item_id)
    if item.kind in ("self_assessment", "parameters"):
        return int(score)
    return content_answer(item, int(score))
