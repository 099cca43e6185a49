"""The programme report's plots, written as SVG text: each mark where its value puts it, every value named in a
title, and drawn without matplotlib or the simulation package (checked by what a fresh interpreter imported)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from digicomp.reporting.svgplot import Interval, intervals_chart, series_chart

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML: names with <, & and quotes are escaped
    assert root.tag == f"{NS}svg"
    return root


def axis_x(root: ET.Element) -> tuple[float, float]:
    """x of the 0% and 100% grid lines of a horizontal value axis."""
    labels = {t.text: float(t.get("x")) for t in root.iter(f"{NS}text") if t.text and t.text.endswith("%")}
    return labels["0%"], labels["100%"]


def test_intervals_chart_puts_each_point_and_whisker_at_its_values():
    values = [
        [Interval(0.5, 0.4, 0.6), Interval(0.2, 0.1, 0.35)],
        [None, Interval(1.0, 0.93, 1.0)],
    ]
    root = parse(intervals_chart(["Tỉnh <A> & B", "Sở 1"], ["≥ L1", "≥ L2"], values, "Shares", indent=[0, 1]))
    x0, x1 = axis_x(root)
    marks = root.findall(f"{NS}g")
    assert len(marks) == 3  # the missing value draws nothing
    for mark, want in zip(marks, [values[0][0], values[0][1], values[1][1]]):
        circle = mark.find(f"{NS}circle")
        assert float(circle.get("cx")) == pytest.approx(x0 + want.estimate * (x1 - x0), abs=0.06)
        whisker = mark.findall(f"{NS}line")[0]
        assert float(whisker.get("x1")) == pytest.approx(x0 + want.lower * (x1 - x0), abs=0.06)
        assert float(whisker.get("x2")) == pytest.approx(x0 + want.upper * (x1 - x0), abs=0.06)
        title = mark.find(f"{NS}title").text
        assert f"{want.estimate:.0%} [{want.lower:.0%}, {want.upper:.0%}]" in title
    assert "Tỉnh <A> & B — ≥ L1: 50% [40%, 60%]" == marks[0].find(f"{NS}title").text
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "≥ L1" in texts and "≥ L2" in texts  # the legend
    rows = {t.text: float(t.get("x")) for t in root.iter(f"{NS}text") if t.text in ("Tỉnh <A> & B", "Sở 1")}
    assert rows["Sở 1"] > rows["Tỉnh <A> & B"]  # indented by depth
    assert root.find(f"{NS}title").text == "Shares" and root.get("aria-label") == "Shares"


def test_values_outside_the_axis_are_kept_on_it():
    root = parse(intervals_chart(["u"], ["s"], [[Interval(1.02, -0.1, 1.3)]], "t"))
    x0, x1 = axis_x(root)
    line = root.find(f"{NS}g").findall(f"{NS}line")[0]
    assert float(line.get("x1")) == pytest.approx(x0) and float(line.get("x2")) == pytest.approx(x1)
    assert float(root.find(f"{NS}g").find(f"{NS}circle").get("cx")) == pytest.approx(x1)


def test_series_chart_joins_the_estimates_over_their_band_with_the_target_dashed():
    values = [Interval(0.2, 0.1, 0.3), Interval(0.5, 0.45, 0.55), Interval(0.8, 0.7, 0.85)]
    root = parse(series_chart(["2026-01", "2026-02", "2026-03"], values, "Unit: ≥ L1", target=0.8))
    grid = {t.text: float(t.get("y")) - 4 for t in root.iter(f"{NS}text") if t.text and t.text.endswith("%")}
    y0, y100 = grid["0%"], grid["100%"]

    def y(v: float) -> float:
        return y0 + v * (y100 - y0)

    points = [tuple(map(float, p.split(","))) for p in root.find(f"{NS}polyline").get("points").split()]
    assert [py for _, py in points] == pytest.approx([y(v.estimate) for v in values], abs=0.06)
    assert points[0][0] < points[1][0] < points[2][0]
    band = [tuple(map(float, p.split(","))) for p in root.find(f"{NS}polygon").get("points").split()]
    assert [py for _, py in band] == pytest.approx(
        [y(v.upper) for v in values] + [y(v.lower) for v in reversed(values)], abs=0.06
    )
    target = [ln for ln in root.iter(f"{NS}line") if ln.get("stroke-dasharray")]
    assert len(target) == 1 and float(target[0].get("y1")) == pytest.approx(y(0.8), abs=0.06)
    tips = [c.find(f"{NS}title").text for c in root.iter(f"{NS}circle")]
    assert tips == ["2026-01: 20% [10%, 30%]", "2026-02: 50% [45%, 55%]", "2026-03: 80% [70%, 85%]"]


def test_series_chart_of_one_month_and_without_a_target():
    root = parse(series_chart(["2026-05"], [Interval(0.4, 0.3, 0.5)], "t"))
    assert len(list(root.iter(f"{NS}circle"))) == 1
    assert not [ln for ln in root.iter(f"{NS}line") if ln.get("stroke-dasharray")]


def test_the_report_plots_need_neither_matplotlib_nor_the_simulation_package():
    code = (
        "import json, sys\n"
        "from types import SimpleNamespace\n"
        "from digicomp.reporting.programme import programme_figures\n"
        "unit = {'unit': 'A', 'depth': 0, 'assessed': 3, 'L1+': 0.5, 'L1+_lower': 0.3, 'L1+_upper': 0.7}\n"
        "month = {'month': '2026-01', 'unit': 'A', 'level': 'L1', 'share': 0.5, 'lower': 0.3, 'upper': 0.7,\n"
        "         'assessed': 3}\n"
        "r = SimpleNamespace(meta={'levels': ['L0', 'L1'], 'labels': {}}, units=[unit], monthly=[month], targets=[])\n"
        "f = programme_figures(r, 'en')\n"
        "assert f['shares'].startswith('<svg') and f['progress'][0].startswith('<svg')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'digicomp.simulation')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []
