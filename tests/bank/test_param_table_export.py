"""A bank's parameter table in catR's columns: what catR can hold is written, what it cannot is named."""

from __future__ import annotations

import csv

import pytest

from digicomp.bank import load_bank
from digicomp.errors import DataWarning


def test_catr_export_of_the_bundled_bank_writes_the_dichotomous_items_and_names_the_rest(tmp_path):
    bank = load_bank("civil-service")
    out = tmp_path / "params.csv"
    # the 30 self-assessment items (GRM) and the polytomous new-format items (GPCM) are left out
    poly = [i for i, m in zip(bank.ids, bank.params.models) if m in ("GRM", "GPCM")]
    assert sum(i.endswith("-sa") for i in poly) == 30
    with pytest.warns(DataWarning, match=rf"{len(poly)} polytomous items of bank 'civil-service' left out \({poly[0]}"):
        bank.to_param_table(out, style="catR")
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    dich = [i for i in bank.ids if i not in set(poly)]
    assert [r["item"] for r in rows] == dich
    assert list(rows[0]) == ["item", "a", "b", "c", "d"]
