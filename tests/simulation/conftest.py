"""Fixtures of the simulation tests: a W4-like 3PL parameter bank and a small content bank with areas."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.models import ItemParameters
from tests import banks

COMPETENCES = ["1.1", "1.2", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2"]
MFI_EAP = {
    "id": "mfi",
    "selection": {"rule": "mfi"},
    "scoring": {"method": "EAP"},
    "stop": {"max_items": 30, "rules": [{"se": 0.3}]},
    "report": {"audit": False},
}


def w4_params(n: int = 300, seed: int = 4) -> ItemParameters:
    """3PL items with a ~ lognormal(0, 0.3), b ~ N(0, 1), c ~ U(0, 0.25) (the benchmark's bank law)."""
    rng = np.random.default_rng(seed)
    return ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, n), b=rng.normal(0, 1, n), c=rng.uniform(0, 0.25, n))


@pytest.fixture(scope="session")
def params() -> ItemParameters:
    return w4_params()


@pytest.fixture(scope="session")
def param_bank(params: ItemParameters) -> ItemBank:
    """The W4-like bank as a content-free ItemBank with cut scores -1, 0, 1."""
    bank = ItemBank.from_item_parameters(params, id="w4")
    data = bank.to_dict()
    data["scale"] = {
        "D": 1.0,
        "levels": ["low", "mid", "high", "top"],
        "cut_scores": [-1.0, 0.0, 1.0],
        "cut_source": {"status": "provisional", "rule": "r"},
    }
    data["rules"] = {"r": {"vi": "quy tắc", "en": "rule"}}
    return ItemBank(BankFile.model_validate(data))


@pytest.fixture(scope="session")
def content_bank() -> ItemBank:
    """160 multiple-choice 3PL items over four areas of vn-civil-service, 10 enemy pairs, cuts -1, 0, 1."""
    data = banks.content_bank_data(COMPETENCES, 160, 11, enemies=10, bank_id="sim-test")
    return ItemBank(BankFile.model_validate(data))
