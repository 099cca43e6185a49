"""Fixtures of the adaptive-engine tests: parameter-only banks and a content bank tagged to a framework."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.cat.draws import STREAM_RESPONSE, uniforms
from digicomp.models import ItemParameters
from tests import banks

COMPETENCES = ["1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "3.2", "4.1"]


def params_bank(n: int = 120, seed: int = 7, three_pl: bool = True) -> ItemParameters:
    """A random 2PL/3PL bank of ``n`` items."""
    rng = np.random.default_rng(seed)
    c = rng.uniform(0, 0.2, n) if three_pl else 0.0
    return ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, n), b=rng.normal(0, 1, n), c=c)


def content_bank_data(n: int = 160, seed: int = 11, enemies: int = 20, self_assessment: int = 4) -> dict[str, Any]:
    """Bank data: ``n`` multiple-choice items over COMPETENCES (areas 1..4), enemy pairs, self-assessment items."""
    return banks.content_bank_data(COMPETENCES, n, seed, enemies=enemies, self_assessment=self_assessment)


def content_bank(**kwargs: Any) -> ItemBank:
    """The content bank as an ItemBank."""
    return banks.build_bank(content_bank_data(**kwargs))


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


answer_for = banks.answer_for
