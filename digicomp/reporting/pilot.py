"""The pilot report: one self-contained HTML page (Vietnamese or English) of ``digicomp analyze``'s tables.

Sections: summary, item table with flags, option curves of the flagged multiple-choice items, DIF tables and
plots, test information, person-fit distribution, and everything excluded. Built from plain data (the dict
``digicomp analyze`` writes as JSON plus row tables), with the page, table and figure helpers of
:mod:`digicomp.reporting.html` and :mod:`digicomp.reporting.plots`; plots need the ``plot`` extra and are left out
(with a note) without it.
"""

from __future__ import annotations

import contextlib
from html import escape
from typing import Any

import numpy as np

from digicomp.reporting import plots
from digicomp.reporting.html import _figures, _page, _table

TEXT: dict[str, dict[str, str]] = {
    "title": {"vi": "Báo cáo phân tích thử nghiệm", "en": "Pilot analysis report"},
    "summary": {"vi": "Tóm tắt", "en": "Summary"},
    "items": {"vi": "Bảng câu hỏi và cảnh báo", "en": "Items and flags"},
    "options": {"vi": "Đường cong phương án (câu bị cảnh báo)", "en": "Option curves (flagged items)"},
    "options_note": {
        "vi": "Tỉ lệ chọn mỗi phương án theo nhóm điểm (1 = thấp nhất); phương án đúng vẽ nét đậm.",
        "en": "Share choosing each option by score group (1 = lowest); the key is drawn bold.",
    },
    "dif": {"vi": "Chức năng câu hỏi khác biệt (DIF)", "en": "Differential item functioning (DIF)"},
    "dif_none": {
        "vi": "Chưa phân tích DIF (cần --groups và --by).",
        "en": "No DIF analysis (needs --groups and --by).",
    },
    "dif_flagged": {
        "vi": "Câu bị đánh dấu (Benjamini–Hochberg, q < {alpha})",
        "en": "Flagged items (Benjamini–Hochberg, q < {alpha})",
    },
    "mh": {"vi": "Mantel–Haenszel (phân loại ETS A/B/C)", "en": "Mantel–Haenszel (ETS classes A/B/C)"},
    "logistic": {"vi": "Hồi quy logistic", "en": "Logistic regression"},
    "irt": {"vi": "IRT – kiểm định tỉ số hợp lý", "en": "IRT likelihood ratio"},
    "irt_wald": {"vi": "IRT – kiểm định Wald", "en": "IRT Wald test"},
    "groups": {"vi": "Phân phối năng lực theo nhóm", "en": "Ability distribution by group"},
    "information": {"vi": "Thông tin của bài thi", "en": "Test information"},
    "person_fit": {"vi": "Độ phù hợp của người làm bài", "en": "Person fit"},
    "person_fit_note": {
        "vi": "Phân phối lz* (Snijders 2001); giá trị thấp là mẫu trả lời bất thường. {n} người bị đánh dấu.",
        "en": "Distribution of lz* (Snijders 2001); low values are aberrant patterns. {n} persons flagged.",
    },
    "excluded": {"vi": "Những gì bị loại và lý do", "en": "What was excluded, and why"},
    "nothing_excluded": {"vi": "Không có gì bị loại.", "en": "Nothing was excluded."},
    "missing_section": {"vi": "Phần này chưa có: {why}", "en": "Section not available: {why}"},
    "delta_axis": {"vi": "Δ MH (ETS)", "en": "MH delta (ETS)"},
    "item_axis": {"vi": "câu hỏi", "en": "item"},
    "score_group": {"vi": "nhóm điểm", "en": "score group"},
    "share": {"vi": "tỉ lệ chọn", "en": "share choosing"},
    "persons": {"vi": "người", "en": "persons"},
    "no_flagged_options": {
        "vi": "Không có phương án nào bị cảnh báo.",
        "en": "No option is flagged.",
    },
    "b_reference": {"vi": "độ khó b, nhóm tham chiếu", "en": "difficulty b, reference group"},
    "b_other": {"vi": "độ khó b, nhóm khác nhiều nhất", "en": "difficulty b, most different group"},
}


def tr(key: str, lang: str, **fields: Any) -> str:
    """The report text ``key`` in ``lang`` (English when missing)."""
    entry = TEXT[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**fields) if fields else text


def pilot_html(report: dict[str, Any], tables: dict[str, list[dict[str, Any]]], lang: str = "vi") -> str:
    """The pilot report page. ``report``: the JSON summary; ``tables``: rows of the CSV tables by name
    (items, options, dif_mh, dif_logistic, dif_irt, groups, person_fit, information, excluded).

    The plots keep their text as SVG text rather than glyph outlines (smaller pages, ~15% less rendering time).
    """
    with _svg_text():
        return _pilot_page(report, tables, lang)


def _svg_text() -> Any:
    """matplotlib writes SVG text as <text> elements within this context (when matplotlib is installed)."""
    if not plots.available():
        return contextlib.nullcontext()
    import matplotlib

    return matplotlib.rc_context({"svg.fonttype": "none"})


