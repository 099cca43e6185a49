"""File form ↔ slope-intercept conversions, parameter tables and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.errors import ParameterError
from digicomp.io.param_table import read_param_table, write_param_table
from digicomp.models import ItemParameters

slopes = st.floats(0.2, 3.0)
locs = st.floats(-3.0, 3.0)


@settings(max_examples=60, deadline=None)
@given(a=slopes, b=locs, c=st.floats(0.0, 0.35), span=st.floats(0.3, 0.65), D=st.sampled_from([1.0, 1.702]))
def test_dichotomous_file_form_round_trip(a, b, c, span, D):
    d = min(c + span, 1.0)
    p = ItemParameters.dichotomous(a=[a], b=[b], c=[c], d=[d], D=D)
    rec = p.to_file_form()[0]
    assert rec["a"] == pytest.approx(a, rel=1e-12)
    assert rec["b"] == pytest.approx(b, rel=1e-12, abs=1e-12)
    assert (rec["c"], rec["d"]) == (c, d)
    again = ItemParameters.from_file_form([rec], D=D)
    np.testing.assert_allclose(again.slope, p.slope, rtol=1e-14)
    np.testing.assert_allclose(again.intercepts, p.intercepts, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(a=slopes, b=st.lists(locs, min_size=1, max_size=5, unique=True), model=st.sampled_from(["GRM", "GPCM"]))
def test_polytomous_file_form_round_trip(a, b, model):
    b = sorted(b) if model == "GRM" else b
    if model == "GRM" and np.any(np.diff(b) < 1e-6):
        return
    p = ItemParameters.from_file_form([{"id": "x", "model": model, "a": a, "b": b}], D=1.702)
    rec = p.to_file_form()[0]
    np.testing.assert_allclose(rec["b"], b, rtol=1e-10, atol=1e-10)
    assert rec["a"] == pytest.approx(a, rel=1e-12)


def test_mirt_table_round_trip_keeps_slope_intercept_values(tmp_path):
    bank = ItemParameters.concat(
        [
            ItemParameters.dichotomous(a=[1.2, 0.7], b=[0.1, -0.4], c=[0.0, 0.2], ids=["i1", "i2"]),
            ItemParameters.graded(a=[0.9], b=[[-1.0, 0.0, 1.2]], ids=["g1"]),
            ItemParameters.partial_credit(a=[1.1], b=[[0.3, -0.2]], ids=["p1"]),
        ]
    )
    path = write_param_table(bank, tmp_path / "mirt.csv", style="mirt")
    back = read_param_table(path)
    assert back.ids == bank.ids
    assert list(back.models) == ["2PL", "3PL", "GRM", "GPCM"]
    np.testing.assert_allclose(back.slope, bank.slope)
    np.testing.assert_allclose(back.intercepts, bank.intercepts, equal_nan=True)
    np.testing.assert_allclose(back.lower, bank.lower)


def test_catr_table_round_trip(tmp_path):
    bank = ItemParameters.dichotomous(a=[1.2, 0.7], b=[0.1, -0.4], c=[0.0, 0.2], d=[1.0, 0.95], D=1.702, ids=["a", "b"])
    back = read_param_table(write_param_table(bank, tmp_path / "catr.csv", style="catR"), D=1.702)
    for x, y in zip(back.to_file_form(), bank.to_file_form()):
        assert x["model"] == y["model"]
        for key in "abcd":
            assert x[key] == pytest.approx(y[key], rel=1e-12)


def test_mirt_intercept_convention_matches_irt_form():
    # mirt: P = g + (u - g) / (1 + exp(-(a1 θ + d))); IRT form b = -d / a1 (D = 1)
    p = read_param_table({"item": ["x"], "a1": [1.5], "d": [-0.75], "g": [0.2], "u": [1.0]})
    rec = p.to_file_form()[0]
    assert rec["b"] == pytest.approx(0.5)
    assert p.prob(0.5)[0, 1] == pytest.approx(0.6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(a=[0.0], b=[0.0]), "item 'q1'.*'a'.*positive"),
        (dict(a=[-1.0], b=[0.0]), "item 'q1'.*'a'.*positive"),
        (dict(a=[1.0], b=[0.0], c=[1.0]), r"item 'q1'.*'c'.*\[0, 1\)"),
        (dict(a=[1.0], b=[0.0], c=[-0.1]), r"item 'q1'.*'c'"),
        (dict(a=[1.0], b=[0.0], c=[0.3], d=[0.2]), r"item 'q1'.*'d'"),
        (dict(a=[1.0], b=[np.inf]), r"item 'q1'.*'b'"),
    ],
)
def test_out_of_range_dichotomous_parameters_name_item_and_field(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        ItemParameters.dichotomous(ids=["q1"], **kwargs)


def test_graded_thresholds_must_increase():
    with pytest.raises(ParameterError, match=r"item 'likert-3'.*'b'.*strictly increasing"):
        ItemParameters.graded(a=[1.0], b=[[0.5, 0.2, 1.0]], ids=["likert-3"])


def test_unknown_model_and_duplicate_ids_are_rejected():
    with pytest.raises(ParameterError, match="field 'model' = '5PL'"):
        ItemParameters.from_file_form([{"id": "z", "model": "5PL", "a": 1, "b": 0}])
    with pytest.raises(ParameterError, match="duplicate item ids: x"):
        ItemParameters.dichotomous(a=[1, 1], b=[0, 1], ids=["x", "x"])


def test_parameter_table_with_text_in_a_number_column_names_the_cell(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("item,a,b,c,d\nq1,1.0,zero,0,1\n")
    with pytest.raises(ParameterError, match=r"bad.csv:2: item 'q1': column 'b' = 'zero'"):
        read_param_table(path)
