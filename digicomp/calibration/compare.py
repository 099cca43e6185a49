"""Model comparison of fits to the same data: logLik, AIC, BIC, likelihood-ratio tests, per-dimension reliability.

Nesting (what a likelihood-ratio test may compare): the unidimensional model is the bifactor model with every
specific slope 0, and the correlated-areas model with every correlation 1. The first restriction sets parameters at
the boundary of their space (slopes bounded at 0 here) and the second sets correlations at the boundary ±1, so the
χ² reference distribution is conservative there (Self & Liang 1987): the p-values printed are upper bounds.
Correlated-areas and bifactor models are not nested in each other; compare them by AIC and BIC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scipy.stats import chi2

from digicomp.errors import CalibrationError

NESTED_IN = {"unidimensional": ("between", "within", "bifactor", "two-tier")}


@dataclass
class LRTest:
    """A likelihood-ratio test of ``restricted`` within ``general``."""

    restricted: str
    general: str
    statistic: float
    df: int
    p_value: float


def lr_tests(fits: Mapping[str, Any]) -> list[LRTest]:
    """Tests for every (restricted, general) pair whose structures are nested, fitted to the same persons."""
    out = []
    for r_name, r in fits.items():
        for g_name, g in fits.items():
            if g.structure not in NESTED_IN.get(r.structure, ()):
                continue
            if abs(r.n_persons - g.n_persons) > 1e-9:
                raise CalibrationError(f"fits {r_name!r} and {g_name!r} use different persons; they cannot be compared")
            df = g.n_parameters - r.n_parameters
            stat = max(2.0 * (g.loglik - r.loglik), 0.0)
            out.append(LRTest(r_name, g_name, stat, df, float(chi2.sf(stat, df)) if df > 0 else float("nan")))
    return out


def comparison(fits: Mapping[str, Any]) -> dict[str, Any]:
    """Plain data: one row per fit (logLik, parameters, AIC, BIC, per-dimension reliability) and the LR tests."""
    rows = [
        {
            "model": name,
            "structure": f.structure,
            "logLik": f.loglik,
            "n_parameters": f.n_parameters,
            "AIC": f.aic,
            "BIC": f.bic,
            "reliability": {k: float(v) for k, v in getattr(f, "reliability", {}).items()},
        }
        for name, f in fits.items()
    ]
    tests = [t.__dict__ for t in lr_tests(fits)]
    return {"fits": rows, "lr_tests": tests}


def format_comparison(fits: Mapping[str, Any]) -> str:
    """The comparison as a text table, best AIC and BIC marked."""
    data = comparison(fits)
    rows = data["fits"]
    best_aic = min(r["AIC"] for r in rows)
    best_bic = min(r["BIC"] for r in rows)
    w = max(len(r["model"]) for r in rows)
    lines = [f"{'model':<{w}}  {'logLik':>14} {'par':>5} {'AIC':>14} {'BIC':>14}"]
    for r in rows:
        mark = ("*" if r["AIC"] == best_aic else " ") + ("*" if r["BIC"] == best_bic else " ")
        lines.append(
            f"{r['model']:<{w}}  {r['logLik']:14.3f} {r['n_parameters']:>5} {r['AIC']:14.2f} {r['BIC']:14.2f} {mark}"
        )
    lines.append("(* lowest AIC, lowest BIC)")
    for t in data["lr_tests"]:
        lines.append(
            f"LR test {t['restricted']} vs {t['general']}: X2 = {t['statistic']:.2f}, df = {t['df']}, "
            f"p = {t['p_value']:.3g} (conservative: the restriction is on a boundary)"
        )
    for r in rows:
        if r["reliability"]:
            rel = ", ".join(f"{k} {v:.3f}" for k, v in r["reliability"].items())
            lines.append(f"reliability ({r['model']}): {rel}")
    return "\n".join(lines)
