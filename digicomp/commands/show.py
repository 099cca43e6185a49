"""``digicomp show FRAMEWORK``: print a framework's levels, areas and competences in Vietnamese or English."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("show", help="show a framework's levels, areas and competences")
    p.add_argument("framework", help="bundled framework id (see 'digicomp frameworks') or a YAML path")
    p.add_argument("--lang", choices=["vi", "en"], default="vi", help="language (default vi)")
    p.add_argument("--json", action="store_true", help="print the whole framework document as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from digicomp.framework import load_framework

    fw = load_framework(args.framework)
    if args.json:
        print(json.dumps(fw.to_dict(), ensure_ascii=False, indent=2))
        return 0
    lang = args.lang
    print(f"{fw.title.get(lang)}  [{fw.id} {fw.version}, {fw.status}]")
    print()
    print("Levels:" if lang == "en" else "Bậc:")
    for lv in fw.level_list:
        name, band = lv.name.get(lang), lv.band.name.get(lang)
        print(f"  {lv.level}  {lv.label:<4} {name:<16} ({band})  {lv.descriptor.get(lang)}")
    for area in fw.areas:
        print()
        print(f"{area.code}  {area.name.get(lang)}  [{area.status}]")
        for comp in area.competences:
            print(f"  {comp.code:<5} {comp.name.get(lang)}  [{comp.status}]")
    return 0
