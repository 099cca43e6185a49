"""The programme report in HTML: drill-down table, shares per area, targets, progress, needs, retests.

One renderer, two frames: :func:`programme_sections` gives the body (every label, level, area, competence and unit
name in the report's language, from ``report.meta['labels']``; codes only where no name exists), which
:func:`programme_html` wraps as one self-contained page (inline CSS, and SVG plots written directly by
:mod:`digicomp.reporting.svgplot`: no plotting extra needed) and the service's dashboard page wraps in its own frame.
The body uses classes only (no ``style`` attributes, which the service's content security policy refuses; the plots'
SVG uses presentation attributes); :data:`PROGRAMME_CSS` styles them in both frames. ``plots=False`` gives the monthly
figures as tables instead.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from digicomp.reporting.html import _figures, _page

WORDS = {
    "title": {"vi": "Báo cáo tiến độ chương trình", "en": "Programme progress report"},
    "as_of": {"vi": "Tính đến ngày", "en": "As of"},
    "summary": {
        "vi": "{sessions} bài kiểm tra hoàn thành của {persons} người; {unassigned} người chưa gắn đơn vị.",
        "en": "{sessions} finished tests of {persons} persons; {unassigned} without a unit.",
    },
    "summary_scoped": {
        "vi": "{persons} người đã được đánh giá trong các đơn vị anh/chị được xem.",
        "en": "{persons} persons assessed in the units you may see.",
    },
    "units": {"vi": "Đơn vị", "en": "Units"},
    "units_note": {
        "vi": "Tỉ lệ đạt từ mức này trở lên, khoảng tin cậy 95% (sai số đo và chọn mẫu); 'đếm' là tỉ lệ "
        "đếm theo mức đã báo (lệch khi mức chưa chắc chắn).",
        "en": "Share at or above each level with its 95% interval (measurement and sampling error); 'count' is "
        "the share of reported levels, counted as if certain (biased when levels are uncertain).",
    },
    "areas": {"vi": "Theo lĩnh vực", "en": "By area"},
    "areas_note": {
        "vi": "Tỉ lệ đạt từ mức này trở lên theo từng lĩnh vực, khoảng tin cậy 95%.",
        "en": "Share at or above each level in each area, with its 95% interval.",
    },
    "areas_fallback": {
        "vi": "Chưa hiệu chỉnh: tỉ lệ của {areas} tính từ θ và sai số chuẩn của lĩnh vực, không từ hàm hợp lý đã lưu "
        "({lacking} kết quả theo lĩnh vực chưa có), nên khoảng tin cậy hẹp hơn thực tế. Quản trị viên chạy "
        "'digicomp progress --fill-likelihoods' để chấm lại các câu trả lời đã lưu.",
        "en": "Not calibrated: the shares of {areas} come from the area θ and SE, not from stored likelihoods "
        "({lacking} area results have none), so their intervals are narrower than they should be. An administrator "
        "runs 'digicomp progress --fill-likelihoods' to re-score the stored answers.",
    },
    "area": {"vi": "Lĩnh vực", "en": "Area"},
    "shares_plot": {"vi": "Tỉ lệ theo đơn vị", "en": "Shares by unit"},
    "targets": {"vi": "Mục tiêu", "en": "Targets"},
    "progress": {"vi": "Tiến độ theo tháng", "en": "Progress by month"},
    "needs": {"vi": "Nhu cầu bồi dưỡng", "en": "Training needs"},
    "retests": {"vi": "Kiểm tra lại", "en": "Retests"},
    "unit": {"vi": "Đơn vị", "en": "Unit"},
    "assessed": {"vi": "Đã đánh giá", "en": "Assessed"},
    "headcount": {"vi": "Biên chế", "en": "Headcount"},
    "count": {"vi": "đếm", "en": "count"},
    "interval": {"vi": "KTC 95%", "en": "95% interval"},
    "level": {"vi": "Mức", "en": "Level"},
    "target": {"vi": "Chỉ tiêu", "en": "Target"},
    "date": {"vi": "Hạn", "en": "By"},
    "scope": {"vi": "Áp dụng cho", "en": "Applies to"},
    "all_units": {"vi": "mọi đơn vị", "en": "every unit"},
    "share": {"vi": "Tỉ lệ ước tính", "en": "Estimated share"},
    "p_meets": {"vi": "Xác suất đạt", "en": "P(target met)"},
    "projected": {"vi": "Dự báo đến hạn", "en": "Projected to the date"},
    "status_col": {"vi": "Đánh giá", "en": "Status"},
    "month": {"vi": "Tháng", "en": "Month"},
    "rank": {"vi": "Thứ tự", "en": "Rank"},
    "competence": {"vi": "Năng lực", "en": "Competence"},
    "persons": {"vi": "Số người cần", "en": "Persons"},
    "share_of_assessed": {"vi": "Tỉ lệ người cần", "en": "Share of assessed"},
    "need": {"vi": "Mức cần (có trọng số)", "en": "Need (weighted)"},
    "mean_gap": {"vi": "Khoảng cách TB", "en": "Mean gap"},
    "retested": {"vi": "Số người kiểm tra lại", "en": "Retested"},
    "mean_change": {"vi": "Thay đổi TB (θ)", "en": "Mean change (θ)"},
    "improved": {"vi": "Tiến bộ rõ", "en": "Clearly improved"},
    "declined": {"vi": "Giảm rõ", "en": "Clearly declined"},
    "at_or_above": {"vi": "≥ {level}", "en": "≥ {level}"},
    "by_date": {"vi": "{share} trước {date}", "en": "{share} by {date}"},
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

MAX_DEPTH_CLASS = 8
PROGRAMME_CSS = (
    ".scroll{overflow-x:auto}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.muted{color:#555}"
    ".warn{border-left:4px solid #b45309;padding:.4rem .8rem;background:#fff7ed}"
    + "".join(f".dd tr.d{d} td:first-child{{padding-left:{0.6 + 1.2 * d:.1f}rem}}" for d in range(MAX_DEPTH_CLASS + 1))
)
"""The classes the body uses (indentation of the drill-down, numbers right-aligned): no inline style anywhere."""


def _lang(lang: str) -> str:
    return lang if lang in ("vi", "en") else "en"


def _w(key: str, lang: str, **fields: Any) -> str:
    text = WORDS[key][_lang(lang)]
    return text.format(**fields) if fields else text


class Names:
    """Names in one language of the report's units, levels, areas and competences (``meta['labels']``): the name
    in ``lang``, else the other language's, else the code."""

    def __init__(self, meta: dict[str, Any], lang: str) -> None:
        self.labels = meta.get("labels") or {}
        self.lang = _lang(lang)

    def _of(self, kind: str, code: Any) -> str | None:
        names = (self.labels.get(kind) or {}).get(str(code)) or {}
        other = "en" if self.lang == "vi" else "vi"
        return names.get(self.lang) or names.get(other)

    def unit(self, code: str) -> str:
        return self._of("units", code) or code

    def level(self, code: str) -> str:
        return self._of("levels", code) or code

    def at_or_above(self, code: str) -> str:
        return _w("at_or_above", self.lang, level=self.level(code))

    def area(self, code: str) -> str:
        return self._of("areas", code) or code

    def competence(self, code: str) -> str:
        """``code name`` (the code is how the framework document numbers it; the name says what it is)."""
        name = self._of("competences", code)
        return f"{code} {name}" if name else code


