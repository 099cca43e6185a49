"""Issue 13's calibration defects: fixed items align by id or are refused; "every item fixed" says so; a 3PL
guessing parameter at its bound is flagged and its SE left out rather than reported as a tiny number."""

import numpy as np
import pytest

from digicomp.calibration import calibrate
from digicomp.errors import CalibrationError, DataWarning
from digicomp.models import ItemParameters
from digicomp.responses import Responses


def _data(seed=0, n=2000, J=8):
    rng = np.random.default_rng(seed)
    params = ItemParameters.dichotomous(
        a=rng.lognormal(0, 0.2, J), b=rng.normal(0, 1, J), ids=[f"q{j}" for j in range(J)]
    )
    return params, params.simulate(rng.normal(size=n), rng)


def test_fixed_items_are_refused_when_the_data_carry_no_item_ids():
    params, x = _data()
    with pytest.raises(CalibrationError, match="carry no item ids.*never by position"):
        calibrate(x, "2PL", fixed=params.subset([0, 1]), fit=False, se=False)


def test_fixed_items_matching_no_item_of_the_data_are_refused():
    params, x = _data()
    other = ItemParameters.dichotomous(a=[1.0], b=[0.0], ids=["elsewhere"])
    with pytest.raises(CalibrationError, match="none of the 1 fixed item id"):
        calibrate(Responses.from_dense(x, item_ids=params.ids), "2PL", fixed=other, fit=False, se=False)


def test_fixed_items_with_ids_are_held_at_their_values():
    params, x = _data(1)
    anchors = params.subset([0, 1, 2])
    res = calibrate(Responses.from_dense(x, item_ids=params.ids), "2PL", fixed=anchors, fit=False, se=False)
    assert res.fixed.tolist() == [True] * 3 + [False] * 5
    assert np.allclose(res.params.slope[:3], anchors.slope)
    assert np.allclose(res.params.intercepts[:3], anchors.intercepts)


def test_every_item_fixed_is_named_as_such():
    params, x = _data(2)
    with pytest.raises(CalibrationError, match="every item of the responses .8. is fixed"):
        calibrate(Responses.from_dense(x, item_ids=params.ids), "2PL", fixed=params, fit=False, se=False)


def test_a_guessing_parameter_at_its_bound_is_flagged_and_its_se_left_out():
    """2PL data (true c = 0) fitted as 3PL without a prior: the easy items' c run to 0."""
    params, x = _data(3, n=3000)
    with pytest.warns(DataWarning, match="asymptote at its bound"):
        res = calibrate(Responses.from_dense(x, item_ids=params.ids), "3PL", fit=False)
    assert res.boundary, "some c should reach 0 on 2PL data"
    for item, why in res.boundary.items():
        assert "c =" in why and "c" not in res.se[item] and "a" in res.se[item]
        assert res.report()["boundary"][item] == why
    assert "at a bound" in res.summary()
