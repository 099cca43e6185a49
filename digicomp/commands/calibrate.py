"""``digicomp calibrate``: responses CSV → calibrated item bank, mirt parameter table and JSON report."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="estimate item parameters by marginal maximum likelihood (EM)")
    p.add_argument("responses", help="response CSV: long (person,item,response) or wide (person, one column per item)")
    p.add_argument("--model", default="2PL", help="Rasch, 1PL, 2PL, 3PL, 4PL, GRM, GPCM or PCM (default 2PL)")
    p.add_argument("--fixed", metavar="BANK.yaml", help="hold this bank's items fixed (new items go on its scale)")
    p.add_argument("--out", metavar="BANK.yaml", required=True, help="write the calibrated item bank here")
    p.add_argument("--params", metavar="PARAMS.csv", help="write the parameter table (mirt columns with _se)")
    p.add_argument("--report", metavar="REPORT.json", help="write logLik, AIC, BIC, iterations, convergence, item fit")
    p.add_argument("--priors", choices=["none", "bayes"], default="none", help="parameter priors (default none = ML)")
    p.add_argument("--D", type=float, default=1.0, help="scaling constant of a new bank (1.0 or 1.702)")
    p.add_argument("--quadpts", type=int, default=61, help="quadrature points on [-6, 6] (default 61)")
    p.add_argument("--tol", type=float, default=1e-4, help="convergence: largest parameter change (default 1e-4)")
    p.add_argument("--max-iter", type=int, default=500, help="maximum EM cycles (default 500)")
    p.add_argument("--bank-id", default="calibrated", help="id of the new bank when --fixed is not given")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import warnings

    from digicomp.bank import load_bank
    from digicomp.calibration import calibrate

    base = load_bank(args.fixed) if args.fixed else None

    def progress(iteration: int, loglik: float, change: float) -> None:
        if not args.quiet and (iteration % 10 == 0 or iteration == 1):
            sys.stderr.write(f"EM cycle {iteration:4d}  logLik {loglik:.4f}  max change {change:.2e}\n")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = calibrate(args.responses, args.model, fixed=base, priors=args.priors, D=args.D, quadpts=args.quadpts,
                        tol=args.tol, max_iter=args.max_iter, progress=progress)
    for w in caught:
        sys.stderr.write(f"warning: {w.message}\n")
    bank = res.to_bank(base, id=args.bank_id)
    bank.to_yaml(args.out)
    if args.params:
        res.to_csv(args.params)
    if args.report:
        res.write_report(args.report)
    print(res.summary())
    print(f"wrote {args.out}" + (f", {args.params}" if args.params else "") + (f", {args.report}" if args.report else ""))
    return 0 if res.converged else 1