def programme_html(report: Any, lang: str = "vi", figures: dict[str, Any] | None = None) -> str:
    """The self-contained HTML page of a :class:`~digicomp.programme.ProgrammeReport` in ``lang`` (``figures``:
    its plots drawn beforehand by :func:`programme_figures`)."""
    return _page(_w("title", lang), lang, programme_sections(report, lang, figures=figures), css=PROGRAMME_CSS)


def programme_figures(report: Any, lang: str = "vi") -> dict[str, Any]:
    """The report's plots (SVG text; None where there is nothing to plot): the shares of the top units and
    the progress by month. They use no per-area share, so they can be drawn while the areas are still estimated
    (``build_report(..., while_areas_run=...)``)."""
    names = Names(report.meta, lang)
    levels = report.meta["levels"][1:]
    figures: dict[str, Any] = {"shares": _shares_plot(report.units, levels, names), "progress": []}
    if report.monthly:
        figures["progress"] = _progress_plots(report, _progress_picks(report), lang, names)
    return figures


def programme_sections(
    report: Any,
    lang: str = "vi",
    *,
    plots: bool = True,
    unit_link: Callable[[str], str] | None = None,
    figures: dict[str, Any] | None = None,
) -> list[str]:
    """The report's body as HTML fragments in ``lang``: heading, summary, drill-down table, shares per area,
    targets, progress by month (plots, or tables when ``plots`` is false), training needs, retests.

    ``unit_link(unit_id)`` gives each unit name in the drill-down a link (the dashboard's drill-down); the meta
    key ``scoped_persons`` (set by the dashboard for a manager) replaces the store-wide summary line; ``figures``:
    the plots drawn beforehand (:func:`programme_figures`), else they are drawn here.
    """
    if plots and figures is None:
        figures = programme_figures(report, lang)
    meta = report.meta
    names = Names(meta, lang)
    levels = meta["levels"][1:]
    if meta.get("scoped_persons") is not None:
        summary = _w("summary_scoped", lang, persons=meta["scoped_persons"])
    else:
        summary = _w(
            "summary",
            lang,
            sessions=meta["sessions"],
            persons=meta["persons"],
            unassigned=meta["persons_without_unit"],
        )
    body = [
        f"<h1>{escape(_w('title', lang))}</h1>",
        f"<p>{escape(_w('as_of', lang))} {escape(meta['as_of'])}. {escape(summary)}</p>",
        f"<h2>{escape(_w('units', lang))}</h2>",
        f'<p class="muted">{escape(_w("units_note", lang))}</p>',
        _drill_down(report.units, levels, lang, names, unit_link),
    ]
    if plots:
        body += [
            f"<h2>{escape(_w('shares_plot', lang))}</h2>",
            *_figures([figures["shares"]], lang),
        ]
    area_table = _areas(report, levels, lang, names)
    if area_table:
        body += [
            f"<h2>{escape(_w('areas', lang))}</h2>",
            f'<p class="muted">{escape(_w("areas_note", lang))}</p>',
            *_fallback_note(meta, lang, names),
            area_table,
        ]
    if report.targets:
        body += [f"<h2>{escape(_w('targets', lang))}</h2>", _targets(report.targets, lang, names)]
    if report.monthly:
        picks = _progress_picks(report)
        body.append(f"<h2>{escape(_w('progress', lang))}</h2>")
        if plots:
            body += _figures(figures["progress"], lang)
        else:
            body += [_progress_table(report, p, lang, names) for p in picks]
    if report.needs:
        body += [f"<h2>{escape(_w('needs', lang))}</h2>", _needs(report.needs, lang, names)]
    if report.retests:
        body += [f"<h2>{escape(_w('retests', lang))}</h2>", _retests(report.retests, lang, names)]
    return body


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.3f}"


