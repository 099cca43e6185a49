"""``digicomp simulate --truth``: per-area studies against a multidimensional truth, and the derived truths."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.cli import main
from digicomp.errors import BankError, ParameterError
from digicomp.models import multidim
from digicomp.simulation.area_truth import derive_truth, parse_truth

TODAY = "examples/designs/civil-service-balanced.yaml"
MCAT = "examples/designs/civil-service-mcat.yaml"


@pytest.fixture(scope="module")
def bank():
    return load_bank("civil-service")


def test_areas_truth_answers_like_the_unidimensional_item_on_its_area(bank):
    truth = derive_truth(bank, "areas", 0.6)
    theta = np.linspace(-3, 3, 13)
    R = truth.dims.correlation
    assert np.allclose(R[~np.eye(R.shape[0], dtype=bool)], 0.6) and truth.ids == bank.ids
    models = [it.model for it in bank]
    picks = [models.index(m) for m in ("3PL", "2PL", "GRM", "GPCM")]  # one item of every model the bank has
    for j in picks:
        k = truth.dims.area.index(bank.areas[bank.area_index[j]])
        th = np.zeros((theta.size, truth.dims.n))
        th[:, k] = theta
        m = truth.mparams
        p_multi = multidim.prob(th, m.a[[j]], m.intercepts[[j]], m.c[[j]], m.u[[j]], [models[j]])[:, 0]
        p_uni = bank.params.subset([j]).prob(theta)[:, 0]
        width = p_uni.shape[-1]
        assert np.allclose(p_multi[:, :width], p_uni, atol=1e-9), models[j]


def test_bifactor_truth_splits_each_slope_into_sqrt_rho_and_sqrt_one_minus_rho(bank):
    rho = 0.7
    truth = derive_truth(bank, "bifactor", rho)
    areas = derive_truth(bank, "areas", rho)
    g = truth.dims.general
    assert g == 0 and np.allclose(truth.dims.correlation, np.eye(truth.dims.n))
    a_b, a_c = truth.mparams.a, areas.mparams.a
    assert np.allclose(a_b[:, g], np.sqrt(rho) * a_c.sum(axis=1))
    assert np.allclose(a_b[:, 1:], np.sqrt(1 - rho) * a_c)
    assert np.allclose(truth.mparams.intercepts, areas.mparams.intercepts, equal_nan=True)
    # the area abilities a bifactor truth implies, √ρ θ_g + √(1-ρ) θ_k, have correlation ρ: same answers in law
    loadings = np.sqrt(rho) * np.eye(1, truth.dims.n, 0) + np.sqrt(1 - rho) * np.eye(truth.dims.n)[1:]
    implied = loadings @ truth.dims.correlation @ loadings.T
    assert np.allclose(implied, areas.dims.correlation)


def test_a_multidimensional_bank_keeps_its_latent_unless_a_correlation_is_given():
    mbank = load_bank(MCAT.replace("designs/civil-service-mcat.yaml", "banks/civil-service-areas.yaml"))
    assert derive_truth(mbank, "areas") is mbank
    assert np.isclose(derive_truth(mbank, "areas", 0.5).dims.correlation[0, 1], 0.5)
    with pytest.raises(ParameterError, match="strictly between 0 and 1"):
        derive_truth(mbank, "bifactor", 1.0)
    with pytest.raises(BankError, match="general factor"):
        derive_truth(derive_truth(mbank, "bifactor", 0.5), "areas")


def test_parse_truth():
    assert parse_truth("areas") == ("areas", None)
    assert parse_truth("bifactor:0.6") == ("bifactor", 0.6)
    assert parse_truth("banks/x.yaml") == ("banks/x.yaml", None)
    with pytest.raises(ParameterError, match="areas:RHO"):
        parse_truth("areas:high")


def test_cli_per_area_study_of_todays_design_and_the_mcat(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["simulate", TODAY, MCAT, "--truth", "areas:0.8", "--n", "40", "--seed", "5", "--out", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "truth areas from bank civil-service (ρ = 0.8)" in text
    assert "civil-service-balanced" in text and "civil-service-mcat" in text
    rows = list(csv.DictReader((out / "areas-multidim.csv").open(encoding="utf-8")))
    assert len(rows) == 16 and set(rows[0]) == {
        "design",
        "area",
        "bias",
        "rmse",
        "mean_se",
        "level_accuracy",
        "mean_items",
    }
    by = {(r["design"], r["area"]): r for r in rows}
    # today's design gives areas 0, 5, 6, 7 nothing: its sub-score there is the prior (SE 1)
    for code_ in "0567":
        r = by[("civil-service-balanced", code_)]
        assert float(r["mean_items"]) == 0 and float(r["mean_se"]) == pytest.approx(1.0, abs=1e-3)
    # the MCAT gives every area its minimum of 2 and 30 items in all
    mcat = [by[("civil-service-mcat", c)] for c in "01234567"]
    assert sum(float(r["mean_items"]) for r in mcat) == pytest.approx(30.0)
    assert min(float(r["mean_items"]) for r in mcat) >= 2
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["n"] == 40 and [d["design"] for d in summary["designs"]] == [
        "civil-service-balanced",
        "civil-service-mcat",
    ]


def test_cli_a_multidimensional_design_alone_runs_against_its_own_bank(capsys):
    assert main(["simulate", MCAT, "--n", "20", "--seed", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["truth"] == "bank civil-service-areas (its latent normal)"
    assert data["designs"][0]["mean_length"] == 30.0 and len(data["designs"][0]["areas"]) == 8


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--population", "normal:0,2"], "--population: not used by a per-area study"),
        (["--baseline", "random"], "--baseline: not used"),
        (["--truth", "bifactor:1.5"], "strictly between 0 and 1"),
        (["--truth", "civil-service"], "is not multidimensional"),
    ],
)
def test_cli_refuses_what_a_per_area_study_cannot_use(extra, message, capsys):
    assert main(["simulate", MCAT, "--n", "10", *extra]) != 0
    assert message in capsys.readouterr().err
