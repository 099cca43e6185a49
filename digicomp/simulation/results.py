"""Results of a simulation study: per-person outcomes per design, summaries, tables, CSV and JSON."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from functools import cached_property
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.design import Design
from digicomp.levels import level_index
from digicomp.simulation import metrics
from digicomp.simulation.runner import Outcome

HEADLINE = (
    "bias",
    "rmse",
    "correlation",
    "empirical_reliability",
    "mean_se",
    "mean_length",
    "min_length",
    "max_length",
    "share_at_max_items",
    "classification_accuracy",
    "expected_accuracy",
    "max_exposure",
    "overlap_rate",
    "unused_items",
)
"""The metrics ``SimulationResult.summary()`` shows side by side, in this order."""


@dataclass
class DesignResult:
    """One design's study: per-person ``outcome`` arrays (see :mod:`digicomp.simulation.runner`) and context."""

    name: str
    design: Design
    bank_id: str
    item_ids: list[str]
    cuts: NDArray[np.float64]
    level_ids: list[str]
    areas: list[str] | None
    outcome: Outcome
    seconds: float = 0.0
    edges: NDArray[np.float64] = field(default_factory=lambda: metrics.DEFAULT_EDGES)

    # ------------------------------------------------------------------ per person
    @property
    def n_persons(self) -> int:
        """Number of simulated persons."""
        return int(self.outcome["person"].size)

    @property
    def level_true(self) -> NDArray[np.intp] | None:
        """Level of each true θ by the cut scores (None without cuts)."""
        return level_index(self.outcome["theta_true"], self.cuts) if self.cuts.size else None

    @property
    def level(self) -> NDArray[np.intp] | None:
        """Level assigned from θ̂, as a live report does (None without cuts)."""
        return level_index(self.outcome["theta"], self.cuts) if self.cuts.size else None

    def items(self, row: int) -> list[str]:
        """Item ids given to the person in ``row``, in order."""
        seq = self.outcome["sequence"][row]
        return [self.item_ids[j] for j in seq[seq >= 0]]

    @property
    def persons(self) -> dict[str, NDArray]:
        """Per-person columns: person, theta_true, theta, se, n_items, stop_reason, information (+ levels)."""
        cols = {
            k: self.outcome[k] for k in ("person", "theta_true", "theta", "se", "n_items", "stop_reason", "information")
        }
        if self.cuts.size:
            cols["level_true"] = np.asarray(self.level_ids, dtype=object)[self.level_true]
            cols["level"] = np.asarray(self.level_ids, dtype=object)[self.level]
        return cols

    # ------------------------------------------------------------------ summaries
    @property
    def exposure_rates(self) -> NDArray[np.float64]:
        """Share of persons given each item (J,)."""
        return self.outcome["exposed"] / self.n_persons

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """All summary metrics as plain data (recovery, lengths, exposure, classification, stop reasons)."""
        o = self.outcome
        out: dict[str, Any] = {"n": self.n_persons}
        out.update(metrics.recovery(o["theta_true"], o["theta"], o["se"]))
        out.update(metrics.lengths(o["n_items"], self.design.stop.max_items))
        out.update(metrics.exposure(o["exposed"], self.n_persons, out["mean_length"]))
        if self.cuts.size:
            out.update(metrics.classification(self.level_true, self.level, o["level_probabilities"]))
            out["levels"] = list(self.level_ids)
        out["stop_reasons"] = metrics.stop_reasons(o["stop_reason"])
        out["seconds"] = round(self.seconds, 4)
        return out

    def conditional(self, edges: NDArray | None = None) -> list[dict[str, float]]:
        """Bias, RMSE, SD of θ̂, mean SE, mean length (and accuracy) per bin of true θ."""
        o = self.outcome
        hit = self.level_true == self.level if self.cuts.size else None
        return metrics.conditional(
            o["theta_true"], o["theta"], o["se"], o["n_items"], hit, self.edges if edges is None else edges
        )

    def area_accuracy(self) -> list[dict[str, float]]:
        """Per area: persons with items from it, mean items, bias/RMSE of the area sub-score, level accuracy."""
        if self.areas is None or "area_theta" not in self.outcome:
            return []
        o = self.outcome
        rows = []
        for a, code in enumerate(self.areas):  # a handful of areas
            m = o["area_items"][:, a] > 0
            row: dict[str, Any] = {
                "area": code,
                "persons": int(m.sum()),
                "mean_items": float(o["area_items"][:, a].mean()),
            }
            if m.any():
                err = o["area_theta"][m, a] - o["theta_true"][m]
                row.update(
                    {
                        "bias": float(err.mean()),
                        "rmse": float(np.sqrt(np.mean(err**2))),
                        "mean_se": float(o["area_se"][m, a].mean()),
                    }
                )
                if self.cuts.size:
                    row["classification_accuracy"] = float(
                        np.mean(level_index(o["area_theta"][m, a], self.cuts) == self.level_true[m])
                    )
            rows.append(row)
        return rows

    def exposure_table(self) -> list[dict[str, Any]]:
        """Per item: times given, exposure rate, times selected (Sympson–Hetter's P(S)) — bank order."""
        o = self.outcome
        return [
            {"item": i, "given": int(g), "rate": float(g) / self.n_persons, "selected": int(s)}
            for i, g, s in zip(self.item_ids, o["exposed"], o["selected"])
        ]

    def to_dict(self) -> dict[str, Any]:
        """Summary, conditional table and per-area accuracy as plain data."""
        return {
            "design": self.design.id,
            "description": self.design.description,
            "bank": self.bank_id,
            **self.metrics,
            "conditional": self.conditional(),
            "areas": self.area_accuracy(),
        }


