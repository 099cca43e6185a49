"""The programme report: per unit (its whole subtree) the number assessed, shares at or above each level with 95%
intervals (overall and per area), the naive count beside them, targets, training needs, retests and monthly progress.

Everything is computed for every unit at once (arrays over persons, sums rolled up the unit tree); ``unit`` only
narrows what is reported to one unit's subtree.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.programme.areas import area_estimates, area_pool
from digicomp.programme.data import Sessions
from digicomp.programme.errors import ProgrammeError
from digicomp.programme.estimate import ShareEstimates, estimate_shares
from digicomp.programme.scale import LevelScale
from digicomp.programme.targets import Target, status
from digicomp.programme.units import UNASSIGNED, UnitTree

MONTHS_SHOWN = 24
NEEDS_SHOWN = 10


@dataclass
class ProgrammeReport:
    """Tables (lists of plain rows) and facts of one programme report; :meth:`to_dict` is its JSON."""

    meta: dict[str, Any]
    units: list[dict[str, Any]]
    shares: list[dict[str, Any]]
    targets: list[dict[str, Any]] = field(default_factory=list)
    needs: list[dict[str, Any]] = field(default_factory=list)
    retests: list[dict[str, Any]] = field(default_factory=list)
    monthly: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready)."""
        return {
            "meta": self.meta,
            "units": self.units,
            "shares": self.shares,
            "targets": self.targets,
            "training_needs": self.needs,
            "retests": self.retests,
            "monthly": self.monthly,
        }


def assign_units(sessions: Sessions, tree: UnitTree, persons: dict[str, str], links: dict[str, str]) -> NDArray:
    """Unit position of each person (code order): person file, then store link, then the latest session's unit.

    A unit named by the store but absent from the tree is a ProgrammeError naming the person; persons with no unit
    at all go to the unassigned group (the tree must contain it: :meth:`UnitTree.with_unassigned`).
    """
    latest = sessions.latest()
    out = np.full(len(sessions.persons), tree.index[UNASSIGNED], np.intp)
    for code, row in enumerate(latest):
        name = sessions.persons[code]
        unit, source = persons.get(name), "person file"
        if unit is None:
            unit, source = links.get(name), "store link"
        if unit is None:
            unit, source = sessions.unit_of_session[row], "latest session"
        if unit is None:
            continue
        if unit not in tree.index:
            raise ProgrammeError(f"person {name!r} is in unit {unit!r} ({source}), which is not in the unit tree")
        out[code] = tree.index[unit]
    return out


def build_report(
    sessions: Sessions,
    tree: UnitTree,
    scale: LevelScale,
    *,
    persons: dict[str, str] | None = None,
    links: dict[str, str] | None = None,
    targets: list[Target] | None = None,
    unit: str | None = None,
    as_of: datetime.date | None = None,
    lang: str = "vi",
    draws: int = 6,
    seed: int = 0,
    while_areas_run: Callable[[ProgrammeReport], Any] | None = None,
) -> ProgrammeReport:
    """The whole programme report from stored sessions (see the module docstring).

    ``while_areas_run(report)``, when given, is called with the report as it stands once everything but the
    per-area shares is in (units, overall shares, targets, months, needs, retests), while the areas are still being
    estimated on their threads: work that needs only that part (e.g. drawing the report's plots) then runs beside
    them instead of after. ``sessions`` may still be getting their per-area entries from another thread
    (:func:`~digicomp.programme.data.read_sessions_scores`): the overall shares and months start at once, the areas
    when the entries are in."""
    tree = tree.with_unassigned()
    as_of = as_of or datetime.date.today()
    person_unit = assign_units(sessions, tree, persons or {}, links or {})
    anc = tree.ancestors()
    shown = tree.subtree(unit) if unit else tree.order
    latest = sessions.latest()
    leaf = person_unit[sessions.person_code[latest]]
    kw = dict(prior_mean=scale.prior_mean, prior_sd=scale.prior_sd, headcount=tree.headcount, seed=seed)
    hard = _hard_levels(sessions, latest, scale)
    with area_pool() as pool:  # the areas run on their threads while the overall shares and months are computed
        if pool is None:
            areas, area_method = area_estimates(sessions, latest, leaf, anc, scale, kw, None)
        else:  # a thread hands the areas to the pool once their entries are in (another thread may be reading them)
            handed = pool.submit(area_estimates, sessions, latest, leaf, anc, scale, kw, pool)
        overall = estimate_shares(
            sessions.theta[latest], sessions.se[latest], leaf, anc, scale.cuts, hard_level=hard, draws=draws, **kw
        )
        nobody = tree.index[UNASSIGNED]
        shown = [i for i in shown if i != nobody] + ([nobody] if overall.n[nobody] and not unit else [])
        head_sub = _subtree_headcount(tree, anc)
        units = _unit_rows(tree, shown, overall, scale, head_sub, lang)
        shares = _share_rows(tree, shown, overall, scale, None)
        kw_months = {**kw, "model": overall.model}
        monthly, series = _monthly(sessions, person_unit, tree, anc, scale, shown, as_of, kw_months)
        if pool is not None:
            areas, area_method = handed.result()
        report = ProgrammeReport(
            meta={
                "as_of": as_of.isoformat(),
                "levels": list(scale.levels),
                "cuts": scale.cuts.tolist(),
                "prior": {"mean": scale.prior_mean, "sd": scale.prior_sd},
                "sessions": sessions.n,
                "persons": len(sessions.persons),
                "persons_without_unit": int((person_unit == tree.index[UNASSIGNED]).sum()),
                "unit": unit,
                "labels": _labels(tree, shown, scale),
                "interval": 0.95,
                "method": "each unit's θ distribution by smoothed EM on a grid as the population model of the "
                "persons' posteriors (areas: from the stored area log-likelihoods, per unit and band of the "
                "rest-of-test result, where every person has them; else a normal per unit from the area θ and SE: "
                "area_method); Rubin's rules with the finite-population correction; Beta interval with a "
                "continuity correction (docs/programme.md)",
                "area_method": area_method,
            },
            units=units,
            shares=shares,
            monthly=monthly,
        )
        report.targets = _target_rows(targets or [], tree, shown, overall, scale, series, as_of)
        report.needs = _needs(sessions, latest, leaf, tree, anc, shown, scale)
        report.retests = _retests(sessions, person_unit, tree, anc, shown)
        if while_areas_run is not None:
            while_areas_run(report)
        for area, pending in areas.items():
            report.shares += _share_rows(tree, shown, pending.result(), scale, area)
    return report


