"""Multidimensional mirt parameter tables: a1..aK read into arrays and written back; unusable columns are errors
naming the column and the file line."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.errors import ParameterError
from digicomp.io.param_table import (
    multidim_param_table,
    read_multidim_param_table,
    read_param_table,
    write_multidim_param_table,
)


def _table(tmp_path, text: str):
    path = tmp_path / "params.csv"
    path.write_text(text)
    return path


def test_mirt_multidimensional_table_loads_every_slope(tmp_path):
    path = _table(
        tmp_path,
        "item,itemtype,a1,a2,a3,d,g,u,d1,d2,a2_se\n"
        "i1,2PL,1.1,0.4,0,-0.2,0,1,,,0.05\n"
        "i2,3PL,0,0.9,0.3,0.5,0.2,1,,,0.07\n"
        "i3,graded,0.7,0,1.2,,,,1.5,-0.5,\n",
    )
    t = read_multidim_param_table(path, n_dims=3)
    np.testing.assert_array_equal(t.a, [[1.1, 0.4, 0], [0, 0.9, 0.3], [0.7, 0, 1.2]])
    assert t.models == ["2PL", "3PL", "GRM"]
    np.testing.assert_array_equal(t.intercepts[:2, 0], [-0.2, 0.5])
    np.testing.assert_array_equal(t.intercepts[2], [1.5, -0.5])
    assert t.c[1] == 0.2 and np.isnan(t.se["a2"][2])


def test_written_table_reads_back_the_same_arrays(tmp_path):
    a = np.array([[1.2, 0.0], [0.3, 0.8], [0.9, 0.1]])
    d = np.array([[0.4, np.nan], [-1.0, np.nan], [1.0, -1.0]])
    se = {"a1": np.array([0.1, 0.2, 0.3]), "d": np.array([0.05, 0.06, np.nan])}
    path = write_multidim_param_table(
        tmp_path / "t.csv",
        ["x", "y", "z"],
        ["2PL", "4PL", "GPCM"],
        a,
        d,
        np.array([0, 0.1, 0]),
        np.array([1, 0.95, 1]),
        se,
    )
    t = read_multidim_param_table(path)
    np.testing.assert_array_equal(t.a, a)
    np.testing.assert_array_equal(np.isnan(t.intercepts), np.isnan(d))
    np.testing.assert_allclose(t.intercepts[~np.isnan(d)], d[~np.isnan(d)])
    assert t.models == ["2PL", "4PL", "GPCM"] and t.u[1] == 0.95
    np.testing.assert_array_equal(t.se["a1"], se["a1"])
    header, _ = multidim_param_table(["x"], ["2PL"], a[:1], d[:1], np.zeros(1), np.ones(1))
    assert header == ["item", "itemtype", "a1", "a2", "d", "g", "u"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("item,a1,a3,d\ni1,1,1,0\n", "params.csv:1: slope columns a1, a3 skip a2"),
        ("item,a1,a2,d,b\ni1,1,1,0,1\n", "params.csv:1: column 'b' is catR's"),
        ("item,a1,a2,d,slope2\ni1,1,1,0,1\n", "params.csv:1: unknown column 'slope2'"),
        ("item,a1,a2,d\ni1,1,0,0\ni2,1,x,0\n", "params.csv:3: item 'i2': column 'a2' = 'x' is not a number"),
        ("item,a1,a2,d\ni1,0,0,0\n", "params.csv:2: item 'i1': every slope a1..a2 is 0"),
        ("item,a1,a2,d\ni1,1,0,\n", "params.csv:2: item 'i1': no intercept"),
        ("item,a1,a2,d,d1,d2\ni1,1,0,0.3,1,-1\n", "params.csv:2: item 'i1': column 'd' is given for a polytomous"),
        ("item,a1,a2,d\ni1,1,0,0\ni1,1,0,0\n", "params.csv:3: item 'i1' appears twice"),
        ("item,a1,a2,d\ni1,150,0,0\n", "params.csv:2: item 'i1': a slope of 150 is beyond"),
        ("item,itemtype,a1,a2,d\ni1,Rasch,1,0,0\n", "params.csv:2: item 'i1': itemtype Rasch has no slope vector"),
    ],
)
def test_unusable_column_or_cell_is_an_error_naming_it_and_the_line(tmp_path, text, fragment):
    path = _table(tmp_path, text)
    with pytest.raises(ParameterError) as info:
        read_multidim_param_table(path)
    assert fragment in str(info.value)


def test_slope_count_must_match_the_bank(tmp_path):
    path = _table(tmp_path, "item,a1,a2,d\ni1,1,0.5,0\n")
    with pytest.raises(ParameterError, match="the table has 2 slope columns \\(a1..a2\\); the bank has 3 dimensions"):
        read_multidim_param_table(path, n_dims=3)


def test_unidimensional_reader_refuses_a2_instead_of_dropping_it(tmp_path):
    path = _table(tmp_path, "item,a1,a2,d\ni1,1,0.5,0\n")
    with pytest.raises(ParameterError, match="read the table with read_multidim_param_table"):
        read_param_table(path)


def test_unidimensional_cell_errors_name_the_line(tmp_path):
    path = _table(tmp_path, "item,a1,d\ni1,1,0\ni2,1,zz\n")
    with pytest.raises(ParameterError, match="params.csv:3: item 'i2': column 'd' = 'zz' is not a number"):
        read_param_table(path)
