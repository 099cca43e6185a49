"""The ``digicomp calibrate`` command: bank, parameter table and report; --fixed keeps the anchor items."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.cli import main
from digicomp.models import ItemParameters


def _write_long(path, params: ItemParameters, x: np.ndarray) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person", "item", "response"])
        w.writerows([[f"p{i}", params.ids[j], int(x[i, j])] for i in range(x.shape[0]) for j in range(x.shape[1])])


def test_calibrate_then_fixed_calibration_of_new_items(tmp_path, capsys):
    rng = np.random.default_rng(51)
    old = ItemParameters.dichotomous(rng.lognormal(0, 0.3, 10), rng.normal(0, 1, 10), ids=[f"o{j}" for j in range(10)])
    _write_long(tmp_path / "a.csv", old, old.simulate(rng.normal(0, 1, 1500), rng))
    code = main(
        [
            "calibrate",
            str(tmp_path / "a.csv"),
            "--model",
            "2PL",
            "--out",
            str(tmp_path / "bank.yaml"),
            "--params",
            str(tmp_path / "p.csv"),
            "--report",
            str(tmp_path / "r.json"),
            "--quiet",
        ]
    )
    assert code == 0
    bank = load_bank(tmp_path / "bank.yaml")
    assert all(it.calibration.status == "calibrated" for it in bank.spec.items)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["converged"] and "S_X2" in report["item_fit"]
    assert "a1_se" in (tmp_path / "p.csv").read_text().splitlines()[0]

    new = ItemParameters.dichotomous(rng.lognormal(0, 0.3, 3), rng.normal(0, 1, 3), ids=["n0", "n1", "n2"])
    both = ItemParameters.concat([bank.params, new])
    _write_long(tmp_path / "b.csv", both, both.simulate(rng.normal(0.3, 1, 1500), rng))
    code = main(
        [
            "calibrate",
            str(tmp_path / "b.csv"),
            "--fixed",
            str(tmp_path / "bank.yaml"),
            "--out",
            str(tmp_path / "bank2.yaml"),
            "--quiet",
        ]
    )
    assert code == 0
    bank2 = load_bank(tmp_path / "bank2.yaml")
    assert bank2.ids[:10] == bank.ids and bank2.ids[10:] == ["n0", "n1", "n2"]
    np.testing.assert_allclose(bank2.params.slope[:10], bank.params.slope)
    assert "* fixed (anchor) item" in capsys.readouterr().out


def test_calibrate_reports_a_clean_error_for_a_missing_file(tmp_path, capsys):
    code = main(["calibrate", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "b.yaml")])
    assert code == 1
    assert "cannot read" in capsys.readouterr().err


def test_se_method_option_reaches_the_report(tmp_path):
    rng = np.random.default_rng(52)
    params = ItemParameters.dichotomous(rng.lognormal(0, 0.3, 8), rng.normal(0, 1, 8), ids=[f"q{j}" for j in range(8)])
    _write_long(tmp_path / "x.csv", params, params.simulate(rng.normal(0, 1, 800), rng))
    args = ["calibrate", str(tmp_path / "x.csv"), "--out", str(tmp_path / "b.yaml"), "--quiet"]
    assert main([*args, "--report", str(tmp_path / "r.json"), "--se-method", "xpd"]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["se_method"] == "xpd"
    with pytest.raises(SystemExit) as exc:  # an unknown method is a usage error
        main([*args, "--se-method", "bootstrap"])
    assert exc.value.code == 2
