"""A per-area study: several designs (unidimensional or multidimensional) over the same persons of a
multidimensional truth, with each area's bias, RMSE, mean SE, level accuracy and items given.

What ``digicomp simulate --truth`` runs (and a multidimensional design without ``--truth``, against its own
bank). The truth is a multidimensional bank: given as a path, derived from a bank by
:func:`digicomp.simulation.area_truth.derive_truth` (``areas[:ρ]`` or ``bifactor[:ρ]``), or the first
multidimensional design's bank. Persons are drawn once from the truth's latent normal; every design then runs
through :func:`digicomp.simulation.multidim.simulate_areas`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from digicomp.errors import BankError
from digicomp.simulation.area_truth import derive_truth, parse_truth
from digicomp.simulation.multidim import AreaResult, draw_multidim_thetas, simulate_areas
from digicomp.simulation.study import _engine

COLUMNS = ("design", "area", "bias", "rmse", "mean_se", "level_accuracy", "mean_items")


@dataclass
class AreaStudy:
    """The designs' per-area results over the same persons, and how the truth was made."""

    truth: str
    n: int
    seed: int
    results: list[AreaResult]

    def rows(self) -> list[dict[str, Any]]:
        """One row per design and area (``COLUMNS``)."""
        return [{"design": r.name, **row} for r in self.results for row in r.table()]

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the truth, persons, seed and per design its mean length and per-area rows."""
        return {
            "truth": self.truth,
            "n": self.n,
            "seed": self.seed,
            "designs": [
                {"design": r.name, "mean_length": r.mean_length, "areas": _finite(r.table())} for r in self.results
            ],
        }

    def to_json(self, path: str | PathLike[str] | None = None) -> str:
        """The JSON of :meth:`to_dict` (written to ``path`` when given)."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_csv(self, directory: str | PathLike[str]) -> Path:
        """Write ``areas-multidim.csv`` (one row per design and area) to ``directory``; returns its path."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        path = out / "areas-multidim.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS)
            w.writeheader()
            w.writerows(self.rows())
        return path

    def summary(self) -> str:
        """A readable table per design: area, bias, RMSE, mean SE, level accuracy, items of the area."""
        lines = [f"per-area study: {self.n} persons, seed {self.seed}, truth {self.truth}"]
        for r in self.results:
            lines.append(f"\n{r.name} (mean length {r.mean_length:.1f})")
            lines.append(f"{'area':>6} {'bias':>8} {'rmse':>8} {'mean_se':>8} {'level_acc':>10} {'items':>6}")
            for row in r.table():
                lines.append(
                    f"{row['area']:>6} {row['bias']:>8.3f} {row['rmse']:>8.3f} {row['mean_se']:>8.3f} "
                    f"{100 * row['level_accuracy']:>9.1f}% {row['mean_items']:>6.1f}"
                )
        return "\n".join(lines)


def _finite(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """NaN as None (JSON has no NaN)."""
    return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()} for row in rows]


def area_study(
    designs: Sequence[Any],
    *,
    n: int,
    seed: int = 0,
    truth: str | None = None,
    bank: Any = None,
    true_bank: Any = None,
    cuts: Sequence[float] | None = None,
    chunk_size: int = 1000,
) -> AreaStudy:
    """Run ``designs`` over ``n`` persons of a multidimensional truth (see the module).

    ``truth``: ``areas``/``areas:ρ``/``bifactor``/``bifactor:ρ`` (derived from ``true_bank``, else the first
    design's bank), or a multidimensional bank (id or path); None: the first multidimensional design's bank.
    ``cuts`` replace the truth's cut scores for the level accuracy.
    """
    banks: dict[str, Any] = {}
    engines = [_engine(d, bank, banks) for d in designs]
    truth_bank, label = _truth(engines, truth, true_bank)
    theta = draw_multidim_thetas(truth_bank.dims.correlation, n, seed=seed, mean=truth_bank.dims.mean)
    results = []
    for engine in engines:
        res = simulate_areas(engine, truth_bank, theta, seed=seed, name=engine.design.id, chunk_size=chunk_size)
        if cuts is not None:
            res = replace(res, cuts=np.asarray(cuts, dtype=float))
        results.append(res)
    return AreaStudy(label, n, seed, results)


def _truth(engines: list[Any], truth: str | None, true_bank: Any) -> tuple[Any, str]:
    """(truth bank, a label saying what it is)."""
    from digicomp.cat.engine import as_bank

    if truth is None:
        multi = [e.bank for e in engines if getattr(e.bank, "dims", None) is not None]
        if not multi:
            raise BankError(
                "a per-area study needs a multidimensional truth: give --truth areas[:RHO], "
                "bifactor[:RHO] or a multidimensional bank"
            )
        return multi[0], f"bank {multi[0].id} (its latent normal)"
    structure, rho = parse_truth(truth)
    if structure in ("areas", "bifactor"):
        source = as_bank(true_bank) if true_bank is not None else engines[0].bank
        out = derive_truth(source, structure, rho)
        shown = "its own" if out is source else f"ρ = {rho if rho is not None else 0.8}"
        return out, f"{structure} from bank {source.id} ({shown})"
    out = as_bank(structure)
    if out.dims is None:
        raise BankError(f"--truth {truth!r}: bank {out.id!r} is not multidimensional (it has no dimensions block)")
    return out, f"bank {out.id} (its latent normal)"
