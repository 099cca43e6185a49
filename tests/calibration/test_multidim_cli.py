"""``digicomp calibrate --structure``: multidimensional bank, mirt table with a1..aK and _se, REPORT.json, the printed
model comparison, and fixed-parameter calibration onto a multidimensional bank."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.cli import main
from digicomp.io.param_table import read_multidim_param_table


def _write_long(path, ids, x):
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person", "item", "response"])
        n, J = x.shape
        w.writerows([[f"p{i}", ids[j], int(x[i, j])] for i in range(n) for j in range(J) if x[i, j] >= 0])


def _truth(rng, J):
    a = np.zeros((J, 2))
    a[np.arange(J), np.arange(J) % 2] = rng.uniform(0.9, 1.8, J)
    return a, rng.normal(0, 1, J)


def _simulate(rng, a, d, n, mean=(0.0, 0.0)):
    theta = rng.multivariate_normal(mean, [[1, 0.5], [0.5, 1]], size=n)
    return (rng.random((n, a.shape[0])) < 1 / (1 + np.exp(-(theta @ a.T + d)))).astype(int)


def _q(ids):
    return "item,num,lit\n" + "".join(f"{i},{1 - j % 2},{j % 2}\n" for j, i in enumerate(ids))


def test_q_matrix_structure_then_fixed_calibration_of_new_items(tmp_path, capsys):
    rng = np.random.default_rng(5)
    ids = [f"o{j}" for j in range(10)]
    new = [f"n{j}" for j in range(4)]
    a, d = _truth(rng, 14)
    _write_long(tmp_path / "r.csv", ids, _simulate(rng, a[:10], d[:10], 1500))
    (tmp_path / "q.csv").write_text(_q(ids))
    out = tmp_path / "bank.yaml"
    args = ["calibrate", str(tmp_path / "r.csv"), "--model", "2PL", "--structure", str(tmp_path / "q.csv")]
    args += ["--out", str(out), "--params", str(tmp_path / "p.csv"), "--report", str(tmp_path / "rep.json")]
    assert main(args + ["--quadpts", "21", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "model comparison" in printed and "LR test unidimensional vs within" in printed
    report = json.loads((tmp_path / "rep.json").read_text())
    for key in ("logLik", "AIC", "BIC", "iterations", "converged", "latent_cor"):
        assert key in report
    assert np.array(report["latent_cor"]).shape == (2, 2) and report["converged"]
    assert report["latent_cor"][0][1] == pytest.approx(0.5, abs=0.12)
    table = read_multidim_param_table(tmp_path / "p.csv")
    assert table.n_dims == 2 and set(table.se) >= {"a1", "a2", "d"}
    np.testing.assert_array_equal(table.a == 0, a[:10] == 0)
    bank = load_bank(out)
    assert bank.dims.ids == ["num", "lit"] and bank.mparams.a.shape == (10, 2)
    np.testing.assert_allclose(bank.dims.correlation, report["latent_cor"])
    assert all(it.calibration.status == "calibrated" for it in bank.spec.items)

    # new items onto the bank's scale: the bank's items are held fixed, the latent mean is estimated
    _write_long(tmp_path / "r2.csv", ids + new, _simulate(rng, a, d, 1500, mean=(0.4, 0.0)))
    (tmp_path / "q2.csv").write_text(_q(new))
    args = ["calibrate", str(tmp_path / "r2.csv"), "--structure", str(tmp_path / "q2.csv"), "--fixed", str(out)]
    assert main(args + ["--out", str(tmp_path / "bank2.yaml"), "--report", str(tmp_path / "rep2.json"), "--quiet"]) == 0
    bank2 = load_bank(tmp_path / "bank2.yaml")
    np.testing.assert_allclose(bank2.mparams.a[:10], bank.mparams.a)
    assert bank2.ids[10:] == new
    rep2 = json.loads((tmp_path / "rep2.json").read_text())
    assert rep2["latent_mean"][0] == pytest.approx(0.4, abs=0.2)


def test_areas_structure_from_a_bank_and_unknown_q_items(tmp_path, capsys):
    cs = load_bank("item_banks/civil-service.yaml")
    area = cs.area_index
    dichotomous = [j for j, it in enumerate(cs.items) if it.model != "GRM"]
    pick = [j for k in (0, 1, 2) for j in [j for j in dichotomous if area[j] == k][:6]]
    ids = [cs.items[j].id for j in pick]
    rng = np.random.default_rng(9)
    dims = area[pick]
    a = np.zeros((len(ids), 3))
    a[np.arange(len(ids)), dims] = rng.uniform(1.0, 1.8, len(ids))
    theta = rng.multivariate_normal(np.zeros(3), 0.3 + 0.7 * np.eye(3), size=1200)
    x = (rng.random((1200, len(ids))) < 1 / (1 + np.exp(-(theta @ a.T)))).astype(int)
    _write_long(tmp_path / "r.csv", ids, x)
    out = tmp_path / "b.yaml"
    args = ["calibrate", str(tmp_path / "r.csv"), "--structure", "areas", "--bank", "item_banks/civil-service.yaml"]
    with pytest.warns(Warning):
        code = main(args + ["--out", str(out), "--quadpts", "9", "--quiet", "--no-compare"])
    assert code == 0
    text = capsys.readouterr()
    assert "area-0" in text.out
    (tmp_path / "q.csv").write_text("item,F1\nnot-an-item,1\n")
    code = main(["calibrate", str(tmp_path / "r.csv"), "--structure", str(tmp_path / "q.csv"), "--out", str(out)])
    assert code == 1
    assert "q.csv:2: item 'not-an-item' is not among the items of the responses" in capsys.readouterr().err
