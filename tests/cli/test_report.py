"""``digicomp report``: results and studies to text and self-contained HTML, with and without matplotlib."""

from __future__ import annotations

import json

import pytest

from ._run import ENV, assert_one_line_error, digicomp

# option numbers, and every step id for ordering items of 3 to 6 steps (take asks again after a line that does not
# fit the item, so each item of the bundled bank's formats finds one)
ANSWERS = "1\n3\nA B C D\n2\n4\nA B C\nA B C D E\nA B C D E F\n" * 30


@pytest.fixture(scope="module")
def result_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "result.json"
    proc = digicomp("take", "--seed", "2", "--lang", "en", "--person", "p-17", "--out", str(path), input=ANSWERS)
    assert proc.returncode == 0, proc.stderr
    return path


@pytest.fixture(scope="module")
def study_file(tmp_path_factory):
    from digicomp.simulation import simulate

    folder = tmp_path_factory.mktemp("study")
    result = simulate("examples/designs/mfi-eap-se30.yaml", n=150, seed=3)
    result.to_json(folder / "study.json")
    result.to_csv(folder)
    return folder / "study.json"


def test_result_text_names_the_level_areas_and_answers(result_file):
    doc = json.loads(result_file.read_text(encoding="utf-8"))
    proc = digicomp("report", str(result_file), "--answers")
    assert proc.returncode == 0, proc.stderr
    assert f"Overall level: {doc['level']['name'].upper()}" in proc.stdout and "Test taker: p-17" in proc.stdout
    assert proc.stdout.count("θ̂ = ") == doc["n_items"]
    vi = digicomp("report", str(result_file), "--lang", "vi")
    assert "Trình độ chung:" in vi.stdout


def test_result_html_is_self_contained_with_plots(result_file, tmp_path):
    pytest.importorskip("matplotlib", reason="the plots need the plot extra (matplotlib)")
    page = tmp_path / "r.html"
    proc = digicomp("report", str(result_file), "--html", str(page))
    assert proc.returncode == 0, proc.stderr
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert html.count("<svg") == 2  # θ path; information and conditional SE
    assert 'src="http' not in html and "<link" not in html and "<script" not in html


def test_study_text_and_html(study_file, tmp_path):
    pytest.importorskip("matplotlib", reason="the plots need the plot extra (matplotlib)")
    page = tmp_path / "s.html"
    proc = digicomp("report", str(study_file), "--html", str(page))
    assert proc.returncode == 0, proc.stderr
    assert "mfi-eap-se30" in proc.stdout and "rmse" in proc.stdout and "-inf" in proc.stdout
    assert page.read_text(encoding="utf-8").count("<svg") == 2  # conditional SE/RMSE; exposure


def test_without_matplotlib_reports_still_work(result_file, tmp_path):
    blocker = tmp_path / "block" / "matplotlib"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('matplotlib blocked for this test')\n")
    import subprocess
    import sys

    page = tmp_path / "r.html"
    env = {**ENV, "PYTHONPATH": str(blocker.parent)}
    proc = subprocess.run(
        [sys.executable, "-m", "digicomp.cli", "report", str(result_file), "--html", str(page)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    html = page.read_text(encoding="utf-8")
    assert "<svg" not in html and 'pip install "digicomp[plot]"' in html.replace("&quot;", '"')


def test_json_and_bad_inputs(result_file, tmp_path):
    proc = digicomp("report", str(result_file), "--json")
    assert json.loads(proc.stdout)["kind"] == "result"
    assert_one_line_error(digicomp("report", str(tmp_path / "missing.json")))
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    assert_one_line_error(digicomp("report", str(bad)))
    bad.write_text('{"format": "other"}', encoding="utf-8")
    assert_one_line_error(digicomp("report", str(bad)))
    bad.write_text("{", encoding="utf-8")
    assert_one_line_error(digicomp("report", str(bad)))
    assert_one_line_error(digicomp("report", str(result_file), "--html", str(tmp_path / "no" / "dir.html")))
    assert digicomp("report").returncode == 2
