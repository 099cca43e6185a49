"""The report of a multidimensional test: the overall composite and every dimension with its level probabilities.

Built from the joint posterior of the person's answers (:func:`digicomp.scoring.multidim_score.score_answers`, by the
design's ``scoring.method``: EAP, or MAP with normal level probabilities), never from per-area sub-tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from digicomp.levels import LevelNames
from digicomp.scoring.multidim_score import score_answers


def build_report(outcome: Any, state: Any, row: int, bank: Any, design: Any, model: Any) -> dict[str, Any]:
    """Plain-data report of row ``row`` of a multidimensional batch ``state``."""
    n = len(outcome.items)
    dims = bank.dims
    cuts = bank.cut_scores
    method = "MAP" if design.scoring.method == "MAP" else "EAP"
    seq = np.asarray(outcome.items, dtype=np.intp)[None, :] if n else np.full((1, 1), -1, np.intp)
    resp = np.asarray(outcome.scores, dtype=np.int64)[None, :] if n else np.full((1, 1), -1, np.int64)
    mode = (state.mtheta[row : row + 1], state.mcov[row : row + 1])
    res = score_answers(
        model.items,
        seq,
        resp,
        model.prior,
        dims.ids,
        dims.weights,
        cuts if cuts.size else None,
        method,
        mode=mode,
        general=dims.general,
    )
    out: dict[str, Any] = {
        "person": outcome.person,
        "bank": {"id": bank.id, "version": bank.version, "fingerprint": bank.fingerprint},
        "design": {"id": design.id, "hash": design.hash},
        "finished": outcome.finished,
        "stop_reason": outcome.stop_reason,
        "method": method,
        "theta": round(float(res.overall[0]), 4),
        "se": round(float(res.overall_se[0]), 4),
        "n_items": n,
        "items": [
            {"item": bank.ids[j], "answer": a, "score": int(s)}
            for j, a, s in zip(outcome.items, outcome.answers, outcome.scores)
        ],
    }
    names = LevelNames.of_bank(bank, design.report.language) if cuts.size else None
    if names is not None and design.report.levels:
        out["level"] = names.describe(int(np.searchsorted(cuts, res.overall[0], side="right")))
        out["level_probabilities"] = {
            lv: round(float(p), 4) for lv, p in zip(names.ids, res.overall_level_probabilities[0])
        }
    if design.report.areas:
        per_dim = (bank.mparams.a[np.asarray(outcome.items, dtype=np.intp)] > 0).sum(axis=0)
        rows = []
        for k, dim_id in enumerate(dims.ids):
            entry: dict[str, Any] = {
                "dimension": dim_id,
                "area": dims.area[k],
                "general": dims.general == k,
                "name": dims.names[k].get(design.report.language),
                "theta": round(float(res.theta[0, k]), 4),
                "se": round(float(res.se[0, k]), 4),
                "n_items": int(per_dim[k]),
            }
            if names is not None:
                entry["level"] = names.ids[int(np.searchsorted(cuts, res.theta[0, k], side="right"))]
                entry["level_probabilities"] = {
                    lv: round(float(p), 4) for lv, p in zip(names.ids, res.level_probabilities[0, k])
                }
            rows.append(entry)
        out["dimensions"] = rows
        # the per-area rows every report reader knows (take, HTML), from the joint posterior's area dimensions
        out["areas"] = [
            {
                "area": r["area"],
                "theta": r["theta"],
                "se": r["se"],
                "n_items": r["n_items"],
                "imprecise": bool(r["se"] > design.report.area_max_se),
                **({"level": r["level"], "level_probabilities": r["level_probabilities"]} if "level" in r else {}),
            }
            for r in rows
            if r["area"] is not None
        ]
        if bank.spec.framework is not None and n:
            out["to_work_on"] = _to_work_on(bank, outcome, rows, cuts, float(res.overall[0]))
    if outcome.audit is not None:
        out["audit"] = outcome.audit
    return out


def _to_work_on(bank: Any, outcome: Any, rows: list[dict], cuts: Any, overall: float) -> list[dict[str, Any]]:
    """The answered competences of the areas whose θ lies below the next cut above the overall θ, weakest area
    first (each with its area's θ: a competence's own items are too few for a sub-score of their own)."""
    from digicomp.levels import next_goal

    goal = next_goal(overall, cuts) if cuts.size else overall
    items = np.asarray(outcome.items, dtype=np.intp)
    answered = np.bincount(
        bank.competence_index[items][bank.competence_index[items] >= 0], minlength=len(bank.competences)
    )
    area_of = dict(
        zip(
            bank.competences,
            np.asarray(bank.areas)[
                bank.area_index[[bank.competence_index.tolist().index(c) for c in range(len(bank.competences))]]
            ],
        )
    )
    weak = sorted((r for r in rows if r["area"] is not None and r["theta"] < goal), key=lambda r: r["theta"])
    return [
        {"competence": code, "theta": round(r["theta"], 3), "n_items": int(answered[c])}
        for r in weak
        for c, code in enumerate(bank.competences)
        if area_of[code] == r["area"] and answered[c] > 0
    ]
