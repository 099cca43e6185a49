"""IRT DIF by Wald tests (digicomp.analysis.irt_dif.irt_wald_dif, MultiGroupResult.wald_dif): the quadratic form
in closed form, agreement with the likelihood-ratio test (asymptotically equivalent: Wald 1943) on planted DIF,
uniform p-values under no DIF, and the conditional covariance against the full model's."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.analysis.irt_dif import irt_lr_dif, irt_wald_dif
from digicomp.analysis.probability import chi2_sf
from digicomp.calibration.multigroup import calibrate_multigroup, group_difference_wald
from digicomp.simulation.dif_pilot import simulate_dif_pilot


def test_wald_quadratic_form_in_closed_form():
    rng = np.random.default_rng(0)
    # one parameter, two groups: W = (θ1 − θ0)² / (v0 + v1 − 2 c01)
    theta = np.array([[[0.3], [1.1]]])
    cov = np.array([[[0.04, 0.01], [0.01, 0.09]]])
    w, df = group_difference_wald(theta, cov)
    assert w[0] == pytest.approx(0.8**2 / (0.04 + 0.09 - 0.02)) and df[0] == 1
    # three groups, two parameters: W = dᵀ (C Σ Cᵀ)⁻¹ d with the contrasts written out by hand
    theta = rng.normal(size=(4, 3, 2))
    A = rng.normal(size=(4, 6, 6))
    cov = A @ A.transpose(0, 2, 1) + 0.5 * np.eye(6)
    C = np.array([[-1, 0, 1, 0, 0, 0], [0, -1, 0, 1, 0, 0], [-1, 0, 0, 0, 1, 0], [0, -1, 0, 0, 0, 1]], dtype=float)
    w, df = group_difference_wald(theta, cov)
    for k in range(4):
        d = C @ theta[k].ravel()
        assert w[k] == pytest.approx(d @ np.linalg.solve(C @ cov[k] @ C.T, d), rel=1e-10)
    assert set(df) == {4}
    # a singular covariance gives NaN, not a huge number
    w, _ = group_difference_wald(np.array([[[0.0], [1.0]]]), np.zeros((1, 2, 2)))
    assert np.isnan(w[0])


@pytest.fixture(scope="module")
def planted():
    sim = simulate_dif_pilot(n_items=40, n_persons=4000, items_per_person=20, effect=0.8, seed=3)
    wald = irt_wald_dif(sim.responses, sim.group, "2PL", reference="reference", anchors="all-others")
    return sim, wald


def test_wald_and_lr_agree_on_planted_dif(planted):
    sim, wald = planted
    lr = irt_lr_dif(sim.responses, sim.group, "2PL", reference="reference", anchors="all-others")
    planted_items = sim.dif != "none"
    assert wald.test == "wald" and lr.test == "lr"
    assert np.array_equal(wald.flagged, lr.flagged)
    assert np.array_equal(wald.flagged, planted_items)  # 0.8-logit effects on 4 of 40 items: a clear case
    assert np.allclose(wald.chi2_lr, lr.chi2, rtol=1e-6)  # the Wald run carries the same LR statistics
    assert np.array_equal(wald.df, lr.df)
    # asymptotically equivalent: close where the statistic is large, and within a small absolute gap elsewhere
    big = lr.chi2 > 10
    assert big.sum() >= 3
    assert np.all(np.abs(wald.chi2[big] / lr.chi2[big] - 1) < 0.2)
    assert np.all(np.abs(wald.chi2[~big] - lr.chi2[~big]) < 1.0)
    assert np.corrcoef(wald.chi2, lr.chi2)[0, 1] > 0.99


def test_wald_uniform_part_is_nested_in_the_full_test(planted):
    _, wald = planted
    # the intercepts' differences are a sub-vector: their Wald statistic cannot exceed the full one
    assert np.all(wald.chi2_uniform <= wald.chi2 + 1e-9)
    assert np.all(wald.df_uniform == 1) and np.all(wald.df == 2)


def test_conditional_wald_is_close_to_the_full_model_wald():
    """The conditional covariance ignores the anchors' and the group distributions' uncertainty; with many anchors
    that is small: the full model's W (numerical observed information of every parameter) is within 15%."""
    sim = simulate_dif_pilot(n_items=12, n_persons=3000, items_per_person=12, effect=0.8, seed=7)
    cond = irt_wald_dif(sim.responses, sim.group, "2PL", reference="reference", anchors="all-others")
    j = int(np.argmax(cond.chi2))
    item = sim.responses.item_ids[j]
    fit = calibrate_multigroup(sim.responses, sim.group, "2PL", free=[item], reference="reference")
    w, df = fit.wald_dif(item)
    assert df == 2 and cond.df[j] == 2
    assert w == pytest.approx(cond.chi2[j], rel=0.15)
    assert w > 10  # the planted item is found by both
    with pytest.raises(Exception, match="not freed"):
        fit.wald_dif(sim.responses.item_ids[(j + 1) % 12])


@pytest.mark.slow
def test_wald_p_values_are_uniform_without_dif():
    """No planted DIF (4 seeds × 60 items): the share of raw p-values under .05 is within 3 binomial SEs of .05,
    their mean within 3 SEs of 1/2, and Benjamini–Hochberg flags hardly anything."""
    p, flags = [], 0
    for seed in range(4):
        sim = simulate_dif_pilot(n_items=60, n_persons=6000, items_per_person=30, dif_share=0.0, seed=100 + seed)
        t = irt_wald_dif(sim.responses, sim.group, "2PL", reference="reference", anchors="all-others")
        p.append(chi2_sf(t.chi2, t.df))
        flags += int(t.flagged.sum())
    p = np.concatenate(p)
    assert np.isfinite(p).all() and p.size == 240
    se = np.sqrt(0.05 * 0.95 / p.size)
    assert abs((p < 0.05).mean() - 0.05) < 3 * se
    assert abs(p.mean() - 0.5) < 3 * np.sqrt(1 / 12 / p.size)
    assert flags <= 2


def test_refit_wald_over_every_item_flags_the_planted_ones():
    """method="refit": for each item the model with it freed and the full model's covariance; on 8 items (2 with
    1-logit DIF) the same flags as the conditional Wald and statistics within 15% where they are large."""
    sim = simulate_dif_pilot(n_items=8, n_persons=2000, items_per_person=8, effect=1.0, dif_share=0.25, seed=2)
    refit = irt_wald_dif(sim.responses, sim.group, "2PL", reference="reference", anchors="all-others", method="refit")
    cond = irt_wald_dif(sim.responses, sim.group, "2PL", reference="reference", anchors="all-others")
    assert refit.method == "refit" and not refit.excluded
    assert np.array_equal(refit.flagged, sim.dif != "none") and np.array_equal(cond.flagged, refit.flagged)
    big = refit.chi2 > 10
    assert np.all(np.abs(cond.chi2[big] / refit.chi2[big] - 1) < 0.15)
    assert np.isnan(refit.chi2_lr).all() and np.allclose(refit.chi2_wald, refit.chi2)
