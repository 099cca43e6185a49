"""The options-only blind test of issue 16: can a reader who sees only an item's options single out its key?

    python tools/options_only.py draw --seed 20261203 --per-bank 60 --out SHEET_DIR
    python tools/options_only.py draw --seed 20261209 --only NEW_IDS.txt --out SHEET_DIR   # only these items
    python tools/options_only.py score SHEET_DIR ANSWERS.csv

``draw`` samples multiple-choice items of each bundled bank (seeded, so anyone can redraw the same sample) and
writes ``sheet.md`` (each item's options in Vietnamese and English, labelled as in the bank, no stem, no item id,
no tags) for the reader, and ``key.csv`` (sheet number, bank, item id, key) kept away from the reader. ``score``
reads the reader's ``number,choice`` CSV and prints the share of keys picked per bank with a binomial 95%
interval and the chance rate (1 / number of options).
"""

from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

BANKS = ("civil-service", "public-security")


def draw(
    seed: int, per_bank: int, out: Path, only: set[str] | None = None, banks: Sequence[str | Path] = BANKS
) -> None:
    """Write the reader's sheet and the key file for a seeded sample of multiple-choice items (of ``only``, the
    item ids to draw from, when given) of ``banks`` (bundled ids or files, e.g. a candidate version of a bank)."""
    from digicomp.bank import load_bank

    rng = np.random.default_rng(seed)
    rows, sheet = [], ["# Options-only test", "", "For each numbered item, choose the option you think is the key.", ""]
    number = 0
    for ref in banks:
        bank = load_bank(ref)
        bank_id = bank.id
        items = [it for it in bank.spec.items if it.kind == "multiple_choice"]
        items = [it for it in items if only is None or it.id in only]
        if not items:
            continue
        for j in rng.choice(len(items), size=min(per_bank, len(items)), replace=False):
            it = items[int(j)]
            number += 1
            sheet.append(f"## {number}")
            sheet += [f"- {o.id}. {o.vi}  /  {o.en}" for o in it.options]
            sheet.append("")
            rows.append([number, bank_id, it.id, it.key, len(it.options)])
    out.mkdir(parents=True, exist_ok=True)
    (out / "sheet.md").write_text("\n".join(sheet), encoding="utf-8")
    with open(out / "key.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["number", "bank", "item", "key", "n_options"], *rows])
    print(f"wrote {out / 'sheet.md'} ({number} items) and {out / 'key.csv'} (keep it from the reader)")


def score(folder: Path, answers: Path) -> None:
    """Print, per bank, how many keys the reader picked against chance, with a Wilson 95% interval."""
    with open(folder / "key.csv", encoding="utf-8") as fh:
        key = {int(r["number"]): r for r in csv.DictReader(fh)}
    with open(answers, encoding="utf-8") as fh:
        chosen = {int(r["number"]): r["choice"].strip() for r in csv.DictReader(fh)}
    missing = sorted(set(key) - set(chosen))
    if missing:
        raise SystemExit(f"{answers}: no answer for items {missing[:10]}")
    for bank_id in BANKS:
        mine = [r for n, r in key.items() if r["bank"] == bank_id]
        if not mine:
            continue
        hits = sum(chosen[int(r["number"])] == r["key"] for r in mine)
        n = len(mine)
        chance = float(np.mean([1 / int(r["n_options"]) for r in mine]))
        p, z = hits / n, 1.959964
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        print(
            f"{bank_id}: key picked in {hits}/{n} = {p:.0%} (95% CI {centre - half:.0%}-{centre + half:.0%}); "
            f"chance {chance:.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("draw")
    d.add_argument("--seed", type=int, required=True)
    d.add_argument("--per-bank", type=int, default=60)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--only", type=Path, help="a file of item ids, one per line: draw from these items only")
    d.add_argument("--bank", action="append", help="a bank file or bundled id to draw from (repeatable; default both)")
    s = sub.add_parser("score")
    s.add_argument("folder", type=Path)
    s.add_argument("answers", type=Path)
    args = parser.parse_args()
    if args.command == "draw":
        only = None
        if args.only is not None:
            only = {line.strip() for line in args.only.read_text(encoding="utf-8").splitlines() if line.strip()}
        draw(args.seed, args.per_bank, args.out, only, args.bank or BANKS)
    else:
        score(args.folder, args.answers)


if __name__ == "__main__":
    main()
