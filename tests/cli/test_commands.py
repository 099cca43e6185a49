"""Every subcommand end to end on bundled data and on bad input: exit codes 0/1/2, one-line errors, --help."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ._run import assert_one_line_error, digicomp

COMMANDS = ["calibrate", "demo", "frameworks", "lint", "report", "score", "show", "simulate", "take", "validate"]


def test_version_help_and_usage_errors():
    from digicomp import __version__

    assert digicomp("--version").stdout.strip() == f"digicomp {__version__}"
    top = digicomp("--help")
    assert top.returncode == 0 and all(c in top.stdout for c in COMMANDS)
    assert digicomp().returncode == 2
    bad = digicomp("no-such-command")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command):
    proc = digicomp(command, "--help")
    assert proc.returncode == 0 and proc.stdout.startswith(f"usage: digicomp {command}")


def test_frameworks_show_validate_on_bundled_data():
    rows = json.loads(digicomp("frameworks", "--json").stdout)
    assert "vn-civil-service" in {r["id"] for r in rows}
    show = digicomp("show", "vn-civil-service", "--lang", "en")
    assert show.returncode == 0 and "Levels:" in show.stdout
    ok = digicomp("validate", "examples/designs", "frameworks/vn-civil-service.yaml")
    assert ok.returncode == 0 and "0 with problems" in ok.stderr


def test_score_and_calibrate_on_a_response_file(tmp_path):
    from digicomp.bank import load_bank

    params = load_bank("civil-service").params
    items = [j for j in range(params.n_items) if params.n_categories[j] == 2][:12]
    sub = params.subset(items)
    data = sub.simulate(np.random.default_rng(4).normal(size=300), rng=np.random.default_rng(5))
    csv = tmp_path / "responses.csv"
    csv.write_text(
        "person,"
        + ",".join(sub.ids)
        + "\n"
        + "\n".join(f"p{i}," + ",".join(map(str, row)) for i, row in enumerate(data.tolist()))
        + "\n"
    )
    scored = digicomp("score", "civil-service", str(csv), "--json")
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["persons"] == 300
    out = tmp_path / "bank.yaml"
    cal = digicomp("calibrate", str(csv), "--model", "2PL", "--out", str(out), "--quiet")
    assert cal.returncode == 0, cal.stderr
    assert out.exists()


def test_simulate_then_report_its_summary(tmp_path):
    sim = digicomp("simulate", "examples/designs/mfi-eap-se30.yaml", "--n", "200", "--out", str(tmp_path), "--quiet")
    assert sim.returncode == 0, sim.stderr
    rep = digicomp("report", str(tmp_path / "summary.json"), "--lang", "en")
    assert rep.returncode == 0 and "Simulation study: n = 200" in rep.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["show", "no-such-framework"],
        ["validate", "no/such/path.yaml"],
        ["score", "civil-service", "no-such.csv"],
        ["calibrate", "no-such.csv", "--out", "x.yaml"],
        ["simulate", "no-such-design.yaml", "--n", "10"],
        ["report", "no-such.json"],
        ["take", "--design", "no-such-design.yaml"],
        ["demo", "--bank", "no-such-bank"],
    ],
)
def test_bad_input_is_one_line_on_stderr_with_exit_1(args, tmp_path):
    assert_one_line_error(digicomp(*args, cwd=tmp_path))


def test_invalid_file_makes_validate_exit_1(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: cat_design\nselection: {rule: nope}\n", encoding="utf-8")
    proc = digicomp("validate", str(bad))
    assert proc.returncode == 1 and "selection.rule" in proc.stdout


def test_debug_shows_the_traceback():
    proc = digicomp("--debug", "show", "no-such-framework")
    assert proc.returncode == 1 and "Traceback" in proc.stderr
