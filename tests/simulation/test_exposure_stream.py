"""Exposure control that reads past test takers: the simulated stream of arrivals, its target and its warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from digicomp.cat import AdaptiveTest
from digicomp.errors import ExposureWarning, ParameterError
from digicomp.simulation import simulate
from digicomp.simulation.metrics import exposure_limit
from digicomp.simulation.stream import DEFAULT_CONCURRENT
from tests.simulation.test_lockstep_equals_sessions import live_test

R_MAX = 0.2
N = 1000


def ledger_design(method: str) -> dict:
    return {
        "id": method,
        "exposure": {"method": method, "r_max": R_MAX},
        "stop": {"max_items": 20, "rules": [{"se": 0.3}]},
        "report": {"audit": False},
    }


@pytest.mark.parametrize("method", ["item_eligibility", "progressive_restricted"])
def test_realised_maximum_exposure_holds_r_max_within_sampling_error_at_the_default_concurrency(method, param_bank):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExposureWarning)
        result = simulate(ledger_design(method), bank=param_bank, n=N, seed=2, baseline="none")[method]
    limit = exposure_limit(R_MAX, N, param_bank.n_items)
    assert result.exposure_rates.max() <= limit
    free = simulate(
        {**ledger_design(method), "exposure": {"method": "none"}}, bank=param_bank, n=N, seed=2, baseline="none"
    )[method]
    assert free.exposure_rates.max() > limit  # the control is what holds the rates, not the bank


@pytest.mark.parametrize("method", ["item_eligibility", "progressive_restricted"])
def test_chunk_size_never_changes_a_ledger_design(method, param_bank):
    runs = [
        simulate(ledger_design(method), bank=param_bank, n=300, seed=4, baseline="none", chunk_size=size, concurrent=25)
        for size in (17, 1000)
    ]
    a, b = (r[method].outcome for r in runs)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_everyone_at_once_overexposes_and_warns(param_bank):
    design = ledger_design("item_eligibility")
    with pytest.warns(ExposureWarning, match=r"item_eligibility with r_max = 0.2 gave item .* 300 test takers at the"):
        result = simulate(design, bank=param_bank, n=300, seed=4, baseline="none", concurrent=300)
    assert result["item_eligibility"].exposure_rates.max() > exposure_limit(R_MAX, 300, param_bank.n_items)


def test_more_test_takers_at_once_means_more_exposure(param_bank):
    design = ledger_design("item_eligibility")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExposureWarning)
        rates = [
            simulate(design, bank=param_bank, n=400, seed=6, baseline="none", concurrent=c)[
                "item_eligibility"
            ].exposure_rates.max()
            for c in (10, 400)
        ]
    assert rates[0] < rates[1]


def test_one_at_a_time_stream_is_a_live_programme_of_sessions_one_after_another(param_bank):
    design = ledger_design("item_eligibility")
    thetas = np.linspace(-2, 2, 15)
    sim = simulate(design, bank=param_bank, thetas=thetas, seed=8, baseline="none", concurrent=1)["item_eligibility"]
    engine = AdaptiveTest(param_bank, design)  # one engine, one ledger: each session starts when the last ended
    for i, theta in enumerate(thetas):
        items, est, se, reason = live_test(engine, 8, i, theta)
        assert sim.items(i) == items
        assert sim.outcome["theta"][i] == pytest.approx(est, abs=1e-12)
        assert sim.outcome["stop_reason"][i] == reason


def test_default_concurrency_is_stated_and_bad_values_are_refused(param_bank):
    assert DEFAULT_CONCURRENT >= 1
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ParameterError, match="concurrent"):
            simulate(ledger_design("item_eligibility"), bank=param_bank, n=10, baseline="none", concurrent=bad)


def test_ledger_counts_only_finished_test_takers_and_marks_items_at_target():
    from digicomp.cat.exposure import ExposureLedger

    ledger = ExposureLedger(3)
    assert not ledger.at_target(0.2).any()  # nothing known before anyone finished
    given = np.zeros((10, 3), bool)
    given[:2, 0] = True  # rate 0.2: at the target
    given[:1, 1] = True  # rate 0.1
    ledger.add(np.ones((10, 3), bool), given)
    assert ledger.at_target(0.2).tolist() == [True, False, False]


@pytest.mark.parametrize("method", ["item_eligibility", "progressive_restricted"])
def test_the_reported_case_civil_service_bank_at_the_default_chunk_size_holds_r_max(method):
    """The issue's case: r_max = 0.2 gave a maximum exposure of 0.60 at chunk_size 1000 without a warning."""
    design = {**ledger_design(method), "bank": "civil-service"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExposureWarning)
        result = simulate(design, n=N, seed=1, baseline="none", chunk_size=1000)[method]
    assert result.exposure_rates.max() <= exposure_limit(R_MAX, N, len(result.item_ids))


def test_a_target_the_bank_cannot_meet_warns_that_tests_ended_early():
    from tests.cat.conftest import params_bank

    design = {**ledger_design("item_eligibility"), "stop": {"max_items": 20}}  # 20 items at ≤ 0.2 need ≥ 100
    with pytest.warns(ExposureWarning, match=r"tests ended early for want of eligible items .* r_max = 0.2"):
        result = simulate(design, bank=params_bank(60), n=200, seed=1, baseline="none")
    assert result["item_eligibility"].metrics["stop_reasons"].get("no_items", 0) > 0
