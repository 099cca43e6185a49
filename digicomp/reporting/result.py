"""The result document of one finished (or stopped) test: the engine's report with the framework's words added.

``build_result`` is what ``digicomp take`` writes with ``--out`` and ``digicomp report`` reads: the session
report (θ, SE, level, areas, competences to work on, items) plus names and explanations from the framework in
the chosen language, the θ̂ path after each answer, and the information curve of the items given, so that a
report can be drawn without the bank. The engine's audit trail is left out (the saved session state replays it).
"""

from __future__ import annotations

import json
from os import PathLike
from typing import Any

import numpy as np

from digicomp.errors import DigicompError

RESULT_FORMAT = "digicomp.result/1"
CURVE_GRID = np.linspace(-4.0, 4.0, 81)


def build_result(session: Any, lang: str = "vi", bank_source: str | None = None) -> dict[str, Any]:
    """Result document of ``session`` in ``lang``.

    ``bank_source`` (bundled id or path) tells readers where the bank is.
    """
    report = session.report()
    audit = report.pop("audit", None)
    bank = session.engine.bank
    out: dict[str, Any] = {"format": RESULT_FORMAT, "lang": lang, **report}
    out["bank"] = {**report["bank"], "source": bank_source, "provisional": _provisional(bank)}
    out["scale"] = {"levels": list(bank.scale.levels or []), "cut_scores": bank.cut_scores.tolist()}
    fw = _framework(bank)
    if fw is not None:
        out["framework"] = {"id": fw.id, "version": fw.version, "title": fw.title.get(lang)}
    if "level" in report:
        level = dict(report["level"])
        level["probability"] = report.get("level_probabilities", {}).get(level["id"])
        if fw is not None:
            level["name"], level["description"] = fw.describe_band(level["id"], lang)
        out["level"] = level
    if fw is not None:
        out["areas"] = [_name_area(fw, row, lang) for row in report.get("areas", [])]
        out["to_work_on"] = [_name_competence(fw, row, lang) for row in report.get("to_work_on", [])]
    out["path"] = theta_path(session, audit)
    out["curves"] = information_curve(session)
    return out


def theta_path(session: Any, audit: list[dict] | None = None) -> list[dict[str, Any]]:
    """Per answer: item, competence, score and θ̂, SE after it (from the audit trail, or the cumulative EAP)."""
    engine, st = session.engine, session.state
    n = int(st.n_given[0])
    items = st.sequence[0, :n]
    scores = st.responses[0, :n]
    if audit is not None and len(audit) >= n:
        theta = [a["theta"] for a in audit[1:n]] + [session.theta]
        se = [a["se"] for a in audit[1:n]] + [session.se]
    else:
        tables = engine.core.tables
        log_post = np.cumsum(tables.log_prob_jkq[items, scores], axis=0) + tables.log_prior
        w = np.exp(log_post - log_post.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        mean = w @ tables.points
        theta = mean.tolist()
        se = np.sqrt(np.maximum(w @ tables.points**2 - mean**2, 0.0)).tolist()
    bank = engine.bank
    comp = [bank.competences[c] if c >= 0 else None for c in bank.competence_index[items]] if n else []
    return [
        {"item": bank.ids[j], "competence": c, "score": int(s), "theta": round(float(t), 4), "se": round(float(e), 4)}
        for j, c, s, t, e in zip(items, comp, scores, theta, se)
    ]


def information_curve(session: Any) -> dict[str, list[float]]:
    """Test information of the items given on a θ grid, and the prior precision (conditional SE needs both)."""
    st = session.state
    items = st.sequence[0, : int(st.n_given[0])]
    params = session.engine.bank.params.subset(items) if items.size else None
    info = params.information(CURVE_GRID).sum(axis=-1) if params is not None else np.zeros_like(CURVE_GRID)
    prior_sd = session.engine.design.scoring.prior.sd
    return {
        "theta": CURVE_GRID.round(3).tolist(),
        "information": info.round(5).tolist(),
        "prior_precision": round(1.0 / prior_sd**2, 6),
    }


def load_document(path: str | PathLike[str]) -> dict[str, Any]:
    """A JSON document (result or study) from ``path``; DigicompError naming the file when it is not JSON."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise DigicompError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise DigicompError(f"{path}: not a JSON document: {exc}") from None
    if not isinstance(data, dict):
        raise DigicompError(
            f"{path}: expected a JSON object (a test result or a simulation study), got {type(data).__name__}"
        )
    return data


def write_json(data: dict[str, Any], path: str | PathLike[str]) -> None:
    """Write ``data`` as UTF-8 JSON, readable Vietnamese (not escaped)."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
    except OSError as exc:
        raise DigicompError(f"{path}: cannot write: {exc.strerror or exc}") from None


def _framework(bank: Any) -> Any:
    if bank.spec.framework is None:
        return None
    try:
        return bank.framework
    except DigicompError:
        return None


def _provisional(bank: Any) -> bool:
    return any(it.calibration.status == "provisional" for it in bank.spec.items)


def _name_area(fw: Any, row: dict, lang: str) -> dict[str, Any]:
    out = dict(row)
    try:
        out["name"] = fw.area(row["area"]).name.get(lang)
    except KeyError:
        out["name"] = None
    if "level" in row:
        out["level_name"] = fw.describe_band(row["level"], lang)[0]
    return out


def _name_competence(fw: Any, row: dict, lang: str) -> dict[str, Any]:
    out = dict(row)
    try:
        comp = fw.competence(row["competence"])
    except KeyError:
        return out
    out.update(name=comp.name.get(lang), description=comp.description.get(lang), area=comp.area)
    return out
