"""``digicomp frameworks``: list the bundled frameworks with their version and provenance status."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("frameworks", help="list the bundled frameworks (id, version, status, title)")
    p.add_argument("--lang", choices=["vi", "en"], default="vi", help="language of the titles (default vi)")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from digicomp.framework import list_frameworks

    infos = list_frameworks()
    if args.json:
        rows = [
            {"id": i.id, "version": i.version, "status": i.status, "title": {"vi": i.title_vi, "en": i.title_en}}
            for i in infos
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    width = max((len(i.id) for i in infos), default=2)
    print(f"{'id':<{width}}  {'version':<10}  {'status':<11}  title")
    for i in infos:
        title = i.title_vi if args.lang == "vi" else i.title_en
        print(f"{i.id:<{width}}  {i.version:<10}  {i.status:<11}  {title}")
    return 0
