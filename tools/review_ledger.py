"""Which graded items of the bundled banks passed their latest expert review, read from the review records.

    python tools/review_ledger.py                 # per bank: graded items, passed, failing
    python tools/review_ledger.py --failing       # and the ids still failing (the next pass's list)
    python tools/review_ledger.py --samples       # how the fresh samples' items fared, by their earlier verdict
    python tools/review_ledger.py --streaks       # ... by how many reviews in a row they had passed
    python tools/review_ledger.py --levels        # the level a fresh sample's reviewer judged against the placed one

The records in docs/content-review are read in the order the reviews happened; a later record of an item replaces
an earlier one: the first reviews of 3 December (which may concern versions the second and third passes replaced,
so the ledger is approximate there), the fourth pass's applied rewrites, the new items of 3 December (passed when
only their level was disputed), the fifth pass's sample, the sixth pass, the fresh sample of 4 December, then the
records of ``LATER_RECORDS`` in their order (the seventh to nineteenth passes, the fresh samples between them, the
re-review of the items whose latest pass dated from 3-4 December, the rated tasks written for levels 7-8, the
twentieth pass, the fresh sample after it, the twenty-first pass on that sample's failures, the re-review of every
rated task, the twenty-second pass on its failures, the fourth fresh sample, the twenty-third pass on every item
failing after it, the fifth fresh sample, the twenty-fourth pass on every item failing after that, and the
twenty-fifth pass: new multiple-choice items written so that guard-kept failing items can leave, the sixth fresh
sample, the twenty-sixth pass on the multiple-choice items failing after it, the twenty-seventh pass's new items for
levels 7 and 8, the seventh fresh sample, and the twenty-eighth pass's new level-7 items).
Items withdrawn from a bank (tools/withdraw_failing.py) leave the ledger. An item no record names counts as failing
(never reviewed). docs/content-review.md quotes its figures.
"""

from __future__ import annotations

import argparse
import csv
import functools
import re
from collections import Counter
from collections.abc import Iterable
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
    ("expert-review-2026-12-05o", "sample"),
    ("count-variation-2026-12-05p", "pass"),
    ("ninth-pass-2026-12-05q", "pass"),
    ("expert-review-2026-12-05r", "sample"),
    ("tenth-pass-2026-12-05s", "pass"),
    ("expert-review-2026-12-05t", "sample"),
    ("eleventh-pass-2026-12-05u", "pass"),
    ("expert-review-2026-12-05v", "sample"),
    ("twelfth-pass-2026-12-05w", "pass"),
    ("expert-review-2026-12-05x", "review"),
    ("thirteenth-pass-2026-12-05y", "pass"),
    ("fourteenth-pass-2026-12-05z", "pass"),
    ("expert-review-2026-12-05za", "sample"),
    ("expert-review-2026-12-05zb", "sample"),
    ("fifteenth-pass-2026-12-05zc", "pass"),
    ("sixteenth-pass-2026-12-05zd", "pass"),
    ("seventeenth-pass-2026-12-05ze", "pass"),
    ("eighteenth-pass-2026-12-05zf", "pass"),
    ("expert-review-2026-12-05zg", "sample"),
    ("expert-review-2026-12-05zh", "review"),
    ("nineteenth-pass-2026-12-05zi", "pass"),
    ("expert-review-2026-12-05zj", "sample"),
    ("rated-tasks-2026-12-05zk", "pass"),
    ("twentieth-pass-2026-12-05zl", "pass"),
    ("expert-review-2026-12-05zm", "sample"),
    ("twenty-first-pass-2026-12-05zn", "pass"),
    ("expert-review-2026-12-05zo", "review"),
    ("twenty-second-pass-2026-12-05zp", "pass"),
    ("expert-review-2026-12-05zq", "sample"),
    ("twenty-third-pass-2026-12-05zr", "pass"),
    ("expert-review-2026-12-05zs", "sample"),
    ("twenty-fourth-pass-2026-12-05zt", "pass"),
    ("twenty-fifth-pass-2026-12-05zu", "pass"),
    ("expert-review-2026-12-05zv", "sample"),
    ("twenty-sixth-pass-2026-12-05zw", "pass"),
    ("twenty-seventh-pass-2026-12-06zx", "pass"),
    ("expert-review-2026-12-06zy", "sample"),
    ("twenty-eighth-pass-2026-12-06zz", "pass"),
    ("twenty-ninth-pass-2026-12-06zza", "pass"),
    ("expert-review-2026-12-06zzb", "sample"),
    ("expert-review-2026-12-06zzc", "review"),
    ("thirtieth-pass-2026-12-06zzd", "pass"),
    ("expert-review-2026-12-06zze", "sample"),
    ("thirty-first-pass-2026-12-06zzf", "pass"),
    ("thirty-second-pass-2026-12-06zzg", "pass"),
    ("expert-review-2026-12-06zzh", "sample"),
    ("thirty-third-pass-2026-12-06zzi", "pass"),
    ("thirty-fourth-pass-2026-12-06zzj", "pass"),
    ("expert-review-2026-12-06zzk", "sample"),
    ("thirty-fifth-pass-2026-12-06zzl", "pass"),
    ("expert-review-2026-12-06zzm", "sample"),
    ("expert-review-2026-12-07a", "sample"),
    ("thirty-sixth-pass-2026-12-07b", "pass"),
    ("thirty-seventh-pass-2026-12-07c", "pass"),
    ("thirty-eighth-pass-2026-12-07d", "pass"),
    ("expert-review-2026-12-07e", "sample"),
)
"""The records from the seventh pass on, in the order they were made: a fresh random sample reviewed ("sample"), a
review of chosen items ("review"), or a pass that applied the versions it names ("pass")."""

