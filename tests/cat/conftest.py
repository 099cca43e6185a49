"""Fixtures of the adaptive-engine tests: parameter-only banks and a content bank tagged to a framework."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.cat.draws import STREAM_RESPONSE, uniforms
from digicomp.models import ItemParameters

COMPETENCES = ["1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "3.2", "4.1"]


def params_bank(n: int = 120, seed: int = 7, three_pl: bool = True) -> ItemParameters:
    """A random 2PL/3PL bank of ``n`` items."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(0, 0.2, n) if three_pl else 0.0
    return ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, n), b=rng.normal(0, 1, n), c=c)


def content_bank_data(n: int = 160, seed: int = 11, enemies: int = 20, self_assessment: int = 4) -> dict[str, Any]:
    """Bank data: ``n`` multiple-choice items over COMPETENCES (areas 1..4), enemy pairs, self-assessment items."""
    rng = np.random.default_rng(seed)
    items = []
    for j in range(n):
        comp = COMPETENCES[j % len(COMPETENCES)]
        items.append(
            {
                "id": f"q{j:03d}",
                "competence": comp,
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
    for s in range(self_assessment):
        items.append(
            {
                "id": f"sa{s}",
                "competence": COMPETENCES[s],
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
        "id": "cat-test",
        "version": "1",
        "framework": {"id": "vn-civil-service", "version": "0.1.0"},
        "scale": {
            "D": 1.0,
            "levels": ["foundation", "intermediate", "advanced", "highly_specialised"],
            "cut_scores": [-1.0, 0.0, 1.0],
            "cut_source": {"status": "provisional", "rule": "r"},
        },
        "rules": {"r": {"vi": "quy tắc", "en": "rule"}},
        "items": items,
    }


def content_bank(**kwargs: Any) -> ItemBank:
    """The content bank as an ItemBank."""
    return ItemBank(BankFile.model_validate(content_bank_data(**kwargs)))


@pytest.fixture(scope="session")
def cbank() -> ItemBank:
    """A shared content bank (read-only)."""
    return content_bank()


def responder(params: ItemParameters, theta: np.ndarray):
    """A respond(state, rows, items) callback drawing answers of persons with true ``theta`` (keyed draws)."""

    def respond(state, rows, items):
        p = np.exp(params.log_prob(theta[rows]))[np.arange(rows.size), items]  # (n, K)
        u = uniforms(state.keys[rows], state.n_given[rows], STREAM_RESPONSE)
        return np.minimum((np.cumsum(p, axis=1) < u[:, None]).sum(axis=1), params.n_categories[items] - 1)

    return respond


def answer_for(bank: ItemBank, item_id: str, score: int) -> Any:
    """The raw answer a client would send to get ``score`` on ``item_id``."""
    item = bank.item(item_id)
    if item.kind != "multiple_choice":
        return int(score)
    wrong = next(o.id for o in item.options if o.id != item.key)
    return item.key if score else wrong
