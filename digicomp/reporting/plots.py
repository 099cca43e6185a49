"""Plots for reports as inline SVG text, drawn with matplotlib when the ``plot`` extra is installed.

Every function returns ``None`` without matplotlib, so reports degrade to tables instead of failing.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from digicomp.reporting.i18n import t


def available() -> bool:
    """True when matplotlib can be imported (``pip install "digicomp[plot]"``)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float = 6.4, height: float = 3.2, layout: str | None = "constrained") -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout=layout)
    return fig, fig.add_subplot()


def _svg(fig: Any) -> str:
    """The figure as an SVG element (XML header dropped so it can sit inside HTML)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _cuts(ax: Any, cuts: list[float], vertical: bool = False) -> None:
    for c in cuts:
        (ax.axvline if vertical else ax.axhline)(c, color="0.6", lw=0.8, ls="--")


def theta_path(result: dict[str, Any], lang: str) -> str | None:
    """θ̂ after each answer with a ±1 SE band, the bank's cut scores dashed (right answers filled)."""
    path = result.get("path") or []
    if not available() or not path:
        return None
    fig, ax = _figure()
    x = np.arange(1, len(path) + 1)
    th = np.array([p["theta"] for p in path])
    se = np.array([p["se"] for p in path])
    right = np.array([bool(p["score"]) for p in path])
    ax.fill_between(x, th - se, th + se, alpha=0.2, color="C0", lw=0)
    ax.plot(x, th, color="C0", lw=1.5)
    ax.scatter(x[right], th[right], color="C2", s=18, zorder=3, label=t("right", lang))
    ax.scatter(x[~right], th[~right], color="C3", s=18, zorder=3, marker="x", label=t("wrong", lang))
    _cuts(ax, result.get("scale", {}).get("cut_scores", []))
    if "true_theta" in result:
        ax.axhline(result["true_theta"], color="k", lw=0.8)
    ax.set(xlabel=t("items_axis", lang), ylabel="θ̂", title=t("plot_path", lang))
    ax.legend(loc="best", fontsize=8)
    return _svg(fig)


def information(result: dict[str, Any], lang: str) -> str | None:
    """Test information of the items given, and the conditional SE 1/√(I(θ) + prior precision), over θ."""
    curves = result.get("curves")
    if not available() or not curves:
        return None
    theta = np.asarray(curves["theta"])
    info = np.asarray(curves["information"])
    cse = 1.0 / np.sqrt(info + curves.get("prior_precision", 0.0))
    fig, ax = _figure()
    ax.plot(theta, info, color="C0", label=t("plot_info", lang))
    ax.set(xlabel="θ", ylabel="I(θ)")
    ax2 = ax.twinx()
    ax2.plot(theta, cse, color="C1", ls="--", label=t("plot_cse", lang))
    ax2.set_ylabel("SE(θ)")
    _cuts(ax, result.get("scale", {}).get("cut_scores", []), vertical=True)
    ax.axvline(result["theta"], color="k", lw=0.8)
    lines = ax.get_lines()[:1] + ax2.get_lines()[:1]
    ax.legend(lines, [ln.get_label() for ln in lines], loc="upper left", fontsize=8)
    ax.set_title(f"{t('plot_info', lang)} / {t('plot_cse', lang)}")
    return _svg(fig)


def study_conditional(study: dict[str, Any], lang: str) -> str | None:
    """RMSE and mean SE of θ̂ per bin of true θ, one line pair per design."""
    designs = study.get("designs") or {}
    if not available() or not designs:
        return None
    fig, ax = _figure()
    for i, (name, d) in enumerate(designs.items()):
        rows = [r for r in d.get("conditional", []) if r.get("n") and r.get("mean_theta") is not None]
        x = [r["mean_theta"] for r in rows]
        ax.plot(x, [r["rmse"] for r in rows], color=f"C{i}", marker="o", ms=3, label=f"{name} RMSE")
        ax.plot(x, [r["mean_se"] for r in rows], color=f"C{i}", ls="--", label=f"{name} SE")
    ax.set(xlabel="θ", ylabel="RMSE, SE", title=t("plot_cse", lang))
    ax.legend(fontsize=8)
    return _svg(fig)


def study_exposure(exposure: dict[str, list[float]], lang: str) -> str | None:
    """Sorted item exposure rates per design (how unevenly the bank is used)."""
    if not available() or not exposure:
        return None
    fig, ax = _figure()
    for i, (name, rates) in enumerate(exposure.items()):
        r = np.sort(np.asarray(rates, dtype=float))[::-1]
        ax.plot(np.arange(1, r.size + 1), r, color=f"C{i}", label=name)
    ax.set(xlabel="item rank", ylabel="P(given)", title=t("plot_exposure", lang))
    ax.legend(fontsize=8)
    return _svg(fig)