NEW_ITEM_PASSES = (
    "rated-tasks-2026-12-05zk",
    "twenty-fifth-pass-2026-12-05zu",
    "twenty-seventh-pass-2026-12-06zx",
    "twenty-eighth-pass-2026-12-06zz",
    "twenty-ninth-pass-2026-12-06zza",
    "thirtieth-pass-2026-12-06zzd",
    "thirty-first-pass-2026-12-06zzf",
    "thirty-second-pass-2026-12-06zzg",
    "thirty-third-pass-2026-12-06zzi",
    "thirty-fourth-pass-2026-12-06zzj",
    "thirty-fifth-pass-2026-12-06zzl",
    "thirty-sixth-pass-2026-12-07b",
    "thirty-eighth-pass-2026-12-07d",
)
"""The passes of LATER_RECORDS that wrote new items rather than rewrites (their rows say "new item applied" or why
not): the rated tasks, the twenty-fifth pass's multiple choice, and the items for levels 7-8 from the twenty-seventh
pass on."""


def item_format(item: dict) -> str:
    """An item's format as the bank file gives it ("multiple_choice" when the file leaves ``type`` out)."""
    return item.get("type") or "multiple_choice"


@functools.cache
def _formats(bank: str) -> dict[str, str]:
    """Each item of the bundled ``bank`` and its format."""
    with open(ROOT / "item_banks" / f"{bank}.yaml", encoding="utf-8") as fh:
        return {it["id"]: item_format(it) for it in yaml.safe_load(fh)["items"]}


def withdrawn_items(bank: str) -> dict[str, dict]:
    """The items withdrawn from ``bank`` (tools/withdraw_failing.py), whole, as they were when they left."""
    out = {}
    for path in sorted(RECORDS.glob(f"withdrawn-*-{bank}.yaml")):
        with open(path, encoding="utf-8") as fh:
            out.update({it["id"]: it for it in yaml.safe_load(fh)})
    return out


@functools.cache
def withdrawn_formats(bank: str) -> dict[str, str]:
    """The items withdrawn from ``bank`` and their formats when they left."""
    return {item: item_format(it) for item, it in withdrawn_items(bank).items()}


