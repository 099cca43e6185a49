"""Self-contained HTML reports (inline CSS and SVG plots, no external files) of a test result or a study."""

from __future__ import annotations

from html import escape
from typing import Any

from digicomp import __version__
from digicomp.reporting import plots
from digicomp.reporting.i18n import stop_reason, t
from digicomp.reporting.text import percent

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{padding:.25rem .6rem;border-bottom:1px solid #eee;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}.level{font-size:1.4rem;font-weight:600}
.note{color:#8a5a00;background:#fff6e0;padding:.5rem .8rem;border-radius:4px}.muted{color:#777}
figure{margin:1rem 0}svg{max-width:100%;height:auto}
"""


def _page(title: str, lang: str, body: list[str], css: str = "") -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{lang}">',
            "<head>",
            '<meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{CSS}{css}</style>",
            "</head>",
            "<body>",
            *body,
            f'<p class="muted">digicomp {__version__}</p>',
            "</body>",
            "</html>",
            "",
        ]
    )


def _table(rows: list[dict[str, Any]], columns: list[str] | None = None, digits: int = 3) -> str:
    if not rows:
        return ""
    columns = columns or list(rows[0])

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f'<td class="n">{v:.{digits}f}</td>'
        if isinstance(v, int) and not isinstance(v, bool):
            return f'<td class="n">{v}</td>'
        return f"<td>{escape('' if v is None else str(v))}</td>"

    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(r.get(c)) for c in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figures(svgs: list[str | None], lang: str) -> list[str]:
    drawn = [f"<figure>{s}</figure>" for s in svgs if s]
    return drawn or [f'<p class="muted">{escape(t("no_plots", lang))}</p>']


def result_html(result: dict[str, Any], lang: str | None = None) -> str:
    """A test result as one HTML page: level and its meaning, areas, what to work on, answers, plots."""
    lang = lang or result.get("lang", "vi")
    title = t("title", lang) + (f" — {result['framework']['title']}" if result.get("framework") else "")
    body = [f"<h1>{escape(title)}</h1>"]
    if result.get("person"):
        body.append(f"<p>{escape(t('person', lang))}: <b>{escape(str(result['person']))}</b></p>")
    level = result.get("level")
    if level:
        prob = level.get("probability")
        extra = f" ({escape(t('certainty', lang, p=percent(prob)))})" if prob is not None else ""
        body.append(
            f'<p>{escape(t("overall", lang))}: <span class="level">'
            f"{escape(level.get('name') or level['id'])}</span>{extra}</p>"
        )
        if level.get("description"):
            body.append(f"<p>{escape(level['description'])}</p>")
    body.append(
        "<p>"
        + escape(
            t(
                "theta_line",
                lang,
                theta=f"{result['theta']:+.2f}",
                se=f"{result['se']:.2f}",
                n=result["n_items"],
                why=stop_reason(result.get("stop_reason"), lang),
            )
        )
        + "</p>"
    )
    if result.get("areas"):
        rows = [
            {
                t("area", lang): f"{a['area']} {a.get('name') or ''}",
                t("level", lang): a.get("level_name") or a.get("level"),
                "θ̂": a["theta"],
                "SE": a["se"],
                "n": a["n_items"],
                "": t("imprecise", lang) if a.get("imprecise") else "",
            }
            for a in result["areas"]
        ]
        body += [f"<h2>{escape(t('by_area', lang))}</h2>", _table(rows, digits=2)]
    if "to_work_on" in result:
        body.append(f"<h2>{escape(t('work_on', lang))}</h2>")
        if not result["to_work_on"]:
            body.append(f"<p>{escape(t('work_on_none', lang))}</p>")
        else:
            items = "".join(
                f"<li><b>{escape(c['competence'])} {escape(c.get('name') or '')}</b>"
                f"<br><span class='muted'>{escape(c.get('description') or '')}</span></li>"
                for c in result["to_work_on"]
            )
            body.append(f"<ul>{items}</ul>")
    body.append(f"<h2>{escape(t('theta_path', lang))}</h2>")
    body += _figures([plots.theta_path(result, lang), plots.information(result, lang)], lang)
    if result.get("path"):
        rows = [
            {
                "#": i,
                "item": p["item"],
                t("area", lang): p.get("competence"),
                "": t("right", lang) if p["score"] else t("wrong", lang),
                "θ̂": p["theta"],
                "SE": p["se"],
            }
            for i, p in enumerate(result["path"], 1)
        ]
        body += [f"<h2>{escape(t('answers', lang))}</h2>", _table(rows, digits=2)]
    if result.get("bank", {}).get("provisional"):
        body.append(f'<p class="note">{escape(t("provisional", lang))}</p>')
    bank = result.get("bank", {})
    body.append(
        f'<p class="muted">{escape(t("bank", lang))}: {escape(str(bank.get("id")))} '
        f"{escape(str(bank.get('version')))} ({escape(str(bank.get('fingerprint')))})</p>"
    )
    return _page(title, lang, body)


def study_html(study: dict[str, Any], lang: str = "vi", exposure: dict[str, list[float]] | None = None) -> str:
    """A simulation study as one HTML page: the comparison table, conditional tables and plots."""
    from digicomp.reporting.study import compare_rows  # imports the simulation package: only study pages need it

    title = f"{t('study', lang)}: n = {study['n']}"
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p class='muted'>{escape(str(study.get('population')))}, seed {escape(str(study.get('seed')))}</p>",
        f"<h2>{escape(t('summary', lang))}</h2>",
        _table(compare_rows(study), digits=4),
    ]
    body += _figures([plots.study_conditional(study, lang), plots.study_exposure(exposure or {}, lang)], lang)
    for name, d in study["designs"].items():
        body.append(f"<h2>{escape(name)}</h2><p>{escape(d.get('description') or '')}</p>")
        body.append(_table(d.get("conditional", [])))
        if d.get("areas"):
            body.append(_table(d["areas"]))
    return _page(title, lang, body)
