"""``digicomp lint BANK``: item-writing checks of a bank, per item and as bank-level cues tested against chance."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lint",
        help="check a bank's items against item-writing guidelines and test its cues against chance",
        description="Per-item findings (key length, absolute and qualifier words, reason clauses, form, stem "
        "overlap, 'all/none of the above', negative stems, duplicate stems, gendered address, laws without a "
        "source or a review-by date, review-by dates passed) on multiple-choice and multiple-response items, and "
        "bank-level tests of each cue against random key placement (Holm-adjusted). "
        "See docs/item-banks.md, 'Linting a bank'.",
    )
    p.add_argument("bank", metavar="BANK", help="bundled bank id (civil-service) or a bank YAML path")
    p.add_argument("--alpha", type=_alpha, default=0.05, help="level of the bank-level tests (default 0.05)")
    p.add_argument(
        "--today",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="the date review-by dates are compared with (default: today, UTC)",
    )
    p.add_argument("--rule", action="append", metavar="RULE", help="show only findings of this rule (repeatable)")
    p.add_argument("--summary", action="store_true", help="print the counts and the bank-level tests only")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when an error is found or a bank-level cue is significant (for CI)",
    )
    p.set_defaults(run=run)


def _date(text: str) -> Any:
    import datetime

    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1 (exclusive), got {text}")
    return value


def run(args: argparse.Namespace) -> int:
    from digicomp.bank.lint import RULES, lint_bank
    from digicomp.errors import DigicompError

    unknown = sorted(set(args.rule or []) - set(RULES))
    if unknown:
        raise DigicompError(f"lint: unknown rule(s) {', '.join(unknown)}; expected one of {', '.join(RULES)}")
    report = lint_bank(args.bank, alpha=args.alpha, today=args.today)
    if args.json:
        data = report.to_dict()
        if args.rule:
            data["findings"] = [f for f in data["findings"] if f["rule"] in args.rule]
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(report.text(rules=args.rule, findings=not args.summary))
    n_err = len(report.errors)
    n_warn = sum(f.severity == "warning" for f in report.findings)
    n_cues = len(report.significant_cues)
    sys.stderr.write(
        f"lint: {report.bank}: {n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)}, "
        f"{n_cues} of {len(report.tests)} bank-level cues significant at α = {report.alpha:g}\n"
    )
    return 1 if args.strict and report.failed else 0
