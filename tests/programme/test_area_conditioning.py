"""The per-area estimator's conditioning model and log-density smoothing (digicomp.programme.areas
.estimate_area_shares, digicomp.programme.population.smooth): closed forms and small recoveries; the calibration
itself is tests/programme/test_calibration_areas.py."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.programme.areas import AREA_BANDS, estimate_area_shares, rest_bands
from digicomp.programme.errors import ProgrammeError
from digicomp.programme.population import smooth

NODES = np.linspace(-6.0, 6.0, 61)
CUTS = np.array([-1.2, 0.0, 1.2])
CENTRES = np.linspace(-4.0, 4.0, 41)


def _normal_rows(means, sd):
    g = np.exp(-0.5 * ((CENTRES[None, :] - np.asarray(means)[:, None]) / sd) ** 2)
    return g / g.sum(axis=1, keepdims=True)


def _sd(g):
    m = g @ CENTRES
    return np.sqrt(g @ CENTRES**2 - m**2)


def test_log_smoothing_keeps_a_normal_and_plain_smoothing_widens_it():
    # a log-quadratic passes the log step unchanged inside the grid (its second difference is constant); the linear
    # ends bend its far tails a little (wide enough that no cell is under the floor, LOG_FLOOR of the largest)
    wide_normal = _normal_rows([-0.5, 0.3], 1.5)
    kept = smooth(wide_normal, log=True)
    np.testing.assert_allclose(kept[:, 10:31], wide_normal[:, 10:31], rtol=2e-3)
    sd0 = _sd(wide_normal)
    assert (np.abs(_sd(kept) - sd0) < 0.1 * np.abs(_sd(smooth(wide_normal)) - sd0)).all()
    g = _normal_rows([-1.0, 0.5], 0.6)
    # the plain step adds 2 × SMOOTH × 0.2² to the variance (up to the mass in the end cells)
    wide = smooth(g)
    np.testing.assert_allclose(_sd(wide) ** 2, _sd(g) ** 2 + 2 * 0.25 * 0.2**2, atol=1e-6)


def test_log_smoothing_damps_roughness_and_keeps_every_row_a_distribution():
    rng = np.random.default_rng(1)
    g = _normal_rows([0.0], 0.8) * rng.uniform(0.5, 1.5, (1, CENTRES.size))
    g /= g.sum()
    out = smooth(g, log=True)
    assert np.isclose(out.sum(), 1.0) and (out > 0).all()
    rough = np.abs(np.diff(np.log(g), 2)).mean()
    assert np.abs(np.diff(np.log(out), 2)).mean() < 0.5 * rough
    # a row with empty cells: floored, not -inf
    h = np.zeros((1, CENTRES.size))
    h[0, 20] = 1.0
    assert np.isfinite(smooth(h, log=True)).all()


def test_rest_bands_are_tertiles_of_the_rest_eap():
    rng = np.random.default_rng(2)
    m = rng.normal(0, 1, 900)
    ll = -0.5 * (NODES[None, :] - m[:, None]) ** 2 / 0.3**2
    band = rest_bands(ll, NODES)
    assert AREA_BANDS == 3
    np.testing.assert_array_equal(np.bincount(band, minlength=3), [300, 300, 300])
    # monotone in the rest result
    order = np.argsort(m)
    assert (np.diff(band[order]) >= 0).all()
    with pytest.raises(ProgrammeError, match="rest_log_likelihood"):
        rest_bands(ll[:, :10], NODES)


def test_conditioning_on_the_rest_recovers_shares_when_the_area_items_follow_the_rest():
    # two units; the area value correlates 0.8 with the rest of the test; each person has a wide own-items likelihood
    # (SD 0.7) and a precise rest one: the estimate must hold the true shares within its intervals for most pairs
    rng = np.random.default_rng(4)
    n, units = 1200, 4
    unit = np.repeat(np.arange(units), n // units)
    centre = np.array([-1.0, -0.2, 0.4, 1.1])[unit]
    rest = centre + rng.normal(0, 0.8, n)
    area = centre + 0.8 * (rest - centre) + rng.normal(0, 0.8 * 0.6, n)
    own = area + rng.normal(0, 0.7, n)
    ll = -0.5 * (NODES[None, :] - own[:, None]) ** 2 / 0.7**2
    rest_ll = -0.5 * (NODES[None, :] - (rest + rng.normal(0, 0.25, n))[:, None]) ** 2 / 0.25**2
    post = 1 / (1 / 0.49 + 1)
    eap, se = post * own / 0.49, np.full(n, np.sqrt(post))
    anc = np.arange(units)[:, None]
    est = estimate_area_shares(eap, se, unit, anc, CUTS, log_likelihood=ll, nodes=NODES, rest_log_likelihood=rest_ll)
    true = np.array([[(area[unit == u] >= c).mean() for c in CUTS] for u in range(units)])
    got, lo, hi = est.estimate[:, 1:], est.lower[:, 1:], est.upper[:, 1:]
    assert ((lo <= true) & (true <= hi)).mean() >= 10 / 12  # 12 pairs at 95%: P(≤ 9 covered) < 2%
    assert np.abs(got - true).max() < 4 * est.se[:, 1:].max()


def test_log_likelihood_without_nodes_is_a_programme_error():
    with pytest.raises(ProgrammeError, match="nodes"):
        estimate_area_shares(
            np.zeros(3),
            np.ones(3),
            np.zeros(3, np.intp),
            np.zeros((1, 1), np.intp),
            CUTS,
            log_likelihood=np.zeros((3, 61)),
        )


def test_squarem_reaches_the_plain_em_fixed_point():
    from digicomp.programme.population import GridModel

    rng = np.random.default_rng(6)
    n = 900
    unit = np.repeat(np.arange(3), n // 3)
    theta = rng.normal(np.array([-0.8, 0.1, 0.9])[unit], 0.7)
    own = theta + rng.normal(0, 0.8, n)
    ll = -0.5 * (NODES[None, :] - own[:, None]) ** 2 / 0.64
    post = 1 / (1 / 0.64 + 1)
    eap, se = post * own / 0.64, np.full(n, np.sqrt(post))
    kw = dict(log_likelihood=ll, nodes=NODES, smooth_log=True, tol=1e-9)
    plain = GridModel.fit(eap, se, unit, 3, CUTS, iterations=5000, **kw)
    fast = GridModel.fit(eap, se, unit, 3, CUTS, iterations=300, accelerate=True, **kw)
    np.testing.assert_allclose(fast.g, plain.g, atol=1e-6)
    np.testing.assert_allclose(fast.at_or_above(), plain.at_or_above(), atol=1e-5)


def test_the_study_refuses_a_truth_that_answers_by_other_parameters_than_the_bank_scores_with():
    from pathlib import Path

    from digicomp.bank import load_bank
    from digicomp.programme.calibration import _check_truth_matches

    root = Path(__file__).resolve().parents[2]
    bank = load_bank("civil-service")
    truth = load_bank(root / "examples" / "banks" / "civil-service-areas.yaml")
    _check_truth_matches(bank, truth, "areas.yaml")  # derived from this bank version: the same probabilities
    shared = next(i for i in bank.ids if i in set(truth.ids))
    truth.mparams.intercepts[truth.ids.index(shared)] += 0.5  # one item now harder in the truth than in the bank
    with pytest.raises(ProgrammeError, match=rf"1 of the \d+ items .* \(e.g. {shared}\).*make_area_bank"):
        _check_truth_matches(bank, truth, "areas.yaml")
