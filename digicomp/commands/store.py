"""``digicomp store``: look after a response store (info, register a bank version, export, integrity check)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="response store: info, register a bank, export to CSV, check")
    ops = p.add_subparsers(dest="store_command", metavar="ACTION", required=True, parser_class=type(p))
    info = ops.add_parser("info", help="schema version, bank versions, sessions and responses stored, recalibrations")
    info.add_argument("url", help="store: a file path, sqlite:///path or postgresql://user@host:port/db")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(run=run_info)
    reg = ops.add_parser("register", help="accept sessions of this bank version (creates the store if needed)")
    reg.add_argument("url")
    reg.add_argument("bank", help="bundled bank id or bank YAML")
    reg.set_defaults(run=run_register)
    exp = ops.add_parser("export", help="stored responses as a long CSV (person,item,response)")
    exp.add_argument("url")
    exp.add_argument("out", help="CSV file to write ('-' for standard output)")
    exp.add_argument(
        "--layout",
        choices=["long", "full"],
        default="long",
        help="long: person,item,response (default); full: also position, answer, seconds, pretest, ...",
    )
    exp.add_argument("--bank", help="only sessions of this bank version (bundled id, bank YAML or fingerprint)")
    exp.add_argument("--status", choices=["finished", "abandoned", "all"], default="all")
    exp.set_defaults(run=run_export)
    chk = ops.add_parser("check", help="verify the database (SQLite integrity_check) and that every session is whole")
    chk.add_argument("url")
    chk.set_defaults(run=run_check)


def _fingerprint(ref: str | None) -> str | None:
    if ref is None or ref.startswith("sha256:"):
        return ref
    from digicomp.bank import load_bank

    return load_bank(ref).fingerprint


def run_info(args: argparse.Namespace) -> int:
    from digicomp.store import open_store

    with open_store(args.url) as store:
        info = store.info()
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    print(f"{info['url']} ({info['backend']}, schema version {info['schema_version']})")
    for b in info["banks"]:
        print(f"  bank {b['id']} {b['version']} {b['fingerprint']}: {b['sessions']} sessions")
    for s in info["sessions"]:
        print(
            f"  {s['status']:>9}: {s['sessions']} sessions, {s['responses']} responses ({s['bank_fingerprint'][:19]})"
        )
    print(f"  recalibrations: {info['recalibrations']}")
    return 0


def run_register(args: argparse.Namespace) -> int:
    from digicomp.bank import load_bank
    from digicomp.store import open_store

    bank = load_bank(args.bank)
    with open_store(args.url) as store:
        fp = store.register_bank(bank)
    print(f"{args.url}: accepts sessions of bank {bank.id} {bank.version} ({fp})")
    return 0


def run_export(args: argparse.Namespace) -> int:
    import sys

    from digicomp.store import export_csv, open_store

    statuses = None if args.status == "all" else (args.status,)
    with open_store(args.url) as store:
        out = sys.stdout if args.out == "-" else args.out
        n = export_csv(store, out, layout=args.layout, bank_fingerprint=_fingerprint(args.bank), statuses=statuses)
    if args.out != "-":
        print(f"wrote {n} responses to {args.out}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    from digicomp.store import open_store

    with open_store(args.url) as store:
        problems = store.check()
    for line in problems:
        print(line)
    print(f"{args.url}: {'ok' if not problems else f'{len(problems)} problems'}")
    return 1 if problems else 0
