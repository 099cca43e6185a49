"""tools/review_ledger.py: the ledger of which graded items passed their latest review (docs/content-review.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from digicomp.bank import load_bank

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("review_ledger", ROOT / "tools" / "review_ledger.py")
review_ledger = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(review_ledger)


def _pass_record(row: dict[str, str]) -> bool | None:
    """A pass record's verdict: True when it applied a reviewed version; an item it kept keeps failing."""
    return row["decision"].startswith(("rewrite applied", "revision applied", "applied"))


# the eighth pass listed only items failing their latest review (an applied rewrite passes, an item left as it was
# still fails); the fresh sample of 5 December judged what it drew; the count variation applied passing versions
# (a version it did not apply leaves the item's verdict as it was: None); the ninth pass, like the eighth, listed
# only failing items; then the fresh sample after it; the tenth pass (failing items again) and the sample after it;
# the eleventh pass (failing items again) and the sample after it; the twelfth pass
LATEST_RECORDS = [
    ("eighth-pass-2026-12-05n-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05o-{bank}.csv", lambda row: row["pass"] == "1"),
    ("count-variation-2026-12-05p-{bank}.csv", lambda row: True if _pass_record(row) else None),
    ("ninth-pass-2026-12-05q-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05r-{bank}.csv", lambda row: row["pass"] == "1"),
    ("tenth-pass-2026-12-05s-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05t-{bank}.csv", lambda row: row["pass"] == "1"),
    ("eleventh-pass-2026-12-05u-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05v-{bank}.csv", lambda row: row["pass"] == "1"),
    ("twelfth-pass-2026-12-05w-{bank}.csv", _pass_record),
]


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_ledger_covers_every_graded_item_and_follows_the_latest_record(bank_id):
    status = review_ledger.ledger(bank_id)
    bank = load_bank(bank_id)
    graded = {item.id for item in bank.spec.items if item.kind != "self_assessment"}
    assert set(status) == graded
    # the latest records, in the order they were made: an item takes the verdict of the last one naming it
    expected: dict[str, bool] = {}
    for name, verdict in LATEST_RECORDS:
        for row in review_ledger._rows(name.format(bank=bank_id)):
            if (judged := verdict(row)) is not None:
                expected[row["item"]] = judged
    applied = {item for item, ok in expected.items() if ok}
    failing = {item for item, ok in expected.items() if not ok}
    assert applied and failing
    assert all(status[item] for item in applied)
    assert not any(status[item] for item in failing)


def test_the_command_prints_a_line_per_bank(capsys):
    review_ledger.main(["--failing"])
    out = capsys.readouterr().out.splitlines()
    heads = [line for line in out if not line.startswith("  ")]
    assert [line.split(":")[0] for line in heads] == list(review_ledger.BANKS)
    assert all("graded items" in line and "passed their latest review" in line for line in heads)
