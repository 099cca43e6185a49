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
        "--truth",
        metavar="STRUCT",
        help="multidimensional truth for a per-area study: areas[:RHO] (the areas as dimensions with correlation RHO, "
        "default 0.8), bifactor[:RHO] (a general factor plus areas), both derived from --true-bank or the first "
        "design's bank, or a multidimensional bank; prints per-area bias, RMSE, level accuracy (a multidimensional "
        "design without --truth runs against its own bank)",
    )
    p.add_argument(
        "--baseline",
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
    if args.truth is not None or _any_multidimensional(args):
        return _run_areas(args, cuts)
    result = simulate(
        args.designs,
        n=args.n,
        seed=args.seed,
        population=parse_population(args.population),
        bank=args.bank,
        true_bank=args.true_bank,
        baseline=args.baseline or "linear",
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


def _any_multidimensional(args: argparse.Namespace) -> bool:
    """True when some design's bank file declares ``dimensions`` (a multidimensional bank: one θ per person cannot
    answer it). A look at the file's top-level keys, not a load: the study loads and checks every bank."""
    import re
    from pathlib import Path

    from digicomp.bank.loader import resolve
    from digicomp.cat.design import load_design, resolve_bank_ref
    from digicomp.errors import DigicompError

    for path in args.designs:
        try:
            ref = args.bank if args.bank is not None else resolve_bank_ref(load_design(path), Path(path).parent)
            file = resolve(ref) if ref is not None else None
        except (DigicompError, OSError):
            continue  # the study itself reports a design or bank that cannot be read
        if file is not None and file.suffix in (".yaml", ".yml") and file.is_file():
            if re.search(r"^dimensions:", file.read_text(encoding="utf-8"), flags=re.MULTILINE):
                return True
    return False


def _run_areas(args: argparse.Namespace, cuts: list[float] | None) -> int:
    """The per-area study against a multidimensional truth (``--truth``, or a multidimensional design's bank)."""
    from pathlib import Path

    from digicomp.errors import ParameterError
    from digicomp.simulation.area_study import area_study

    unused = [
        flag
        for flag, value in (
            ("--population", args.population != "normal"),
            ("--baseline", args.baseline is not None),
            ("--baseline-length", args.baseline_length is not None),
            ("--processes", args.processes is not None),
            ("--concurrent", args.concurrent is not None),
        )
        if value
    ]
    if unused:
        raise ParameterError(
            f"{', '.join(unused)}: not used by a per-area study (persons come from the truth's latent normal, "
            "every design runs in one process, no baseline); leave them out"
        )
    study = area_study(
        args.designs,
        n=args.n,
        seed=args.seed,
        truth=args.truth,
        bank=args.bank,
        true_bank=args.true_bank,
        cuts=cuts,
        chunk_size=args.chunk_size,
    )
    if args.out:
        study.to_csv(args.out)
        study.to_json(Path(args.out) / "summary.json")
    print(study.to_json() if args.json else study.summary())
    return 0