def _labels(tree: UnitTree, shown: list[int], scale: LevelScale) -> dict[str, dict[str, dict[str, str]]]:
    """Names per language of the units shown (from the units file) and of the levels, areas and competences (from
    the bank's framework): what a report in either language shows instead of the codes."""
    units = {tree.ids[i]: {"vi": tree.name(i, "vi"), "en": tree.name(i, "en")} for i in shown}
    return {"units": units, **{k: dict(v) for k, v in scale.labels.items()}}


def _hard_levels(sessions: Sessions, rows: NDArray, scale: LevelScale) -> NDArray[np.intp]:
    """The reported level of each session (the stored level id; the EAP's level where none was stored)."""
    eap_level = np.searchsorted(scale.cuts, sessions.theta[rows], side="right")
    ids = {lv: i for i, lv in enumerate(scale.levels)}
    return np.array([ids.get(sessions.level[r], e) for r, e in zip(rows, eap_level)], np.intp)


def _subtree_headcount(tree: UnitTree, anc: NDArray) -> NDArray[np.int64]:
    """Headcount of each subtree (-1 when some unit in it has none)."""
    from digicomp.programme.estimate import _roll_up

    has = (tree.headcount >= 0).astype(float)
    total = _roll_up(np.stack([np.maximum(tree.headcount, 0).astype(float), 1 - has], 1), anc)
    return np.where(total[:, 1] > 0, -1, total[:, 0]).astype(np.int64)


def _r(x: float, digits: int = 4) -> float | None:
    return None if x != x else round(float(x), digits)


def _rounded(values: NDArray[np.float64], digits: int = 4) -> list[Any]:
    """``values`` as nested lists rounded as :func:`_r` rounds (None for NaN), without a numpy scalar per element
    (the tables hold about 150,000 numbers: element by element they cost about half a second)."""
    if values.ndim > 1:
        return [_rounded(row, digits) for row in values]
    return [None if x != x else round(x, digits) for x in values.tolist()]


def _unit_rows(tree, shown, est: ShareEstimates, scale, head_sub, lang) -> list[dict[str, Any]]:
    depth = tree.depth()
    rows = []
    idx = np.asarray(shown, np.intp)
    share, lower, upper, naive = (_rounded(a[idx]) for a in (est.estimate, est.lower, est.upper, est.naive))
    for r, i in enumerate(shown):
        row: dict[str, Any] = {
            "unit": tree.ids[i],
            "parent": tree.ids[tree.parent[i]] if tree.parent[i] >= 0 else None,
            "depth": int(depth[i]),
            "name": tree.name(i, lang),
            "assessed": int(est.n[i]),
            "headcount": int(head_sub[i]) if head_sub[i] >= 0 else None,
            "assessed_share": _r(est.n[i] / head_sub[i]) if head_sub[i] > 0 else None,
        }
        for k in range(1, len(scale.levels)):
            lv = scale.levels[k]
            row[f"{lv}+"] = share[r][k]
            row[f"{lv}+_lower"] = lower[r][k]
            row[f"{lv}+_upper"] = upper[r][k]
            row[f"{lv}+_count"] = naive[r][k]
        rows.append(row)
    return rows


