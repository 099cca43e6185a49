"""Drift checks: did an operational item's parameters move, beyond their uncertainty, since the bank was made?

A free calibration of the stored responses is linked to the bank's scale (Stocking & Lord 1983) over the
operational items; each parameter's change Δ = new − old is tested with

    z = Δ / SE(Δ),   SE(Δ)² = SE_new² + SE_old² + SE_link²,

SE_old from the item's ``calibrated`` record (0 for provisional values, which have none) and SE_link the linking
error: the jackknife over the linking items (Monseur & Berezner 2007; Haberman, Lee & Qian 2009), i.e. how much
the linked value moves when each linking item in turn is left out of the Stocking–Lord criterion.

Items, not parameters, are flagged: an item's p-value is the Bonferroni bound over its parameters
(min(1, k · min p)), and the false discovery rate over items is controlled at ``q`` by Benjamini & Hochberg
(1995). Among the flagged items at most a share q are expected to be false flags, so the expected number of false
flags is at most q × (number flagged); with no drift at all the chance of any flag is at most q.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtr

from digicomp.calibration.linking import Linking, transform
from digicomp.models import ItemParameters


@dataclass(frozen=True)
class DriftRow:
    """One parameter of one operational item: old and new value on the bank's scale, its test, whether it drifted.

    ``se`` is SE(Δ) with the linking error included (``se_link`` alone); ``p`` the two-sided p-value of ``z``.
    """

    item: str
    parameter: str
    old: float
    new: float
    se: float
    z: float
    drifted: bool
    se_link: float = 0.0
    p: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class DriftCheck:
    """The drift table and its multiple-testing outcome over items."""

    rows: list[DriftRow] = field(default_factory=list)
    fdr: float = 0.05
    flagged: list[str] = field(default_factory=list)
    n_items: int = 0

    @property
    def expected_false_flags(self) -> float:
        """Upper bound on the expected number of flagged items that did not drift: q × (number flagged)."""
        return self.fdr * len(self.flagged)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports and provenance."""
        return {
            "fdr": self.fdr,
            "method": "Benjamini-Hochberg over items (Bonferroni over each item's parameters); "
            "SE includes the jackknife linking error",
            "n_items": self.n_items,
            "drifted_items": self.flagged,
            "expected_false_flags": self.expected_false_flags,
            "rows": [r.to_dict() for r in self.rows],
        }


def _flat(record: dict[str, Any], key: str) -> list[tuple[str, float]]:
    """(name, value) of parameter ``key`` in file form: ``b`` or ``b1, b2, ...`` for thresholds."""
    value = record.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return [(f"{key}{k + 1}", float(v)) for k, v in enumerate(value)]
    return [(key, float(value))]


def flat_values(records: list[dict[str, Any]]) -> dict[tuple[str, str], float]:
    """(item, parameter name) → value of every a, b (b1…), c, d in file-form ``records``."""
    return {(r["id"], name): v for r in records for key in ("a", "b", "c", "d") for name, v in _flat(r, key)}


def linked_se(se: dict[str, Any], linking: Linking) -> dict[str, Any]:
    """File-form SEs carried to the linked scale: SE(a/A) = SE(a)/A, SE(A·b + B) = A·SE(b); c, d unchanged."""
    out: dict[str, Any] = {}
    for key, value in se.items():
        scale = 1.0 / linking.A if key == "a" else linking.A if key == "b" else 1.0
        out[key] = [v * scale for v in value] if isinstance(value, list) else value * scale
    return out


SL_POINTS = np.linspace(-4, 4, 61)
SL_WEIGHTS = np.exp(-0.5 * SL_POINTS**2) / np.exp(-0.5 * SL_POINTS**2).sum()
"""The Stocking–Lord criterion's grid and N(0, 1) weights, as :func:`digicomp.calibration.linking.link` uses."""


def _item_scores(params: ItemParameters, x: np.ndarray) -> np.ndarray:
    """Expected score of each item (Q, J) on the grid after the transformation x = (log A, B)."""
    p = transform(params, float(np.exp(x[0])), float(x[1])).prob(SL_POINTS)
    return p @ np.arange(p.shape[2])


