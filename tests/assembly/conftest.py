"""Small banks for the assembly tests (tagged to vn-civil-service, 3PL multiple choice, some enemies)."""

from __future__ import annotations

import pytest

from tests.banks import build_bank, content_bank_data

COMPETENCES = ["0.1", "1.1", "2.1", "3.1", "4.1", "5.1", "6.1", "7.1"]


@pytest.fixture(scope="session")
def bank():
    """120 items over the 8 areas, 10 enemy pairs."""
    return build_bank(content_bank_data(COMPETENCES, 120, seed=11, enemies=10, bank_id="asm-test"))


@pytest.fixture(scope="session")
def tiny_bank():
    """12 items over 3 areas: small enough to enumerate every form."""
    return build_bank(content_bank_data(["0.1", "1.1", "2.1"], 12, seed=5, enemies=2, bank_id="tiny"))
