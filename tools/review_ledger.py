"""Which graded items of the bundled banks passed their latest expert review, read from the review records.

    python tools/review_ledger.py                 # per bank: graded items, passed, failing
    python tools/review_ledger.py --failing       # and the ids still failing (the next pass's list)

The records in docs/content-review are read in the order the reviews happened; a later record of an item replaces
an earlier one: the first reviews of 3 December (which may concern versions the second and third passes replaced,
so the ledger is approximate there), the fourth pass's applied rewrites, the new items of 3 December (passed when
only their level was disputed), the fifth pass's sample, the sixth pass, the fresh sample of 4 December, the
seventh pass's applied items, the eighth pass's applied rewrites, the fresh sample, the count variation, the
ninth pass and the fresh sample after it, the tenth pass and the fresh sample after it, the eleventh pass
and the fresh sample after it, and the twelfth pass, of 5 December. An item no record names counts as failing (never
reviewed). docs/content-review.md quotes its figures.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RECORDS = ROOT / "docs" / "content-review"
BANKS = ("civil-service", "public-security")


def _rows(name: str) -> list[dict[str, str]]:
    path = RECORDS / name
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _applied(decision: str) -> bool:
    """A pass record's decision put the reviewed version in the bank ("original applied", "rewrite applied" …)."""
    return "applied" in decision and not decision.startswith(("not", "original kept"))


LATER_RECORDS: tuple[tuple[str, str], ...] = (
    ("seventh-pass-2026-12-04m", "pass"),
    ("eighth-pass-2026-12-05n", "pass"),
    ("expert-review-2026-12-05o", "review"),
    ("count-variation-2026-12-05p", "pass"),
    ("ninth-pass-2026-12-05q", "pass"),
    ("expert-review-2026-12-05r", "review"),
    ("tenth-pass-2026-12-05s", "pass"),
    ("expert-review-2026-12-05t", "review"),
    ("eleventh-pass-2026-12-05u", "pass"),
    ("expert-review-2026-12-05v", "review"),
    ("twelfth-pass-2026-12-05w", "pass"),
)
"""The records from the seventh pass on, in the order they were made: a fresh review sample ("review") or a pass
that applied the versions it names ("pass")."""


def ledger(bank: str) -> dict[str, bool]:
    """Each graded item of ``bank`` (self-assessment excluded): True when its version passed its latest review."""
    with open(ROOT / "item_banks" / f"{bank}.yaml", encoding="utf-8") as fh:
        items = yaml.safe_load(fh)["items"]
    passed: dict[str, bool] = {}
    for tag in ("03", "03b", "03c-new", "03d", "03e-fixed"):
        passed.update({r["item"]: r["pass"] == "1" for r in _rows(f"expert-review-2026-12-{tag}-{bank}.csv")})
    for tag in ("03f", "03g"):
        applied = [r for r in _rows(f"rewrite-2026-12-{tag}-{bank}.csv") if r["applied"] == "1"]
        passed.update({r["item"]: r["review_pass"] == "1" for r in applied})
    for r in _rows(f"new-items-2026-12-03-{bank}.csv"):
        if r["item_in_bank"]:
            passed[r["item_in_bank"]] = r["decision"].startswith("added") and r["failed_criteria"] in ("", "4")
    passed.update({r["item"]: r["pass"] == "1" for r in _rows(f"expert-review-2026-12-03h-{bank}.csv")})
    passed.update({r["item"]: r["review_pass"] == "1" for r in _rows(f"rewrite-2026-12-03h-{bank}.csv")})
    for r in _rows(f"sixth-pass-2026-12-04k-{bank}.csv"):
        passed[r["item"]] = r["decision"] in ("original passed", "rewrite applied")
    passed.update({r["item"]: r["pass"] == "1" for r in _rows(f"expert-review-2026-12-04l-{bank}.csv")})
    for name, kind in LATER_RECORDS:
        rows = _rows(f"{name}-{bank}.csv")
        if kind == "review":
            passed.update({r["item"]: r["pass"] == "1" for r in rows})
        else:  # a pass record: an item it applied passed; one it left keeps its earlier verdict
            passed.update({r["item"]: True for r in rows if _applied(r["decision"])})
    graded = [it["id"] for it in items if it.get("type") != "self_assessment"]
    return {item: passed.get(item, False) for item in graded}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--failing", action="store_true", help="list the ids still failing")
    args = parser.parse_args(argv)
    for bank in BANKS:
        status = ledger(bank)
        ok = sum(status.values())
        print(
            f"{bank}: {len(status)} graded items, {ok} passed their latest review ({ok / len(status):.0%}), "
            f"{len(status) - ok} failing"
        )
        if args.failing:
            print("  " + " ".join(item for item, good in status.items() if not good))


if __name__ == "__main__":
    main()
