"""DIF detection by simulation (issue 13's target): 300 items, 20,000 persons in two groups 0.5 SD apart, 10% of
items with planted DIF of 0.6 logits (half uniform: intercept; half non-uniform: slope), Benjamini–Hochberg at .05.

Design: booklets of 60 items (two linked blocks of 30, so each item is answered by about 4,000 persons, 2,000 per
group); digicomp.simulation.dif_pilot documents the generator. Mantel–Haenszel targets uniform DIF (it has little
power against crossing curves by construction), IRT-LR all planted DIF.
"""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.analysis.dif import mantel_haenszel
from digicomp.analysis.irt_dif import irt_lr_dif
from digicomp.simulation.dif_pilot import simulate_dif_pilot


@pytest.fixture(scope="module")
def pilot():
    return simulate_dif_pilot(n_items=300, n_persons=20_000, items_per_person=60, impact=-0.5, effect=0.6, seed=1)


@pytest.mark.slow
def test_mantel_haenszel_power_and_false_positive_rate(pilot):
    t = mantel_haenszel(pilot.responses, pilot.group == "focal", item_ids=pilot.responses.item_ids, purify=True)
    assert t.flagged[pilot.dif == "uniform"].mean() >= 0.9
    assert t.flagged[pilot.dif == "none"].mean() <= 0.05
    assert not t.excluded


@pytest.mark.slow
def test_irt_lr_power_and_false_positive_rate(pilot):
    t = irt_lr_dif(pilot.responses, pilot.group, "2PL", reference="reference", anchors="purified")
    planted = pilot.dif != "none"
    assert t.flagged[planted].mean() >= 0.9
    assert t.flagged[~planted].mean() <= 0.05
    # the groups' distributions come back from the purified base model
    assert t.base.latent_mean[1] == pytest.approx(-0.5, abs=0.05)
    assert t.base.latent_sd[1] == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("per_person", [8, 40])
def test_the_generator_draws_booklets_or_the_complete_design(per_person):
    """items_per_person = n_items is the complete design (one booklet, every item answered); otherwise chain booklets
    of two linked blocks, each item in two booklets."""
    p = simulate_dif_pilot(n_items=40, n_persons=600, items_per_person=per_person, seed=3)
    counts = np.bincount(p.responses.person, minlength=600)
    assert np.all(counts == per_person)
    assert (p.dif == "uniform").sum() == 2 and (p.dif == "nonuniform").sum() == 2
    if per_person == 40:
        assert np.all(p.booklet == 0) and p.responses.value.size == 600 * 40
    else:
        assert set(np.unique(p.booklet)) == set(range(10))
    with pytest.raises(ValueError, match="complete design"):
        simulate_dif_pilot(n_items=40, n_persons=10, items_per_person=30)