def _share_rows(tree, shown, est: ShareEstimates, scale, area) -> list[dict[str, Any]]:
    rows = []
    idx = np.asarray(shown, np.intp)
    share, lower, upper, se, meas, samp, naive = (
        _rounded(a[idx])
        for a in (
            est.estimate,
            est.lower,
            est.upper,
            est.se,
            np.sqrt(est.measurement_var),
            np.sqrt(est.sampling_var),
            est.naive,
        )
    )
    assessed = est.n[idx].tolist()
    for r, i in enumerate(shown):
        n = assessed[r]
        for k in range(1, len(scale.levels)):
            rows.append(
                {
                    "unit": tree.ids[i],
                    "area": area,
                    "level": scale.levels[k],
                    "assessed": n,
                    "share": share[r][k],
                    "lower": lower[r][k],
                    "upper": upper[r][k],
                    "se": se[r][k] if n else None,
                    "measurement_se": meas[r][k] if n else None,
                    "sampling_se": samp[r][k] if n else None,
                    "count_share": naive[r][k],
                }
            )
    return rows


def _month_ends(first: str, as_of: datetime.date) -> list[tuple[str, str]]:
    """(YYYY-MM, first instant of the next month as ISO text) for each month from ``first`` to ``as_of``."""
    y, m = int(first[:4]), int(first[5:7])
    out = []
    while (y, m) <= (as_of.year, as_of.month):
        ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
        out.append((f"{y:04d}-{m:02d}", f"{ny:04d}-{nm:02d}-01"))
        y, m = ny, nm
    return out[-MONTHS_SHOWN:]


def _monthly(sessions, person_unit, tree, anc, scale, shown, as_of, kw) -> tuple[list[dict], dict]:
    """Shares as they stood at the end of each month (each person's latest result by then), per unit and level.

    Every session's level probabilities are computed once under the units' models fitted on the latest results
    (``kw['model']``); a month then only sums those of its persons.
    """
    model = kw.pop("model", None)
    unit_all = person_unit[sessions.person_code]
    if model is not None:
        latest = sessions.latest()
        q_all = np.empty((sessions.n, scale.cuts.size + 1))
        q_all[latest] = model.at_or_above()  # the persons the model was fitted on, in the same order
        earlier = np.ones(sessions.n, bool)  # (np.setdiff1d sorted 200,000 numbers for this: 8% of the report)
        earlier[latest] = False
        others = np.flatnonzero(earlier)
        if others.size:
            q_all[others] = model.at_or_above_for(sessions.theta[others], sessions.se[others], unit_all[others])
    rows, series = [], {}
    first = str(np.sort(sessions.finished)[0])
    for month, end in _month_ends(first, as_of):
        rows_m = sessions.latest(before=end)
        if not rows_m.size:
            continue
        leaf = unit_all[rows_m]
        q = q_all[rows_m] if model is not None else None
        est = estimate_shares(sessions.theta[rows_m], sessions.se[rows_m], leaf, anc, scale.cuts, draws=0, q=q, **kw)
        for i in shown:
            for k in range(1, len(scale.levels)):
                series.setdefault((i, k), []).append((month, est.estimate[i, k]))
                rows.append(
                    {
                        "month": month,
                        "unit": tree.ids[i],
                        "level": scale.levels[k],
                        "assessed": int(est.n[i]),
                        "share": _r(est.estimate[i, k]),
                        "lower": _r(est.lower[i, k]),
                        "upper": _r(est.upper[i, k]),
                    }
                )
    return rows, series


def _projection(points: list[tuple[str, float]], date: datetime.date) -> float:
    """The share projected to ``date`` by a straight line (least squares) through the last six monthly estimates."""
    pts = [(m, v) for m, v in points if v == v][-6:]
    if not pts:
        return float("nan")
    if len(pts) < 2:
        return pts[-1][1]
    x = [int(m[:4]) * 12 + int(m[5:7]) for m, _ in pts]
    y = [v for _, v in pts]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y)) / sum((a - mx) ** 2 for a in x)
    target_x = date.year * 12 + date.month
    return min(max(my + slope * (target_x - mx), 0.0), 1.0)


