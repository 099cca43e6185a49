"""Small charts written directly as SVG text: points with interval whiskers, and a series with its band.

The programme report draws its two kinds of chart with these instead of matplotlib: they need no plotting extra,
their text stays text (searchable, translatable, a ``<title>`` on every mark for screen readers and tooltips), and
they cost milliseconds where importing and running matplotlib cost about 1.7 s of CPU beside the report's areas
(docs/programme.md, Speed). Coordinates are computed with plain arithmetic; nothing here knows about reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
"""One colour per series, in order (matplotlib's first six, so the reports' plots keep their look)."""
FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif"'


@dataclass(frozen=True)
class Interval:
    """One point estimate with its interval ends (all on the chart's value scale)."""

    estimate: float
    lower: float
    upper: float


def _svg(width: float, height: float, parts: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(label)}" {FONT} font-size="11">'
        f"<title>{escape(label)}</title>" + "".join(parts) + "</svg>"
    )


def _percent(x: float) -> str:
    return f"{x:.0%}"


def _value_axis(x0: float, x1: float, y0: float, y1: float, horizontal: bool) -> list[str]:
    """Grid lines and labels at 0%, 20%, ..., 100% along the value axis (x when ``horizontal``)."""
    out = []
    for k in range(6):
        v = k / 5
        if horizontal:
            x = x0 + v * (x1 - x0)
            out.append(f'<line x1="{x:.1f}" y1="{y0:.1f}" x2="{x:.1f}" y2="{y1:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{x:.1f}" y="{y1 + 14:.1f}" text-anchor="middle">{_percent(v)}</text>')
        else:
            y = y1 - v * (y1 - y0)
            out.append(f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x1:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 6:.1f}" y="{y + 4:.1f}" text-anchor="end">{_percent(v)}</text>')
    return out


def intervals_chart(
    rows: Sequence[str],
    series: Sequence[str],
    values: Sequence[Sequence[Interval | None]],
    label: str,
    indent: Sequence[int] | None = None,
) -> str:
    """Horizontal chart of shares: for each row (e.g. a unit) one point per series (e.g. a level) with its interval
    as a whisker, on a 0–100% axis; a legend names the series. ``values[r][s]`` is None where there is nothing to
    show; ``indent[r]`` indents a row's name (its depth in a tree)."""
    indent = indent or [0] * len(rows)
    left, right, top, legend = 230.0, 20.0, 10.0, 18.0 * ((len(series) + 2) // 3)
    band = 10.0 + 9.0 * len(series)
    width = 700.0
    height = top + band * len(rows) + 24 + legend
    x0, x1, y_end = left, width - right, top + band * len(rows)
    parts = _value_axis(x0, x1, top, y_end, horizontal=True)
    for r, name in enumerate(rows):
        y_row = top + band * r
        parts.append(f'<text x="{8 + 10 * indent[r]:.0f}" y="{y_row + band / 2 + 4:.1f}">{escape(name[:40])}</text>')
        for s, point in enumerate(values[r]):
            if point is None:
                continue
            y = y_row + 5 + 9.0 * s + 4.5
            xs = [x0 + min(max(v, 0.0), 1.0) * (x1 - x0) for v in (point.lower, point.estimate, point.upper)]
            colour = COLOURS[s % len(COLOURS)]
            tip = f"{name} — {series[s]}: {_percent(point.estimate)} [{_percent(point.lower)}, {_percent(point.upper)}]"
            parts.append(
                f'<g stroke="{colour}" fill="{colour}"><title>{escape(tip)}</title>'
                f'<line x1="{xs[0]:.1f}" y1="{y:.1f}" x2="{xs[2]:.1f}" y2="{y:.1f}"/>'
                f'<line x1="{xs[0]:.1f}" y1="{y - 3:.1f}" x2="{xs[0]:.1f}" y2="{y + 3:.1f}"/>'
                f'<line x1="{xs[2]:.1f}" y1="{y - 3:.1f}" x2="{xs[2]:.1f}" y2="{y + 3:.1f}"/>'
                f'<circle cx="{xs[1]:.1f}" cy="{y:.1f}" r="3"/></g>'
            )
    parts.append(f'<line x1="{x0}" y1="{y_end}" x2="{x1}" y2="{y_end}" stroke="#666"/>')
    for s, name in enumerate(series):
        lx, ly = x0 + 160.0 * (s % 3), y_end + 34 + 18.0 * (s // 3)
        colour = COLOURS[s % len(COLOURS)]
        parts.append(
            f'<circle cx="{lx:.0f}" cy="{ly - 4:.0f}" r="4" fill="{colour}"/>'
            f'<text x="{lx + 9:.0f}" y="{ly:.0f}">{escape(name)}</text>'
        )
    return _svg(width, height, parts, label)


def series_chart(
    labels: Sequence[str],
    values: Sequence[Interval],
    title: str,
    target: float | None = None,
) -> str:
    """A share over time (e.g. months): the estimates joined by a line over the band of their intervals, on a
    0–100% axis, with an optional target as a dashed line."""
    width, height = 640.0, 260.0
    x0, x1, y0, y1 = 50.0, width - 20, 28.0, height - 56
    n = len(values)

    def x(i: int) -> float:
        return x0 + (x1 - x0) * (0.5 if n == 1 else i / (n - 1))

    def y(v: float) -> float:
        return y1 - min(max(v, 0.0), 1.0) * (y1 - y0)

    parts = [f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" font-size="12">{escape(title)}</text>']
    parts += _value_axis(x0, x1, y0, y1, horizontal=False)
    band = [f"{x(i):.1f},{y(v.upper):.1f}" for i, v in enumerate(values)]
    band += [f"{x(i):.1f},{y(v.lower):.1f}" for i, v in reversed(list(enumerate(values)))]
    parts.append(f'<polygon points="{" ".join(band)}" fill="{COLOURS[0]}" fill-opacity="0.25"/>')
    line = " ".join(f"{x(i):.1f},{y(v.estimate):.1f}" for i, v in enumerate(values))
    parts.append(f'<polyline points="{line}" fill="none" stroke="{COLOURS[0]}" stroke-width="1.5"/>')
    for i, v in enumerate(values):
        tip = f"{labels[i]}: {_percent(v.estimate)} [{_percent(v.lower)}, {_percent(v.upper)}]"
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(v.estimate):.1f}" r="3" fill="{COLOURS[0]}">'
            f"<title>{escape(tip)}</title></circle>"
        )
        parts.append(
            f'<text x="{x(i):.1f}" y="{y1 + 12:.1f}" text-anchor="end" font-size="9" '
            f'transform="rotate(-45 {x(i):.1f} {y1 + 12:.1f})">{escape(labels[i])}</text>'
        )
    if target is not None:
        parts.append(
            f'<line x1="{x0}" y1="{y(target):.1f}" x2="{x1}" y2="{y(target):.1f}" stroke="#4d4d4d" '
            f'stroke-dasharray="5 3"><title>{escape(_percent(target))}</title></line>'
        )
    parts.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="#666"/>')
    return _svg(width, height, parts, title)