def _pilot_page(report: dict[str, Any], tables: dict[str, list[dict[str, Any]]], lang: str) -> str:
    body = [f"<h1>{escape(tr('title', lang))}</h1>"]
    body += [f"<h2>{escape(tr('summary', lang))}</h2>", _table(_summary_rows(report))]
    for note in report.get("notes", []):
        body.append(f'<p class="note">{escape(note)}</p>')
    body.append(f"<h2>{escape(tr('items', lang))}</h2>")
    body.append(_section(tables.get("items"), report, "items", lang))
    body.append(f"<h2>{escape(tr('options', lang))}</h2>")
    if tables.get("options") and not any(r.get("flags") for r in tables["options"]):
        body.append(f"<p>{escape(tr('no_flagged_options', lang))}</p>")
    elif tables.get("options"):
        body.append(f'<p class="muted">{escape(tr("options_note", lang))}</p>')
        body += _figures(option_curves(tables["options"], lang), lang)
    else:
        body.append(_missing(report, "options", lang))
    body.append(f"<h2>{escape(tr('dif', lang))}</h2>")
    body += _dif(report, tables, lang)
    body.append(f"<h2>{escape(tr('information', lang))}</h2>")
    body += _figures([test_information(tables.get("information"), lang)], lang)
    body.append(f"<h2>{escape(tr('person_fit', lang))}</h2>")
    pf = tables.get("person_fit")
    if pf:
        n_flag = sum(1 for r in pf if r.get("misfit") in (True, "True", 1))
        body.append(f"<p>{escape(tr('person_fit_note', lang, n=n_flag))}</p>")
        body += _figures([person_fit_histogram(pf, lang)], lang)
    else:
        body.append(_missing(report, "person_fit", lang))
    body.append(f"<h2>{escape(tr('excluded', lang))}</h2>")
    excluded = tables.get("excluded") or []
    body.append(_table(excluded) if excluded else f"<p>{escape(tr('nothing_excluded', lang))}</p>")
    return _page(tr("title", lang), lang, body)


def _summary_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    keep = ("responses", "bank", "n_persons", "n_items", "n_responses", "design", "alpha", "groups_by", "seconds")
    rows = []
    for k in keep:
        if k in report:
            v = report[k]
            if isinstance(v, dict):
                v = ", ".join(f"{a}: {b if not isinstance(b, float) else round(b, 3)}" for a, b in v.items())
            rows.append({"": k, " ": v})
    return rows


def _missing(report: dict[str, Any], section: str, lang: str) -> str:
    why = report.get("missing_sections", {}).get(section, "")
    return f'<p class="note">{escape(tr("missing_section", lang, why=why))}</p>'


def _section(rows: list[dict[str, Any]] | None, report: dict[str, Any], name: str, lang: str) -> str:
    return _table(rows) if rows else _missing(report, name, lang)


def _dif(report: dict[str, Any], tables: dict[str, list[dict[str, Any]]], lang: str) -> list[str]:
    dif = report.get("dif")
    if not dif:
        return [f"<p>{escape(tr('dif_none', lang))}</p>"]
    out = [f"<p>{escape(str(dif.get('description', '')))}</p>"]
    if tables.get("groups"):
        out += [f"<h3>{escape(tr('groups', lang))}</h3>", _table(tables["groups"])]
    irt = "irt_wald" if dif.get("irt_test") == "wald" else "irt"
    for key, title in (("dif_mh", "mh"), ("dif_logistic", "logistic"), ("dif_irt", irt)):
        rows = tables.get(key)
        if not rows:
            continue
        out.append(f"<h3>{escape(tr(title, lang))}</h3>")
        flagged = [r for r in rows if r.get("flagged") in (True, "True", 1)]
        out.append(f"<p>{escape(tr('dif_flagged', lang, alpha=dif.get('alpha', 0.05)))}: {len(flagged)}</p>")
        if flagged:
            out.append(_table(flagged))
        if key == "dif_mh":
            out += _figures([mh_delta_plot(rows, lang)], lang)
        if key == "dif_irt":
            out += _figures([irt_b_plot(rows, lang, irt)], lang)
    return out


