"""``digicomp calibrate``: responses CSV → calibrated item bank, mirt parameter table and JSON report."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="estimate item parameters by marginal maximum likelihood (EM)")
    p.add_argument(
        "responses",
        nargs="?",
        help="response CSV: long (person,item,response) or wide (person, one column per item); not with --store",
    )
    p.add_argument(
        "--model",
        default="2PL",
        help="Rasch, 1PL, 2PL, 3PL, 4PL, GRM, GPCM or PCM, or R mirt's itemtype (graded, gpcm; "
        "Rasch on polytomous items = PCM); default 2PL",
    )
    p.add_argument("--fixed", metavar="BANK.yaml", help="hold this bank's items fixed (new items go on its scale)")
    p.add_argument("--out", metavar="BANK.yaml", required=True, help="write the calibrated item bank here")
    p.add_argument("--params", metavar="PARAMS.csv", help="write the parameter table (mirt columns with _se)")
    p.add_argument("--report", metavar="REPORT.json", help="write logLik, AIC, BIC, iterations, convergence, item fit")
    p.add_argument(
        "--priors",
        choices=["none", "bayes"],
        default=None,
        help="parameter priors (default none = ML; with --store: bayes when 3PL/4PL items are estimated)",
    )
    p.add_argument("--D", type=float, default=1.0, help="scaling constant of a new bank (1.0 or 1.702)")
    p.add_argument("--quadpts", type=int, default=61, help="quadrature points on [-6, 6] (default 61)")
    p.add_argument("--tol", type=float, default=1e-4, help="convergence: largest parameter change (default 1e-4)")
    p.add_argument("--max-iter", type=int, default=500, help="maximum EM cycles (default 500)")
    p.add_argument(
        "--se-method",
        choices=["auto", "numerical", "xpd"],
        default="auto",
        help="standard errors: numerical observed information, or cross-product (XPD); auto = numerical when its "
        "estimated cost (2 E-steps per free parameter) is small, else XPD (default auto)",
    )
    p.add_argument(
        "--bank-id",
        help="id of the new bank (default: the --fixed bank's id; without --fixed, 'calibrated'; not with --store)",
    )
    p.add_argument(
        "--new-version",
        help="version of the new bank (default: the --fixed or --bank bank's version, last number + 1; "
        "'1' for a new bank)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    s = p.add_argument_group("from a response store (docs/assessment-loop.md)")
    s.add_argument("--store", metavar="URL", help="read the sessions of --bank from this store (file or postgresql://)")
    s.add_argument("--bank", metavar="BANK", help="the bank version the stored sessions were taken with")
    s.add_argument("--all", action="store_true", help="re-estimate every item (default: the pretest items only)")
    s.add_argument("--abandoned", action="store_true", help="also use abandoned sessions")
    s.add_argument("--no-drift", action="store_true", help="skip the drift checks of the operational items")
    s.add_argument(
        "--drift-fdr",
        type=float,
        default=0.05,
        help="false discovery rate over items of the drift flags (Benjamini-Hochberg; default 0.05)",
    )
    s.add_argument(
        "--min-responses",
        type=int,
        default=200,
        help="free calibrations use items with at least this many responses (default 200)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from digicomp.bank import load_bank
    from digicomp.calibration import calibrate
    from digicomp.errors import CalibrationError
    from digicomp.reporting.progress import em_progress, se_progress, warnings_to_stderr

    if args.store:
        from digicomp.loop.command import run_store

        return run_store(args)
    if args.responses is None:
        raise CalibrationError("give a response CSV, or --store URL --bank BANK")
    base = load_bank(args.fixed) if args.fixed else None

    with warnings_to_stderr():
        res = calibrate(
            args.responses,
            args.model,
            fixed=base,
            priors=args.priors or "none",
            D=args.D,
            quadpts=args.quadpts,
            tol=args.tol,
            max_iter=args.max_iter,
            se_method=args.se_method,
            progress=em_progress(args.quiet),
            se_progress=se_progress(args.quiet),
        )
    version = args.new_version
    if version is None and base is not None:
        from digicomp.loop.recalibrate import next_version

        version = next_version(str(base.version))
    bank = res.to_bank(base, id=args.bank_id, version=version)
    bank.to_yaml(args.out)
    if args.params:
        res.to_csv(args.params)
    if args.report:
        res.write_report(args.report)
    print(res.summary())
    extra = (f", {args.params}" if args.params else "") + (f", {args.report}" if args.report else "")
    print(f"wrote {args.out} (bank {bank.id} {bank.version}){extra}")
    return 0 if res.converged else 1