def _target_rows(targets, tree, shown, est: ShareEstimates, scale, series, as_of) -> list[dict[str, Any]]:
    rows = []
    shown_set = set(shown)
    for t in targets:
        k = scale.index(t.level)
        units = [tree.index[t.unit]] if t.unit else [i for i in shown if tree.ids[i] != UNASSIGNED]
        p_all = est.prob_at_least(t.share)
        for i in units:
            if i not in shown_set:
                continue
            p = float(p_all[i, k])
            projected = _projection(series.get((i, k), []), t.date)
            rows.append(
                {
                    "unit": tree.ids[i],
                    "level": t.level,
                    "target_share": t.share,
                    "date": t.date.isoformat(),
                    "scope": t.unit or "all units",
                    "assessed": int(est.n[i]),
                    "share": _r(est.estimate[i, k]),
                    "lower": _r(est.lower[i, k]),
                    "upper": _r(est.upper[i, k]),
                    "p_meets": _r(p),
                    "projected": _r(projected),
                    "status": status(p, projected if projected == projected else -1.0, t, as_of),
                }
            )
    return rows


def _needs(sessions, latest, leaf, tree, anc, shown, scale) -> list[dict[str, Any]]:
    """Per unit the competences most often "to work on", weighted by the distance to the person's next level."""
    goal = scale.next_cut(sessions.theta[latest])
    e = sessions.to_work_on
    person, mine = e.of(latest)
    mine &= np.isfinite(e.theta)
    if not mine.any():
        return []
    person, comp = person[mine], e.code[mine]
    gap = np.maximum(goal[person] - e.theta[mine], 0.0)
    person_a, comp_a, gap_a = person, comp, gap
    codes = {c: i for i, c in enumerate(e.codes)}
    n_units, n_comp = tree.n, len(codes)
    flat = leaf[person_a] * n_comp + comp_a
    count = np.bincount(flat, minlength=n_units * n_comp).reshape(n_units, n_comp)
    weight = np.bincount(flat, gap_a, n_units * n_comp).reshape(n_units, n_comp)
    from digicomp.programme.estimate import _roll_up

    count, weight = _roll_up(count.astype(float), anc), _roll_up(weight, anc)
    assessed = _roll_up(np.bincount(leaf, minlength=n_units)[:, None].astype(float), anc)[:, 0]
    names = sorted(codes, key=codes.__getitem__)
    rows = []
    for i in shown:
        if not assessed[i]:
            continue
        order = np.argsort(-weight[i], kind="stable")[:NEEDS_SHOWN]
        for rank, c in enumerate(order, 1):
            if count[i, c] == 0:
                break
            rows.append(
                {
                    "unit": tree.ids[i],
                    "rank": rank,
                    "competence": names[c],
                    "persons": int(count[i, c]),
                    "share_of_assessed": _r(count[i, c] / assessed[i]),
                    "need": _r(weight[i, c] / assessed[i]),
                    "mean_gap": _r(weight[i, c] / count[i, c]),
                }
            )
    return rows


def _retests(sessions, person_unit, tree, anc, shown) -> list[dict[str, Any]]:
    """Per unit: persons tested more than once, the mean change in θ (first → latest) with its 95% interval."""
    first, last = sessions.first(), sessions.latest()
    multi = last != first
    if not multi.any():
        return []
    from digicomp.programme.estimate import _roll_up

    d = sessions.theta[last] - sessions.theta[first]
    se_d = np.sqrt(sessions.se[last] ** 2 + sessions.se[first] ** 2)
    leaf = person_unit[np.flatnonzero(multi)]
    d, se_d = d[multi], se_d[multi]
    x = np.stack([np.ones_like(d), d, d**2, (d > 1.96 * se_d).astype(float), (d < -1.96 * se_d).astype(float)], 1)
    sums = _roll_up(np.stack([np.bincount(leaf, x[:, j], tree.n) for j in range(5)], 1), anc)
    rows = []
    for i in shown:
        n = sums[i, 0]
        if not n:
            continue
        mean = sums[i, 1] / n
        sd = np.sqrt(max(sums[i, 2] / n - mean**2, 0.0) * n / max(n - 1, 1))
        half = 1.96 * sd / np.sqrt(n) if n > 1 else float("nan")
        rows.append(
            {
                "unit": tree.ids[i],
                "retested": int(n),
                "mean_change": _r(mean),
                "lower": _r(mean - half),
                "upper": _r(mean + half),
                "improved": int(sums[i, 3]),
                "declined": int(sums[i, 4]),
            }
        )
    return rows
