"""The default SE method is chosen by estimated cost (2·P E-steps for numerical SEs), and its progress is reported."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.calibration import calibrate
from digicomp.calibration.result import NUMERICAL_SE_BUDGET, choose_se_method


def _two_pl(n_items: int, n_persons: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a, b, theta = rng.lognormal(0, 0.3, n_items), rng.normal(0, 1, n_items), rng.normal(size=n_persons)
    p = 1 / (1 + np.exp(-a * (theta[:, None] - b)))
    return (rng.random(p.shape) < p).astype(float)


def test_choice_rule_compares_numerical_cost_with_the_budget():
    # 2 · P · responses · points against the budget, on both sides of the boundary
    cells = int(NUMERICAL_SE_BUDGET // (2 * 61))
    assert choose_se_method(1, cells, 61) == "numerical"
    assert choose_se_method(1, cells + 1, 61) == "xpd"
    assert choose_se_method(10, 32 * 5, 61) == "numerical"  # LSAT-sized pattern data
    assert choose_se_method(400, 200 * 2000, 61) == "xpd"  # 200 2PL items, 2,000 complete tests
    # more parameters or more data never switch back to the dearer method
    assert choose_se_method(400, 200 * 300, 61) == "numerical"
    assert choose_se_method(800, 200 * 300, 61) == "xpd"


def test_auto_picks_xpd_for_200_items_at_400_parameters():
    # the old rule ("numerical up to 400 parameters") spent 2 · 400 E-steps here
    res = calibrate(_two_pl(200, 600, 3), "2PL", fit=False)
    assert res.n_parameters == 400
    assert res.se_method == "xpd"


def test_auto_keeps_numerical_for_a_small_calibration():
    res = calibrate(_two_pl(10, 500, 4), "2PL", fit=False)
    assert res.se_method == "numerical"


@pytest.mark.parametrize("method", ["numerical", "xpd"])
def test_se_progress_announces_the_work_and_reaches_its_total(method):
    calls = []
    res = calibrate(_two_pl(5, 300, 5), "2PL", fit=False, se_method=method, se_progress=lambda *a: calls.append(a))
    assert res.se_method == method
    assert calls[0][:2] == (method, 0) and calls[0][2] > 0
    assert calls[-1] == (method, calls[0][2], calls[0][2])
    if method == "numerical":
        assert calls[0][2] == 2 * res.n_parameters
