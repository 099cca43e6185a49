"""The programme report as one self-contained HTML page: drill-down table, shares with intervals, progress, targets.

Inline CSS and SVG only (no external files); plots need matplotlib (the ``plot`` extra) and degrade to tables.
"""

from __future__ import annotations

from html import escape
from typing import Any

from digicomp.reporting.html import _figures, _page, _table

WORDS = {
    "title": {"vi": "Báo cáo tiến độ chương trình", "en": "Programme progress report"},
    "as_of": {"vi": "Tính đến ngày", "en": "As of"},
    "summary": {
        "vi": "{sessions} bài kiểm tra hoàn thành của {persons} người; {unassigned} người chưa gắn đơn vị.",
        "en": "{sessions} finished tests of {persons} persons; {unassigned} without a unit.",
    },
    "units": {"vi": "Đơn vị", "en": "Units"},
    "units_note": {
        "vi": "Tỉ lệ đạt từ mức này trở lên, khoảng tin cậy 95% (sai số đo và chọn mẫu); 'đếm' là tỉ lệ "
        "đếm theo mức đã báo (lệch khi mức chưa chắc chắn).",
        "en": "Share at or above each level with its 95% interval (measurement and sampling error); 'count' is "
        "the share of reported levels, counted as if certain (biased when levels are uncertain).",
    },
    "shares_plot": {"vi": "Tỉ lệ theo đơn vị", "en": "Shares by unit"},
    "targets": {"vi": "Mục tiêu", "en": "Targets"},
    "progress": {"vi": "Tiến độ theo tháng", "en": "Progress by month"},
    "needs": {"vi": "Nhu cầu bồi dưỡng", "en": "Training needs"},
    "retests": {"vi": "Kiểm tra lại", "en": "Retests"},
    "unit": {"vi": "Đơn vị", "en": "Unit"},
    "assessed": {"vi": "Đã đánh giá", "en": "Assessed"},
    "headcount": {"vi": "Biên chế", "en": "Headcount"},
    "count": {"vi": "đếm", "en": "count"},
    "status": {
        "vi": {
            "met": "đạt",
            "missed": "không đạt",
            "on track": "đúng tiến độ",
            "at risk": "có nguy cơ",
            "no data": "chưa có dữ liệu",
        },
        "en": {"met": "met", "missed": "missed", "on track": "on track", "at risk": "at risk", "no data": "no data"},
    },
}


def _w(key: str, lang: str, **fields: Any) -> str:
    text = WORDS[key][lang if lang in ("vi", "en") else "en"]
    return text.format(**fields) if fields else text


