"""``digicomp rate BANK RATINGS.csv``: rated tasks' rubric points into item scores, with the raters' agreement."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rate",
        help="turn raters' rubric points on rated tasks into item scores and report their agreement",
        description="Read a ratings CSV (person,item,rater,criterion,points: one row per rubric criterion a rater "
        "scored), check it against the bank's rubrics (every problem at once), resolve double ratings (agreement, "
        "an adjudicator, or the lower points per criterion) and write the item scores as a long response file "
        "(person,item,response) that 'digicomp score' and 'digicomp calibrate' read. Agreement of the first two "
        "raters of each response: exact and within-one-point agreement and quadratic weighted kappa per item. "
        "See docs/item-banks.md, 'Rated tasks'.",
    )
    p.add_argument("bank", metavar="BANK", help="bundled bank id (civil-service) or a bank YAML path")
    p.add_argument("ratings", metavar="RATINGS.csv", help="person,item,rater,criterion,points")
    p.add_argument("--out", required=True, metavar="SCORES.csv", help="where to write person,item,response")
    p.add_argument("--adjudicator", metavar="RATER", help="the rater whose rating decides a disagreement")
    p.add_argument(
        "--resolve",
        choices=["adjudicate", "lower"],
        default="adjudicate",
        help="a disagreement without the adjudicator's rating: an error listing each (adjudicate, the default) "
        "or each criterion's lowest points (lower)",
    )
    p.add_argument("--report", metavar="AGREEMENT.json", help="also write the agreement report as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from digicomp.bank import load_bank
    from digicomp.face.ratings import read_ratings, resolve
    from digicomp.io.csvfile import write_csv

    bank = load_bank(args.bank)
    resolved = resolve(read_ratings(args.ratings, bank), bank, args.adjudicator, args.resolve)
    write_csv(args.out, ["person", "item", "response"], [row[:3] for row in resolved.rows])
    report = resolved.to_dict()
    if args.report:
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=2)
    counts = ", ".join(f"{n} {how}" for how, n in report["resolution"].items() if n)
    print(f"{report['responses']} rated responses scored ({counts}) -> {args.out}")
    overall = report["overall"]
    if overall is not None:
        print(
            f"double-rated: {overall['n']}; exact agreement {overall['exact']:.1%}, "
            f"within one point {overall['adjacent']:.1%}"
        )
        print("item                   n   exact  within 1  kappa")
        for item, a in report["items"].items():
            kappa = "  n/a" if a["kappa"] is None else f"{a['kappa']:5.2f}"
            print(f"{item:<20} {a['n']:>4}  {a['exact']:6.1%}  {a['adjacent']:8.1%}  {kappa}")
    sys.stdout.flush()
    return 0
