"""score() inputs: parameter tables, CSV response files in long and wide form, and bad data."""

import numpy as np
import pytest

from digicomp import score  # the public face: reads tables and response files
from digicomp.errors import ResponseError
from digicomp.io.param_table import write_param_table
from digicomp.io.responses import read_responses
from digicomp.models import ItemParameters


@pytest.fixture
def bank():
    return ItemParameters.dichotomous(a=[1.0, 1.4, 0.7], b=[-0.5, 0.0, 0.8], ids=["q1", "q2", "q3"])


def test_long_and_wide_files_give_the_same_scores(tmp_path, bank):
    long = tmp_path / "long.csv"
    long.write_text("person,item,response\nann,q1,1\nann,q3,0\nbob,q2,1\nbob,q1,0\nbob,q3,1\n")
    wide = tmp_path / "wide.csv"
    wide.write_text("person,q3,q1,q2\nann,0,1,\nbob,1,0,1\n")
    a = score(bank, long)
    b = score(bank, wide)
    assert a.person_ids == b.person_ids == ["ann", "bob"]
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-12)
    direct = score(bank, [[1, np.nan, 0], [0, 1, 1]])
    np.testing.assert_allclose(a.theta, direct.theta, atol=1e-12)


def test_score_accepts_a_parameter_table_path(tmp_path, bank):
    table = write_param_table(bank, tmp_path / "params.csv")
    x = [[1, 0, 1]]
    np.testing.assert_allclose(score(table, x).theta, score(bank, x).theta, atol=1e-12)


def test_response_outside_categories_names_person_and_item(tmp_path, bank):
    path = tmp_path / "bad.csv"
    path.write_text("person,item,response\nann,q1,1\nann,q2,2\n")
    with pytest.raises(
        ResponseError, match=r"person 'ann', item 'q2': response 2 is outside the item's categories 0..1"
    ):
        score(bank, path)


def test_duplicated_person_item_rows_are_an_error(tmp_path, bank):
    path = tmp_path / "dup.csv"
    path.write_text("person,item,response\nann,q1,1\nann,q1,0\n")
    with pytest.raises(ResponseError, match="person 'ann' answered item 'q1' more than once"):
        read_responses(path)


def test_unknown_item_in_responses_is_named(tmp_path, bank):
    path = tmp_path / "unknown.csv"
    path.write_text("person,item,response\nann,q9,1\n")
    with pytest.raises(ResponseError, match="unknown item 'q9'"):
        score(bank, path)


def test_wrong_shape_is_rejected(bank):
    with pytest.raises(ResponseError, match=r"expected \(persons, 3\)"):
        score(bank, np.zeros((2, 4)))


def test_non_numeric_response_names_the_column(tmp_path, bank):
    path = tmp_path / "text.csv"
    path.write_text("person,q1,q2,q3\nann,1,yes,0\n")
    with pytest.raises(ResponseError, match="column 'q2': value 'yes'"):
        score(bank, path)


def test_format_can_be_forced(tmp_path, bank):
    path = tmp_path / "wide.csv"
    path.write_text("person,q1,q2,q3\nann,1,0,1\n")
    assert read_responses(path, fmt="wide").n_observed == 3
    with pytest.raises(ResponseError):
        read_responses(path, fmt="long")
