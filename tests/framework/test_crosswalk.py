"""Crosswalk projection: a per-competence result on one framework shown on another."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digicomp.framework import RELATION_WEIGHTS, find_crosswalk, load_crosswalk

MINI_TO_DIGCOMP = Path(__file__).parent / "fixtures" / "valid" / "mini--digcomp-2.2.yaml"


def test_exact_mappings_carry_values_unchanged():
    cw = find_crosswalk("vn-tt02-2025", "digcomp-2.2")
    result = {"1.1": 0.3, "4.2": -1.2, "5.4": 2.0}
    assert cw.project(result) == pytest.approx(result)


def test_many_to_one_is_the_relation_weighted_mean():
    cw = find_crosswalk("vn-civil-service", "digcomp-2.2")
    # 4.2 receives 4.2 (exact), 7.3 (partial) and 7.4 (partial)
    projected = cw.project_detailed({"4.2": 1.0, "7.3": 3.0, "7.4": -2.0})["4.2"]
    w_exact, w_partial = RELATION_WEIGHTS["exact"], RELATION_WEIGHTS["partial"]
    expected = (w_exact * 1.0 + w_partial * 3.0 + w_partial * -2.0) / (w_exact + 2 * w_partial)
    assert projected.value == pytest.approx(expected)
    assert projected.weight == pytest.approx(w_exact + 2 * w_partial)
    assert set(projected.sources) == {("4.2", "exact"), ("7.3", "partial"), ("7.4", "partial")}


def test_one_to_many_sends_the_value_to_every_target():
    cw = load_crosswalk(MINI_TO_DIGCOMP)
    assert cw.project({"2.1": 2.5}) == {"4.1": 2.5, "4.2": 2.5}


def test_projection_is_vectorised_over_persons():
    cw = find_crosswalk("vn-civil-service", "digcomp-2.2")
    theta = {"4.2": np.array([0.0, 1.0, -1.0]), "7.4": np.array([1.0, 1.0, 1.0])}
    out = cw.project(theta)
    w = np.array([RELATION_WEIGHTS["exact"], RELATION_WEIGHTS["partial"]])
    np.testing.assert_allclose(out["4.2"], (w[0] * theta["4.2"] + w[1] * theta["7.4"]) / w.sum())
    np.testing.assert_allclose(out["1.2"], theta["7.4"])  # 1.2 only hears from 7.4 here


def test_targets_without_evidence_are_absent_and_unmapped_sources_are_listed():
    cw = find_crosswalk("vn-tt02-2025", "digcomp-2.2")
    result = {"1.1": 1.0, "6.1": 0.5}
    assert set(cw.project(result)) == {"1.1"}
    assert cw.unmapped(result) == ["6.1"]


def test_reversed_crosswalk_swaps_sides_and_inverts_broader_narrower():
    cw = find_crosswalk("vn-civil-service", "digcomp-2.2")
    back = find_crosswalk("digcomp-2.2", "vn-civil-service")
    assert back.from_.framework == "digcomp-2.2" and back.to.framework == "vn-civil-service"
    forward = {(m.from_, m.to): m.relation for m in cw.mappings}
    for m in back.mappings:
        relation = forward[(m.to, m.from_)]
        assert m.relation == {"broader": "narrower", "narrower": "broader"}.get(relation, relation)
    assert back.project({"2.3": 1.5})["7.2"] == pytest.approx(1.5)


def test_zero_weight_ignores_a_relation():
    cw = find_crosswalk("vn-civil-service", "digcomp-2.2")
    only_exact = {"exact": 1.0, "close": 0.0, "partial": 0.0, "broader": 0.0, "narrower": 0.0}
    out = cw.project({"4.2": 1.0, "7.4": 5.0}, weights=only_exact)
    assert out == {"4.2": 1.0}


def test_weights_must_cover_every_relation():
    from digicomp.errors import FrameworkError

    cw = find_crosswalk("vn-civil-service", "digcomp-2.2")
    with pytest.raises(FrameworkError, match="number >= 0 for every relation"):
        cw.project({"4.2": 1.0}, weights={"exact": 1.0})
