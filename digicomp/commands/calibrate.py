"""``digicomp calibrate``: responses CSV → calibrated item bank, mirt parameter table and JSON report."""

from __future__ import annotations

import argparse
from typing import Any

from digicomp.errors import CalibrationError


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
    p.add_argument(
        "--quadpts",
        type=int,
        default=None,
        help="quadrature points per integrated dimension on [-6, 6] (default R mirt's: 61 for one dimension, 31 for "
        "two, 15 for three; a bifactor model integrates two at a time)",
    )
    p.add_argument(
        "--structure",
        metavar="STRUCT",
        help="multidimensional model: 'areas' (each item on its area's dimension, areas from --bank), 'bifactor' "
        "(a general dimension plus one per area), 'unidimensional', or a Q-matrix CSV (item,<dim1>,<dim2>,... of 0/1)",
    )
    p.add_argument(
        "--method",
        choices=["auto", "quadrature", "qmc"],
        default="auto",
        help="with --structure: integration over correlated dimensions, tensor-product quadrature (up to 3) or "
        "quasi-Monte-Carlo EM; auto = quadrature up to 3 correlated dimensions, qmc beyond (bifactor: dimension "
        "reduction)",
    )
    p.add_argument("--qmc-points", type=int, default=5000, help="quasi-Monte-Carlo points (default 5000, as mirt)")
    p.add_argument("--seed", type=int, default=0, help="seed of the quasi-Monte-Carlo point set (default 0)")
    p.add_argument(
        "--no-compare",
        action="store_true",
        help="with --structure: skip the comparison fits (unidimensional, and areas/bifactor when the areas are known)",
    )
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
    s.add_argument(
        "--bank",
        metavar="BANK",
        help="the bank version the stored sessions were taken with; with --structure areas|bifactor, the bank whose "
        "area tags give the structure",
    )
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
    from digicomp.errors import CalibrationError
    from digicomp.face.calibration import calibrate
    from digicomp.reporting.progress import em_progress, se_progress, warnings_to_stderr

    if args.store:
        from digicomp.loop.command import run_store

        return run_store(args)
    if args.responses is None:
        raise CalibrationError("give a response CSV, or --store URL --bank BANK")
    if args.structure:
        return run_multidim(args)
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


def _areas_of(bank: Any) -> tuple[dict[str, str], list[str], dict[str, Any]]:
    """({item: dimension id}, dimension ids in framework order, {dimension id: area name}) from a bank's tags."""
    codes = list(bank.areas)
    if not codes:
        raise CalibrationError(f"bank {bank.id!r} has no area tags (its items name no framework competences)")
    index = bank.area_index
    dim = {c: f"area-{c}" for c in codes}
    areas = {it.id: dim[codes[int(index[j])]] for j, it in enumerate(bank.items) if index[j] >= 0}
    names = {}
    for area in getattr(bank.framework, "areas", []):
        if area.code in dim:
            names[dim[area.code]] = (
                area.code,
                area.name.model_dump() if hasattr(area.name, "model_dump") else area.name,
            )
    return areas, [dim[c] for c in codes], names


