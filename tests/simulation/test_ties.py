"""Exact ties between items with equal parameters go by each person's own random order, not the bank's.

Without exposure control, a tie always given to the lowest bank position sends every test taker to the same
item; breaking it by the person's keyed order (``digicomp.cat.exposure.tie_order``) spreads first items evenly
over the tied items while keeping every person's test independent of the batch, so simulation = live still.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from digicomp.cat import AdaptiveTest
from digicomp.models import ItemParameters
from digicomp.simulation import simulate

from .test_fidelity import PER_PERSON, assert_simulation_is_live

N_TIED = 10
SEED = 31


def clones(n: int = N_TIED) -> ItemParameters:
    """``n`` identical 2PL items (a = 1.2, b = 0): every selection rule ties them all at every step."""
    return ItemParameters.dichotomous(a=np.full(n, 1.2), b=np.zeros(n))


def design(rule: str = "mfi", **overrides) -> dict:
    out = {"id": rule, "selection": {"rule": rule}, "stop": {"max_items": 4}, "report": {"audit": False}}
    out.update(overrides)
    return out


@pytest.mark.parametrize("rule", ["mfi", "mpwi", "kl"])
def test_first_items_spread_evenly_over_tied_items_without_exposure_control(rule):
    result = next(iter(simulate(design(rule), bank=clones(), n=1000, seed=SEED, baseline="none")))
    first = np.array([result.items(i)[0] for i in range(1000)])
    counts = np.array([(first == item_id).sum() for item_id in clones().ids])
    assert counts.sum() == 1000
    # uniform over the 10 tied items; the old rule (lowest position) gave all 1,000 to the first, p ~ 0
    assert stats.chisquare(counts).pvalue > 0.001, counts


def test_randomesque_among_tied_items_reaches_beyond_the_first_k():
    """With k = 2 and ten clones, the two candidates are each person's own two first in tie order."""
    d = design(exposure={"method": "randomesque", "k": 2})
    result = next(iter(simulate(d, bank=clones(), n=1000, seed=SEED, baseline="none")))
    first = np.array([result.items(i)[0] for i in range(1000)])
    counts = np.array([(first == item_id).sum() for item_id in clones().ids])
    assert stats.chisquare(counts).pvalue > 0.001, counts


@pytest.mark.parametrize("exposure", [{"method": "none"}, {"method": "randomesque", "k": 3}])
def test_tied_items_give_each_person_the_live_test_in_any_batch(exposure):
    params = clones()
    d = design("mfi", exposure=exposure, stop={"max_items": 6})
    theta = np.random.default_rng(SEED).normal(0, 1, 40)
    runs = {
        size: next(iter(simulate(d, bank=params, thetas=theta, seed=23, baseline="none", chunk_size=size)))
        for size in (1, 17, 1000)
    }
    keys = [k for k in PER_PERSON if k in runs[1000].outcome]  # a content-free bank without cuts: no levels, areas
    assert {"sequence", "theta", "se", "stop_reason"} <= set(keys)
    for size in (1, 17):
        for key in keys:
            assert np.array_equal(runs[size].outcome[key], runs[1000].outcome[key]), (size, key)
    assert_simulation_is_live(runs[1000], AdaptiveTest(params, d), theta)
