"""Plots of a study (the ``plot`` extra): conditional SE and RMSE, exposure distribution, test length."""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING, Any

import numpy as np

from digicomp.errors import DigicompError

if TYPE_CHECKING:
    from digicomp.simulation.results import SimulationResult


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise DigicompError("plots need matplotlib: pip install 'digicomp[plot]'") from None
    return plt


def plot_study(result: SimulationResult, path: str | PathLike[str] | None = None) -> Any:
    """A 2×2 figure (conditional RMSE and SE by true θ, exposure rates, test lengths); saved when ``path``."""
    plt = _pyplot()
    fig, ax = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
    for name, d in result.designs.items():
        rows = [r for r in d.conditional() if r["n"]]
        x = [r["mean_theta"] for r in rows]
        (line,) = ax[0, 0].plot(x, [r["rmse"] for r in rows], marker="o", label=f"{name} RMSE")
        ax[0, 0].plot(x, [r["mean_se"] for r in rows], ls="--", color=line.get_color(), label=f"{name} mean SE")
        ax[0, 1].plot(x, [r["bias"] for r in rows], marker="o", label=name)
        ax[1, 0].plot(np.sort(d.exposure_rates)[::-1], label=name)
        n_items = d.outcome["n_items"]
        ax[1, 1].hist(n_items, bins=np.arange(n_items.min(), n_items.max() + 2) - 0.5, alpha=0.5, label=name)
    titles = [
        ("Conditional RMSE (solid) and mean SE (dashed)", "true θ", "logits"),
        ("Conditional bias", "true θ", "θ̂ − θ"),
        ("Item exposure rates, sorted", "items (rank)", "exposure rate"),
        ("Test length", "items given", "persons"),
    ]
    for a, (title, xl, yl) in zip(ax.flat, titles):
        a.set_title(title)
        a.set_xlabel(xl)
        a.set_ylabel(yl)
        a.legend(fontsize="small")
    ax[0, 1].axhline(0.0, color="grey", lw=0.5)
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
