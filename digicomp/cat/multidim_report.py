"""The report of a multidimensional test: the overall composite and every dimension with its level probabilities.

Built from the joint posterior of the person's answers (:func:`digicomp.scoring.multidim.score_answers`, by the
design's ``scoring.method``: EAP, or MAP with normal level probabilities), never from per-area sub-tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from digicomp.levels import LevelNames
from digicomp.scoring.multidim import score_answers


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
        model.items, seq, resp, model.prior, dims.ids, dims.weights, cuts if cuts.size else None, method, mode=mode
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
    if outcome.audit is not None:
        out["audit"] = outcome.audit
    return out