# ------------------------------------------------------------------------------------------------ plots
def option_curves(rows: list[dict[str, Any]], lang: str, max_items: int = 12) -> list[str | None]:
    """Small multiples, one panel per flagged item: each option's share by score group (the key bold).

    One figure for all panels: an SVG per item costs a matplotlib render each (~0.5 s), one grid costs about two.
    """
    if not plots.available():
        return [None]
    by_item: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_item.setdefault(str(r["item"]), []).append(r)
    flagged = [i for i, rs in by_item.items() if any(r.get("flags") for r in rs)][:max_items]
    if not flagged:
        return [None]
    cols = min(3, len(flagged))
    n_rows = -(-len(flagged) // cols)
    width, height = 3.0 * cols, 2.3 * n_rows
    # fixed margins (in inches) instead of the constrained layout, which measures every panel's text (~0.3 s)
    fig, _ = plots._figure(width, height, layout=None)
    fig.clf()
    fig.subplots_adjust(
        left=0.8 / width, right=1 - 0.1 / width, bottom=0.6 / height, top=1 - 0.3 / height, wspace=0.35, hspace=0.55
    )
    axes = fig.subplots(n_rows, cols, squeeze=False).ravel()
    for ax, item in zip(axes, flagged):
        rs = by_item[item]
        groups = sorted(int(k[5:]) for k in rs[0] if k.startswith("group") and k[5:].isdigit())
        x = np.array(groups)
        for r in rs:
            y = np.array([np.nan if r[f"group{g}"] is None else float(r[f"group{g}"]) for g in groups])
            key = r.get("is_key") in (True, "True", 1)
            ax.plot(x, y, marker="o", ms=3, lw=2.5 if key else 1.0, label=f"{r['option']}{' *' if key else ''}")
        ax.set(title=item, ylim=(0, 1), xticks=x)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="best")
    for ax in axes[len(flagged) :]:
        ax.set_visible(False)
    fig.supxlabel(tr("score_group", lang), fontsize=9)
    fig.supylabel(tr("share", lang), fontsize=9)
    return [plots._svg(fig)]


def mh_delta_plot(rows: list[dict[str, Any]], lang: str) -> str | None:
    """Δ_MH of every item with the ETS bands ±1 and ±1.5 (flagged items in red)."""
    if not plots.available():
        return None
    d = np.array([float(r["delta"]) if r.get("delta") not in (None, "") else np.nan for r in rows])
    flag = np.array([r.get("flagged") in (True, "True", 1) for r in rows])
    fig, ax = plots._figure()
    x = np.arange(1, d.size + 1)
    ax.scatter(x[~flag], d[~flag], s=8, color="C0")
    ax.scatter(x[flag], d[flag], s=14, color="C3")
    for level in (-1.5, -1.0, 1.0, 1.5):
        ax.axhline(level, color="0.6", lw=0.8, ls="--" if abs(level) == 1.0 else ":")
    ax.set(xlabel=tr("item_axis", lang), ylabel=tr("delta_axis", lang), title=tr("mh", lang))
    return plots._svg(fig)


def irt_b_plot(rows: list[dict[str, Any]], lang: str, title: str = "irt") -> str | None:
    """Each item's difficulty in the reference group against its most different other group (flagged in red)."""
    if not plots.available():
        return None

    def col(name: str) -> np.ndarray:
        return np.array([np.nan if r.get(name) in (None, "") else float(r[name]) for r in rows])

    b, db = col("b_ref"), col("b_diff")
    flag = np.array([r.get("flagged") in (True, "True", 1) for r in rows])
    ok = np.isfinite(b) & np.isfinite(db)
    if not ok.any():
        return None
    fig, ax = plots._figure(4.5, 4.0)
    ax.scatter(b[ok & ~flag], (b + db)[ok & ~flag], s=8, color="C0")
    ax.scatter(b[ok & flag], (b + db)[ok & flag], s=14, color="C3")
    lo, hi = np.nanmin(b[ok]) - 0.5, np.nanmax(b[ok]) + 0.5
    ax.plot([lo, hi], [lo, hi], color="0.6", lw=0.8, ls="--")
    ax.set(xlabel=tr("b_reference", lang), ylabel=tr("b_other", lang), title=tr(title, lang))
    return plots._svg(fig)


def test_information(curve: list[dict[str, Any]] | None, lang: str) -> str | None:
    """Test information over θ with the conditional SE 1/√I."""
    if not plots.available() or not curve:
        return None
    theta = np.array([float(r["theta"]) for r in curve])
    info = np.array([float(r["information"]) for r in curve])
    fig, ax = plots._figure()
    ax.plot(theta, info, color="C0")
    ax.set(xlabel="θ", ylabel="I(θ)", title=tr("information", lang))
    ax2 = ax.twinx()
    ax2.plot(theta, 1.0 / np.sqrt(np.maximum(info, 1e-12)), color="C1", ls="--")
    ax2.set_ylabel("SE(θ)")
    return plots._svg(fig)


def person_fit_histogram(rows: list[dict[str, Any]], lang: str) -> str | None:
    """Histogram of lz* with the standard normal density for reference."""
    if not plots.available():
        return None
    v = np.array([float(r["lz_star"]) for r in rows if r.get("lz_star") not in (None, "")])
    v = v[np.isfinite(v)]
    if v.size == 0:
        return None
    fig, ax = plots._figure()
    ax.hist(v, bins=60, density=True, color="C0", alpha=0.7)
    grid = np.linspace(-4, 4, 200)
    ax.plot(grid, np.exp(-0.5 * grid**2) / np.sqrt(2 * np.pi), color="k", lw=1)
    ax.set(xlabel="lz*", ylabel=tr("persons", lang), title=tr("person_fit", lang))
    return plots._svg(fig)
