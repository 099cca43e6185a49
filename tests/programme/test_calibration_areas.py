"""Issue 15's calibration target per area (slow): the same 50 simulated units as the overall study, each person with
a true value per area (their general level plus an area-specific deviation), answering the multidimensional
civil-service truth bank through today's design (examples/designs/civil-service-balanced.yaml: its per-area results
are each area's sub-score). The report's per-area shares must cover the true share in 93-97% of the unit-area-level
pairs, like the overall shares; counting hard classifications must be further from the truth.

The per-area estimate uses each person's own-items area likelihood (on the scoring grid) in a conditioning model: a
θ distribution of the area per unit × tertile of the person's result on the rest of the test, its log-density
smoothed, its EM run to convergence. That lifts the coverage from 0.83 (θ and SD with a normal unit model) and 0.905
(own-items likelihoods, unit model alone, density smoothed) to 0.942 at seed 2026 (0.923-0.945 over seeds 2026, 7,
11, 12, 13). docs/programme.md ("Per area") gives the measurements and the reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digicomp.programme.calibration import area_study, simulate_area_units

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "examples" / "designs" / "civil-service-balanced.yaml"
TRUTH = ROOT / "examples" / "banks" / "civil-service-areas.yaml"
SEED = 2026


@pytest.fixture(scope="module")
def sim():
    return simulate_area_units(DESIGN, TRUTH, seed=SEED)


@pytest.fixture(scope="module")
def study(sim):
    return area_study(sim, seed=SEED)


@pytest.mark.slow
def test_own_items_likelihoods_cover_more_often_than_theta_and_sd(sim, study):
    # the same persons and units estimated from the area θ and SD alone (normal unit model, the path of stored
    # results without likelihoods): 0.83 at seed 2026 against 0.94 with the likelihoods. The paired difference's
    # SE over 600 pairs is at most sqrt(0.15 / 600) = 0.016 (discordant pairs ≈ 15%); 0.03 is below the measured
    # gain by > 4 SE
    plain = area_study(sim, seed=SEED, likelihoods=False)
    assert sim.log_likelihood is not None
    assert study.covered.mean() > plain.covered.mean() + 0.03
    # and the estimate is no further from the truth on average
    err, plain_err = study.estimate - study.true_share, plain.estimate - plain.true_share
    assert np.abs(err).mean() <= np.abs(plain_err).mean() + 0.002


@pytest.mark.slow
def test_the_per_area_estimate_is_closer_to_the_truth_than_the_count(study):
    assert set(study.area) == {"1", "2", "3", "4"}  # the four areas the design tests
    assert study.covered.size == 4 * 50 * 3
    est_err, count_err = study.estimate - study.true_share, study.naive - study.true_share
    assert np.abs(count_err).mean() > 1.2 * np.abs(est_err).mean()
    # the count's own interval (sampling only) misses the truth far more often than 5%
    assert study.naive_covered.mean() < 0.6


@pytest.mark.slow
def test_per_area_intervals_cover_the_true_share_about_95_percent_of_the_time(study):
    covered = study.covered
    # 600 pairs: the binomial SE of the coverage at 0.95 is 0.009; the band is 0.93-0.97
    assert 0.93 <= covered.mean() <= 0.97


@pytest.fixture(scope="module")
def studies(study):
    """The study at SEED and at two more seeds: 150 units an area in all."""
    return [study, *(area_study(simulate_area_units(DESIGN, TRUTH, seed=s), seed=s) for s in (7, 11))]


@pytest.mark.slow
def test_every_area_covers_within_three_standard_errors_of_95_percent(studies):
    # A unit's three level pairs share its estimate, so their coverage is correlated and the binomial SE of 150 pairs
    # (0.018) understates the spread: over seeds 2026, 7, 11-14 one area's coverage had SD 0.025 on the banks of
    # 2026-12-05, and single-seed checks against the binomial SE failed at two bank states with the overall coverage
    # on target. So each area's coverage is measured over three seeds (450 pairs, 150 unit clusters) against the
    # cluster SE of the unit means (never below the binomial SE): about 0.012, a tighter band than the old 0.053.
    for area in ("1", "2", "3", "4"):
        unit_means, pairs = [], 0
        for s in studies:
            mask = np.asarray(s.area) == area
            _, unit = np.unique(np.asarray(s.unit)[mask], return_inverse=True)
            unit_means.append(np.bincount(unit, weights=s.covered[mask]) / np.bincount(unit))
            pairs += int(mask.sum())
        means = np.concatenate(unit_means)
        se = max(means.std(ddof=1) / np.sqrt(means.size), np.sqrt(0.95 * 0.05 / pairs))
        assert abs(means.mean() - 0.95) < 3 * se, (area, means.mean(), se)
