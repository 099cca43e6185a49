"""A synthetic store for the programme report: many finished sessions in many units, written by bulk insert.

Sessions carry what ``digicomp progress`` reads (θ, SE, level, per-area θ/SE, "to work on") with the bundled
civil-service bank's fingerprint; they have no response rows (the report never reads responses), so millions of
rows are not needed to time the report. The ``session_scores`` side table that ``write_many`` fills with each
session is filled afterwards from the results (the schema migration's back-fill). Used by
benchmarks/bench_programme.py and the programme tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def unit_tree(n_units: int, provinces: int = 10) -> list[dict]:
    """Provinces, then departments under them, then stations under the departments (``n_units`` in all)."""
    rows = [
        {"unit": f"P{p}", "parent": None, "name_vi": f"Tỉnh {p}", "name_en": f"Province {p}"} for p in range(provinces)
    ]
    n_dept = max((n_units - provinces) // 4, 1)
    for d in range(n_dept):
        rows.append({"unit": f"D{d}", "parent": f"P{d % provinces}", "name_vi": f"Sở {d}", "name_en": f"Dept {d}"})
    for s in range(n_units - provinces - n_dept):
        rows.append({"unit": f"S{s}", "parent": f"D{s % n_dept}", "name_vi": f"Trạm {s}", "name_en": f"Station {s}"})
    for r in rows:
        r["headcount"] = None
    return rows


def write_units_csv(rows: list[dict], path: Path) -> Path:
    """The unit tree as UNITS.csv."""
    lines = ["unit,parent,name_vi,name_en,headcount"]
    for r in rows:
        lines.append(f"{r['unit']},{r['parent'] or ''},{r['name_vi']},{r['name_en']},{r['headcount'] or ''}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fill_store(
    store, bank, units: list[dict], n_sessions: int, seed: int = 0, retest: float = 0.1, likelihoods: bool = False
) -> int:
    """Write ``n_sessions`` finished sessions of ``bank`` spread over ``units`` (bulk insert, one transaction).

    A fraction ``retest`` of the sessions are second tests of an earlier person (a later month, θ a little up).
    With ``likelihoods`` every session also gets its per-area log-likelihoods (schema 6, ``area_loglik``): normal
    ones matching each area's θ and SE and their sum for the whole test, as written with a session whose bank the
    store holds (their shape does not change the report's cost), so the report takes its per-area likelihood path.
    """
    rng = np.random.default_rng(seed)
    store.register_bank(bank)
    store.put_units(units)
    ids = [u["unit"] for u in units]
    cuts = np.asarray(bank.cut_scores, float)
    levels = list(bank.scale.levels)
    areas = list(bank.areas)
    comps = list(bank.competences)
    n_first = int(n_sessions * (1 - retest))
    unit_mean = rng.normal(0, 0.6, len(ids))
    person_unit = rng.integers(0, len(ids), n_first)
    person = np.concatenate([np.arange(n_first), rng.choice(n_first, n_sessions - n_first, replace=False)])
    true = rng.normal(unit_mean[person_unit], 0.8)
    month = np.where(np.arange(n_sessions) < n_first, rng.integers(1, 10, n_sessions), 11)
    theta = true[person] + 0.3 * (np.arange(n_sessions) >= n_first) + rng.normal(0, 0.3, n_sessions)
    se = rng.uniform(0.25, 0.4, n_sessions)
    eap = theta / (1 + se**2)
    lev = np.searchsorted(cuts, eap, side="right")
    a_theta = eap[:, None] + rng.normal(0, 0.4, (n_sessions, len(areas)))
    rows = []
    for i in range(n_sessions):
        area_rows = [
            {"area": a, "theta": round(float(a_theta[i, k]), 4), "se": 0.55, "n_items": 3, "imprecise": True}
            for k, a in enumerate(areas)
        ]
        goal = cuts[lev[i]] if lev[i] < cuts.size else eap[i]
        picks = rng.choice(len(comps), 3, replace=False)
        work = [
            {"competence": comps[c], "theta": round(float(goal - rng.uniform(0.1, 1.0)), 3), "n_items": 1}
            for c in picks
        ]
        result = {
            "theta": round(float(eap[i]), 4),
            "se": round(float(se[i]), 4),
            "areas": area_rows,
            "to_work_on": work,
        }
        rows.append(
            (
                f"s{i}",
                f"p{person[i]}",
                bank.fingerprint,
                None,
                "finished",
                None,
                f"2026-{month[i]:02d}-15T08:00:00+00:00",
                "2026-11-30T00:00:00+00:00",
                "se",
                float(eap[i]),
                float(se[i]),
                levels[lev[i]],
                0,
                json.dumps(result, separators=(",", ":")),
                ids[person_unit[person[i]]],
            )
        )
    from digicomp.store.base import _INSERT_SESSION

    with store._transaction() as cur:
        for start in range(0, len(rows), 20_000):
            cur.executemany(store._sql(_INSERT_SESSION), rows[start : start + 20_000])
    store.fill_scores()  # the per-area side table that write_many fills with each session
    if likelihoods:
        _fill_likelihoods(store, a_theta, 0.55)
    return n_sessions


def _fill_likelihoods(store, a_theta: np.ndarray, se: float) -> None:
    """``area_loglik`` of session ``s{i}`` from its area θ (row i of ``a_theta``) and SE: each area's normal
    likelihood (the N(0, 1) prior divided out) on the store's grid, after their sum (the whole test)."""
    from digicomp.store.scores import LOGLIK, LOGLIK_NODES

    v = 1.0 / (1.0 / se**2 - 1.0)
    m = v * a_theta / se**2
    refs = dict((sid, ref) for ref, sid in store._read("SELECT ref, session_id FROM sessions"))
    rows = []
    for i in range(a_theta.shape[0]):
        ll = -0.5 * (LOGLIK_NODES[None, :] - m[i][:, None]) ** 2 / v
        rows.append((np.vstack([ll.sum(axis=0), ll]).astype(LOGLIK).tobytes(), refs[f"s{i}"]))
    with store._transaction() as cur:
        for start in range(0, len(rows), 20_000):
            cur.executemany(
                store._sql("UPDATE session_scores SET area_loglik = ? WHERE session_ref = ?"),
                rows[start : start + 20_000],
            )
