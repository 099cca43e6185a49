"""Known CAT results reproduced: SE ≈ 1/√information at the stop, CAT beats random items, calibrated levels."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.models import ItemParameters
from digicomp.simulation import simulate
from tests.simulation.conftest import MFI_EAP

FIXED_20 = {"id": "mfi-20", "selection": {"rule": "mfi"}, "stop": {"max_items": 20}, "report": {"audit": False}}


def test_posterior_sd_at_the_stop_is_near_one_over_root_information(param_bank):
    """With MFI and EAP the posterior SD ≈ 1/√(I(θ̂) + 1/σ²) (normal approximation; Bock & Mislevy 1982)."""
    d = simulate(MFI_EAP, bank=param_bank, n=1000, seed=21, baseline="none")["mfi"]
    o = d.outcome
    by_se = o["stop_reason"] == "se"
    assert by_se.mean() > 0.8 and np.all(o["se"][by_se] < 0.3)
    ratio = o["se"][by_se] * np.sqrt(o["information"][by_se] + 1.0)
    # the approximation's error at ~20 3PL items is a few per cent; 3 SE of the mean ratio on top
    assert abs(ratio.mean() - 1.0) < 0.05 + 3 * ratio.std() / np.sqrt(ratio.size)


def test_reported_se_matches_the_spread_of_estimates_in_central_bins(param_bank):
    """Where tests stop on SE < 0.3, RMSE² ≈ mean SE² bin by bin (the SE means what it says)."""
    d = simulate(MFI_EAP, bank=param_bank, n=3000, seed=22, baseline="none")["mfi"]
    o = d.outcome
    for row in d.conditional(np.array([-1.0, -0.5, 0.0, 0.5, 1.0])):
        m = (o["theta_true"] >= row["low"]) & (o["theta_true"] < row["high"])
        err2 = (o["theta"][m] - o["theta_true"][m]) ** 2
        se_of_mse = err2.std() / np.sqrt(m.sum())
        assert abs(row["rmse"] ** 2 - np.mean(o["se"][m] ** 2)) < 3.5 * se_of_mse


def test_fixed_length_cat_beats_random_items_of_the_same_length(param_bank):
    result = simulate(FIXED_20, bank=param_bank, n=1000, seed=23, baseline="random", baseline_length=20)
    cat, rnd = result["mfi-20"].outcome, result["random-20"].outcome
    assert np.all(cat["n_items"] == 20) and np.all(rnd["n_items"] == 20)
    diff = (cat["theta"] - cat["theta_true"]) ** 2 - (rnd["theta"] - rnd["theta_true"]) ** 2
    assert diff.mean() + 3 * diff.std() / np.sqrt(diff.size) < 0


def test_classification_accuracy_matches_the_level_probabilities(param_bank):
    """Persons drawn from the prior: mean P(assigned level | answers) estimates the accuracy, within 3 SE."""
    m = simulate(MFI_EAP, bank=param_bank, n=2000, seed=24, baseline="none")["mfi"].metrics
    assert 0.5 < m["classification_accuracy"] < 1.0
    assert abs(m["classification_accuracy"] - m["expected_accuracy"]) < 3 * m["accuracy_gap_se"]
    confusion = np.array(m["confusion"])
    assert confusion.sum() == 2000
    assert np.trace(confusion) / 2000 == pytest.approx(m["classification_accuracy"])


def calibration_gaps(bank, cuts) -> list[float]:
    """(mean of 1{right level} − P(assigned level)) / its SE, in three bins of P(assigned level)."""
    d = simulate(MFI_EAP, bank=bank, n=3000, seed=25, baseline="none", cuts=cuts)["mfi"]
    p = d.outcome["level_probabilities"][np.arange(d.n_persons), d.level]
    hit = d.level == d.level_true
    gaps = []
    for lo, hi in [(0.0, 0.7), (0.7, 0.9), (0.9, 1.01)]:
        gap = hit[(p >= lo) & (p < hi)] - p[(p >= lo) & (p < hi)]
        gaps.append(gap.mean() / (gap.std() / np.sqrt(gap.size)))
    return gaps


@pytest.mark.slow
def test_level_probabilities_are_calibrated_bin_by_bin(param_bank):
    assert max(abs(g) for g in calibration_gaps(param_bank, [-0.9, 0.1, 1.1])) < 3


@pytest.mark.slow
def test_level_probabilities_are_calibrated_when_cuts_lie_on_grid_points(param_bank):
    assert max(abs(g) for g in calibration_gaps(param_bank, [-1.0, 0.0, 1.0])) < 3


def test_answers_from_a_harder_true_bank_bias_the_estimates_down(params, param_bank):
    """Items truly 0.5 harder than the bank says: persons look ~0.5 less able (calibration-error study)."""
    f = params.to_file_form()
    harder = ItemParameters.dichotomous(
        a=[r["a"] for r in f], b=[r["b"] + 0.5 for r in f], c=[r["c"] for r in f], ids=params.ids
    )
    m = simulate(MFI_EAP, bank=param_bank, true_bank=harder, n=800, seed=26, baseline="none")["mfi"].metrics
    assert -0.6 < m["bias"] < -0.35


def test_linear_baseline_gives_everyone_the_same_most_informative_form(param_bank):
    result = simulate(MFI_EAP, bank=param_bank, n=40, seed=27, baseline_length=15)
    d = result["linear-15"]
    forms = {tuple(d.items(i)) for i in range(d.n_persons)}
    assert len(forms) == 1 and len(next(iter(forms))) == 15
    assert d.metrics["max_exposure"] == 1.0 and d.metrics["overlap_rate"] == pytest.approx(1.0)


def test_a_true_bank_missing_items_is_refused_by_name(params, param_bank):
    from digicomp.errors import BankError

    smaller = params.subset(np.arange(10))
    with pytest.raises(BankError, match="true_bank: has no items"):
        simulate(MFI_EAP, bank=param_bank, true_bank=ItemBank.from_item_parameters(smaller), n=5)
