"""``digicomp report``: a test result or a simulation study as terminal text and a self-contained HTML page."""

from __future__ import annotations

import argparse
import json
import sys

from digicomp.errors import DigicompError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="turn a test result or a simulation study (JSON) into a readable text / HTML report",
        description="Read a result document ('digicomp take --out') or a simulation study "
        "(SimulationResult.to_json); print it as text and, with --html, write a self-contained HTML page "
        "with plots (test information, conditional SE, exposure, θ path) when matplotlib is installed.",
    )
    p.add_argument("input", metavar="RESULT_OR_STUDY.json", help="test result or simulation study JSON")
    p.add_argument("--html", metavar="REPORT.html", help="also write a self-contained HTML report here")
    p.add_argument(
        "--lang", choices=["vi", "en"], help="language of the words around the data (default: the result's, or vi)"
    )
    p.add_argument("--answers", action="store_true", help="list every answer with θ̂ after it (results)")
    p.add_argument("--json", action="store_true", help="print what was read, as JSON, with its kind")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from digicomp.reporting.html import result_html, study_html
    from digicomp.reporting.result import RESULT_FORMAT, load_document
    from digicomp.reporting.study import exposure_rates, is_study, study_text
    from digicomp.reporting.text import result_text

    doc = load_document(args.input)
    if doc.get("format") == RESULT_FORMAT:
        kind, lang = "result", args.lang or doc.get("lang", "vi")
        text = result_text(doc, lang, answers=args.answers)
        page = result_html(doc, lang) if args.html else None
    elif is_study(doc):
        kind, lang = "study", args.lang or "vi"
        text = study_text(doc, lang)
        page = study_html(doc, lang, exposure_rates(args.input)) if args.html else None
    else:
        raise DigicompError(
            f"{args.input}: neither a test result (format {RESULT_FORMAT!r}) nor a simulation "
            "study (keys 'n' and 'designs')"
        )
    if page is not None:
        try:
            with open(args.html, "w", encoding="utf-8") as fh:
                fh.write(page)
        except OSError as exc:
            raise DigicompError(f"{args.html}: cannot write: {exc.strerror or exc}") from None
    if args.json:
        print(json.dumps({"kind": kind, "html": args.html, "document": doc}, ensure_ascii=False, indent=2))
    else:
        print(text)
    if args.html:
        sys.stderr.write(f"wrote {args.html}\n")
    return 0