def programme_html(report: Any, lang: str = "vi") -> str:
    """The HTML page of a :class:`~digicomp.programme.ProgrammeReport`."""
    meta = report.meta
    levels = meta["levels"][1:]
    body = [
        f"<h1>{escape(_w('title', lang))}</h1>",
        f"<p>{escape(_w('as_of', lang))} {escape(meta['as_of'])}. "
        + escape(
            _w(
                "summary",
                lang,
                sessions=meta["sessions"],
                persons=meta["persons"],
                unassigned=meta["persons_without_unit"],
            )
        )
        + "</p>",
        f"<h2>{escape(_w('units', lang))}</h2>",
        f'<p class="muted">{escape(_w("units_note", lang))}</p>',
        _drill_down(report.units, levels, lang),
        f"<h2>{escape(_w('shares_plot', lang))}</h2>",
        *_figures([_shares_plot(report.units, levels, lang)], lang),
    ]
    if report.targets:
        statuses = WORDS["status"][lang if lang in ("vi", "en") else "en"]
        rows = [{**t, "status": statuses.get(t["status"], t["status"])} for t in report.targets]
        body += [f"<h2>{escape(_w('targets', lang))}</h2>", _table(rows)]
    if report.monthly:
        body += [f"<h2>{escape(_w('progress', lang))}</h2>", *_figures(_progress_plots(report), lang)]
    if report.needs:
        body += [f"<h2>{escape(_w('needs', lang))}</h2>", _table(report.needs)]
    if report.retests:
        body += [f"<h2>{escape(_w('retests', lang))}</h2>", _table(report.retests)]
    return _page(_w("title", lang), lang, body)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _drill_down(units: list[dict[str, Any]], levels: list[str], lang: str) -> str:
    """Units depth-first, each indented under its parent; a unit's row folds its sub-units' figures in."""
    head = [_w("unit", lang), _w("assessed", lang), _w("headcount", lang)]
    for lv in levels:
        head += [f"{lv}+", "95%", _w("count", lang)]
    heads = "".join(f"<th>{escape(h)}</th>" for h in head)
    out = [f'<div style="overflow-x:auto"><table><thead><tr>{heads}</tr></thead><tbody>']
    for u in units:
        pad = 1.2 * u["depth"]
        cells = [
            f'<td style="padding-left:{pad + 0.6:.1f}rem" id="u-{escape(u["unit"])}">{escape(u["name"])} '
            f'<span class="muted">{escape(u["unit"])}</span></td>',
            f'<td class="n">{u["assessed"]}</td>',
            f'<td class="n">{"" if u["headcount"] is None else u["headcount"]}</td>',
        ]
        for lv in levels:
            cells += [
                f'<td class="n"><b>{_pct(u[f"{lv}+"])}</b></td>',
                f'<td class="n">{_pct(u[f"{lv}+_lower"])}–{_pct(u[f"{lv}+_upper"])}</td>',
                f'<td class="n muted">{_pct(u[f"{lv}+_count"])}</td>',
            ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _shares_plot(units: list[dict[str, Any]], levels: list[str], lang: str, most: int = 20) -> str | None:
    """Share at or above each level for the top two tiers of units (at most ``most``) with 95% intervals."""
    from digicomp.reporting import plots

    if not plots.available():
        return None
    import numpy as np

    shown = [u for u in units if u["assessed"] and u["depth"] <= 1][:most]
    if not shown:
        return None
    fig, ax = plots._figure(7.0, max(2.5, 0.28 * len(shown) * len(levels) ** 0.5 + 1))
    y = np.arange(len(shown))
    step = 0.8 / len(levels)
    for k, lv in enumerate(levels):
        est = np.array([u[f"{lv}+"] for u in shown], float)
        lo = np.array([u[f"{lv}+_lower"] for u in shown], float)
        hi = np.array([u[f"{lv}+_upper"] for u in shown], float)
        ax.errorbar(est, y + k * step, xerr=[est - lo, hi - est], fmt="o", ms=3, capsize=2, label=f"{lv}+")
    ax.set_yticks(y + step * (len(levels) - 1) / 2, ["  " * u["depth"] + u["unit"] for u in shown], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.legend(fontsize=7, loc="lower right")
    return plots._svg(fig)


def _progress_plots(report: Any, most: int = 3) -> list[str | None]:
    """Share over the months with its band, the target as a dashed line, for the units that have targets (or the
    top units)."""
    from digicomp.reporting import plots

    if not plots.available():
        return [None]
    import numpy as np

    wanted = []
    for t in report.targets:
        key = (t["unit"], t["level"])
        if key not in [(w[0], w[1]) for w in wanted]:
            wanted.append((t["unit"], t["level"], t["target_share"], t["date"]))
    if not wanted:
        top = [u["unit"] for u in report.units if u["depth"] == 0][:most]
        wanted = [(u, report.meta["levels"][1], None, None) for u in top]
    out = []
    for unit, level, share, date in wanted[:most]:
        pts = [m for m in report.monthly if m["unit"] == unit and m["level"] == level and m["share"] is not None]
        if not pts:
            continue
        fig, ax = plots._figure(6.4, 2.6)
        x = np.arange(len(pts))
        est = np.array([p["share"] for p in pts])
        ax.fill_between(x, [p["lower"] for p in pts], [p["upper"] for p in pts], alpha=0.25)
        ax.plot(x, est, marker="o", ms=3)
        if share is not None:
            ax.axhline(share, color="0.3", ls="--", lw=1)
        ax.set_xticks(x, [p["month"] for p in pts], rotation=45, fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(f"{unit}: {level}+" + (f" → {share:.0%} by {date}" if share is not None else ""), fontsize=9)
        out.append(plots._svg(fig))
    return out or [None]