def leave_one_out_linkings(
    source: ItemParameters, target: ItemParameters, linking: Linking, steps: int = 4
) -> list[tuple[float, float]]:
    """(A, B) of the Stocking–Lord linking with each common item left out in turn, in ``linking.common`` order.

    Each replicate starts at the full linking's optimum and takes Gauss–Newton steps on the same criterion
    (Σ_q w_q (T_target(θ_q) − T*_source(θ_q))² over the remaining items), which converge in a few steps because
    leaving one item out moves the optimum little; the Jacobian of the item scores is by central differences.
    """
    common = list(linking.common)
    src = source.subset([list(source.ids).index(i) for i in common])
    tgt_scores = _item_scores(target.subset([list(target.ids).index(i) for i in common]), np.zeros(2))
    out = []
    for k in range(len(common)):
        keep = np.arange(len(common)) != k
        s_k, t_k = src.subset(np.flatnonzero(keep)), tgt_scores[:, keep].sum(axis=1)
        x = np.array([np.log(linking.A), linking.B])
        for _ in range(steps):
            r = t_k - _item_scores(s_k, x).sum(axis=1)
            jac = np.empty((SL_POINTS.size, 2))
            for d in range(2):
                h = np.zeros(2)
                h[d] = 1e-5
                jac[:, d] = (_item_scores(s_k, x + h).sum(axis=1) - _item_scores(s_k, x - h).sum(axis=1)) / 2e-5
            wj = jac * SL_WEIGHTS[:, None]
            step = np.linalg.solve(jac.T @ wj, wj.T @ r)
            x = x + step
            if np.max(np.abs(step)) < 1e-9:
                break
        out.append((float(np.exp(x[0])), float(x[1])))
    return out


def jackknife_se(replicates: list[dict[tuple[str, str], float]]) -> dict[tuple[str, str], float]:
    """Jackknife SE per (item, parameter) over leave-one-linking-item-out replicates: √((n−1)/n Σ (v_k − v̄)²)."""
    n = len(replicates)
    if n < 2:
        return {}
    keys = set.intersection(*(set(r) for r in replicates))
    values = {k: np.array([r[k] for r in replicates]) for k in keys}
    return {k: float(np.sqrt((n - 1) / n * np.sum((v - v.mean()) ** 2))) for k, v in values.items()}


def benjamini_hochberg(p: np.ndarray, q: float) -> tuple[np.ndarray, float]:
    """Rejections at false discovery rate ``q`` (Benjamini & Hochberg 1995) and the p-value threshold used."""
    p = np.asarray(p, dtype=float)
    m = p.size
    if m == 0:
        return np.zeros(0, bool), 0.0
    order = np.argsort(p, kind="stable")
    below = p[order] <= q * np.arange(1, m + 1) / m
    if not below.any():
        return np.zeros(m, bool), 0.0
    threshold = float(p[order][np.flatnonzero(below).max()])
    return p <= threshold, threshold


def drift_rows(
    old: list[dict[str, Any]],
    old_se: dict[str, dict[str, Any]],
    new: list[dict[str, Any]],
    new_se: dict[str, dict[str, Any]],
    link_se: dict[tuple[str, str], float] | None = None,
    fdr: float = 0.05,
) -> DriftCheck:
    """Per item and parameter (a, b…, c, d) of the items in ``old``: change, SE of the change, test, flag.

    ``old``/``new`` are file-form records on the same scale; ``*_se`` map item id → file-form SEs; ``link_se``
    maps (item, parameter) → linking error. Items are flagged by Benjamini–Hochberg at ``fdr`` over items.
    """
    link_se = link_se or {}
    by_id = {r["id"]: r for r in new}
    tests: list[tuple[str, str, float, float, float, float, float]] = []
    for rec in old:
        item = rec["id"]
        if item not in by_id:
            continue
        for key in ("a", "b", "c", "d"):
            olds, news = _flat(rec, key), _flat(by_id[item], key)
            s_old = dict(_flat({key: old_se.get(item, {}).get(key)}, key))
            s_new = _flat({key: new_se.get(item, {}).get(key)}, key)
            if not news or len(olds) != len(news) or not s_new:
                continue
            for (name, o), (_, n), (_, sn) in zip(olds, news, s_new):
                sl = link_se.get((item, name), 0.0)
                se = float(np.sqrt(sn**2 + s_old.get(name, 0.0) ** 2 + sl**2))
                z = (n - o) / se if se > 0 else float("inf") if n != o else 0.0
                tests.append((item, name, o, n, se, float(z), sl))
    items = list(dict.fromkeys(t[0] for t in tests))
    pos = {i: k for k, i in enumerate(items)}
    p_row = np.array([2 * ndtr(-abs(t[5])) for t in tests])
    idx = np.array([pos[t[0]] for t in tests], dtype=np.intp)
    k = np.bincount(idx, minlength=len(items))
    p_min = np.ones(len(items))
    np.minimum.at(p_min, idx, p_row)
    p_item = np.minimum(1.0, k * p_min)
    rejected, threshold = benjamini_hochberg(p_item, fdr)
    rows = [
        DriftRow(t[0], t[1], t[2], t[3], t[4], t[5], bool(rejected[j] and k[j] * pr <= threshold), t[6], float(pr))
        for t, j, pr in zip(tests, idx, p_row)
    ]
    flagged = sorted(i for i, r in zip(items, rejected) if r)
    return DriftCheck(rows, fdr, flagged, len(items))
