"""``digicomp progress``: the programme report from a store — shares at each level per unit, targets, needs."""

from __future__ import annotations

import argparse
import datetime
import gc
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from digicomp.errors import DigicompError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "progress",
        help="programme report: shares at or above each level per unit with 95%% intervals, targets, training needs",
        description="Read every finished session of a store, place each person in a unit of the tree (person file, "
        "store links, or the unit the session was taken in; persons without one form their own group), and write "
        "shares at or above each level per unit and area with 95%% intervals (measurement and sampling error), "
        "the naive count beside them, targets, training needs, retests and monthly progress as CSV files and "
        "report.json in --out; --html adds a self-contained HTML report.",
    )
    p.add_argument("--store", required=True, metavar="URL", help="the store (file path, sqlite:///, postgresql://)")
    p.add_argument("--units", required=True, metavar="UNITS.csv", help="unit tree: unit,parent,name_vi,name_en")
    p.add_argument("--persons", metavar="PERSONS.csv", help="person,unit (overrides the store's links)")
    p.add_argument("--targets", metavar="TARGETS.yaml", help="targets: level, share, date[, unit]")
    p.add_argument("--unit", metavar="ID", help="report only this unit and what is below it")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the CSV tables and report.json")
    p.add_argument("--html", metavar="REPORT.html", help="also write a self-contained HTML report here")
    p.add_argument("--lang", choices=["vi", "en"], default="vi", help="language of the HTML report (default vi)")
    p.add_argument(
        "--bank",
        action="append",
        default=[],
        metavar="BANK",
        help="bank file or bundled id the sessions used "
        "(matched by fingerprint; bundled banks are tried without it); repeatable",
    )
    p.add_argument("--prior", nargs=2, type=float, default=(0.0, 1.0), metavar=("MEAN", "SD"), help="scoring prior")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="the report's date (default today): target status, months")
    p.add_argument("--save-units", action="store_true", help="also store the unit tree (and person file) in the store")
    p.add_argument(
        "--fill-likelihoods",
        action="store_true",
        help="first store the per-area log-likelihoods of sessions written without them (older stores), re-scoring "
        "their stored answers with their bank; areas whose persons lack them are estimated from θ and SE",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a summary")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from digicomp.commands._memory import keep_freed_memory

    # the per-area models allocate and free arrays of 5-60 MB; each page-faulted in afresh, and compacted for
    # numpy's huge-page advice, cost 0.3-1 s of system time per area here (docs/programme.md, Speed)
    keep_freed_memory()
    # the report makes millions of small objects (rows read, table rows) and no reference cycles; the cyclic
    # collector's passes over them took about a tenth of the run, so it is paused until the report is written
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(args)
    finally:
        if was_enabled:
            gc.enable()


def _run(args: argparse.Namespace) -> int:
    from digicomp.programme import (
        build_report,
        fill_likelihoods,
        load_persons,
        load_targets,
        load_units,
        read_sessions,
        read_sessions_scores,
        scale_of_banks,
    )
    from digicomp.programme.output import write_report
    from digicomp.store import open_store

    as_of = None
    if args.as_of:
        try:
            as_of = datetime.date.fromisoformat(args.as_of)
        except ValueError:
            raise DigicompError(f"--as-of {args.as_of!r}: expected a date YYYY-MM-DD") from None
    tree = load_units(args.units)
    persons = load_persons(args.persons, tree) if args.persons else {}
    figures: dict = {}

    def draw(partial: Any) -> None:  # the plots need no per-area share: drawn while the areas are estimated
        from digicomp.reporting.programme import programme_figures

        figures.update(programme_figures(partial, args.lang))

    with open_store(args.store) as store:
        if args.save_units:
            store.put_units(tree.to_rows())
            if persons:
                store.link_persons(persons)
        # the per-area entries (the larger part of the reading) are read while another thread starts the report:
        # its overall shares and months need only the sessions (docs/programme.md, Speed)
        beside = not args.fill_likelihoods
        sessions = read_sessions(store, scores=not beside)
        if args.fill_likelihoods and fill_likelihoods(store, sessions, args.bank):
            sessions = read_sessions(store)
        links = store.person_units()
        scale = scale_of_banks(set(sessions.bank), args.bank, *args.prior, store=store)
        targets = load_targets(args.targets, scale, tree) if args.targets else []
        with ThreadPoolExecutor(1) as builder:
            building = builder.submit(
                build_report,
                sessions,
                tree,
                scale,
                persons=persons,
                links=links,
                targets=targets,
                unit=args.unit,
                as_of=as_of,
                lang=args.lang,
                while_areas_run=draw if args.html else None,
            )
            if beside:
                read_sessions_scores(store, sessions)
            report = building.result()
    paths = write_report(report, args.out)
    if args.html:
        from digicomp.reporting.programme import programme_html

        try:
            with open(args.html, "w", encoding="utf-8") as fh:
                fh.write(programme_html(report, args.lang, figures or None))
        except OSError as exc:
            raise DigicompError(f"{args.html}: cannot write: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
        return 0
    meta = report.meta
    print(
        f"{meta['sessions']} finished sessions of {meta['persons']} persons "
        f"({meta['persons_without_unit']} without a unit) in {len(report.units)} units"
    )
    plain = {a: m for a, m in meta.get("area_method", {}).items() if m["method"] != "likelihood"}
    if plain:
        lacking = sum(m["without_likelihood"] for m in plain.values())
        print(
            f"  areas {', '.join(sorted(plain))}: shares from the area θ and SE, not calibrated ({lacking} area "
            "results have no stored log-likelihood; --fill-likelihoods re-scores stored answers)"
        )
    for t in report.targets[:20]:
        print(
            f"  {t['unit']}: {t['level']}+ {t['share']} [{t['lower']}, {t['upper']}] vs {t['target_share']} "
            f"by {t['date']}: {t['status']} (P = {t['p_meets']})"
        )
    print("wrote " + ", ".join(str(p) for p in paths) + (f", {args.html}" if args.html else ""))
    return 0
