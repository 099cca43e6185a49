"""Per-area likelihoods on a θ grid: the unit model's pieces from a log-likelihood (against the closed form of a normal
likelihood), bad input, the EM bounds passed through, and the simulation's own-items area log-likelihoods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr

from digicomp.programme.errors import ProgrammeError
from digicomp.programme.estimate import estimate_shares
from digicomp.programme.population import GridModel, piece_masses_from_log_likelihood

ROOT = Path(__file__).resolve().parents[2]
NODES = np.linspace(-6.0, 6.0, 61)
EDGES = np.r_[np.linspace(-4.0, 4.0, 41) - 0.1, 4.1]
CUTS = np.array([-1.2, 0.0, 1.2])


def _normal_loglik(m, v):
    return -0.5 * (NODES[None, :] - m[:, None]) ** 2 / v[:, None]


def test_pieces_from_a_normal_log_likelihood_match_its_exact_masses():
    rng = np.random.default_rng(3)
    m, v = rng.uniform(-2.5, 2.5, 200), rng.uniform(0.2, 1.0, 200) ** 2
    got = piece_masses_from_log_likelihood(_normal_loglik(m, v), NODES, EDGES, CUTS).astype(float)
    bounds = np.unique(np.r_[EDGES, CUTS])
    exact = np.diff(ndtr((bounds[None, :] - m[:, None]) / np.sqrt(v)[:, None]), axis=1)
    got, exact = got / got.sum(axis=1, keepdims=True), exact / exact.sum(axis=1, keepdims=True)
    # midpoint rule on pieces of ≤ 0.2 with SD ≥ 0.2 and linear interpolation of the log between nodes 0.2 apart
    assert np.abs(got - exact).max() < 0.02
    # P(at or above each cut) within a point
    for c in CUTS:
        above = (bounds[:-1] + bounds[1:]) / 2 > c
        np.testing.assert_allclose(got[:, above].sum(axis=1), exact[:, above].sum(axis=1), atol=0.01)


def test_a_normal_log_likelihood_gives_the_same_shares_as_the_posterior_it_came_from():
    rng = np.random.default_rng(5)
    n = 600
    unit = np.repeat(np.arange(3), n // 3)
    theta = rng.normal([-1.0, 0.0, 1.0], 0.8, (n // 3, 3)).T.ravel()
    v = np.full(n, 0.35**2)
    m = theta + rng.standard_normal(n) * np.sqrt(v)
    post = 1.0 / (1.0 / v + 1.0)
    eap, se = post * m / v, np.sqrt(post)
    anc = np.arange(3)[:, None]
    kw = dict(draws=0, method="grid")
    a = estimate_shares(eap, se, unit, anc, CUTS, **kw)
    b = estimate_shares(eap, se, unit, anc, CUTS, log_likelihood=_normal_loglik(m, v), nodes=NODES, **kw)
    np.testing.assert_allclose(a.estimate, b.estimate, atol=0.01)


def test_em_bounds_pass_through_and_defaults_keep_the_overall_path():
    rng = np.random.default_rng(9)
    unit = np.repeat(np.arange(4), 50)
    eap, se = rng.normal(0, 1, 200), np.full(200, 0.5)
    anc = np.arange(4)[:, None]
    one = GridModel.fit(eap, se, unit, 4, CUTS, iterations=1)
    many = GridModel.fit(eap, se, unit, 4, CUTS, iterations=400, tol=1e-8)
    default = GridModel.fit(eap, se, unit, 4, CUTS)
    assert not np.allclose(one.g, many.g)
    # the default bounds (40 steps, tol 5e-4) are what estimate_shares uses; it smooths the log-density unless told
    est = estimate_shares(eap, se, unit, anc, CUTS, draws=0)
    np.testing.assert_allclose(est.model.g, GridModel.fit(eap, se, unit, 4, CUTS, smooth_log=True).g)
    plain = estimate_shares(eap, se, unit, anc, CUTS, draws=0, smooth_log=False)
    np.testing.assert_allclose(plain.model.g, default.g)
    assert not np.allclose(est.model.g, default.g)


@pytest.mark.parametrize(
    "bad",
    [
        {"log_likelihood": np.zeros((10, 5)), "nodes": np.linspace(-1, 1, 61)},  # wrong width
        {"log_likelihood": np.full((10, 61), np.nan), "nodes": NODES},  # not finite
        {"log_likelihood": np.zeros((10, 61)), "nodes": None},  # no nodes
    ],
)
def test_bad_log_likelihoods_are_a_programme_error(bad):
    unit = np.zeros(10, np.intp)
    with pytest.raises(ProgrammeError, match="log_likelihood"):
        estimate_shares(np.zeros(10), np.ones(10) * 0.5, unit, np.zeros((1, 1), np.intp), CUTS, **bad)
    with pytest.raises(ProgrammeError, match="log_likelihood"):
        estimate_shares(
            np.zeros(10),
            np.ones(10) * 0.5,
            unit,
            np.zeros((1, 1), np.intp),
            CUTS,
            method="normal",
            log_likelihood=np.zeros((10, 61)),
            nodes=NODES,
        )


def test_simulated_area_log_likelihoods_rebuild_the_area_scores():
    from digicomp.cat.engine import AdaptiveTest
    from digicomp.simulation.runner import Truth, area_scores, run_chunk

    engine = AdaptiveTest.from_yaml(ROOT / "examples" / "designs" / "civil-service-balanced.yaml")
    cuts = np.asarray(engine.bank.cut_scores, float)
    theta = np.random.default_rng(1).normal(0, 1, 40)
    out = run_chunk(engine, 1, np.arange(40), theta, Truth(engine.core.tables.params), cuts)
    tables, bank = engine.core.tables, engine.bank
    seq, resp = out["sequence"].astype(np.intp), out["responses"].astype(np.int64)
    mean, sd, counts, loglik = area_scores(tables, seq, resp, bank.area_index, len(bank.areas), log_likelihood=True)
    post = loglik + tables.log_prior
    w = np.exp(post - post.max(axis=2, keepdims=True))
    w /= w.sum(axis=2, keepdims=True)
    np.testing.assert_allclose((w * tables.points).sum(axis=2), mean, atol=1e-9)
    assert np.all(loglik[counts == 0] == 0)  # an area without items has a flat likelihood
