"""Bad data has a defined outcome: excluded with a warning naming it, or an error; never NaN, never silent."""

from __future__ import annotations

import io

import numpy as np
import pytest

from digicomp.calibration import calibrate
from digicomp.errors import DataWarning, ResponseError
from digicomp.io.responses import read_responses
from digicomp.models import ItemParameters


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    rng = np.random.default_rng(31)
    params = ItemParameters.dichotomous(rng.lognormal(0, 0.3, 8), rng.normal(0, 1, 8))
    return params.simulate(rng.normal(0, 1, 600), rng).astype(float)


def _finite(res) -> None:
    assert np.all(np.isfinite(res.params.slope)) and np.all(np.isfinite(res.params.intercepts[:, 0]))
    assert np.isfinite(res.loglik)


def test_item_nobody_answered_is_excluded_with_a_named_warning(data):
    x = data.copy()
    x[:, 3] = np.nan
    with pytest.warns(DataWarning, match="item 'item4' excluded.*nobody answered"):
        res = calibrate(x, "2PL", se=False)
    assert "item4" not in res.ids and "item4" in res.excluded_items
    _finite(res)


def test_item_everyone_got_right_is_excluded_with_a_named_warning(data):
    x = data.copy()
    x[:, 0] = 1
    with pytest.warns(DataWarning, match="item 'item1' excluded.*category 0"):
        res = calibrate(x, "2PL", se=False)
    assert "item1" in res.excluded_items
    _finite(res)


def test_person_with_one_response_is_kept(data):
    x = data.copy()
    x[0, 1:] = np.nan
    res = calibrate(x, "2PL", se=False, fit=False)
    assert res.n_persons == x.shape[0]
    _finite(res)


def test_person_left_without_responses_is_excluded_with_a_warning(data):
    x = data.copy()
    x[:, 3] = np.nan
    x[5, :] = np.nan
    x[5, 3] = 1
    with pytest.warns(DataWarning, match="1 person\\(s\\) excluded.*'row6'"):
        res = calibrate(x, "2PL", se=False, fit=False)
    assert res.n_persons == x.shape[0] - 1


def test_code_outside_categories_is_an_error_naming_person_and_item(data):
    x = data.copy()
    x[2, 4] = 2
    with pytest.raises(ResponseError, match="person 'row3', item 'item5': response 2 is outside"):
        calibrate(x, "2PL")


def test_duplicated_person_item_rows_are_an_error():
    text = "person,item,response\np1,i1,1\np1,i2,0\np1,i1,0\n"
    with pytest.raises(ResponseError, match="answered item 'i1' more than once"):
        calibrate(read_responses(io.StringIO(text)), "2PL")


def test_sparse_s_x2_is_reported_unavailable_not_nan(data):
    x = data.copy()
    rng = np.random.default_rng(3)
    x[rng.random(x.shape) < 0.5] = np.nan
    res = calibrate(x, "2PL", se=False)
    sx = res.report()["item_fit"]["S_X2"]
    assert sx["available"] is False and "complete" in sx["reason"]
