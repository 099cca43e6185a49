"""Fixed-parameter calibration puts new items on the bank's scale; linking recovers a known transformation."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.calibration import calibrate
from digicomp.calibration.linking import link, transform
from digicomp.errors import CalibrationError
from digicomp.models import ItemParameters
from digicomp.responses import Responses


@pytest.fixture(scope="module")
def bank() -> ItemParameters:
    rng = np.random.default_rng(21)
    return ItemParameters.dichotomous(
        rng.lognormal(0, 0.3, 25), rng.normal(0, 1, 25), ids=[f"old{j}" for j in range(25)]
    )


def test_fixed_calibration_recovers_new_items_and_population_on_the_old_scale(bank):
    rng = np.random.default_rng(22)
    new = ItemParameters.dichotomous(rng.lognormal(0, 0.3, 8), rng.normal(0.5, 1, 8), ids=[f"new{j}" for j in range(8)])
    both = ItemParameters.concat([bank, new])
    theta = rng.normal(0.6, 1.25, 5000)
    x = both.simulate(theta, rng)
    res = calibrate(Responses.from_dense(x, item_ids=both.ids), "2PL", fixed=bank, fit=False)
    assert res.fixed.sum() == 25 and not res.fixed[25:].any()
    np.testing.assert_array_equal(res.params.slope[:25], bank.slope)
    se_a = np.array([res.se_internal[i]["a1"] for i in new.ids])
    se_d = np.array([res.se_internal[i]["d"] for i in new.ids])
    assert np.sqrt(np.mean((res.params.slope[25:] - new.slope) ** 2)) < 1.6 * np.sqrt(np.mean(se_a**2))
    assert np.sqrt(np.mean((res.params.intercepts[25:, 0] - new.intercepts[:, 0]) ** 2)) < 1.6 * np.sqrt(
        np.mean(se_d**2)
    )
    # the latent moments are those of this sample of θ, within their SEs
    assert abs(res.latent_mean - theta.mean()) < 3 * res.latent_se["mean"]
    assert abs(res.latent_sd - theta.std()) < 3 * res.latent_se["sd"]


def test_transform_is_exact_for_every_family():
    rng = np.random.default_rng(23)
    parts = [
        ItemParameters.dichotomous([1.2, 0.8], [0.3, -1.0], [0.2, 0.0], ids=["a", "b"]),
        ItemParameters.graded([1.1], [[-1.0, 0.5, 1.5]], ids=["g"]),
        ItemParameters.partial_credit([0.9], [[-0.5, 0.2, 1.0]], ids=["p"]),
    ]
    params = ItemParameters.concat(parts)
    theta = rng.normal(0, 1, 50)
    A, B = 1.3, -0.4
    moved = transform(params, A, B)
    np.testing.assert_allclose(moved.prob(A * theta + B), params.prob(theta), atol=1e-12)


@pytest.mark.parametrize("method", ["mean-sigma", "haebara", "stocking-lord"])
def test_linking_recovers_known_transformation(bank, method):
    A, B = 1.3, 0.5
    source = transform(bank, 1 / A, -B / A)  # the bank seen on a scale where θ_from = (θ - B) / A
    result = link(source, bank, method)
    assert result.A == pytest.approx(A, abs=1e-6)
    assert result.B == pytest.approx(B, abs=1e-6)
    assert result.common == tuple(bank.ids)


@pytest.mark.parametrize("method", ["haebara", "stocking-lord"])
def test_linking_separate_calibrations_recovers_population_shift(bank, method):
    rng = np.random.default_rng(24)
    theta = rng.normal(0.5, 1.3, 6000)
    res = calibrate(Responses.from_dense(bank.simulate(theta, rng), item_ids=bank.ids), "2PL", se=False, fit=False)
    result = link(res.params, bank, method)
    # the new calibration standardised its own sample: A, B are that sample's SD and mean on the bank scale;
    # the error is dominated by the item estimates (about 0.02 here)
    assert result.A == pytest.approx(theta.std(), abs=0.05)
    assert result.B == pytest.approx(theta.mean(), abs=0.05)


def test_linking_needs_common_items(bank):
    other = ItemParameters.dichotomous([1.0, 1.0], [0.0, 1.0], ids=["x", "y"])
    with pytest.raises(CalibrationError, match="common items"):
        link(other, bank)
