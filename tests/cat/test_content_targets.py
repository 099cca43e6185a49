"""Target proportions: targeted groups get their share, the untargeted rest gets what the targets leave."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.simulation import simulate

TARGETS = {"1": 0.3, "3": 0.1}  # two of the content bank's four areas; the rest (areas 2 and 4) gets 0.6


@pytest.mark.parametrize("length", [20, 23])
@pytest.mark.parametrize("method", ["kingsbury_zara", "mpi"])
def test_each_test_meets_the_targets_and_the_rest_gets_the_remainder(method, length, cbank):
    design = {
        "id": "t",
        "content": {"method": method, "constraints": [{"group": g, "target": t} for g, t in TARGETS.items()]},
        "stop": {"max_items": length},
        "report": {"audit": False},
    }
    result = simulate(design, bank=cbank, n=120, seed=3, baseline="none")["t"]
    seq = result.outcome["sequence"]
    given = seq >= 0
    area = np.where(given, cbank.area_index[np.maximum(seq, 0)], -1)
    codes = list(cbank.areas)
    n_items = given.sum(axis=1)
    assert np.all(n_items == length)
    for code, target in TARGETS.items():
        count = (area == codes.index(code)).sum(axis=1)
        assert np.all(np.abs(count - target * length) <= 1), (code, np.unique(count))  # within one item
    rest = np.isin(area, [codes.index(c) for c in codes if c not in TARGETS]).sum(axis=1)
    assert np.all(np.abs(rest - (1 - sum(TARGETS.values())) * length) <= 1)
