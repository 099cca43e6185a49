"""Drift checks: did an operational item's parameters move, beyond their standard error, since the bank was made?

A free calibration of the stored responses is linked to the bank's scale (Stocking & Lord 1983) over the
operational items; each parameter's change Δ = new − old is tested against SE(Δ) = √(SE_new² + SE_old²)
(SE_old is 0 for provisional values, which have none). Linking error is ignored, so the test is slightly liberal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from digicomp.calibration.linking import Linking


@dataclass(frozen=True)
class DriftRow:
    """One parameter of one operational item: old and new value on the bank's scale, and whether it drifted."""

    item: str
    parameter: str
    old: float
    new: float
    se: float
    z: float
    drifted: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain data for reports."""
        return dict(self.__dict__)


def _flat(record: dict[str, Any], key: str) -> list[tuple[str, float]]:
    """(name, value) of parameter ``key`` in file form: ``b`` or ``b1, b2, ...`` for thresholds."""
    value = record.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return [(f"{key}{k + 1}", float(v)) for k, v in enumerate(value)]
    return [(key, float(value))]


def linked_se(se: dict[str, Any], linking: Linking) -> dict[str, Any]:
    """File-form SEs carried to the linked scale: SE(a/A) = SE(a)/A, SE(A·b + B) = A·SE(b); c, d unchanged."""
    out: dict[str, Any] = {}
    for key, value in se.items():
        scale = 1.0 / linking.A if key == "a" else linking.A if key == "b" else 1.0
        out[key] = [v * scale for v in value] if isinstance(value, list) else value * scale
    return out


def drift_rows(
    old: list[dict[str, Any]],
    old_se: dict[str, dict[str, Any]],
    new: list[dict[str, Any]],
    new_se: dict[str, dict[str, Any]],
    z: float,
) -> list[DriftRow]:
    """Per item and parameter (a, b…, c, d) of the items in ``old``: change, SE of the change, flag at |Δ| > z·SE.

    ``old``/``new`` are file-form records on the same scale; ``*_se`` map item id → file-form SEs.
    """
    by_id = {r["id"]: r for r in new}
    rows = []
    for rec in old:
        item = rec["id"]
        if item not in by_id:
            continue
        for key in ("a", "b", "c", "d"):
            olds, news = _flat(rec, key), _flat(by_id[item], key)
            s_old, s_new = (
                _flat({key: old_se.get(item, {}).get(key)}, key),
                _flat({key: new_se.get(item, {}).get(key)}, key),
            )
            if not news or len(olds) != len(news) or not s_new:
                continue
            s_old_d = dict(s_old)
            for (name, o), (_, n), (_, sn) in zip(olds, news, s_new):
                se = float(np.hypot(sn, s_old_d.get(name, 0.0)))
                zz = (n - o) / se if se > 0 else float("inf") if n != o else 0.0
                rows.append(DriftRow(item, name, o, n, se, float(zz), bool(abs(zz) > z)))
    return rows