def graded(bank: str, withdrawn: bool = False) -> list[str]:
    """The graded items (self-assessment excluded) of the bundled ``bank``, and those withdrawn from it if asked."""
    formats = _formats(bank) | (withdrawn_formats(bank) if withdrawn else {})
    return [item for item, kind in formats.items() if kind != "self_assessment"]


def verdicts(bank: str, before: str | None = None, items: Iterable[str] | None = None) -> dict[str, tuple[bool, str]]:
    """Each graded item of ``bank`` (self-assessment excluded; or each of ``items``, e.g. items since withdrawn):
    whether its version passed its latest review, and the date of the record that decided it (``"2026-12-03"`` …;
    ``""`` if none did). With ``before`` (a name in ``LATER_RECORDS``) only the records made before that one are
    read: the ledger as it stood then."""
    passed: dict[str, tuple[bool, str]] = {}

    def decide(rows: list[dict[str, str]], item: str, verdict, date: str) -> None:
        passed.update({r[item]: (verdict(r), date) for r in rows})

    for tag in ("03", "03b", "03c-new", "03d", "03e-fixed"):
        decide(_rows(f"expert-review-2026-12-{tag}-{bank}.csv"), "item", lambda r: r["pass"] == "1", "2026-12-03")
    for tag in ("03f", "03g"):
        applied = [r for r in _rows(f"rewrite-2026-12-{tag}-{bank}.csv") if r["applied"] == "1"]
        decide(applied, "item", lambda r: r["review_pass"] == "1", "2026-12-03")
    added = [r for r in _rows(f"new-items-2026-12-03-{bank}.csv") if r["item_in_bank"]]
    decide(
        added,
        "item_in_bank",
        lambda r: r["decision"].startswith("added") and r["failed_criteria"] in ("", "4"),
        "2026-12-03",
    )
    decide(_rows(f"expert-review-2026-12-03h-{bank}.csv"), "item", lambda r: r["pass"] == "1", "2026-12-03")
    decide(_rows(f"rewrite-2026-12-03h-{bank}.csv"), "item", lambda r: r["review_pass"] == "1", "2026-12-03")
    decide(
        _rows(f"sixth-pass-2026-12-04k-{bank}.csv"),
        "item",
        lambda r: r["decision"] in ("original passed", "rewrite applied"),
        "2026-12-04",
    )
    decide(_rows(f"expert-review-2026-12-04l-{bank}.csv"), "item", lambda r: r["pass"] == "1", "2026-12-04")
    for name, kind in LATER_RECORDS:
        if name == before:
            break
        rows, date = _rows(f"{name}-{bank}.csv"), re.search(r"\d{4}-\d{2}-\d{2}", name)[0]
        if kind == "pass":  # an item it applied passed; one it left keeps its earlier verdict
            decide([r for r in rows if _applied(r["decision"])], "item", lambda r: True, date)
        else:
            decide(rows, "item", lambda r: r["pass"] == "1", date)
    return {item: passed.get(item, (False, "")) for item in (graded(bank) if items is None else items)}


def ledger(bank: str) -> dict[str, bool]:
    """Each graded item of ``bank`` (self-assessment excluded): True when its version passed its latest review."""
    return {item: ok for item, (ok, _) in verdicts(bank).items()}


def fresh_samples_by_prior(bank: str) -> dict[str, list[int]]:
    """How the items of the fresh random samples (``LATER_RECORDS`` of kind "sample") fared, by what the ledger said
    of them just before: {group: [passed, reviewed]}, groups "passed on 5 December", "passed on 3-4 December" and
    "failing", each split into multiple choice and the other formats (an item's format as it is in the bank now, or
    was when it was withdrawn)."""
    fmt = _formats(bank) | withdrawn_formats(bank)
    everyone = graded(bank, withdrawn=True)
    out: dict[str, list[int]] = {}
    for name, kind in LATER_RECORDS:
        if kind != "sample":
            continue
        prior = verdicts(bank, before=name, items=everyone)
        for r in _rows(f"{name}-{bank}.csv"):
            if r["item"] not in prior:
                continue
            ok, date = prior[r["item"]]
            group = ("passed on 5 December" if date >= "2026-12-05" else "passed on 3-4 December") if ok else "failing"
            group += ", multiple choice" if fmt[r["item"]] == "multiple_choice" else ", other formats"
            tally = out.setdefault(group, [0, 0])
            tally[0] += r["pass"] == "1"
            tally[1] += 1
    return out