def run_multidim(args: argparse.Namespace) -> int:
    """``digicomp calibrate RESP.csv --structure ...``: a multidimensional fit, its comparison, bank, table, report."""
    import json

    from digicomp.bank import load_bank
    from digicomp.calibration.compare import comparison, format_comparison
    from digicomp.calibration.multidim import calibrate_multidim, unsupported_options
    from digicomp.io.param_table import write_multidim_param_table
    from digicomp.io.qmatrix import read_q_matrix
    from digicomp.io.responses import read_responses
    from digicomp.reporting.progress import em_progress, se_progress, warnings_to_stderr

    unsupported_options(priors=args.priors, D=args.D)
    resp = read_responses(args.responses)
    base = load_bank(args.bank) if args.bank else None
    fixed = load_bank(args.fixed) if args.fixed else None
    if fixed is not None and getattr(fixed, "mparams", None) is None:
        raise CalibrationError(
            f"{args.fixed}: --fixed with --structure needs a multidimensional bank (a 'dimensions' block)"
        )
    key = args.structure.strip().lower()
    areas, order, names = None, None, {}
    if key in ("areas", "bifactor"):
        source = base or fixed
        if source is None:
            raise CalibrationError(f"--structure {key} needs --bank BANK.yaml, whose area tags give the items' areas")
        areas, order, names = _areas_of(source)
        structure: Any = key
    elif key == "unidimensional":
        structure = key
    else:
        structure = read_q_matrix(args.structure, known_items=resp.item_ids)
    dims = list(fixed.dims.ids) if fixed is not None else None
    common = dict(
        areas=areas,
        fixed=fixed,
        quadpts=args.quadpts,
        tol=args.tol,
        max_iter=args.max_iter,
        method=args.method,
        qmc_points=args.qmc_points,
        seed=args.seed,
    )
    with warnings_to_stderr():
        res = calibrate_multidim(
            resp,
            args.model,
            structure=structure,
            dims=dims,
            **common,
            se=args.se_method,
            progress=em_progress(args.quiet),
            se_progress=se_progress(args.quiet),
        )
        fits = {res.structure: res}
        if not args.no_compare and fixed is None:
            others = ["unidimensional"] + ([k for k in ("areas", "bifactor") if k != key] if areas else [])
            for other in others:
                opts = {**common, "method": "auto"} if other != "areas" else common
                alt = calibrate_multidim(resp, args.model, structure=other, **opts, se=False)
                fits[alt.structure] = alt
    if len(fits) > 1:
        print("model comparison (same persons, same items):")
        print(format_comparison(fits))
    bank = _multidim_bank(res, base or fixed, names, args)
    bank.to_yaml(args.out)
    if args.params:
        se = {f"a{k + 1}": res.se_a[:, k] for k in range(res.a.shape[1])}
        se.update(d=res.se_intercepts[:, 0], g=res.se_c, u=res.se_u)
        se.update({f"d{k + 1}": res.se_intercepts[:, k] for k in range(res.intercepts.shape[1])})
        write_multidim_param_table(args.params, res.item_ids, res.models, res.a, res.intercepts, res.c, res.u, se)
    if args.report:
        report = res.report()
        report["comparison"] = comparison(fits)
        with open(args.report, "w", encoding="utf-8") as fh:
            json.dump(_finite(report), fh, indent=2, allow_nan=False, default=_json_default)
    print(res.summary())
    extra = (f", {args.params}" if args.params else "") + (f", {args.report}" if args.report else "")
    print(f"wrote {args.out} (bank {bank.id} {bank.version}){extra}")
    return 0 if res.converged else 1


def _json_default(x: Any) -> Any:
    """numpy scalars as Python numbers (anything else unserialisable as null)."""
    return x.item() if hasattr(x, "item") else None


def _finite(obj: Any) -> Any:
    """The report with NaN and infinities as null (JSON has no NaN)."""
    import math

    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _multidim_bank(res: Any, base: Any, names: dict[str, Any], args: argparse.Namespace) -> Any:
    """The calibrated multidimensional bank (docs/item-banks.md format): dimensions, latent, overall, items."""
    import datetime
    import math

    from digicomp.bank import ItemBank
    from digicomp.bank.schema import BankFile
    from digicomp.errors import BankError
    from digicomp.loop.recalibrate import next_version

    def num(x: float) -> float | None:
        return None if not math.isfinite(float(x)) else float(x)

    base_items = {it["id"]: it for it in base.to_dict()["items"]} if base is not None else {}
    base_dims = {}
    if base is not None and getattr(base, "dims", None) is not None:
        base_dims = {d["id"]: d for d in base.to_dict().get("dimensions", [])}
    dims = []
    for k, d in enumerate(res.dims):
        if d in base_dims:
            dims.append(base_dims[d])
        elif res.structure in ("bifactor", "two-tier") and k == 0:
            dims.append(
                {
                    "id": "general",
                    "name": {"vi": "Năng lực số chung", "en": "General digital competence"},
                    "general": True,
                }
            )
        else:
            code, name = names.get(d, (d, {"vi": d, "en": d}))
            dims.append({"id": d, "name": name, "area": code})
    general = next((d["id"] for d in dims if d.get("general")), None)
    overall = {"dimension": general} if general else {"weights": {d["id"]: 1.0 / len(dims) for d in dims}}
    today = datetime.date.today().isoformat()
    items = []
    for j, i in enumerate(res.item_ids):
        item = dict(base_items.get(i, {"id": i}))
        if res.fixed[j]:
            items.append(item)
            continue
        model = res.models[j]
        k = int(res.n_categories[j]) - 1
        dich = model in ("2PL", "3PL", "4PL")
        params: dict[str, Any] = {"a": [float(v) for v in res.a[j]]}
        se: dict[str, Any] = {"a": [0.0 if a == 0 else num(v) for a, v in zip(res.a[j], res.se_a[j])]}
        if dich:
            params["intercept"] = float(res.intercepts[j, 0])
            se["intercept"] = num(res.se_intercepts[j, 0])
            if model in ("3PL", "4PL"):
                params["c"], se["c"] = float(res.c[j]), num(res.se_c[j])
            if model == "4PL":
                params["d"], se["d"] = float(res.u[j]), num(res.se_u[j])
        else:
            params["intercept"] = [float(v) for v in res.intercepts[j, :k]]
            se["intercept"] = [num(v) for v in res.se_intercepts[j, :k]]
        if any(
            v is None for v in se["a"] + (se["intercept"] if isinstance(se["intercept"], list) else [se["intercept"]])
        ):
            se = {}
        calib = {
            "status": "calibrated",
            "n": max(int(res.n_persons), 1),
            "date": today,
            "method": f"MML-EM {res.structure} ({res.se_method} SEs)",
        }
        if se:
            calib["se"] = se
        item.update(model=model, params=params, calibration=calib)
        items.append(item)
    known = set(res.item_ids)
    left = [i for i in base_items if i not in known]
    if left:
        items += _carried_over(res, base, left, [d["id"] for d in dims])
    kept = {it["id"] for it in items}
    for it in items:  # an enemy left out of the bank (see _carried_over's warning) is no longer an enemy
        if it.get("enemies"):
            it["enemies"] = [e for e in it["enemies"] if e in kept]
            if not it["enemies"]:
                del it["enemies"]
    order = {i: k for k, i in enumerate(base_items)}  # the base bank's order, then new items as calibrated
    items.sort(key=lambda it: (order.get(it["id"], len(order)), 0))
    data: dict[str, Any] = {
        "kind": "item_bank",
        "id": args.bank_id or (base.id if base is not None else "calibrated"),
        "version": args.new_version or (next_version(str(base.version)) if base is not None else "1"),
        "scale": {**(base.to_dict()["scale"] if base is not None else {}), "D": 1.0},
        "dimensions": dims,
        "latent": {"correlation": [[float(v) for v in row] for row in res.latent_cor]},
        "overall": overall,
        "items": items,
    }
    if base is not None:
        for key in ("title", "description", "framework", "rules"):
            if base.to_dict().get(key) is not None:
                data[key] = base.to_dict()[key]
    try:
        spec = BankFile.model_validate(data)
        return ItemBank(spec, media_root=base.media_root if base is not None else None)
    except (ValueError, BankError) as exc:
        raise BankError(f"cannot build a multidimensional bank from the calibration: {exc}") from None


