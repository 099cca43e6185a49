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
# the eleventh pass (failing items again) and the sample after it; the twelfth pass; the re-review of the items
# whose latest pass dated from 3-4 December; the thirteenth pass (its failures); the fourteenth (the thirteenth's
# rewrites left out, revised) and the fresh sample after it
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
    ("expert-review-2026-12-05x-{bank}.csv", lambda row: row["pass"] == "1"),
    ("thirteenth-pass-2026-12-05y-{bank}.csv", _pass_record),
    ("fourteenth-pass-2026-12-05z-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05za-{bank}.csv", lambda row: row["pass"] == "1"),
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


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_ledger_before_a_record_is_the_ledger_read_without_it_and_the_later_ones(bank_id, monkeypatch):
    full = review_ledger.LATER_RECORDS
    for k in (3, len(full) - 1):
        name = full[k][0]
        then = {item: ok for item, (ok, _) in review_ledger.verdicts(bank_id, before=name).items()}
        monkeypatch.setattr(review_ledger, "LATER_RECORDS", full[:k])
        assert then == review_ledger.ledger(bank_id)
        monkeypatch.setattr(review_ledger, "LATER_RECORDS", full)
    assert then != review_ledger.ledger(bank_id)  # the last record changed verdicts


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_re_review_named_exactly_the_items_whose_latest_pass_dated_from_3_4_december(bank_id):
    before = review_ledger.verdicts(bank_id, before="expert-review-2026-12-05x")
    older = {item for item, (ok, date) in before.items() if ok and date < "2026-12-05"}
    reviewed = [r["item"] for r in review_ledger._rows(f"expert-review-2026-12-05x-{bank_id}.csv")]
    assert len(reviewed) == len(set(reviewed)) and set(reviewed) == older
    assert {date for _, date in before.values()} <= {"2026-12-03", "2026-12-04", "2026-12-05"}


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_fresh_samples_are_tallied_once_per_sampled_graded_item(bank_id):
    graded = set(review_ledger.ledger(bank_id))
    rows = [
        r
        for name, kind in review_ledger.LATER_RECORDS
        if kind == "sample"
        for r in review_ledger._rows(f"{name}-{bank_id}.csv")
        if r["item"] in graded
    ]
    tally = review_ledger.fresh_samples_by_prior(bank_id)
    assert sum(n for _, n in tally.values()) == len(rows) > 200
    assert sum(ok for ok, _ in tally.values()) == sum(r["pass"] == "1" for r in rows)
    states = {"passed on 5 December", "passed on 3-4 December", "failing"}
    assert {group.split(",")[0] for group in tally} <= states
    assert all(0 <= ok <= n for ok, n in tally.values())
