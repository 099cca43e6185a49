"""``digicomp analyze``: a pilot's raw answers + the bank → every table as CSV, a JSON summary, an HTML report.

Steps (each timed on stderr): read and score the answers with the bank's keys; classical item analysis and
distractors; person fit (WLE θ from the bank's parameters); item fit (Zh); with ``--groups/--by``, DIF by
Mantel–Haenszel and logistic regression for every focal group against the reference, and with ``--irt-dif``
IRT likelihood-ratio DIF between multiple-group models. The matching variable for MH is the total score on
complete data, the score within each booklet on booklet designs, and 0.1-logit bins of the WLE θ otherwise;
logistic regression matches on the total score (complete data) or the WLE θ.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="pilot analysis: item statistics, distractors, DIF, person fit, HTML report")
    p.add_argument("responses", help="raw answers: long CSV (person,item,response with option ids) or wide")
    p.add_argument("--bank", required=True, metavar="BANK.yaml", help="the item bank (keys, options, parameters)")
    p.add_argument("--groups", metavar="PERSONS.csv", help="person file: person,<column>,... for DIF")
    p.add_argument("--by", metavar="COLUMN", help="the column of --groups that defines the groups")
    p.add_argument("--reference", help="reference group label (default: the largest group)")
    p.add_argument("--min-group", type=int, default=100, help="fewest persons a group may have (default 100)")
    p.add_argument(
        "--irt-dif",
        nargs="?",
        const="lr",
        choices=["lr", "wald"],
        help="also IRT DIF between multiple-group models: lr (likelihood ratio, the default when given alone) or wald",
    )
    p.add_argument(
        "--anchors",
        choices=["purified", "all-others"],
        default="purified",
        help="anchor items of the IRT DIF (default purified)",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="false discovery rate of the DIF flags (default 0.05)")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the CSV tables and summary.json")
    p.add_argument("--html", metavar="REPORT.html", help="write the pilot report here")
    p.add_argument("--lang", choices=["vi", "en"], default="vi", help="language of the report (default vi)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(run=run)


class _Steps:
    """Progress lines: "[k] step ... done in s" on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.start = time.perf_counter()
        self.k = 0

    def __call__(self, name: str) -> _Steps:
        self.k += 1
        self.name = name
        if not self.quiet:
            sys.stderr.write(f"[{self.k}] {name} ...\n")
            sys.stderr.flush()
        self.t0 = time.perf_counter()
        return self

    def __enter__(self) -> _Steps:
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.quiet and exc[0] is None:
            sys.stderr.write(f"[{self.k}] {self.name}: {time.perf_counter() - self.t0:.1f} s\n")

    def detail(self, step: str, done: int, total: int) -> None:
        if not self.quiet:
            sys.stderr.write(f"    {step}: {done}/{total}\n")


def run(args: argparse.Namespace) -> int:
    from digicomp.commands._memory import keep_freed_memory
    from digicomp.reporting.progress import warnings_to_stderr

    keep_freed_memory()

    if bool(args.groups) != bool(args.by):
        sys.stderr.write("error: --groups and --by go together (the person file and its group column)\n")
        return 2
    with warnings_to_stderr():
        report, tables = analyze(args)
    step = report.pop("steps")
    out = Path(args.out)
    sys.stderr.write("" if args.quiet else f"wrote {len(tables)} tables and summary.json to {out}\n")
    if args.html:
        from digicomp.reporting.pilot import pilot_html

        with step(f"HTML report ({args.lang})"):
            Path(args.html).write_text(pilot_html(report, tables, args.lang), encoding="utf-8")
        if not args.quiet:
            sys.stderr.write(f"wrote {args.html}\n")
    return 0