@dataclass
class SimulationResult:
    """A study of one or more designs over the same simulated persons; ``result["design-id"]`` is one design."""

    designs: dict[str, DesignResult]
    seed: int
    population: str

    def __getitem__(self, name: str) -> DesignResult:
        return self.designs[name]

    def __iter__(self):
        return iter(self.designs.values())

    @property
    def thetas(self) -> NDArray[np.float64]:
        """The true θ of every simulated person (the same for every design)."""
        return next(iter(self.designs.values())).outcome["theta_true"]

    def compare(self) -> list[dict[str, Any]]:
        """One row per headline metric with one column per design: the side-by-side comparison."""
        return [{"metric": m, **{name: d.metrics.get(m) for name, d in self.designs.items()}} for m in HEADLINE]

    def to_dict(self) -> dict[str, Any]:
        """The whole study's summaries as plain data (what ``--json`` prints)."""
        return {
            "seed": self.seed,
            "n": len(self.thetas),
            "population": self.population,
            "designs": {name: d.to_dict() for name, d in self.designs.items()},
        }

    def to_json(self, path: str | PathLike[str] | None = None) -> str:
        """The summaries as JSON text; also written to ``path`` when given."""
        text = json.dumps(_plain(self.to_dict()), ensure_ascii=False, indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_csv(self, directory: str | PathLike[str]) -> list[Path]:
        """Write summary, conditional, areas, exposure and one persons-<design>.csv per design; the paths."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        written = [
            _write(
                out / "summary.csv",
                [
                    {"design": name, **{k: v for k, v in d.metrics.items() if not isinstance(v, (list, dict))}}
                    for name, d in self.designs.items()
                ],
            )
        ]
        written.append(
            _write(
                out / "conditional.csv", [{"design": n, **r} for n, d in self.designs.items() for r in d.conditional()]
            )
        )
        areas = [{"design": n, **r} for n, d in self.designs.items() for r in d.area_accuracy()]
        if areas:
            written.append(_write(out / "areas.csv", areas))
        written.append(
            _write(
                out / "exposure.csv", [{"design": n, **r} for n, d in self.designs.items() for r in d.exposure_table()]
            )
        )
        for name, d in self.designs.items():
            cols = d.persons
            seq = d.outcome["sequence"]
            ids = np.asarray(d.item_ids + [""], dtype=object)
            cols["items"] = np.array([" ".join(ids[s[s >= 0]]) for s in seq], dtype=object)
            written.append(_write_columns(out / f"persons-{name}.csv", cols))
        return written

    def summary(self) -> str:
        """A readable side-by-side table of the headline metrics, one column per design."""
        names = list(self.designs)
        lines = [f"simulation: {len(self.thetas)} persons ({self.population}), seed {self.seed}"]
        width = max(len(m) for m in HEADLINE) + 2
        colw = max(12, *(len(n) + 2 for n in names))
        lines.append("metric".ljust(width) + "".join(n.rjust(colw) for n in names))
        for row in self.compare():
            if all(row[n] is None for n in names):
                continue
            lines.append(row["metric"].ljust(width) + "".join(_fmt(row[n]).rjust(colw) for n in names))
        for name, d in self.designs.items():
            reasons = ", ".join(f"{k or 'running'} {v}" for k, v in d.metrics["stop_reasons"].items())
            lines.append(f"{name}: stop reasons: {reasons}; {d.seconds:.2f} s")
        return "\n".join(lines)

    def plot(self, path: str | PathLike[str] | None = None) -> Any:
        """Conditional SE and RMSE, exposure and test-length plots (needs the ``plot`` extra: matplotlib)."""
        from digicomp.simulation.plots import plot_study

        return plot_study(self, path)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return f"{value:.4f}"


def _plain(value: Any) -> Any:
    """JSON-safe data: numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    return value


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(_plain(rows))
    return path


def _write_columns(path: Path, cols: dict[str, NDArray]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(cols))
        writer.writerows(zip(*(c.tolist() for c in cols.values())))
    return path