def fresh_samples_by_streak(bank: str) -> dict[int, list[int]]:
    """How the items of the fresh random samples fared by how many reviews in a row their version had passed just
    before: {streak: [passed, reviewed]}, 0 for a version failing, 3 for three or more. Only the records of
    ``LATER_RECORDS`` count: a version a pass applied starts at one (its review passed; a re-reviewed original adds
    one), a sample or review adds one or resets to zero; an item none of them had judged before a sample is left out."""
    streak: dict[str, int] = {}
    out: dict[int, list[int]] = {}
    for name, kind in LATER_RECORDS:
        rows = _rows(f"{name}-{bank}.csv")
        if kind == "pass":
            for r in rows:
                if _applied(r["decision"]):
                    streak[r["item"]] = streak.get(r["item"], 0) + 1 if r["decision"].startswith("original") else 1
            continue
        for r in rows:
            item, ok = r["item"], r["pass"] == "1"
            if kind == "sample" and item in streak:
                tally = out.setdefault(min(streak[item], 3), [0, 0])
                tally[0] += ok
                tally[1] += 1
            streak[item] = streak.get(item, 0) + 1 if ok else 0
    return dict(sorted(out.items()))


def fresh_samples_levels(bank: str) -> dict[str, dict[int, int]]:
    """How the level a fresh sample's reviewer judged compares with the level the item was placed at when drawn (the
    record's ``level_tagged``): {"all": {judged - placed: items}, "placed 7-8": {...}} over the samples of
    ``LATER_RECORDS`` whose rows give both levels. A level is placed by one review, so this is the agreement of a
    second, independent reviewer with that placement."""
    out = {"all": Counter(), "placed 7-8": Counter()}
    for name, kind in LATER_RECORDS:
        if kind != "sample":
            continue
        for r in _rows(f"{name}-{bank}.csv"):
            placed, judged = (r.get("level_tagged") or "").strip(), (r.get("level_judged") or "").strip()
            if not (placed.isdigit() and judged.isdigit()):
                continue
            diff = int(judged) - int(placed)
            out["all"][diff] += 1
            if int(placed) >= 7:
                out["placed 7-8"][diff] += 1
    return {group: dict(sorted(tally.items())) for group, tally in out.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--failing", action="store_true", help="list the ids still failing")
    parser.add_argument(
        "--samples", action="store_true", help="how the fresh samples' items fared, by what the ledger said before"
    )
    parser.add_argument(
        "--streaks", action="store_true", help="how the fresh samples' items fared, by reviews passed in a row before"
    )
    parser.add_argument(
        "--levels", action="store_true", help="the level the fresh samples' reviewers judged against the placed level"
    )
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
        if args.samples:
            for group, (ok, n) in sorted(fresh_samples_by_prior(bank).items()):
                print(f"  fresh samples, items {group}: {ok}/{n} passed")
        if args.streaks:
            for run, (ok, n) in fresh_samples_by_streak(bank).items():
                label = "failing" if run == 0 else f"after {run}{' or more' if run == 3 else ''} passed in a row"
                print(f"  fresh samples, items {label}: {ok}/{n} passed ({ok / n:.0%})")
        if args.levels:
            for group, tally in fresh_samples_levels(bank).items():
                n = sum(tally.values())
                spread = ", ".join(f"{d:+d}: {k}" for d, k in tally.items())
                print(f"  fresh samples, items {group}: judged = placed in {tally.get(0, 0)}/{n} ({spread})")


if __name__ == "__main__":
    main()
