"""DIF statistics: Mantel–Haenszel against closed forms, ETS classes, Benjamini–Hochberg, logistic regression
against a direct maximum-likelihood fit, IRT likelihood-ratio DIF against full refits, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize
from scipy.stats import chi2 as chi2_dist

from digicomp.analysis.dif import (
    DIFError,
    benjamini_hochberg,
    ets_classes,
    logistic_dif,
    mantel_haenszel,
    total_score_strata,
)
from digicomp.analysis.irt_dif import irt_lr_dif
from digicomp.responses import Responses

# Agresti (1990, pp. 231-237) penicillin and rabbits, the example of R's mantelhaen.test (whose documentation notes
# p = 0.047 for the classical corrected test): per stratum (reference right, reference wrong, focal right, focal
# wrong) with "None" (immediate injection) as reference, "Cured" as right.
RABBITS = [(0, 6, 0, 5), (3, 3, 0, 6), (6, 0, 2, 4), (5, 1, 6, 0), (2, 0, 5, 0)]


def _stack(cells: list[tuple[int, int, int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, focal, strata = [], [], []
    for k, (A, B, C, D) in enumerate(cells):
        for value, count, f in ((1, A, 0), (0, B, 0), (1, C, 1), (0, D, 1)):
            x += [value] * count
            focal += [f] * count
            strata += [k] * count
    return np.array(x, dtype=float)[:, None], np.array(focal), np.array(strata)


def test_mantel_haenszel_on_the_rabbits_tables_matches_the_closed_form():
    x, focal, strata = _stack(RABBITS)
    t = mantel_haenszel(x, focal, strata)
    # by hand: sum A = 16, sum E(A) = 0 + 1.5 + 4 + 5.5 + 2 = 13, sum Var(A) = 35/22; alpha = (1.5 + 2) / 0.5
    assert t.chi2[0] == pytest.approx((3 - 0.5) ** 2 / (35 / 22), rel=1e-12)
    assert t.p[0] == pytest.approx(0.047, abs=5e-4)  # R's documented p for this example
    assert t.alpha_mh[0] == pytest.approx(7.0, rel=1e-12)
    assert t.delta[0] == pytest.approx(-2.35 * np.log(7.0), rel=1e-12)
    assert t.n_reference[0] == 26 and t.n_focal[0] == 28


def test_without_continuity_correction_the_statistic_is_the_plain_cmh():
    x, focal, strata = _stack(RABBITS)
    assert mantel_haenszel(x, focal, strata, correct=False).chi2[0] == pytest.approx(9 / (35 / 22), rel=1e-12)


def test_one_stratum_gives_the_sample_odds_ratio_and_woolfs_variance():
    A, B, C, D = 40, 20, 25, 35
    x, focal, strata = _stack([(A, B, C, D)])
    t = mantel_haenszel(x, focal, strata)
    assert t.alpha_mh[0] == pytest.approx(A * D / (B * C), rel=1e-12)
    assert t.log_alpha_se[0] ** 2 == pytest.approx(1 / A + 1 / B + 1 / C + 1 / D, rel=1e-12)


def test_ets_classes_follow_zwicks_rules():
    # delta, SE, p -> class
    cases = [
        (0.5, 0.1, 0.001, "A"),  # small
        (1.2, 0.1, 0.2, "A"),  # not significant
        (1.2, 0.1, 0.001, "B"),
        (1.6, 0.5, 0.001, "B"),  # large but not significantly above 1
        (-1.6, 0.2, 0.001, "C"),  # (1.6 - 1)/0.2 = 3 > 1.645
        (2.0, 0.61, 0.001, "B"),  # (2 - 1)/0.61 = 1.64 < 1.645
    ]
    d, se, p, want = zip(*cases)
    assert ets_classes(d, se, p) == list(want)


def test_benjamini_hochberg_by_hand():
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.005, np.nan])
    np.testing.assert_allclose(q[:4], [0.02, 0.04, 0.04, 0.02])
    assert np.isnan(q[4])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40))
def test_benjamini_hochberg_q_values_are_ordered_like_p_and_never_below_it(ps):
    p = np.array(ps)
    q = benjamini_hochberg(p)
    assert np.all(q >= p - 1e-15) and np.all(q <= 1.0)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(q[order]) >= -1e-15)
    assert q.min() == pytest.approx(np.min(p * p.size / (np.argsort(np.argsort(p, kind="stable")) + 1)))


def _two_groups(seed: int, n: int = 2000, J: int = 20, shift: float = 0.0, slope_shift: float = 0.0, impact=-0.5):
    """2PL data; item 0 has uniform DIF (intercept - shift for the focal group), item 1 non-uniform."""
    rng = np.random.default_rng(seed)
    a, d = rng.uniform(0.8, 1.8, J), rng.normal(0.0, 1.0, J)
    focal = np.repeat([False, True], n)
    theta = rng.normal(0.0, 1.0, 2 * n) + np.where(focal, impact, 0.0)
    af, df = np.tile(a, (2 * n, 1)), np.tile(d, (2 * n, 1))
    df[focal, 0] -= shift
    af[focal, 1] += slope_shift
    p = 1.0 / (1.0 + np.exp(-(af * theta[:, None] + df)))
    return (rng.random(p.shape) < p).astype(float), focal


def test_mh_detects_planted_uniform_dif_with_the_right_sign_and_spares_the_rest():
    x, focal = _two_groups(3, shift=0.8)
    t = mantel_haenszel(x, focal, purify=True)
    assert t.flagged[0] and t.delta[0] < -1.0  # harder for the focal group: negative delta
    assert t.flagged[2:].sum() <= 1
    assert "item1" not in t.anchors or not t.flagged[0]
    assert "item1" not in t.anchors


def test_total_score_strata_are_the_scores_on_complete_data():
    x, _ = _two_groups(4, n=100)
    s = total_score_strata(x)
    score = x.sum(axis=1)
    # same stratum exactly when same score
    assert np.array_equal(s[:, None] == s[None, :], score[:, None] == score[None, :])


def test_logistic_dif_matches_a_direct_maximum_likelihood_fit():
    x, focal = _two_groups(5, n=600, J=10, shift=0.6, slope_shift=0.6)
    t = logistic_dif(x, focal)
    total = x.sum(axis=1)
    z = (total - total.mean()) / total.std()
    g = focal.astype(float)
    X = np.column_stack([np.ones_like(z), z, g, z * g])

    def negll(beta, cols, y):
        eta = X[:, cols] @ beta
        return np.sum(np.logaddexp(0, eta) - y * eta)

    def fit(cols, y):
        return minimize(negll, np.zeros(len(cols)), args=(cols, y), method="BFGS", options={"gtol": 1e-9}).fun

    def nagelkerke(ll, null, n):  # (1 - exp(2 (l0 - lM) / n)) / (1 - exp(2 l0 / n)), l0 = -null
        return (1 - np.exp(-2 * (null + ll) / n)) / (1 - np.exp(-2 * null / n))

    for j in (0, 1, 5):
        y = x[:, j]
        null, m0, m2 = fit([0], y), fit([0, 1], y), fit([0, 1, 2, 3], y)
        assert t.chi2_dif[j] == pytest.approx(2 * (m0 - m2), abs=1e-4)
        want = nagelkerke(-m2, null, y.size) - nagelkerke(-m0, null, y.size)
        assert t.delta_r2[j] == pytest.approx(want, abs=1e-6)
        assert t.p_dif[j] == pytest.approx(chi2_dist.sf(2 * (m0 - m2), 2), abs=1e-6)


def test_logistic_dif_separates_uniform_from_non_uniform():
    x, focal = _two_groups(6, n=3000, J=15, shift=0.8, slope_shift=0.8, impact=0.0)
    t = logistic_dif(x, focal)
    assert t.flagged[0] and t.flagged[1]
    assert t.p_uniform[0] < 1e-6 and t.p_nonuniform[1] < 1e-4
    assert t.p_nonuniform[0] > 1e-3


def test_polytomous_and_one_group_items_are_listed_not_dropped():
    x, focal = _two_groups(7, n=300, J=6)
    x[:, 2] = np.where(x[:, 2] == 1, 2.0, x[:, 2])  # an item scored 0/2: polytomous
    x[focal, 3] = np.nan  # nobody of the focal group took item 4
    score = np.nansum(x, axis=1).astype(int)  # forms differ by group here, so match on the plain score
    for t in (mantel_haenszel(x, focal, score), logistic_dif(x, focal)):
        assert set(t.excluded) == {"item3", "item4"}
        assert "polytomous" in t.excluded["item3"] and "one of the two groups" in t.excluded["item4"]
        assert len(t.item) == 6 and np.isnan(t.p[2] if hasattr(t, "alpha_mh") else t.p_dif[2])


@pytest.mark.parametrize(
    "focal, message",
    [
        (np.zeros(5, dtype=bool), "flags for 600"),
        (np.zeros(600, dtype=bool), "both the reference"),
        (np.full(600, 2), "0/1"),
    ],
)
def test_bad_group_flags_are_refused(focal, message):
    x, _ = _two_groups(8, n=300, J=5)
    with pytest.raises(DIFError, match=message):
        mantel_haenszel(x, focal)


def test_irt_lr_conditional_is_close_to_and_below_the_full_refit():
    x, focal = _two_groups(9, n=2000, J=12, shift=0.6, slope_shift=0.6)
    resp = Responses.from_dense(x, item_ids=[f"i{j}" for j in range(12)])
    groups = np.where(focal, "focal", "ref")
    cond = irt_lr_dif(resp, groups, anchors="all-others", reference="ref")
    full = irt_lr_dif(resp, groups, anchors="all-others", reference="ref", method="refit")
    assert np.all(cond.chi2 <= full.chi2 + 0.05)
    np.testing.assert_allclose(cond.chi2, full.chi2, rtol=0.1, atol=0.5)
    assert cond.flagged[0] and cond.flagged[1]
    assert cond.b_diff[0] > 0  # intercept lowered for the focal group: larger b
    assert cond.a_diff[1] > 0
    assert list(cond.df) == [2.0] * 12
    # uniform part: intercepts free, slopes held; nested in the full test, and most of the uniform item's G²
    assert list(cond.df_uniform) == [1.0] * 12
    assert np.all(cond.chi2_uniform <= cond.chi2 + 1e-6)
    assert cond.chi2_uniform[0] > 0.8 * cond.chi2[0]
    assert cond.chi2_uniform[1] < 0.5 * cond.chi2[1]
    assert np.all(np.isnan(full.chi2_uniform))


def test_irt_lr_purified_anchors_leave_the_flagged_items_out():
    x, focal = _two_groups(10, n=1500, J=12, shift=0.8, slope_shift=0.8)
    resp = Responses.from_dense(x, item_ids=[f"i{j}" for j in range(12)])
    t = irt_lr_dif(resp, np.where(focal, "f", "r"), reference="r", anchors="purified")
    flagged = {i for i, f in zip(t.item, t.flagged) if f}
    assert {"i0", "i1"} <= flagged
    assert not flagged & set(t.anchors)
    assert t.anchor[0].startswith("purified")
    assert t.base.latent_mean[1] == pytest.approx(-0.5, abs=0.15)


def test_irt_lr_given_anchor_list_is_checked():
    x, focal = _two_groups(11, n=200, J=5)
    resp = Responses.from_dense(x, item_ids=[f"i{j}" for j in range(5)])
    with pytest.raises(Exception, match="'zz'"):
        irt_lr_dif(resp, focal.astype(int), anchors=["zz"])
