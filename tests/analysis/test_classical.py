"""Classical item analysis: alpha, Feldt CI, item-total correlations, alpha if deleted.

References: the LSAT (section VI) values of R ltm's ``cronbach.alpha`` / ``descript`` as printed in RKWard's
regression-test standards (KDE/rkward tests/item_response_theory/RKTestStandard.Cronbach_alpha.rkout: alpha 0.295;
Cronbach_alpha.rkout: alpha without items 1..5 = 0.28, 0.24, 0.22, 0.25, 0.27); Cronbach (1951); Feldt, Woodruff &
Salih (1987) for the interval, as R psych's ``alpha.ci``; the closed forms are recomputed independently here.
"""

from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from digicomp.analysis.classical import classical_analysis, cronbach_alpha
from digicomp.errors import ResponseError

DATA = Path(__file__).parents[1] / "data"


def _lsat6() -> tuple[np.ndarray, np.ndarray]:
    d = np.loadtxt(DATA / "lsat6_patterns.csv", delimiter=",", skiprows=1)
    return d[:, :5], d[:, 5]


def test_alpha_and_alpha_if_deleted_match_ltm_on_lsat():
    patterns, freq = _lsat6()
    res = classical_analysis(patterns, weights=freq)
    assert round(res.alpha.alpha, 3) == 0.295
    assert np.round(res.items.alpha_if_deleted, 2).tolist() == [0.28, 0.24, 0.22, 0.25, 0.27]
    assert res.alpha.n_persons == 1000


def test_weights_equal_expanded_rows():
    patterns, freq = _lsat6()
    expanded = np.repeat(patterns, freq.astype(int), axis=0)
    a, b = classical_analysis(patterns, weights=freq), classical_analysis(expanded)
    for name in ("mean", "sd", "point_biserial", "corrected_r", "alpha_if_deleted"):
        assert np.allclose(getattr(a.items, name), getattr(b.items, name), atol=1e-12), name
    assert a.alpha.alpha == pytest.approx(b.alpha.alpha, abs=1e-12)


def test_item_statistics_equal_their_closed_forms_on_complete_data():
    rng = np.random.default_rng(1)
    theta = rng.normal(size=400)
    x = (theta[:, None] + rng.normal(size=(400, 6)) > rng.normal(size=6)).astype(float)
    x[:, 5] = np.clip(np.round(theta + rng.normal(size=400) + 1), 0, 3)  # one polytomous item 0..3
    res = classical_analysis(x, max_scores=[1, 1, 1, 1, 1, 3])
    total = x.sum(axis=1)
    cov = np.cov(x, rowvar=False)
    k = x.shape[1]
    alpha = k / (k - 1) * (1 - np.trace(cov) / cov.sum())  # covariance form, as psych::alpha
    assert res.alpha.alpha == pytest.approx(alpha, abs=1e-12)
    for j in range(k):
        assert res.items.point_biserial[j] == pytest.approx(np.corrcoef(x[:, j], total)[0, 1], abs=1e-12)
        assert res.items.corrected_r[j] == pytest.approx(np.corrcoef(x[:, j], total - x[:, j])[0, 1], abs=1e-12)
        keep = np.delete(np.arange(k), j)
        c = cov[np.ix_(keep, keep)]
        assert res.items.alpha_if_deleted[j] == pytest.approx((k - 1) / (k - 2) * (1 - np.trace(c) / c.sum()), 1e-12)
    assert res.items.mean[5] == pytest.approx(x[:, 5].mean())
    assert res.items.p_value[5] == pytest.approx(x[:, 5].mean() / 3)


def test_feldt_interval():
    """(1 - α)/(1 - α̂) ~ F(n - 1, (n - 1)(k - 1)): the bounds are recomputed from scipy's F quantiles."""
    rng = np.random.default_rng(2)
    x = (rng.normal(size=(300, 1)) + rng.normal(size=(300, 8)) > 0).astype(float)
    a = cronbach_alpha(x, level=0.90)
    df1, df2 = 299, 299 * 7
    assert a.ci_low == pytest.approx(1 - (1 - a.alpha) * stats.f.ppf(0.95, df1, df2), abs=1e-12)
    assert a.ci_high == pytest.approx(1 - (1 - a.alpha) * stats.f.ppf(0.05, df1, df2), abs=1e-12)
    assert a.ci_low < a.alpha < a.ci_high


def test_a_reversed_item_is_flagged_and_missing_cells_are_left_out():
    rng = np.random.default_rng(3)
    theta = rng.normal(size=2000)
    x = (theta[:, None] + rng.normal(size=(2000, 10)) > 0).astype(float)
    x[:, 3] = 1 - x[:, 3]  # a miskeyed item
    x[rng.random(x.shape) < 0.3] = np.nan  # a sparse design
    res = classical_analysis(x, item_ids=[f"q{j}" for j in range(10)])
    assert "negative_discrimination" in res.items.flags[3]
    assert all("negative_discrimination" not in f for j, f in enumerate(res.items.flags) if j != 3)
    assert np.all(res.items.n < 2000) and res.alpha.n_persons == np.sum(~np.isnan(x).any(axis=1))
    frame = res.to_frame()
    assert list(frame["item"]) == [f"q{j}" for j in range(10)]


def test_bad_input_is_refused():
    with pytest.raises(ResponseError, match="matrix"):
        classical_analysis(np.zeros(5))
    with pytest.raises(ResponseError, match="≥ 0"):
        classical_analysis(-np.ones((3, 3)))
    with pytest.raises(ResponseError, match="item 2: a score exceeds"):
        classical_analysis(np.array([[0, 2.0], [1, 1]]), max_scores=[1, 1])