def _carried_over(res: Any, base: Any, ids: list[str], dim_ids: list[str]) -> list[dict[str, Any]]:
    """Items of the base bank the calibration did not estimate, in the multidimensional form: their slope D·a on
    the general dimension (bifactor) or their area's dimension, their intercepts (mirt's d = -D·a·b); content and
    calibration status unchanged. Items of a multidimensional base are kept as they are. Items whose dimension is
    unknown are left out with a DataWarning naming them."""
    import warnings

    from digicomp.errors import DataWarning

    data = {it["id"]: it for it in base.to_dict()["items"]}
    if getattr(base, "mparams", None) is not None:
        return [data[i] for i in ids]
    params = base.params
    codes = list(base.areas)
    area_index = base.area_index
    out, dropped = [], []
    for i in ids:
        j = base.params.ids.index(i)
        if "general" in dim_ids:
            k = dim_ids.index("general")
        elif area_index[j] >= 0 and f"area-{codes[int(area_index[j])]}" in dim_ids:
            k = dim_ids.index(f"area-{codes[int(area_index[j])]}")
        else:
            dropped.append(i)
            continue
        a = [0.0] * len(dim_ids)
        a[k] = float(params.slope[j])
        model = str(params.models[j])
        n = int(params.n_categories[j]) - 1
        item = dict(data[i])
        if model in ("Rasch", "1PL", "2PL", "3PL", "4PL"):
            p = {"a": a, "intercept": float(params.intercepts[j, 0])}
            if model in ("3PL", "4PL"):
                p["c"] = float(params.lower[j])
            if model == "4PL":
                p["d"] = float(params.upper[j])
            model = model if model in ("3PL", "4PL") else "2PL"
        else:
            p = {"a": a, "intercept": [float(v) for v in params.intercepts[j, :n]]}
            model = "GPCM" if model == "PCM" else model
        item.update(model=model, params=p)
        out.append(item)
    if dropped:
        warnings.warn(
            f"{len(dropped)} item(s) of the base bank left out of the multidimensional bank (and of other items' "
            "enemies): not calibrated and "
            f"no dimension for them ({', '.join(dropped[:5])}{', ...' if len(dropped) > 5 else ''})",
            DataWarning,
            stacklevel=2,
        )
    return out
