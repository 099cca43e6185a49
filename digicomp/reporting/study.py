"""Reading and printing a simulation study (``SimulationResult.to_json``; exposure from its ``to_csv`` folder)."""

from __future__ import annotations

import csv
from os import PathLike
from pathlib import Path
from typing import Any

from digicomp.reporting.i18n import t
from digicomp.reporting.text import table
from digicomp.simulation.results import HEADLINE as SUMMARY_METRICS

HEADLINE = ("n", *SUMMARY_METRICS)

RENAMED = {"marginal_reliability": "empirical_reliability"}
"""Metric keys of study files written by earlier versions -> their names now (the value is the same)."""


def is_study(doc: dict[str, Any]) -> bool:
    """True for a simulation study document (designs keyed by name, each with its metrics)."""
    return isinstance(doc.get("designs"), dict) and "n" in doc


def exposure_rates(study_path: str | PathLike[str]) -> dict[str, list[float]]:
    """Per design the item exposure rates from ``exposure.csv`` beside the study JSON ({} when absent)."""
    path = Path(study_path).with_name("exposure.csv")
    if not path.exists():
        return {}
    rates: dict[str, list[float]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rates.setdefault(row["design"], []).append(float(row["rate"]))
    return rates


def compare_rows(study: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per headline metric, one column per design."""
    designs = {name: {RENAMED.get(k, k): v for k, v in d.items()} for name, d in study["designs"].items()}
    rows = [{"metric": m, **{name: d.get(m) for name, d in designs.items()}} for m in HEADLINE]
    return [r for r in rows if any(r[name] is not None for name in designs)]


def study_text(study: dict[str, Any], lang: str = "vi") -> str:
    """The study as text: the side-by-side summary, then each design's conditional and per-area tables."""
    title = f"{t('study', lang)}: n = {study['n']} ({study.get('population', '?')}), seed {study.get('seed')}"
    lines = [title, "=" * len(title), "", table(compare_rows(study), digits=4)]
    for name, d in study["designs"].items():
        lines += ["", f"{name}: {d.get('description') or ''}"]
        reasons = ", ".join(f"{k} {v}" for k, v in (d.get("stop_reasons") or {}).items())
        if reasons:
            lines.append(f"  stop: {reasons}")
        cond = [
            {
                **{
                    k: r.get(k)
                    for k in ("low", "high", "n", "bias", "rmse", "mean_se", "mean_length", "classification_accuracy")
                    if k in r
                },
                "low": _bound(r.get("low"), "-inf"),
                "high": _bound(r.get("high"), "inf"),
            }
            for r in d.get("conditional", [])
        ]
        if cond:
            lines += ["", table(cond)]
        if d.get("areas"):
            lines += ["", table(d["areas"])]
    return "\n".join(lines)


def _bound(value: float | None, open_end: str) -> float | str:
    """A bin edge; JSON stores the open ends (±inf) as null."""
    return open_end if value is None else value
