"""The report of a test: θ, SE, level and level probabilities, per-area sub-scores, what to work on next.

Built from plain results (:class:`Outcome`) and the bank, design and tables that produced them, so a live
session, a replayed one or any other caller holding those results gets the same report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import DigicompError
from digicomp.levels import LevelNames, group_scores, level_index, level_probabilities, next_goal, to_work_on


@dataclass(frozen=True)
class Outcome:
    """What one person's test produced: the plain results a report is built from."""

    person: str | None
    finished: bool
    stop_reason: str | None
    theta: float
    se: float
    items: NDArray[np.intp]
    """Bank positions of the scored items, in order."""
    scores: NDArray[np.integer]
    """Scored category of each item."""
    answers: list[Any]
    """The answers as given (plain JSON), one per item."""
    weights: NDArray[np.float64]
    """The posterior over the tables' θ points, shape (points,)."""
    audit: list[dict[str, Any]] | None = None


def build_report(result: Outcome, bank: Any, design: Any, tables: Any) -> dict[str, Any]:
    """Plain-data report of ``result`` as the design's ``report`` section asks (``tables``: the engine's grid)."""
    n = len(result.items)
    out: dict[str, Any] = {
        "person": result.person,
        "bank": {"id": bank.id, "version": bank.version, "fingerprint": bank.fingerprint},
        "design": {"id": design.id, "hash": design.hash},
        "finished": result.finished,
        "stop_reason": result.stop_reason,
        "method": design.scoring.method,
        "theta": round(result.theta, 4),
        "se": round(result.se, 4),
        "n_items": n,
        "items": [
            {"item": bank.ids[j], "answer": a, "score": int(s)}
            for j, a, s in zip(result.items, result.answers, result.scores)
        ],
    }
    cuts = bank.cut_scores
    rep = design.report
    if rep.levels and cuts.size:
        names = LevelNames.of_bank(bank, rep.language)
        probs = level_probabilities(result.weights[None, :], tables.points, cuts)[0]
        out["level"] = names.describe(int(level_index(result.theta, cuts)))
        out["level_probabilities"] = {lv: round(float(p), 4) for lv, p in zip(names.ids, probs)}
    if rep.areas and bank.spec.framework is not None and n:
        out.update(_breakdown(result, bank, rep, tables, cuts))
    if result.audit is not None:
        out["audit"] = result.audit
    return out


def _breakdown(result: Outcome, bank: Any, rep: Any, tables: Any, cuts: NDArray) -> dict[str, Any]:
    """Per-area sub-scores with levels, and the competences to work on next."""
    try:
        areas, area_index = bank.areas, bank.area_index
    except DigicompError:
        return {}
    args = (tables.log_prob_jkq, tables.log_prior, tables.points, result.items, result.scores)
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
    goal = next_goal(result.theta, cuts) if cuts.size else result.theta
    return {"areas": area_rows, "to_work_on": to_work_on(list(bank.competences), c_theta, c_count, goal)}