def analyze(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run every step; write the CSV tables and summary.json into ``args.out``; return (summary, tables)."""
    import numpy as np

    from digicomp.bank import load_bank
    from digicomp.face.pilot import read_pilot

    step = _Steps(args.quiet)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"responses": str(args.responses), "bank": str(args.bank), "notes": []}
    tables: dict[str, Any] = {}
    missing: dict[str, str] = {}
    excluded: list[dict[str, Any]] = []
    with step("read and score the answers"):
        bank = load_bank(args.bank)
        data = read_pilot(args.responses, bank)
    resp, params = data.responses, data.params
    ids = list(resp.item_ids)
    n, J = resp.n_persons, resp.n_items
    complete = resp.n_observed == n * J
    report.update(n_persons=n, n_items=J, n_responses=int(resp.n_observed))
    for i in data.not_in_pilot:
        excluded.append({"what": "item", "id": i, "step": "all", "reason": "in the bank but nobody was given it"})
    with step("classical item analysis and distractors"):
        _classical(data, ids, tables, report, missing)
    theta = None
    with step("person fit (WLE θ from the bank's parameters)"):
        theta = _person_fit(params, resp, tables, report, missing)
    with step("item fit (Zh)"):
        _item_fit(params, resp, theta, tables, missing)
    grid = np.linspace(-4, 4, 81)
    info = params.information(grid).sum(axis=1)
    tables["information"] = [
        {"theta": float(t), "information": float(i), "se": float(1 / np.sqrt(i))} for t, i in zip(grid, info)
    ]
    design = "complete" if complete else _design(resp)
    report["design"] = design
    if args.groups:
        _dif(args, data, theta, design, step, tables, report, excluded)
    report["missing_sections"] = missing
    for name, why in missing.items():
        report["notes"].append(f"{name}: {why}")
    tables["excluded"] = excluded
    report["excluded"] = excluded
    with step("write the tables"):
        report["seconds"] = round(time.perf_counter() - step.start, 2)
        _write(out, report, tables)
    report["steps"] = step
    return report, tables


def _design(resp: Any) -> str:
    """'booklets' when persons fall into a few administered-item sets (each with 30+ persons), else 'sparse'."""
    import numpy as np

    h = np.random.default_rng(0).integers(1, 2**61, resp.n_items, dtype=np.int64)
    form = np.zeros(resp.n_persons, dtype=np.int64)
    np.add.at(form, resp.person, h[resp.item])
    _, counts = np.unique(form, return_counts=True)
    return "booklets" if counts[counts >= 30].sum() >= 0.95 * resp.n_persons else "sparse"


def _classical(data: Any, ids: list[str], tables: dict, report: dict, missing: dict) -> None:
    try:
        from digicomp.analysis.classical import classical_analysis
    except ImportError:
        missing["items"] = "classical item analysis (issue 13a) is not in this version"
        return
    res = classical_analysis(data.scores, item_ids=ids, max_scores=data.params.n_categories - 1)
    tables["items"] = _rows(res.items.as_dict())
    report["alpha"] = {k: v for k, v in vars(res.alpha).items() if isinstance(v, (int, float))}
    mc = [j for j, k in enumerate(data.kinds) if k == "multiple_choice"]
    if not mc:
        missing["options"] = "no multiple-choice item in the pilot"
        return
    from digicomp.analysis.distractors import distractor_analysis

    opt = distractor_analysis(
        data.choices[:, mc],
        [data.options[j] for j in mc],
        data.keys[mc],
        data.scores[:, mc],
        item_ids=[ids[j] for j in mc],
        max_scores=data.params.n_categories[mc] - 1,
    )
    tables["options"] = _rows(opt.as_dict())


def _person_fit(params: Any, resp: Any, tables: dict, report: dict, missing: dict) -> Any:
    try:
        from digicomp.analysis.person_fit import person_fit
    except ImportError:
        missing["person_fit"] = "person fit (issue 13a) is not in this version"
        from digicomp.scoring.api import score

        return score(params, resp, "WLE").theta
    pf = person_fit(params, resp)
    tables["person_fit"] = _rows(pf.as_dict())
    report["person_fit"] = {"flagged": int(pf.misfit.sum()), "method": pf.method, "alpha": pf.alpha}
    return pf.theta


def _item_fit(params: Any, resp: Any, theta: Any, tables: dict, missing: dict) -> None:
    try:
        from digicomp.analysis.item_fit import zh
    except ImportError:
        missing["item_fit"] = "item fit (issue 13a) is not in this version"
        return
    fit = zh(params, resp)
    rows = _rows(fit.as_dict())
    by_id = {r["item"]: r for r in rows}
    for r in tables.get("items", []):
        z = by_id.get(r["item"], {})
        for k, v in z.items():
            if k not in ("item", "n"):
                r[k if k.lower().startswith("zh") else f"zh_{k}"] = v
    tables["item_fit"] = rows


def _dif(args: Any, data: Any, theta: Any, design: str, step: _Steps, tables: dict, report: dict, excl: list) -> None:
    import numpy as np

    from digicomp.analysis.dif import ability_strata, logistic_dif, mantel_haenszel, total_score_strata
    from digicomp.face.pilot import read_groups

    resp = data.responses
    ids = list(resp.item_ids)
    with step(f"groups from {args.groups} by {args.by!r}"):
        groups, notes = read_groups(args.groups, args.by, list(resp.person_ids), args.min_group)
    for p in notes["persons_without_responses"]:
        excl.append({"what": "person", "id": p, "step": "DIF", "reason": "in the person file but has no response"})
    sizes = notes["sizes"]
    reference = args.reference or max(sizes, key=lambda g: (sizes[g], g))
    if reference not in sizes:
        from digicomp.face.pilot import PilotError

        raise PilotError(f"--reference {reference!r} is not a group of column {args.by!r} ({', '.join(sizes)})")
    focal_groups = [g for g in sorted(sizes) if g != reference]
    if design == "complete":
        strata, matching, how = None, None, "total score"
    elif design == "booklets":
        strata, matching, how = None, theta, "score within booklet (MH), WLE θ (logistic)"
    else:
        strata, matching, how = ability_strata(theta), theta, "WLE θ in 0.1-logit bins (MH), WLE θ (logistic)"
    report["dif"] = {
        "by": args.by,
        "reference": reference,
        "focal": focal_groups,
        "sizes": sizes,
        "matching": how,
        "alpha": args.alpha,
        "description": f"{args.by}: reference {reference!r} ({sizes[reference]}) vs "
        + ", ".join(f"{g!r} ({sizes[g]})" for g in focal_groups)
        + f"; matching on {how}; flags: Benjamini–Hochberg q < {args.alpha}",
    }
    report["groups_by"] = sizes
    mh_rows, lg_rows = [], []
    with step("DIF: Mantel–Haenszel and logistic regression"):
        for g in focal_groups:
            keep = (groups == reference) | (groups == g)
            sub = _persons(resp, keep)
            focal = groups[keep] == g
            s = None if strata is None else strata[keep]
            if design == "booklets":
                s = total_score_strata(sub)
            mh = mantel_haenszel(sub, focal, s, item_ids=ids, alpha=args.alpha, purify=design == "complete")
            lg = logistic_dif(sub, focal, None if matching is None else matching[keep], item_ids=ids, alpha=args.alpha)
            for table, rows, method in ((mh, mh_rows, "MH"), (lg, lg_rows, "logistic")):
                for r in _rows(table.as_dict()):
                    rows.append({"focal": g, **r})
                for i, why in table.excluded.items():
                    excl.append({"what": "item", "id": i, "step": f"DIF {method} ({g})", "reason": why})
    tables["dif_mh"], tables["dif_logistic"] = mh_rows, lg_rows
    report["dif"]["mh_flagged"] = sorted({r["item"] for r in mh_rows if r["flagged"]})
    report["dif"]["logistic_flagged"] = sorted({r["item"] for r in lg_rows if r["flagged"]})
    if args.irt_dif:
        from digicomp.analysis.irt_dif import irt_dif

        models = {i: str(m) for i, m in zip(ids, data.params.models)}
        name = "likelihood ratio" if args.irt_dif == "lr" else "Wald"
        with step(f"DIF: IRT {name} ({args.anchors} anchors)"):
            irt = irt_dif(
                resp, groups, models, test=args.irt_dif, reference=reference, anchors=args.anchors, alpha=args.alpha,
                progress=step.detail,
            )  # fmt: skip
        rows = _rows(irt.as_dict())
        tables["dif_irt"] = rows
        tables["groups"] = irt.base.latent_table()
        report["dif"]["irt_flagged"] = [r["item"] for r in rows if r["flagged"]]
        report["dif"]["irt_anchors"] = irt.anchor[0] if irt.anchor else ""
        report["dif"]["irt_test"] = args.irt_dif
        for i, why in irt.excluded.items():
            excl.append({"what": "item", "id": i, "step": f"DIF IRT-{name}", "reason": why})
        for p in irt.base.excluded_persons:
            excl.append(
                {"what": "person", "id": p, "step": f"DIF IRT-{name}", "reason": "no response to a calibrated item"}
            )
    del np


def _persons(resp: Any, keep: Any) -> Any:
    """The responses of the persons where ``keep`` is True (same items)."""
    import numpy as np

    from digicomp.responses import Responses

    new = np.cumsum(keep) - 1
    sel = keep[resp.person]
    pids = [p for p, k in zip(resp.person_ids, keep) if k]
    return Responses(
        new[resp.person[sel]], resp.item[sel], resp.value[sel], int(keep.sum()), resp.n_items, pids, resp.item_ids
    )


def _rows(columns: dict[str, Any]) -> list[dict[str, Any]]:
    """Column dict → list of row dicts with plain Python values (NaN kept as None)."""
    import numpy as np

    names = list(columns)
    if not names:
        return []
    n = len(columns[names[0]])
    out = []
    for k in range(n):
        row = {}
        for c in names:
            v = columns[c][k]
            if isinstance(v, np.generic):
                v = v.item()
            if isinstance(v, float) and not np.isfinite(v):
                v = None
            row[c] = v
        out.append(row)
    return out


def _write(out: Path, report: dict[str, Any], tables: dict[str, Any]) -> None:
    from digicomp.io.csvfile import write_csv

    for name, rows in tables.items():
        if not isinstance(rows, list) or not rows:
            continue
        header = list(rows[0])
        for r in rows[1:]:
            header += [c for c in r if c not in header]
        write_csv(out / f"{name}.csv", header, ([_cell(r.get(c)) for c in header] for r in rows))
    (out / "summary.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return v
