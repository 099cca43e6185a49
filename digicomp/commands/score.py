"""``digicomp score``: θ and SE per person from a bank or parameter table and a response file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from digicomp.errors import DigicompError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="estimate θ and SE per person",
        description="Score a response file (long person,item,response or wide CSV) with a bank "
        "(bundled id or YAML) or a parameter table (mirt or catR columns). Writes person,theta,se.",
    )
    p.add_argument("params", metavar="PARAMS_OR_BANK", help="parameter-table CSV, bank YAML, or bundled bank id")
    p.add_argument("responses", metavar="RESPONSES.csv", help="response file, long or wide CSV")
    p.add_argument("--method", default="EAP", choices=["EAP", "MAP", "ML", "WLE", "PV"], type=str.upper)
    p.add_argument("--format", default="auto", choices=["auto", "long", "wide"], help="response file format")
    p.add_argument("--points", type=int, default=61, help="quadrature points (default 61)")
    p.add_argument("--range", nargs=2, type=float, default=(-6.0, 6.0), metavar=("LO", "HI"), help="θ range")
    p.add_argument("--prior-mean", type=float, default=0.0)
    p.add_argument("--prior-sd", type=float, default=1.0)
    p.add_argument("--D", type=float, default=1.0, help="scaling constant for a parameter table (default 1)")
    p.add_argument("--draws", type=int, default=5, help="plausible values per person for --method PV")
    p.add_argument("--seed", type=int, default=None, help="seed for plausible values")
    p.add_argument("--out", metavar="SCORES.csv", help="write person,theta,se here (default: stdout)")
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of the table")
    p.add_argument(
        "--answer-sheets",
        action="store_true",
        help="RESPONSES.csv holds paper answer sheets of a form (person, then the answers as written, by item id or "
        "position) and PARAMS_OR_BANK is the form's YAML from digicomp assemble: writes person,sum_score,theta,se,"
        "level,invalid by the form's sum-score table",
    )
    p.set_defaults(run=run)


def load_params(source: str, D: float = 1.0):
    """A bank (bundled id or YAML path) or a parameter table (CSV path) as ItemParameters; a multidimensional bank
    as the ItemBank itself (scored with every dimension)."""
    path = Path(source)
    if path.suffix.lower() == ".csv":
        from digicomp.io.param_table import read_param_table

        return read_param_table(path, D=D)
    if path.suffix.lower() in (".yaml", ".yml") or not path.exists():
        from digicomp.bank import load_bank

        bank = load_bank(source)
        return bank if bank.dims is not None else bank.params
    raise DigicompError(f"{source}: expected a parameter-table .csv, a bank .yaml or a bundled bank id")


def run(args: argparse.Namespace) -> int:
    if args.answer_sheets:
        return _score_sheets(args)
    from digicomp.io.responses import read_responses
    from digicomp.scoring import NormalPrior, score

    params = load_params(args.params, args.D)
    responses = read_responses(args.responses, fmt=args.format, item_ids=params.ids)
    if getattr(params, "dims", None) is not None:  # a multidimensional bank: θ and SE per dimension, and overall
        from digicomp.scoring.multidim_score import score_bank

        result = score_bank(params, responses, args.method, seed=args.seed or 0)
        _write(result, args, {"dimensions": result.dims, "mean_overall": float(result.overall.mean())})
        return 0
    result = score(
        params,
        responses,
        method=args.method,
        prior=NormalPrior(args.prior_mean, args.prior_sd),
        n_points=args.points,
        theta_range=tuple(args.range),
        n_draws=args.draws,
        rng=args.seed,
    )
    if args.out:
        result.to_csv(args.out)
    if args.json:
        summary = {
            "persons": len(result),
            "method": result.method,
            "mean_theta": float(result.theta.mean()),
            "mean_se": float(result.se.mean()),
            "extreme": int(result.extreme.sum()),
            "out": args.out,
        }
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not args.out:
        result.to_csv(sys.stdout)
    else:
        print(f"scored {len(result)} persons by {result.method}; wrote {args.out}")
    return 0


def _write(result, args: argparse.Namespace, extra: dict) -> None:
    """CSV to --out or stdout, or a JSON summary with --json."""
    if args.out:
        result.to_csv(args.out)
    if args.json:
        json.dump({"persons": len(result), "method": result.method, **extra, "out": args.out}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not args.out:
        result.to_csv(sys.stdout)
    else:
        print(f"scored {len(result)} persons by {result.method} on {len(result.dims)} dimensions; wrote {args.out}")


def _score_sheets(args: argparse.Namespace) -> int:
    """Paper answer sheets of an assembled form, scored by its sum-score table (digicomp.assembly.paper)."""
    import csv

    from digicomp.assembly.paper import score_sheets, scoring_table
    from digicomp.bank import load_bank

    bank = load_bank(args.params)
    try:
        with open(args.responses, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DigicompError(f"{args.responses}: cannot read the answer sheets: {exc}") from None
    if not rows:
        raise DigicompError(f"{args.responses}:1: no header (person, then one column per item)")
    from digicomp.scoring import NormalPrior

    table = scoring_table(bank, prior=NormalPrior(args.prior_mean, args.prior_sd))
    scored = score_sheets(bank, table, rows[0], rows[1:], args.responses)
    fields = ["person", "sum_score", "theta", "se", "level", "invalid"]
    if args.out or not args.json:  # with --json alone, stdout holds only the JSON summary
        fh = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout
        try:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(scored)
        finally:
            if args.out:
                fh.close()
    bad = sum(1 for r in scored if r["invalid"])
    if args.json:
        summary = {"persons": len(scored), "form": bank.id, "sheets_with_invalid_answers": bad, "out": args.out}
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    if bad:
        print(f"{bad} sheet(s) hold answers an item cannot take (scored 0, listed in 'invalid')", file=sys.stderr)
    return 0
