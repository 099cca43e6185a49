"""Results as tables, CSV, JSON, a readable summary and plots; bad requests refused by name."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from digicomp.errors import DesignError, ParameterError
from digicomp.simulation import simulate
from tests.simulation.conftest import MFI_EAP


@pytest.fixture(scope="module")
def study(content_bank):
    design = {**MFI_EAP, "id": "areas"}
    return simulate(design, bank=content_bank, n=120, seed=4, baseline="linear")


def test_csv_files_hold_one_row_per_person_design_bin_and_item(study, tmp_path):
    study.to_csv(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "areas.csv",
        "conditional.csv",
        "exposure.csv",
        "persons-areas.csv",
        f"persons-{list(study.designs)[1]}.csv",
        "summary.csv",
    ]
    persons = list(csv.DictReader((tmp_path / "persons-areas.csv").open(encoding="utf-8")))
    assert len(persons) == 120 and persons[0]["items"].split()[0].startswith("q")
    assert {"theta_true", "theta", "se", "n_items", "stop_reason", "level_true", "level"} <= set(persons[0])
    exposure = list(csv.DictReader((tmp_path / "exposure.csv").open(encoding="utf-8")))
    assert len(exposure) == 2 * 160
    summary = list(csv.DictReader((tmp_path / "summary.csv").open(encoding="utf-8")))
    assert [r["design"] for r in summary] == list(study.designs)


def test_json_summary_has_the_headline_metrics_per_design(study):
    data = json.loads(study.to_json())
    d = data["designs"]["areas"]
    for key in (
        "rmse",
        "bias",
        "mean_length",
        "classification_accuracy",
        "max_exposure",
        "overlap_rate",
        "unused_items",
        "confusion",
        "conditional",
        "areas",
    ):
        assert key in d
    assert data["n"] == 120 and len(d["confusion"]) == 4


def test_area_accuracy_covers_the_banks_areas(study):
    rows = study["areas"].area_accuracy()
    assert [r["area"] for r in rows] == ["1", "2", "3", "4"]
    total_items = sum(r["mean_items"] for r in rows)
    assert total_items == pytest.approx(study["areas"].metrics["mean_length"])


def test_summary_shows_designs_side_by_side(study):
    text = study.summary()
    assert "areas" in text and "linear-" in text and "rmse" in text and "stop reasons" in text


def test_plot_writes_a_png(study, tmp_path):
    pytest.importorskip("matplotlib")
    study.plot(tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_bank_persons_or_bad_options_are_refused():
    with pytest.raises(DesignError, match="names no bank"):
        simulate(MFI_EAP, n=10)
    with pytest.raises(ParameterError, match="or a number of persons"):
        simulate("examples/designs/mfi-eap-se30.yaml")
    with pytest.raises(ParameterError, match="person 1 has θ = nan"):
        simulate("examples/designs/mfi-eap-se30.yaml", thetas=[0.0, np.nan])
    with pytest.raises(DesignError, match="baseline"):
        simulate("examples/designs/mfi-eap-se30.yaml", n=5, baseline="adaptive")


def test_reliability_is_named_empirical_and_study_files_with_the_old_name_still_read(study):
    """The value is Var(θ̂)/(Var(θ̂) + mean SE²) from each person's own test: empirical, not marginal."""
    from digicomp.reporting.study import compare_rows

    doc = json.loads(study.to_json())
    d = study["areas"]
    o = d.outcome
    value = np.var(o["theta"]) / (np.var(o["theta"]) + np.mean(o["se"] ** 2))
    assert d.metrics["empirical_reliability"] == pytest.approx(value, rel=1e-12)
    assert "marginal_reliability" not in d.metrics
    new = {r["metric"]: r for r in compare_rows(doc)}["empirical_reliability"]
    for design in doc["designs"].values():  # a study file written before the rename
        design["marginal_reliability"] = design.pop("empirical_reliability")
    old = {r["metric"]: r for r in compare_rows(doc)}
    assert old["empirical_reliability"] == new and "marginal_reliability" not in old
