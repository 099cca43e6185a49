"""Plain-text reports for the terminal: a test result, and a simulation study's summary table."""

from __future__ import annotations

import textwrap
from typing import Any

from digicomp.reporting.i18n import stop_reason, t

WIDTH = 78


def wrap(text: str, indent: str = "  ", width: int = WIDTH) -> str:
    """``text`` wrapped to ``width`` columns with every line indented."""
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent)


def result_text(result: dict[str, Any], lang: str | None = None, answers: bool = False) -> str:
    """The result of one test as the test taker reads it: level, explanation, areas, what to work on."""
    lang = lang or result.get("lang", "vi")
    lines = [t("result", lang), "=" * len(t("result", lang))]
    if result.get("person"):
        lines.append(f"{t('person', lang)}: {result['person']}")
    level = result.get("level")
    if level:
        name = level.get("name") or level["id"]
        prob = level.get("probability")
        extra = f"  ({t('certainty', lang, p=percent(prob))})" if prob is not None else ""
        lines.append(f"{t('overall', lang)}: {name.upper()}{extra}")
        if level.get("description"):
            lines.append(wrap(level["description"]))
    lines.append(
        wrap(
            t(
                "theta_line",
                lang,
                theta=f"{result['theta']:+.2f}",
                se=f"{result['se']:.2f}",
                n=result["n_items"],
                why=stop_reason(result.get("stop_reason"), lang),
            ),
            indent="",
        )
    )
    areas = result.get("areas") or []
    if areas:
        lines += ["", t("by_area", lang) + ":"]
        width = max(len(a.get("name") or "") for a in areas)
        for a in areas:
            lvl = a.get("level_name") or a.get("level", "")
            if a.get("level_probabilities") and a.get("level") in a["level_probabilities"]:  # multidimensional tests
                lvl = f"{lvl} {a['level_probabilities'][a['level']]:.0%}"
            note = f", {t('imprecise', lang)}" if a.get("imprecise") else ""
            lines.append(
                f"  {a['area']:<3} {(a.get('name') or ''):<{width}}  {lvl:<14} "
                f"({t('area_items', lang, n=a['n_items'])}{note})"
            )
    if "to_work_on" in result:
        lines += ["", t("work_on", lang) + ":"]
        if not result["to_work_on"]:
            lines.append(wrap(t("work_on_none", lang)))
        for c in result["to_work_on"]:
            lines.append(f"  • {c['competence']} {c.get('name') or ''}")
            if c.get("description"):
                lines.append(wrap(c["description"], indent="      "))
    if answers and result.get("path"):
        lines += ["", t("answers", lang) + ":"]
        for i, p in enumerate(result["path"], 1):
            mark = t("right", lang) if p["score"] else t("wrong", lang)
            lines.append(f"  {i:>2}. {p['item']:<14} {mark:<5}  θ̂ = {p['theta']:+.2f} ± {p['se']:.2f}")
    if result.get("bank", {}).get("provisional"):
        lines += ["", wrap(t("provisional", lang), indent="")]
    return "\n".join(lines)


def percent(p: float) -> str:
    """A probability as a whole percentage that never rounds to a certainty it does not have."""
    if p > 0.99:
        return ">99%"
    if p < 0.01:
        return "<1%"
    return f"{p:.0%}"


def path_line(path: list[dict[str, Any]], start: float = 0.0) -> str:
    """The θ̂ path as one line: ``0.00 → -0.41 → ...``."""
    return " → ".join([f"{start:+.2f}", *(f"{p['theta']:+.2f}" for p in path)])


def table(rows: list[dict[str, Any]], columns: list[str] | None = None, digits: int = 3) -> str:
    """A fixed-width table of dict rows; floats to ``digits`` decimals."""
    if not rows:
        return ""
    columns = columns or list(rows[0])
    cell = lambda v: f"{v:.{digits}f}" if isinstance(v, float) else ("" if v is None else str(v))  # noqa: E731
    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    fmt = lambda vals: "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths)))  # noqa: E731
    return "\n".join([fmt(columns), fmt(["-" * w for w in widths]), *(fmt(r) for r in cells)])
