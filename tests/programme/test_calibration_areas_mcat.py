"""Issue 15's per-area calibration target for the multidimensional adaptive test (slow, about two minutes): the 50
units of the per-area study answer the MCAT (examples/designs/civil-service-mcat.yaml: eight correlated areas,
Bayesian D-optimality, 30 items). Its bank has simple structure, so each person's likelihood factors by area and
the report's per-area method (own-items likelihood in the conditioning model) applies as for a sub-score design;
the shares must cover the true share in 93-97% of the 1,200 unit-area-level pairs, and do better than θ and SD
(0.853 at seed 2026 against 0.961: docs/programme.md, "Per area")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digicomp.programme.calibration import area_study, simulate_area_units

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "examples" / "designs" / "civil-service-mcat.yaml"
TRUTH = ROOT / "examples" / "banks" / "civil-service-areas.yaml"
SEED = 2026


@pytest.fixture(scope="module")
def sim():
    return simulate_area_units(DESIGN, TRUTH, seed=SEED)


@pytest.fixture(scope="module")
def study(sim):
    return area_study(sim, seed=SEED)


@pytest.mark.slow
def test_mcat_per_area_intervals_cover_the_true_share_about_95_percent_of_the_time(sim, study):
    assert sim.log_likelihood is not None and sim.log_likelihood.shape[1] == 8
    assert set(study.area) == {str(k) for k in range(8)} and study.covered.size == 8 * 50 * 3
    # 1,200 pairs: the binomial SE of the coverage at 0.95 is 0.0063; the band is 0.93-0.97
    assert 0.93 <= study.covered.mean() <= 0.97
    for row in study.by_area():  # 150 pairs an area: SE 0.018, three of them either side
        assert abs(row["coverage"] - 0.95) < 3 * np.sqrt(0.95 * 0.05 / row["pairs"]), row


@pytest.mark.slow
def test_mcat_own_items_likelihoods_cover_more_often_than_theta_and_sd(sim, study):
    # paired over the same 1,200 pairs: discordant pairs ≈ 12%, so the difference's SE ≈ sqrt(0.12 / 1200) = 0.01;
    # 0.05 is below the measured gain (0.108 at seed 2026) by more than 5 SE
    plain = area_study(sim, seed=SEED, likelihoods=False)
    assert study.covered.mean() > plain.covered.mean() + 0.05
    err, plain_err = study.estimate - study.true_share, plain.estimate - plain.true_share
    assert np.abs(err).mean() <= np.abs(plain_err).mean() + 0.002
