"""Response CSV files: only empty / NA-like cells mean not administered; everything else is a code or an error."""

from __future__ import annotations

import io

import numpy as np
import pytest

from digicomp import calibrate
from digicomp.errors import ResponseError
from digicomp.io.responses import MAX_CODE, MISSING_CELLS, read_responses


@pytest.mark.parametrize("cell", ["-7", "-1", "inf", "-inf", "1e30", "9" * 20, "1.5", "+1", "0x1", "1_0", "yes"])
@pytest.mark.parametrize("layout", ["long", "wide"])
def test_a_cell_that_is_not_a_code_names_line_person_and_item(tmp_path, cell, layout):
    path = tmp_path / "r.csv"
    if layout == "long":
        path.write_text(f"person,item,response\np1,i1,1\np2,i2,{cell}\n")
        place = "person 'p2', item 'i2', column 'response'"
    else:
        path.write_text(f"person,i1,i2\np1,1,0\np2,1,{cell}\n")
        place = "person 'p2', column 'i2'"
    with pytest.raises(ResponseError) as info:
        read_responses(path)
    assert str(info.value).startswith(f"{path}:3: {place}: value ")
    assert "is not a response code" in str(info.value)


@pytest.mark.parametrize("cell", ["", "NA", "na", "NaN", "nan", ".", " NA "])
def test_empty_and_na_cells_mean_not_administered(tmp_path, cell):
    path = tmp_path / "r.csv"
    path.write_text(f"person,i1,i2\np1,1,{cell}\np2,0,1\n")
    resp = read_responses(path)
    assert resp.dense().tolist() == [[1, -1], [0, 1]]
    assert cell.strip().lower() in MISSING_CELLS


def test_whole_numbers_written_as_decimals_are_codes(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(f"person,item,response\np1,i1,1.0\np1,i2, 2 \np1,i3,{MAX_CODE}\n")
    assert read_responses(path).value.tolist() == [1, 2, MAX_CODE]


def test_a_nul_byte_is_an_error_not_a_missing_cell(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"person,i1,i2\np1,1,0\np2,\x00,1\n")
    with pytest.raises(ResponseError, match=r"r.csv:3: the response file contains a NUL byte"):
        read_responses(path)


def test_invalid_utf8_is_named_with_its_line(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(b"person,item,response\np1,i1,1\np\xff,i1,1\n")
    with pytest.raises(ResponseError, match=r"r.csv:3: the response file is not UTF-8 text \(byte 0xff"):
        read_responses(path)


def test_a_field_over_the_csv_limit_is_a_response_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("person,item,response\np1,i1,1\np1,i2," + "1" * 140_000 + "\n")
    with pytest.raises(ResponseError, match=r"r.csv:3: the response file cannot be read as CSV: field larger"):
        read_responses(path)


def test_a_duplicated_item_column_is_an_error(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("person,i1,i2,i1\np1,0,1,1\n")
    with pytest.raises(ResponseError, match=r"item 'i1' has two columns \(2 and 4\)"):
        read_responses(path)


def test_empty_ids_are_errors(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("person,item,response\np1,,1\n")
    with pytest.raises(ResponseError, match="r.csv:2: the item id is empty"):
        read_responses(path)
    path.write_text("person,i1\n,1\n")
    with pytest.raises(ResponseError, match=r"r.csv:2: the person id \(first column\) is empty"):
        read_responses(path)


def test_a_huge_code_is_refused_before_calibration_counts_categories(tmp_path):
    path = tmp_path / "r.csv"
    rows = "".join(f"p{k},i1,{k % 2}\np{k},i2,{(k + 1) % 3}\n" for k in range(40))
    path.write_text("person,item,response\n" + rows + "p99,i2,1000000000\n")
    with pytest.raises(ResponseError, match=r"r.csv:82: person 'p99', item 'i2', column 'response'"):
        calibrate(path, "GRM")


def test_a_huge_code_in_an_array_is_refused_by_calibrate():
    x = np.random.default_rng(5).integers(0, 3, size=(60, 4)).astype(float)
    x[7, 2] = 1e9
    with pytest.raises(ResponseError, match=f"person 'row8', item 'item3': response 1000000000 is above {MAX_CODE}"):
        calibrate(x, "GRM")


def test_a_dataframe_follows_the_same_rules():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"i1": [1.0, np.nan], "i2": [0.0, -1.0]}, index=["p1", "p2"])
    assert read_responses(frame).dense().tolist() == [[1, 0], [-1, -1]]
    frame.loc["p2", "i1"] = -7.0
    with pytest.raises(ResponseError, match=r"row 2: person 'p2', item 'i1': -7.0 is not a response code"):
        read_responses(frame)


def test_a_text_buffer_is_read_like_a_file():
    resp = read_responses(io.StringIO("\ufeffperson,item,response\np1,i1,1\n"))
    assert resp.value.tolist() == [1]
