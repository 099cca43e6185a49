"""Cut scores given to a study are checked, never repaired: NaN or unsorted cuts are refused naming the cut."""

from __future__ import annotations

import math

import pytest

from digicomp.errors import DigicompError, ParameterError
from digicomp.levels import check_cuts
from digicomp.simulation import simulate
from tests.simulation.conftest import MFI_EAP


@pytest.mark.parametrize(
    "cuts, where",
    [
        ([math.nan], r"cuts\[0\] = nan"),
        ([-1.0, math.inf], r"cuts\[1\] = inf"),
        ([1.0, -1.0], r"cuts\[1\] = -1.0 is not above cuts\[0\] = 1.0"),
        ([0.0, 0.0], r"cuts\[1\] = 0.0 is not above"),
    ],
)
def test_simulate_refuses_a_cut_that_is_not_finite_or_not_increasing(cuts, where, param_bank):
    with pytest.raises(ParameterError, match=where) as info:
        simulate(MFI_EAP, bank=param_bank, n=20, cuts=cuts, baseline="none")
    assert isinstance(info.value, DigicompError) and isinstance(info.value, ValueError)


def test_valid_cuts_are_used_as_given(param_bank):
    result = simulate(MFI_EAP, bank=param_bank, n=50, cuts=[-0.5, 0.5], baseline="none", seed=1)["mfi"]
    assert result.cuts.tolist() == [-0.5, 0.5]
    assert len(result.level_ids) == 3


def test_check_cuts_refuses_what_is_not_a_flat_list_of_numbers():
    with pytest.raises(ParameterError, match="flat list"):
        check_cuts([[0.0, 1.0]])
    with pytest.raises(ParameterError, match="list of numbers"):
        check_cuts(["low"])
