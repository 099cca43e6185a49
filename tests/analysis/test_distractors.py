"""Distractor analysis: option shares by score group, option–rest correlations, flags on planted defects.

The option–rest correlation is the point-biserial of the choice indicator with the rest score (Haladyna & Downing
1989; R CTT's distractor.analysis tables give the same quantities); it is recomputed here with numpy's corrcoef.
"""

import numpy as np
import pytest

from digicomp.analysis.distractors import distractor_analysis, score_groups
from digicomp.errors import ResponseError

N, J = 3000, 12


def _pilot(seed=0):
    """12 four-option items, key 'A' (position 0); item 0 miskeyed (true key 'C'), item 1 with a distractor 'D'
    that nobody picks, item 2 with a distractor 'B' that attracts the strongest."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=N)
    b = rng.normal(0, 0.7, J)
    right = rng.random((N, J)) < 1 / (1 + np.exp(-(1.5 * theta[:, None] - b)))
    wrong = rng.integers(1, 4, size=(N, J))
    choice = np.where(right, 0, wrong)
    choice[:, 1] = np.where(choice[:, 1] == 3, rng.integers(1, 3, N), choice[:, 1])
    choice[rng.random(N) < 0.01, 1] = 3
    strong = theta > 0.8
    choice[strong & (rng.random(N) < 0.5), 2] = 1
    true_c = np.where(right[:, 0], 2, rng.choice([0, 1, 3], N))
    choice[:, 0] = true_c
    keys = np.zeros(J, int)
    scores = (choice == keys).astype(float)
    missing = rng.random((N, J)) < 0.1
    choice[missing] = -1
    scores[missing] = np.nan
    return choice, scores, keys


def test_planted_defects_are_flagged_and_nothing_else():
    choice, scores, keys = _pilot()
    opts = [["A", "B", "C", "D"]] * J
    tab = distractor_analysis(choice, opts, keys, scores, n_groups=5)
    flag = {(i, o): f for i, o, f in zip(tab.item, tab.option, tab.flags)}
    assert "likely_miskey" in flag[("item1", "A")]
    assert "probable_key" in flag[("item1", "C")]
    assert "rare" in flag[("item2", "D")]
    assert "attracts_strongest" in flag[("item3", "B")]
    planted = {("item1", "A"), ("item1", "C"), ("item2", "D"), ("item3", "B")}
    others = [f for key, f in flag.items() if key not in planted and key[0] != "item1"]
    assert all(f == "" for f in others)


def test_shares_and_correlations_equal_their_definitions():
    choice, scores, keys = _pilot(1)
    tab = distractor_analysis(choice, [["A", "B", "C", "D"]] * J, keys, scores, n_groups=4)
    answered = ~np.isnan(scores)
    total = np.nansum(scores, axis=1)
    m = answered.sum(axis=1)
    for row in range(0, 4 * J, 3):
        j, k = divmod(row, 4)
        who = choice[:, j] >= 0
        chose = (choice[who, j] == k).astype(float)
        rest = (total[who] - scores[who, j]) / (m[who] - 1)
        assert tab.share[row] == pytest.approx(chose.mean(), abs=1e-12)
        assert tab.r_rest[row] == pytest.approx(np.corrcoef(chose, rest)[0, 1], abs=1e-10)
    by_item = tab.group_share.reshape(J, 4, 4).sum(axis=1)
    assert np.allclose(by_item, 1.0)
    assert tab.to_frame().shape == (4 * J, 8 + 4)


def test_score_groups_are_quantiles_and_keep_ties_together():
    v = np.array([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, np.nan])
    g, cuts = score_groups(v, 2)
    assert g[-1] == -1 and set(g[:3]) == {0} and g[9] == 1
    assert np.all(np.diff(g[:10]) >= 0)


def test_bad_choices_are_refused_naming_row_and_item():
    choice, scores, keys = _pilot(2)
    choice[5, 3] = 7
    with pytest.raises(ResponseError, match="person row 6, item 'item4'"):
        distractor_analysis(choice, [["A", "B", "C", "D"]] * J, keys, scores)


def test_nominal_diagnostics_flag_a_key_that_a_distractor_out_slopes():
    from digicomp.analysis.distractors import nominal_distractors
    from digicomp.models.nominal import NominalParameters

    # item 1: key A steepest (fine); item 2: keyed A, but option C is the steepest; option D never chosen
    ak = [[3.0, 0.0, 1.0, 2.0], [1.0, 0.0, 3.0, 0.5]]
    d = [[0.0, 0.5, 0.3, 0.2], [0.0, 0.4, 0.1, -6.0]]
    params = NominalParameters([1.0, 1.0], ak, d)
    tab = nominal_distractors(params, [0, 0], [["A", "B", "C", "D"]] * 2)
    flags = dict(zip(zip(tab.item, tab.option), tab.flags))
    assert flags[("item1", "A")] == "" and flags[("item2", "A")] == "key_not_steepest"
    assert flags[("item2", "C")] == "steeper_than_key"
    assert "never_chosen" in flags[("item2", "D")]
    assert tab.slope[tab.is_key].tolist() == [3.0, 1.0]
