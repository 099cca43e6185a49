"""tools/review_ledger.py: the ledger of which graded items passed their latest review (docs/content-review.md)."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from digicomp.bank import load_bank

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("review_ledger", ROOT / "tools" / "review_ledger.py")
review_ledger = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(review_ledger)


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_ledger_covers_every_graded_item_and_follows_the_latest_record(bank_id):
    status = review_ledger.ledger(bank_id)
    bank = load_bank(bank_id)
    graded = {item.id for item in bank.spec.items if item.kind != "self_assessment"}
    assert set(status) == graded
    with open(review_ledger.RECORDS / f"eighth-pass-2026-12-05n-{bank_id}.csv", encoding="utf-8") as fh:
        eighth = list(csv.DictReader(fh))
    # the eighth pass listed only items failing their latest review: an applied rewrite passes, an item left as it
    # was still fails (unless a later record, the count variation, applied a passing version)
    later = set()
    path = review_ledger.RECORDS / f"count-variation-2026-12-05p-{bank_id}.csv"
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            later = {r["item"] for r in csv.DictReader(fh) if r["decision"].startswith("applied")}
    applied = {r["item"] for r in eighth if r["decision"].startswith(("rewrite applied", "revision applied"))}
    kept = {r["item"] for r in eighth if r["decision"].startswith("original kept")} - later
    assert applied and kept
    assert all(status[item] for item in applied | later)
    assert not any(status[item] for item in kept)


def test_the_command_prints_a_line_per_bank(capsys):
    review_ledger.main(["--failing"])
    out = capsys.readouterr().out.splitlines()
    heads = [line for line in out if not line.startswith("  ")]
    assert [line.split(":")[0] for line in heads] == list(review_ledger.BANKS)
    assert all("graded items" in line and "passed their latest review" in line for line in heads)
