"""``digicomp assemble``: parallel paper forms from a bank and an assembly spec, with booklets and scoring tables."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "assemble",
        help="assemble parallel fixed forms (MILP) with printable booklets and scoring tables",
        description="Assemble N parallel forms meeting every constraint of an assembly spec (kind: assembly_spec) "
        "by mixed-integer programming (scipy.optimize.milp, HiGHS). Writes per form: the form as a bank subset "
        "(form-K.yaml), a printable self-contained HTML booklet with answer sheet, key and scoring table "
        "(form-K.html), the key (form-K-key.csv) and the sum score -> θ, SE, level table (form-K-scoring.csv); "
        "and forms.json (information at the θ points, solver status). An infeasible spec is an error naming the "
        "conflicting constraints with their file lines.",
    )
    p.add_argument("bank", metavar="BANK", help="bank YAML or bundled bank id")
    p.add_argument("spec", metavar="SPEC.yaml", help="assembly spec (kind: assembly_spec)")
    p.add_argument("--forms", type=int, default=1, help="number of parallel forms (default 1)")
    p.add_argument("--out", metavar="DIR", required=True, help="directory to write the forms into")
    p.add_argument("--lang", default="vi", choices=["vi", "en"], help="booklet language (default vi)")
    p.add_argument("--time-limit", type=float, default=8.0, help="solver seconds in all (default 8)")
    p.add_argument("--json", action="store_true", help="print forms.json instead of the summary")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from digicomp.assembly import assemble_forms, build_model, read_spec
    from digicomp.assembly.errors import AssemblyError
    from digicomp.assembly.paper import answer_key, form_bank_data, scoring_table
    from digicomp.bank import ItemBank, load_bank
    from digicomp.bank.schema import BankFile
    from digicomp.io.yamlfile import dump_yaml, raise_problems
    from digicomp.reporting.booklet import booklet_html

    bank = load_bank(args.bank)
    spec, linemap, problems = read_spec(args.spec)
    if problems or spec is None:
        raise_problems(AssemblyError, args.spec, problems or [f"{args.spec}:1: (document): empty spec"])
    model = build_model(bank, spec, source=args.spec, linemap=linemap)
    result = assemble_forms(bank, model, spec, args.forms, time_limit=args.time_limit)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = {}
    if bank.spec.framework is not None:
        names = {lv: bank.framework.describe_band(lv, args.lang)[0] for lv in bank.scale.levels or []}
    summary = {
        "bank": bank.id,
        "spec": spec.id,
        "forms": [],
        "points": result.points.tolist(),
        "target": None if result.target is None else result.target.tolist(),
        "objective": result.objective,
        "value": result.value,
        "bound": result.bound,
        "status": result.status,
        "mip_gap": result.gap,
        "seconds": round(result.seconds, 3),
        "spread": result.spread.tolist(),
    }
    for k, form in enumerate(result.forms, start=1):
        order = form[np.lexsort((form, bank.level[form]))]  # easiest intended level first, then bank order
        form_id = f"{spec.id}-{k}"
        data = form_bank_data(bank, order, form_id)
        dump_yaml(data, out / f"form-{k}.yaml")
        sub = ItemBank(BankFile.model_validate(data), source=out / f"form-{k}.yaml")
        table = scoring_table(sub)
        key = answer_key(bank, order)
        _write_csv(out / f"form-{k}-key.csv", key)
        _write_csv(out / f"form-{k}-scoring.csv", table.rows())
        html = booklet_html(bank, order.tolist(), str(k), key, table, args.lang, names)
        (out / f"form-{k}.html").write_text(html, encoding="utf-8")
        summary["forms"].append(
            {
                "form": k,
                "id": form_id,
                "items": [bank.ids[j] for j in order],
                "information": result.information[k - 1].tolist(),
                "reliability": table.reliability,
            }
        )
    (out / "forms.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    pts = ", ".join(f"{p:g}" for p in result.points)
    print(f"{len(result.forms)} forms of {model.length} items from {bank.id} ({result.status}, {result.seconds:.1f} s)")
    print(f"information at θ = {pts}:")
    for k, info in enumerate(result.information, start=1):
        print(f"  form {k}: " + "  ".join(f"{v:.3f}" for v in info))
    print("largest difference between forms: " + ", ".join(f"{s:.1%}" for s in result.spread))
    if result.objective == "minimax_target":
        print(f"largest deviation from the target: {result.value:.2%} (proven lower bound {max(result.bound, 0):.2%})")
    print(f"written to {out}/", file=sys.stderr)
    return 0


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
