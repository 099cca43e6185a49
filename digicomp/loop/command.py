"""``digicomp calibrate --store URL --bank BANK``: the command-line side of :func:`digicomp.loop.recalibrate`."""

from __future__ import annotations

import argparse
import json


def run_store(args: argparse.Namespace) -> int:
    """Recalibrate ``args.bank`` from the store at ``args.store`` and write the next bank version to ``args.out``."""
    from digicomp.bank import load_bank
    from digicomp.errors import DigicompError
    from digicomp.loop import recalibrate
    from digicomp.reporting.progress import em_progress, se_progress, warnings_to_stderr
    from digicomp.store import open_store

    if not args.bank:
        raise DigicompError("--store needs --bank BANK (the bank version the stored sessions were taken with)")
    if args.bank_id:
        raise DigicompError("--bank-id does not apply with --store: the new version keeps the id of --bank")
    if args.fixed:
        raise DigicompError("--fixed does not apply with --store: the operational items of --bank are held fixed")
    bank = load_bank(args.bank)

    statuses = ("finished", "abandoned") if args.abandoned else ("finished",)
    with open_store(args.store) as store, warnings_to_stderr():
        rec = recalibrate(
            store,
            bank,
            mode="all" if args.all else "pretest",
            statuses=statuses,
            drift=not args.no_drift,
            drift_fdr=args.drift_fdr,
            version=args.new_version,
            min_responses=args.min_responses,
            priors=args.priors or "auto",
            quadpts=args.quadpts,
            tol=args.tol,
            max_iter=args.max_iter,
            se_method=args.se_method,
            progress=em_progress(args.quiet),
            se_progress=se_progress(args.quiet),
        )
    bank_path, side = rec.write(args.out)
    if args.params:
        rec.result.to_csv(args.params)
    if args.report:
        report = {**rec.result.report(), "provenance": rec.provenance}
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(report, fh, ensure_ascii=False, indent=2, default=str)
    print(rec.summary())
    print(
        f"wrote {bank_path}, {side}"
        + (f", {args.params}" if args.params else "")
        + (f", {args.report}" if args.report else "")
    )
    return 0 if rec.converged else 1
