"""Shared fixtures of the bank tests: the small hand-written bank and helpers to write variants of it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
MINI = FIXTURES / "mini.yaml"


@pytest.fixture
def mini_data() -> dict[str, Any]:
    """The mini bank as plain data (a fresh copy per test)."""
    return copy.deepcopy(yaml.safe_load(MINI.read_text(encoding="utf-8")))


@pytest.fixture
def write_bank(tmp_path: Path):
    """Write plain data as a bank YAML file in a temporary folder; returns its path."""

    def write(data: dict[str, Any], name: str = "bank.yaml", **dump_options: Any) -> Path:
        path = tmp_path / name
        options = {"allow_unicode": True, "sort_keys": False, **dump_options}
        path.write_text(yaml.safe_dump(data, **options), encoding="utf-8")
        return path

    return write
