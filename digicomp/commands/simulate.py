"""``digicomp simulate``: a Monte Carlo study of one or more CAT designs (and a baseline) over the same persons."""

from __future__ import annotations

import argparse
import importlib.util
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate CAT designs over many persons (bias, RMSE, length, exposure, classification)",
        description="Run simulated persons through each design's engine in lock-step, plus a baseline test. "
        "Writes summary.csv, conditional.csv, areas.csv, exposure.csv, persons-<design>.csv and summary.json to "
        "--out; prints a side-by-side summary (or the JSON summary with --json).",
    )
    p.add_argument("designs", nargs="+", metavar="DESIGN.yaml", help="design files (kind: cat_design)")
    p.add_argument("--n", type=int, default=1000, help="simulated persons (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="seed: the same seed gives the same study (default 1)")
    p.add_argument("--population", default="normal", help="normal[:MEAN,SD] or uniform[:LOW,HIGH] (default N(0,1))")
    p.add_argument("--bank", help="bank for every design (bundled id, bank YAML or parameter CSV)")
    p.add_argument("--true-bank", help="bank that generates the answers (same item ids): calibration-error studies")
    p.add_argument(
        "--baseline",
        default="linear",
        choices=["linear", "random", "none"],
        help="non-adaptive baseline (default linear: the best fixed form)",
    )
    p.add_argument("--baseline-length", type=int, help="baseline items (default: the first design's mean length)")
    p.add_argument("--cuts", help="comma-separated cut scores on θ, replacing the bank's (write --cuts=-1,0,1)")
    p.add_argument("--processes", type=int, help="worker processes (default: by study size; never changes results)")
    p.add_argument("--chunk-size", type=int, default=1000, help="persons per lock-step batch (default 1000)")
    p.add_argument(
        "--concurrent",
        type=int,
        help="test takers testing at the same time, for exposure control that reads past test takers "
        "(item_eligibility, progressive_restricted; default 25)",
    )
    p.add_argument("--out", metavar="DIR", help="write the CSV tables, summary.json and plots.png here")
    p.add_argument("--json", action="store_true", help="print the JSON summary to stdout")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from digicomp.errors import ParameterError
    from digicomp.simulation import parse_population, simulate

    cuts = None
    if args.cuts:
        try:
            cuts = [float(c) for c in args.cuts.split(",")]
        except ValueError:
            raise ParameterError(f"--cuts {args.cuts!r}: expected comma-separated numbers such as -1,0,1") from None
    result = simulate(
        args.designs,
        n=args.n,
        seed=args.seed,
        population=parse_population(args.population),
        bank=args.bank,
        true_bank=args.true_bank,
        baseline=args.baseline,
        baseline_length=args.baseline_length,
        cuts=cuts,
        processes=args.processes,
        chunk_size=args.chunk_size,
        concurrent=args.concurrent,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    if args.out:
        from pathlib import Path

        result.to_csv(args.out)
        result.to_json(Path(args.out) / "summary.json")
        if importlib.util.find_spec("matplotlib") is not None:
            result.plot(Path(args.out) / "plots.png")
        else:
            sys.stderr.write("digicomp: note: plots.png not written (pip install 'digicomp[plot]' for plots)\n")
    print(result.to_json() if args.json else result.summary())
    return 0
