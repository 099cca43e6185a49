"""Levels: θ to level by cut scores, level probabilities from the posterior, group sub-scores."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from digicomp.levels import group_scores, level_index, level_probabilities, next_goal, to_work_on
from digicomp.models import ItemParameters
from digicomp.scoring import score
from digicomp.scoring.quadrature import NormalPrior

CUTS = np.array([-1.0, 0.0, 1.2])


def test_theta_on_a_cut_belongs_to_the_level_above():
    assert level_index([-2.0, -1.0, -0.5, 0.0, 1.19, 1.2, 3.0], CUTS).tolist() == [0, 1, 1, 2, 2, 3, 3]


@given(st.lists(st.floats(0.01, 1.0), min_size=5, max_size=40))
def test_level_probabilities_sum_to_one_and_match_grid_mass(ws):
    w = np.array(ws) / np.sum(ws)
    pts = np.linspace(-3, 3, w.size)
    probs = level_probabilities(w, pts, CUTS)[0]
    assert probs.sum() == pytest.approx(1.0)
    # points strictly inside the lowest level count whole; a point whose cell the cut crosses counts by share
    h = (pts[1] - pts[0]) / 2
    inside = pts + h <= CUTS[0]
    crossing = (pts - h < CUTS[0]) & (pts + h > CUTS[0])
    share = (CUTS[0] - (pts[crossing] - h)) / (2 * h)
    assert probs[0] == pytest.approx(w[inside].sum() + (w[crossing] * share).sum())


def test_a_cut_on_a_grid_point_splits_its_mass_evenly():
    pts = np.linspace(-2, 2, 5)  # the cut 0.0 is the middle point
    w = np.array([0.0, 0.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(level_probabilities(w, pts, [0.0])[0], [0.5, 0.5])


def test_group_scores_equal_eap_of_each_groups_items_alone():
    params = ItemParameters.dichotomous(a=[1.0, 1.5, 0.8, 1.2], b=[-0.5, 0.3, 1.0, 0.0])
    pts, logw = NormalPrior().grid(61, (-6, 6))
    log_prob_jkq = np.ascontiguousarray(params.log_prob(pts).transpose(1, 2, 0))
    items, resp = np.array([0, 1, 2, 3]), np.array([1, 0, 1, 1])
    group = np.array([0, 1, 0, -1])
    theta, se, n = group_scores(log_prob_jkq, logw, pts, items, resp, group, 3)
    ref = score(params, np.array([[1, -1, 1, -1]]), method="EAP")
    assert theta[0] == pytest.approx(ref.theta[0], abs=1e-9) and se[0] == pytest.approx(ref.se[0], abs=1e-9)
    assert n.tolist() == [2, 1, 0]
    assert theta[2] == pytest.approx(0.0, abs=1e-9)  # no items: the prior


def test_competences_to_work_on_are_those_below_the_next_cut_weakest_first():
    out = to_work_on(
        ["1.1", "1.2", "2.1", "2.2"],
        np.array([0.5, -0.8, 0.1, -2.0]),
        np.array([3, 2, 0, 1]),
        goal=next_goal(-0.3, CUTS),
    )
    assert [c["competence"] for c in out] == ["2.2", "1.2"]
    assert next_goal(2.0, CUTS) == 2.0
