"""Inputs (long/wide CSV, arrays, pattern weights) and outputs (mirt CSV with _se, report, summary, bank)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from digicomp import calibrate  # the public face: reads files, builds banks
from digicomp.io.param_table import read_param_table
from digicomp.models import ItemParameters


@pytest.fixture(scope="module")
def sim():
    rng = np.random.default_rng(41)
    params = ItemParameters.dichotomous(rng.lognormal(0, 0.3, 6), rng.normal(0, 1, 6), ids=[f"q{j}" for j in range(6)])
    return params, params.simulate(rng.normal(0, 1, 800), rng)


def test_long_and_wide_csv_and_array_give_the_same_fit(sim, tmp_path):
    params, x = sim
    wide = tmp_path / "wide.csv"
    long = tmp_path / "long.csv"
    with wide.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person", *params.ids])
        w.writerows([[f"p{i}", *row] for i, row in enumerate(x)])
    with long.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person", "item", "response"])
        w.writerows([[f"p{i}", params.ids[j], x[i, j]] for i in range(x.shape[0]) for j in range(x.shape[1])])
    fits = [calibrate(src, "2PL", se=False, fit=False, tol=1e-6) for src in (x, wide, long)]
    for res in fits[1:]:
        np.testing.assert_allclose(res.params.slope, fits[0].params.slope, atol=1e-6)
        assert res.loglik == pytest.approx(fits[0].loglik, abs=1e-6)


def test_frequency_weights_equal_expanded_data(sim):
    _, x = sim
    patterns, counts = np.unique(x, axis=0, return_counts=True)
    a = calibrate(x, "2PL", se=False, fit=False, tol=1e-7)
    b = calibrate(patterns, "2PL", weights=counts, se=False, fit=False, tol=1e-7)
    np.testing.assert_allclose(a.params.slope, b.params.slope, atol=1e-6)
    assert a.loglik == pytest.approx(b.loglik, abs=1e-6)


def test_mirt_csv_has_se_columns_and_reads_back(sim, tmp_path):
    params, x = sim
    res = calibrate(x, "2PL")
    path = res.to_csv(tmp_path / "p.csv")
    rows = list(csv.DictReader(path.open()))
    assert {"a1", "a1_se", "d", "d_se", "g", "u"} <= set(rows[0])
    assert all(float(r["a1_se"]) > 0 for r in rows)
    back = read_param_table(path)
    np.testing.assert_allclose(back.slope, res.params.slope)


def test_report_is_json_without_nan(sim, tmp_path):
    _, x = sim
    res = calibrate(x, "2PL")
    text = res.write_report(tmp_path / "r.json").read_text()
    assert "NaN" not in text
    rep = json.loads(text)
    assert {"loglik", "aic", "bic", "iterations", "converged", "item_fit"} <= set(rep)
    assert len(rep["item_fit"]["S_X2"]) == 6
    assert "logLik" in res.summary()


def test_to_bank_marks_items_calibrated_with_n_and_se(sim, tmp_path):
    _, x = sim
    res = calibrate(x, "2PL")
    bank = res.to_bank(id="pilot")
    item = bank.spec.items[0]
    assert item.calibration.status == "calibrated"
    assert item.calibration.n == x.shape[0]
    assert set(item.calibration.se) == {"a", "b"}
    np.testing.assert_allclose(bank.params.slope, res.params.slope, rtol=1e-12)
