"""Parameter tables: one convention, each column once, parameters the model has, and of a sane size."""

from __future__ import annotations

import pytest

from digicomp.errors import ParameterError
from digicomp.io.param_table import MAX_INTERCEPT, MAX_SLOPE, read_param_table


def _table(tmp_path, text: str):
    path = tmp_path / "params.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("item,a,b,b\ni1,1,0,2\n", "column 'b' appears twice (columns 3 and 4)"),
        ("item,a1,d,b\ni1,1,0,2\n", "columns a1 (mirt, slope-intercept) and b (catR, a b c d) are two conventions"),
        ("item,a1,a2,d\ni1,1,0.5,0\n", "columns a2: multidimensional slopes are not supported"),
        ("item,itemtype,a1,d,g\ni1,2PL,1,0,0.3\n", "item 'i1': model 2PL has no lower asymptote, got 0.3"),
        ("item,itemtype,a1,d,g,u\ni1,3PL,1,0,0.2,0.9\n", "item 'i1': model 3PL has no upper asymptote, got 0.9"),
        ("item,model,a,b,c\ni1,2PL,1,0,0.25\n", "item 'i1': model 2PL has no lower asymptote, got 0.25"),
        (
            "item,a,b\ni1,1,1e308\ni2,1,0\n",
            f"item 'i1': an intercept (D·a·b or mirt's d) of 1e+308 is beyond ±{MAX_INTERCEPT:g}",
        ),
        ("item,a1,d\ni1,1,-600\n", "item 'i1': an intercept"),
        ("item,a1,d\ni1,150,0\n", f"item 'i1': slope D·a = 150 is above {MAX_SLOPE:g}"),
        ("item,a,b\ni1,1,inf\n", "item 'i1': column 'b' = 'inf' is not a finite number"),
    ],
)
def test_a_table_that_would_be_misread_is_refused(tmp_path, text, fragment):
    path = _table(tmp_path, text)
    with pytest.raises(ParameterError) as info:
        read_param_table(path)
    assert fragment in str(info.value)
    assert str(info.value).startswith(str(path))


def test_invalid_utf8_and_oversized_fields_are_parameter_errors(tmp_path):
    path = tmp_path / "params.csv"
    path.write_bytes(b"item,a,b\ni1,1,\xff\n")
    with pytest.raises(ParameterError, match=r"params.csv:2: the parameter table is not UTF-8 text"):
        read_param_table(path)
    path.write_text("item,a,b\ni1,1," + "1" * 140_000 + "\n")
    with pytest.raises(ParameterError, match="params.csv:2: the parameter table cannot be read as CSV"):
        read_param_table(path)


def test_sane_extremes_still_load(tmp_path):
    path = _table(tmp_path, "item,a1,d,g\ni1,0.02,3,0\ni2,60,-400,0\n")  # a weak easy item; a steep hard one
    params = read_param_table(path)
    assert params.models.tolist() == ["2PL", "2PL"]
    assert params.to_file_form()[0]["b"] == pytest.approx(-150.0)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("item,itemtyp,a1,d1,d2\ni1,gpcm,1,0.5,-0.5\n", "unknown column 'itemtyp' (did you mean 'itemtype'?)"),
        ("item,itemtype,a1,d1,d2,d3\ni1,graded,1.1,2.0,,-0.4\n", "item 'i1': column 'd2' is empty but a later"),
        ("item,itemtype,a1,d1,d3\ni1,graded,1.1,2.0,-0.4\n", "threshold columns d1, d3 skip d2"),
        ("item,itemtype,a1,ak0,ak1,ak2,d0,d1,d2\ni1,gpcm,1,0,2,2,0,0.5,-0.4\n", "column 'ak1' = 2; only mirt"),
    ],
)
def test_a_column_that_would_be_ignored_or_closed_up_is_refused(tmp_path, text, fragment):
    with pytest.raises(ParameterError) as info:
        read_param_table(_table(tmp_path, text))
    assert fragment in str(info.value)


def test_mirt_scoring_columns_at_their_defaults_and_se_columns_are_read(tmp_path):
    text = "item,itemtype,a1,a1_se,ak0,ak1,ak2,d0,d1,d2\ni1,gpcm,1.1,0.1,0,1,2,0,0.5,-0.4\n"
    params = read_param_table(_table(tmp_path, text))
    assert params.models.tolist() == ["GPCM"] and params.intercepts.tolist() == [[0.5, -0.4]]
