"""The report of a session: θ, SE, level and level probabilities, per-area sub-scores, what to work on next."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from digicomp.errors import DigicompError
from digicomp.levels import LevelNames, group_scores, level_index, level_probabilities, next_goal, to_work_on

if TYPE_CHECKING:
    from digicomp.cat.session import Session


def build_report(session: Session) -> dict[str, Any]:
    """Plain-data report of ``session`` as the design's ``report`` section asks."""
    engine, st = session.engine, session.state
    bank, design, tables = engine.bank, engine.design, engine.core.tables
    n = int(st.n_given[0])
    items = st.sequence[0, :n]
    scores = st.responses[0, :n]
    out: dict[str, Any] = {
        "person": session.person_id,
        "bank": {"id": bank.id, "version": bank.version, "fingerprint": engine.fingerprint},
        "design": {"id": design.id, "hash": engine.design_hash},
        "finished": session.finished,
        "stop_reason": session.stop_reason,
        "method": design.scoring.method,
        "theta": round(session.theta, 4),
        "se": round(session.se, 4),
        "n_items": n,
        "items": [
            {"item": bank.ids[j], "answer": a, "score": int(s)} for j, a, s in zip(items, session.answers, scores)
        ],
    }
    cuts = bank.cut_scores
    rep = design.report
    if rep.levels and cuts.size:
        names = LevelNames.of_bank(bank, rep.language)
        probs = level_probabilities(st.weights(np.array([0])), tables.points, cuts)[0]
        out["level"] = names.describe(int(level_index(session.theta, cuts)))
        out["level_probabilities"] = {lv: round(float(p), 4) for lv, p in zip(names.ids, probs)}
    if rep.areas and bank.spec.framework is not None and n:
        out.update(_breakdown(session, items, scores, cuts))
    if st.audit is not None:
        out["audit"] = st.audit[0]
    return out


def _breakdown(session: Session, items, scores, cuts) -> dict[str, Any]:
    """Per-area sub-scores with levels, and the competences to work on next."""
    engine = session.engine
    bank, tables, rep = engine.bank, engine.core.tables, engine.design.report
    try:
        areas, area_index = bank.areas, bank.area_index
    except DigicompError:
        return {}
    args = (tables.log_prob_jkq, tables.log_prior, tables.points, items, scores)
    theta, se, count = group_scores(*args, area_index, len(areas))
    imprecise = (count < rep.area_min_items) | (se > rep.area_max_se)
    names = LevelNames.of_bank(bank, rep.language) if cuts.size else None
    area_rows = []
    for a, code in enumerate(areas):
        if count[a] == 0:
            continue
        row = {
            "area": code,
            "theta": round(float(theta[a]), 4),
            "se": round(float(se[a]), 4),
            "n_items": int(count[a]),
            "imprecise": bool(imprecise[a]),
        }
        if names is not None:
            row["level"] = names.ids[int(level_index(theta[a], cuts))]
        area_rows.append(row)
    c_theta, _, c_count = group_scores(*args, bank.competence_index, len(bank.competences))
    goal = next_goal(session.theta, cuts) if cuts.size else session.theta
    return {"areas": area_rows, "to_work_on": to_work_on(list(bank.competences), c_theta, c_count, goal)}
