"""Model names as a psychometrician types them (digicomp's or R mirt's itemtype), read by one normaliser everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.calibration import calibrate
from digicomp.errors import BankError, ParameterError
from digicomp.io.param_table import read_param_table
from digicomp.models import MODELS, ItemParameters, model_name
from tests.bank.conftest import mini_data, write_bank  # noqa: F401 (fixtures)

# mirt's itemtype (mirt() documentation, argument itemtype) and other spellings -> digicomp's model
TYPED = {
    "Rasch": "Rasch",
    "rasch": "Rasch",
    "1PL": "1PL",
    "2pl": "2PL",
    " 3PL ": "3PL",
    "4PL": "4PL",
    "graded": "GRM",
    "grm": "GRM",
    "gpcm": "GPCM",
    "gpcmIRT": "GPCM",
    "PCM": "PCM",
}


@pytest.mark.parametrize("typed", sorted(TYPED))
def test_typed_names_map_to_digicomps_models(typed):
    assert model_name(typed) == TYPED[typed]


def test_every_model_reads_as_itself():
    assert [model_name(m) for m in MODELS] == list(MODELS)


def test_mirts_rasch_on_a_polytomous_item_is_the_partial_credit_model():
    assert model_name("Rasch", polytomous=True) == "PCM"
    assert model_name("2PL", polytomous=True) == "2PL"  # only Rasch is read by the number of categories


@pytest.mark.parametrize("typed", ["nominal", "3PLu", "grsm", "5PL", "GRMX", "", 3, None])
def test_other_names_are_refused_with_the_accepted_names(typed):
    with pytest.raises(ParameterError) as info:
        model_name(typed, where="item 'q1': field 'model'")
    message = str(info.value)
    assert message.startswith(f"item 'q1': field 'model' = {typed!r}")
    for name in (*MODELS, "graded", "gpcm"):
        assert name in message


def test_item_parameters_from_file_form_read_mirt_names():
    params = ItemParameters.from_file_form(
        [
            {"id": "a", "model": "graded", "a": 1.2, "b": [-1.0, 0.5]},
            {"id": "b", "model": "gpcm", "a": 0.8, "b": [-0.5, 0.7]},
            {"id": "c", "model": "Rasch", "b": [-0.3, 0.4]},
            {"id": "d", "model": "rasch", "b": 0.2},
        ]
    )
    assert params.models.tolist() == ["GRM", "GPCM", "PCM", "Rasch"]
    with pytest.raises(ParameterError, match=r"item 'z': field 'model' = 'nominal'.*graded"):
        ItemParameters.from_file_form([{"id": "z", "model": "nominal", "a": 1, "b": 0}])


def test_parameter_tables_read_mirt_itemtypes(tmp_path):
    path = tmp_path / "params.csv"
    path.write_text(
        "item,itemtype,a1,d,g,u,d1,d2\n"
        "q1,2pl,1.1,0.2,,,,\n"
        "q2,graded,0.9,,,,1.0,-0.5\n"
        "q3,gpcmIRT,1.3,,,,0.4,0.1\n"
        "q4,Rasch,1,,,,0.3,-0.2\n",
        encoding="utf-8",
    )
    assert read_param_table(path).models.tolist() == ["2PL", "GRM", "GPCM", "PCM"]
    path.write_text("item,itemtype,a1,d\nq1,ggum,1.0,0.0\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"params.csv: item 'q1': itemtype = 'ggum'.*gpcm"):
        read_param_table(path)


def test_bank_yaml_reads_mirt_model_names(mini_data, write_bank):  # noqa: F811
    data = mini_data
    by_model = {it["model"]: it for it in data["items"]}
    by_model["3PL"]["model"] = "3pl"
    by_model["GRM"]["model"] = "graded"
    bank = load_bank(write_bank(data))
    assert sorted(set(bank.params.models.tolist())) == ["2PL", "3PL", "GRM"]
    by_model["GRM"]["model"] = "Rasch"  # mirt's Rasch on a self-assessment item (thresholds b1..bk)
    assert "PCM" in load_bank(write_bank(data, name="rasch.yaml")).params.models.tolist()
    by_model["GRM"]["model"] = "nominal"
    with pytest.raises(BankError, match="nominal"):
        load_bank(write_bank(data, name="nominal.yaml"))


def test_calibrate_reads_mirt_names_and_rasch_on_polytomous_data_as_pcm():
    rng = np.random.default_rng(7)
    truth = ItemParameters.partial_credit(np.ones(4), [[-1.0, 0.5], [-0.5, 0.2], [0.0, 1.0], [-1.0, -0.2]], model="PCM")
    probs = truth.prob(rng.normal(size=600))
    data = (rng.random((600, 4, 1)) > probs.cumsum(axis=2)).sum(axis=2)
    as_rasch = calibrate(data, "Rasch", se=False, fit=False)
    as_pcm = calibrate(data, "PCM", se=False, fit=False)
    assert as_rasch.params.models.tolist() == ["PCM"] * 4
    np.testing.assert_array_equal(as_rasch.params.intercepts, as_pcm.params.intercepts)
    assert calibrate(data, "graded", se=False, fit=False).params.models.tolist() == ["GRM"] * 4
    assert calibrate(data, {f"item{j + 1}": "gpcm" for j in range(4)}, se=False, fit=False).params.models[0] == "GPCM"
    with pytest.raises(ParameterError, match="model of item 'item1' = 'nominal'"):
        calibrate(data, {f"item{j + 1}": "nominal" for j in range(4)})
