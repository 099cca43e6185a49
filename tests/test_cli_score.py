"""The `digicomp score` command end to end, through the console script."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from digicomp.io.param_table import write_param_table
from digicomp.models import ItemParameters
from digicomp.scoring import score


def _digicomp(*args):
    return subprocess.run([sys.executable, "-m", "digicomp.cli", *args], capture_output=True, text=True)


@pytest.fixture
def files(tmp_path):
    bank = ItemParameters.dichotomous(a=[1.0, 1.4, 0.7], b=[-0.5, 0.0, 0.8], ids=["q1", "q2", "q3"])
    params = write_param_table(bank, tmp_path / "params.csv")
    resp = tmp_path / "resp.csv"
    resp.write_text("person,item,response\nann,q1,1\nann,q3,0\nbob,q2,1\nbob,q1,0\nbob,q3,1\n")
    return bank, params, resp, tmp_path


def test_score_writes_person_theta_se(files):
    bank, params, resp, tmp = files
    out = tmp / "scores.csv"
    proc = _digicomp("score", str(params), str(resp), "--method", "EAP", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open()))
    assert [r["person"] for r in rows] == ["ann", "bob"]
    expected = score(bank, [[1, np.nan, 0], [0, 1, 1]])
    np.testing.assert_allclose([float(r["theta"]) for r in rows], expected.theta, atol=1e-6)
    np.testing.assert_allclose([float(r["se"]) for r in rows], expected.se, atol=1e-6)


def test_score_json_summary(files):
    _, params, resp, _ = files
    proc = _digicomp("score", str(params), str(resp), "--method", "wle", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["persons"] == 2


def test_score_bad_response_is_one_line_error_with_exit_1(files):
    _, params, _, tmp = files
    bad = tmp / "bad.csv"
    bad.write_text("person,item,response\nann,q1,3\n")
    proc = _digicomp("score", str(params), str(bad))
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "outside the item's categories" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_score_bad_usage_exits_2(files):
    _, params, resp, _ = files
    proc = _digicomp("score", str(params), str(resp), "--method", "XYZ")
    assert proc.returncode == 2
