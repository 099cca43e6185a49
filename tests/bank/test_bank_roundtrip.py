"""Round trips: bank -> YAML -> bank, and parameter tables in mirt and catR columns."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from digicomp.bank import ItemBank, load_bank
from digicomp.errors import DataWarning, ParameterError
from digicomp.models import ItemParameters

from .conftest import MINI


def _same_arrays(p: ItemParameters, q: ItemParameters) -> None:
    assert p.ids == q.ids and p.models.tolist() == q.models.tolist() and p.D == q.D
    np.testing.assert_allclose(p.slope, q.slope, rtol=1e-12)
    np.testing.assert_allclose(p.intercepts, q.intercepts, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(p.lower, q.lower, atol=1e-12)
    np.testing.assert_allclose(p.upper, q.upper, atol=1e-12)


def test_to_yaml_then_load_gives_the_same_bank(tmp_path):
    bank = load_bank(MINI)
    bank.to_yaml(tmp_path / "copy.yaml")
    again = load_bank(tmp_path / "copy.yaml")
    assert again.to_dict() == bank.to_dict()
    assert again.fingerprint == bank.fingerprint
    _same_arrays(again.params, bank.params)


def test_to_yaml_keeps_everything_the_file_said(tmp_path):
    original = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    original["items"][1]["calibration"]["date"] = original["items"][1]["calibration"]["date"].isoformat()
    load_bank(MINI).to_yaml(tmp_path / "copy.yaml")
    assert yaml.safe_load((tmp_path / "copy.yaml").read_text(encoding="utf-8")) == original


def test_extra_languages_survive_the_round_trip(mini_data, write_bank, tmp_path):
    mini_data["items"][0]["stem"]["fr"] = "Question une ?"
    bank = load_bank(write_bank(mini_data))
    bank.to_yaml(tmp_path / "copy.yaml")
    assert load_bank(tmp_path / "copy.yaml").item("t-1.1-01").stem.model_extra == {"fr": "Question une ?"}


@pytest.mark.parametrize("style", ["mirt", "catR"])
def test_param_table_export_and_import_round_trip(tmp_path, style):
    rng = np.random.default_rng(4)
    n = 12
    params = ItemParameters.dichotomous(
        a=rng.lognormal(0, 0.3, n),
        b=rng.normal(0, 1, n),
        c=rng.uniform(0, 0.3, n),
        d=rng.uniform(0.9, 1, n),
        D=1.702,
        ids=[f"q{j:02d}" for j in range(n)],
        model="4PL",
    )
    bank = ItemBank.from_item_parameters(params, id="sim")
    bank.to_param_table(tmp_path / "table.csv", style=style)
    again = ItemBank.from_params(tmp_path / "table.csv", D=1.702)
    _same_arrays(again.params, params)
    assert again.item("q03").calibration.source == str(tmp_path / "table.csv")
    assert again.kind.tolist() == ["parameters"] * n


def test_mirt_table_round_trips_a_mixed_bank_with_graded_items(tmp_path):
    bank = load_bank(MINI)
    bank.to_param_table(tmp_path / "mirt.csv", style="mirt")
    again = ItemBank.from_params(tmp_path / "mirt.csv")
    _same_arrays(again.params, bank.params)


def test_catr_table_refuses_graded_items(tmp_path):
    """catR's table holds no graded item: a bank of graded items only is refused, a mixed bank's are named."""
    params = ItemParameters.graded(a=[1.0, 1.4], b=[[-1.0, 0.5], [-0.5, 0.7]], ids=["g1", "g2"])
    graded = ItemBank.from_item_parameters(params, id="graded", source="test")
    with pytest.raises(ParameterError, match="dichotomous"):
        graded.to_param_table(tmp_path / "catr.csv", style="catR")
    with pytest.warns(DataWarning, match=r"1 polytomous items of bank 'mini' left out \(t-1.1-sa\)"):
        load_bank(MINI).to_param_table(tmp_path / "catr.csv", style="catR")
    assert "t-1.1-sa" not in (tmp_path / "catr.csv").read_text(encoding="utf-8")


def test_content_free_bank_round_trips_through_yaml(tmp_path):
    params = ItemParameters.graded(a=[1.0, 1.4], b=[[-1.0, 0.5, np.nan], [-0.5, 0.0, 0.7]], ids=["g1", "g2"])
    bank = ItemBank.from_item_parameters(params, id="graded", source="test")
    bank.to_yaml(tmp_path / "graded.yaml")
    again = load_bank(tmp_path / "graded.yaml")
    assert again.fingerprint == bank.fingerprint
    _same_arrays(again.params, params)


def test_from_params_accepts_a_catr_table_of_columns():
    table = {"item": ["i1", "i2"], "a": ["1.2", "0.8"], "b": ["-0.5", "1.0"], "c": ["0.2", "0.0"], "d": ["1", "1"]}
    bank = ItemBank.from_params(table)
    assert bank.ids == ["i1", "i2"] and bank.item("i1").calibration.source == "parameter table"
    records = bank.params.to_file_form()
    assert records[0]["a"] == pytest.approx(1.2) and records[1]["b"] == pytest.approx(1.0)
