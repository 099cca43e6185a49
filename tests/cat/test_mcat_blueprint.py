"""The bundled MCAT design's blueprint: each area's share of the test is its share of the framework's competences."""

from __future__ import annotations

import numpy as np

from digicomp.cat import AdaptiveTest
from digicomp.simulation.multidim import MultidimResponder, draw_multidim_thetas

DESIGN = "examples/designs/civil-service-mcat.yaml"


def test_area_targets_are_the_frameworks_competence_shares():
    engine = AdaptiveTest.from_yaml(DESIGN)
    fw = engine.bank.framework
    n_comp = {a.code: len(a.competences) for a in fw.areas}
    total = sum(n_comp.values())
    targets = {c.group: c.target for c in engine.design.content.constraints}
    assert set(targets) == set(n_comp)
    for code, k in n_comp.items():
        assert abs(targets[code] - k / total) < 5e-4, code


def test_a_30_item_test_follows_the_blueprint():
    engine = AdaptiveTest.from_yaml(DESIGN)
    bank = engine.bank
    n = 40
    theta = draw_multidim_thetas(bank.dims.correlation, n, seed=4)
    state = engine.new_batch(n, seed=4)
    engine.core.run(state, MultidimResponder(bank.mparams, theta, np.arange(bank.n_items)))
    counts = np.stack([(bank.area_index[state.sequence] == g).sum(axis=1) for g in range(8)], axis=1)
    want = 30 * np.array([c.target for c in engine.design.content.constraints])
    assert np.all(counts >= 2)
    assert np.all(np.abs(counts.mean(axis=0) - want) < 0.75)  # the maximum priority index meets the shares