def _interval(lo: float | None, hi: float | None) -> str:
    return "–" if lo is None or hi is None else f"{_pct(lo)}–{_pct(hi)}"


def _grid(head: list[tuple[str, bool]], rows: list[list[tuple[str, bool]]], cls: str = "") -> str:
    """A table from escaped cell texts; the flag marks numeric (right-aligned) columns."""
    th = "".join(f'<th scope="col"{" class=n" if num else ""}>{escape(h)}</th>' for h, num in head)
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if num else ''}>{text}</td>" for text, num in r) + "</tr>" for r in rows
    )
    table_cls = f' class="{cls}"' if cls else ""
    return f'<div class="scroll"><table{table_cls}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table></div>'


def _drill_down(
    units: list[dict[str, Any]], levels: list[str], lang: str, names: Names, link: Callable[[str], str] | None
) -> str:
    """Units depth-first, each indented under its parent; a unit's row folds its sub-units' figures in."""
    from digicomp.programme.units import UNASSIGNED

    head = [_w("unit", lang), _w("assessed", lang), _w("headcount", lang)]
    for lv in levels:
        head += [names.at_or_above(lv), _w("interval", lang), _w("count", lang)]
    heads = "".join(f'<th scope="col">{escape(h)}</th>' for h in head)
    out = [f'<div class="scroll"><table class="dd"><thead><tr>{heads}</tr></thead><tbody>']
    for u in units:
        uid = u["unit"]
        label = escape(names.unit(uid))
        if link is not None and uid != UNASSIGNED:
            label = f'<a href="{escape(link(uid))}">{label}</a>'
        code = "" if uid == UNASSIGNED or names.unit(uid) == uid else f' <span class="muted">{escape(uid)}</span>'
        cells = [
            f'<td id="u-{escape(uid)}">{label}{code}</td>',
            f'<td class="n">{u["assessed"]}</td>',
            f'<td class="n">{"" if u["headcount"] is None else u["headcount"]}</td>',
        ]
        for lv in levels:
            cells += [
                f'<td class="n"><b>{_pct(u[f"{lv}+"])}</b></td>',
                f'<td class="n">{_interval(u[f"{lv}+_lower"], u[f"{lv}+_upper"])}</td>',
                f'<td class="n muted">{_pct(u[f"{lv}+_count"])}</td>',
            ]
        out.append(f'<tr class="d{min(u["depth"], MAX_DEPTH_CLASS)}">' + "".join(cells) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _focus_units(units: list[dict[str, Any]], most: int = 5) -> list[str]:
    """The top units of the report (the shallowest shown, e.g. the provinces, or the one unit asked for)."""
    from digicomp.programme.units import UNASSIGNED

    shown = [u for u in units if u["unit"] != UNASSIGNED and u["assessed"]]
    if not shown:
        return []
    top = min(u["depth"] for u in shown)
    return [u["unit"] for u in shown if u["depth"] == top][:most]


def _fallback_note(meta: dict[str, Any], lang: str, names: Names) -> list[str]:
    """A warning naming the areas estimated from θ and SE (``meta['area_method']``), whose intervals are not
    calibrated, and how to fix it; nothing when every area came from stored likelihoods."""
    plain = {a: m for a, m in (meta.get("area_method") or {}).items() if m.get("method") != "likelihood"}
    if not plain:
        return []
    areas = ", ".join(names.area(a) for a in sorted(plain))
    lacking = sum(int(m.get("without_likelihood", 0)) for m in plain.values())
    return [f'<p class="warn">{escape(_w("areas_fallback", lang, areas=areas, lacking=lacking))}</p>']


def _areas(report: Any, levels: list[str], lang: str, names: Names) -> str:
    """Per top unit, each area's share at or above each level with its interval."""
    focus = _focus_units(report.units)
    rows_of: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in report.shares:
        if r["area"] is not None and r["unit"] in focus:
            rows_of.setdefault((r["unit"], r["area"]), {})[r["level"]] = r
    if not rows_of:
        return ""
    head = [(_w("unit", lang), False), (_w("area", lang), False), (_w("assessed", lang), True)]
    for lv in levels:
        head += [(names.at_or_above(lv), True), (_w("interval", lang), True)]
    rows = []
    for unit in focus:
        for (u, area), by_level in rows_of.items():
            if u != unit:
                continue
            first = next(iter(by_level.values()))
            row = [(escape(names.unit(u)), False), (escape(names.area(area)), False), (str(first["assessed"]), True)]
            for lv in levels:
                r = by_level.get(lv) or {}
                row += [(f"<b>{_pct(r.get('share'))}</b>", True), (_interval(r.get("lower"), r.get("upper")), True)]
            rows.append(row)
    return _grid(head, rows)


def _targets(targets: list[dict[str, Any]], lang: str, names: Names) -> str:
    statuses = WORDS["status"][_lang(lang)]
    head = [
        (_w("unit", lang), False),
        (_w("level", lang), False),
        (_w("target", lang), True),
        (_w("date", lang), False),
        (_w("scope", lang), False),
        (_w("assessed", lang), True),
        (_w("share", lang), True),
        (_w("interval", lang), True),
        (_w("p_meets", lang), True),
        (_w("projected", lang), True),
        (_w("status_col", lang), False),
    ]
    rows = []
    for t in targets:
        scope = _w("all_units", lang) if t["scope"] == "all units" else names.unit(t["scope"])
        rows.append(
            [
                (escape(names.unit(t["unit"])), False),
                (escape(names.at_or_above(t["level"])), False),
                (_pct(t["target_share"]), True),
                (escape(t["date"]), False),
                (escape(scope), False),
                (str(t["assessed"]), True),
                (f"<b>{_pct(t['share'])}</b>", True),
                (_interval(t["lower"], t["upper"]), True),
                (_pct(t["p_meets"]), True),
                (_pct(t["projected"]), True),
                (escape(statuses.get(t["status"], t["status"])), False),
            ]
        )
    return _grid(head, rows)


def _needs(needs: list[dict[str, Any]], lang: str, names: Names) -> str:
    head = [
        (_w("unit", lang), False),
        (_w("rank", lang), True),
        (_w("competence", lang), False),
        (_w("persons", lang), True),
        (_w("share_of_assessed", lang), True),
        (_w("need", lang), True),
        (_w("mean_gap", lang), True),
    ]
    rows = [
        [
            (escape(names.unit(n["unit"])), False),
            (str(n["rank"]), True),
            (escape(names.competence(n["competence"])), False),
            (str(n["persons"]), True),
            (_pct(n["share_of_assessed"]), True),
            (_num(n["need"]), True),
            (_num(n["mean_gap"]), True),
        ]
        for n in needs
    ]
    return _grid(head, rows)


def _retests(retests: list[dict[str, Any]], lang: str, names: Names) -> str:
    def num(x: float | None) -> str:
        return "–" if x is None else f"{x:+.2f}"

    head = [
        (_w("unit", lang), False),
        (_w("retested", lang), True),
        (_w("mean_change", lang), True),
        (_w("interval", lang), True),
        (_w("improved", lang), True),
        (_w("declined", lang), True),
    ]
    rows = [
        [
            (escape(names.unit(r["unit"])), False),
            (str(r["retested"]), True),
            (num(r["mean_change"]), True),
            (f"{num(r['lower'])} – {num(r['upper'])}", True),
            (str(r["improved"]), True),
            (str(r["declined"]), True),
        ]
        for r in retests
    ]
    return _grid(head, rows)


def _shares_plot(units: list[dict[str, Any]], levels: list[str], names: Names, most: int = 20) -> str | None:
    """Share at or above each level for the top two tiers of units (at most ``most``) with 95% intervals."""
    from digicomp.reporting.svgplot import Interval, intervals_chart

    shown = [u for u in units if u["assessed"] and u["depth"] <= 1][:most]
    if not shown:
        return None

    def point(u: dict[str, Any], lv: str) -> Interval | None:
        est, lo, hi = u[f"{lv}+"], u[f"{lv}+_lower"], u[f"{lv}+_upper"]
        return None if est is None or lo is None or hi is None else Interval(est, lo, hi)

    return intervals_chart(
        [names.unit(u["unit"]) for u in shown],
        [names.at_or_above(lv) for lv in levels],
        [[point(u, lv) for lv in levels] for u in shown],
        _w("shares_plot", names.lang),
        indent=[u["depth"] for u in shown],
    )


def _progress_picks(report: Any, most: int = 3) -> list[tuple[str, str, float | None, str | None]]:
    """(unit, level, target share, date) whose monthly series to show: the targets' units, else the top units."""
    wanted: list[tuple[str, str, float | None, str | None]] = []
    seen: set[tuple[str, str]] = set()
    for t in report.targets:
        if (t["unit"], t["level"]) not in seen:
            seen.add((t["unit"], t["level"]))
            wanted.append((t["unit"], t["level"], t["target_share"], t["date"]))
    if not wanted:
        top = [u["unit"] for u in report.units if u["depth"] == min(x["depth"] for x in report.units)][:most]
        wanted = [(u, report.meta["levels"][1], None, None) for u in top]
    return wanted[:most]


def _series(report: Any, unit: str, level: str) -> list[dict[str, Any]]:
    return [m for m in report.monthly if m["unit"] == unit and m["level"] == level and m["share"] is not None]


def _progress_title(pick: tuple[str, str, float | None, str | None], lang: str, names: Names) -> str:
    unit, level, share, date = pick
    title = f"{names.unit(unit)}: {names.at_or_above(level)}"
    if share is not None:
        title += " → " + _w("by_date", lang, share=f"{share:.0%}", date=date)
    return title


def _progress_table(report: Any, pick: tuple[str, str, float | None, str | None], lang: str, names: Names) -> str:
    """One unit and level's share by month with its interval (the dashboard's form of the progress plot)."""
    pts = _series(report, pick[0], pick[1])
    if not pts:
        return ""
    head = [(_w("month", lang), False), (_w("assessed", lang), True), (_w("share", lang), True)]
    head.append((_w("interval", lang), True))
    rows = [
        [(escape(p["month"]), False), (str(p["assessed"]), True), (f"<b>{_pct(p['share'])}</b>", True)]
        + [(_interval(p["lower"], p["upper"]), True)]
        for p in pts
    ]
    return f"<h3>{escape(_progress_title(pick, lang, names))}</h3>" + _grid(head, rows)


def _progress_plots(report: Any, picks: list, lang: str, names: Names) -> list[str | None]:
    """Share over the months with its band, the target as a dashed line, for each picked unit and level."""
    from digicomp.reporting.svgplot import Interval, series_chart

    out: list[str | None] = []
    for pick in picks:
        pts = _series(report, pick[0], pick[1])
        if pts:
            values = [Interval(p["share"], p["lower"], p["upper"]) for p in pts]
            out.append(series_chart([p["month"] for p in pts], values, _progress_title(pick, lang, names), pick[2]))
    return out or [None]
