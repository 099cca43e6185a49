"""Withdraw from the bundled banks the graded items failing their latest review that no coverage guard needs.

    python tools/withdraw_failing.py                  # what would be withdrawn, per bank
    python tools/withdraw_failing.py --write 2026-12-05

An item whose current version failed its latest expert review (tools/review_ledger.py) should not score anyone.
It is withdrawn unless a guard needs it: every competence keeps at least eight multiple-choice items, with at least
one in each of the two lower level bands (1-2 and 3-4), so failing multiple-choice items beyond those stay until a
rewrite replaces them. ``--write`` removes the withdrawn items from ``item_banks/<bank>.yaml`` (and from the other
items' ``enemies``) and keeps them whole in ``docs/content-review/withdrawn-<date>-<bank>.yaml``, with a line per
item in ``withdrawn-<date>-<bank>.csv`` (added to the day's record if there is one): a withdrawn item comes back
only as a rewrite that passes its review. tests/test_review_ledger.py checks that nothing is left to withdraw.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from digicomp.bank.provisional import LEVELS_PER_BAND

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "docs" / "content-review"
_SPEC = importlib.util.spec_from_file_location("review_ledger", ROOT / "tools" / "review_ledger.py")
review_ledger = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(review_ledger)

MIN_MULTIPLE_CHOICE = 8


def _band(level: int) -> int:
    """The band a level falls in: 0 for levels 1-2, 1 for 3-4, 2 for 5-6, 3 for 7-8."""
    return (int(level) - 1) // LEVELS_PER_BAND


def keeps_guard(items: list[dict[str, Any]], competence: str) -> bool:
    """The competence has its eight multiple-choice items, one of them in each of the two lower bands."""
    mc = [it for it in items if it["competence"] == competence and it.get("type") is None]
    bands = Counter(_band(it["level"]) for it in mc)
    return len(mc) >= MIN_MULTIPLE_CHOICE and bands[0] >= 1 and bands[1] >= 1


def withdrawable(items: list[dict[str, Any]], passed: dict[str, bool]) -> list[str]:
    """The failing graded items (``passed[id]`` False) that can leave, in bank order, each guard checked on the bank
    as it stands once the items before it have left."""
    kept = list(items)
    out = []
    for item in items:
        if passed.get(item["id"], True):
            continue
        rest = [it for it in kept if it["id"] != item["id"]]
        if item.get("type") is None and not keeps_guard(rest, item["competence"]):
            continue
        kept = rest
        out.append(item["id"])
    return out


def _last_records(bank: str) -> dict[str, str]:
    """Each item's last record in ``LATER_RECORDS`` (for a failing item: the review it failed, or the pass that left
    it as it was)."""
    last: dict[str, str] = {}
    for name, _ in review_ledger.LATER_RECORDS:
        last.update({row["item"]: name for row in review_ledger._rows(f"{name}-{bank}.csv")})
    return last


def write(bank: str, date: str, gone: list[str]) -> None:
    """Remove ``gone`` from the bundled bank and keep the items whole, with a line each, in the records."""
    path = ROOT / "item_banks" / f"{bank}.yaml"
    with open(path, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    leaving = set(gone)
    withdrawn = [it for it in spec["items"] if it["id"] in leaving]
    spec["items"] = [it for it in spec["items"] if it["id"] not in leaving]
    for it in spec["items"]:
        if set(it.get("enemies") or ()) & leaving:
            it["enemies"] = [e for e in it["enemies"] if e not in leaving]
            if not it["enemies"]:
                del it["enemies"]
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(spec, fh, allow_unicode=True, sort_keys=False, width=110)
    record = RECORDS / f"withdrawn-{date}-{bank}.yaml"
    earlier = []
    if record.exists():  # a second withdrawal on the same day adds to the day's record
        with open(record, encoding="utf-8") as fh:
            earlier = yaml.safe_load(fh) or []
    with open(record, "w", encoding="utf-8") as fh:
        yaml.safe_dump(earlier + withdrawn, fh, allow_unicode=True, sort_keys=False, width=110)
    table = record.with_suffix(".csv")
    last = _last_records(bank)
    new_table = not table.exists()
    with open(table, "a", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        if new_table:
            out.writerow(["item", "competence", "format", "level", "failed_in"])
        for it in withdrawn:
            failed_in = last.get(it["id"], "a review of 3-4 December")
            out.writerow([it["id"], it["competence"], review_ledger.item_format(it), it["level"], failed_in])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", metavar="DATE", help="withdraw them, recording under this date (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    for bank in review_ledger.BANKS:
        with open(ROOT / "item_banks" / f"{bank}.yaml", encoding="utf-8") as fh:
            items = yaml.safe_load(fh)["items"]
        gone = withdrawable(items, review_ledger.ledger(bank))
        kinds = Counter(review_ledger.item_format(it) for it in items if it["id"] in set(gone))
        print(f"{bank}: {len(gone)} of {len(items)} items withdrawable: {dict(kinds)}")
        if args.write:
            write(bank, args.write, gone)


if __name__ == "__main__":
    main()
