"""The fast E-step and M-step paths give the estimates of the plain float64 / generic paths.

The EM cycles accumulate the sparse E-step counts in float32 (``EMEngine.run(count_dtype=...)``) and the
dichotomous M-step folds the two categories into one; both must move the estimates by a negligible fraction of
their standard errors, far inside the convergence tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.calibration import calibrate
from digicomp.calibration import em as em_module
from digicomp.calibration.families import log_prob, prob_jacobian
from digicomp.calibration.mstep import Block, objective, score_and_information
from digicomp.calibration.priors import BAYES_DEFAULTS, NO_PRIORS
from digicomp.responses import Responses


def _sparse_2pl(n_persons: int, n_items: int, per_person: int, seed: int) -> Responses:
    rng = np.random.default_rng(seed)
    a, b = rng.lognormal(0.0, 0.3, n_items), rng.normal(0.0, 1.0, n_items)
    theta = rng.normal(0.0, 1.0, n_persons)
    item = np.sort(np.argsort(rng.random((n_persons, n_items)), axis=1)[:, :per_person], axis=1)
    person = np.repeat(np.arange(n_persons), per_person)
    item = item.ravel()
    value = (rng.random(person.size) < 1 / (1 + np.exp(-a[item] * (theta[person] - b[item])))).astype(np.int64)
    return Responses(person, item, value, n_persons, n_items)


def _fit(resp: Responses, monkeypatch: pytest.MonkeyPatch, count_dtype: type):
    run = em_module.EMEngine.run

    def run_in(self, *args, **kwargs):
        return run(self, *args, count_dtype=count_dtype, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(em_module.EMEngine, "run", run_in)
        return calibrate(resp, "2PL", se_method="xpd", fit=False)


def test_float32_counts_move_estimates_by_under_a_hundredth_of_a_standard_error(monkeypatch):
    resp = _sparse_2pl(6000, 120, 25, seed=17)
    fast = _fit(resp, monkeypatch, np.float32)
    plain = _fit(resp, monkeypatch, np.float64)
    assert fast.converged and plain.converged
    for key, mine, ref in (
        ("a1", fast.params.slope, plain.params.slope),
        ("d", fast.params.intercepts[:, 0], plain.params.intercepts[:, 0]),
    ):
        se = np.array([plain.se_internal[i][key] for i in plain.ids])
        assert np.all(np.abs(mine - ref) < 0.01 * se), f"{key}: largest |Δ|/SE {np.max(np.abs(mine - ref) / se):.2e}"
    # the reported log-likelihood comes from the final float64 E-step in both paths
    assert fast.loglik == pytest.approx(plain.loglik, rel=1e-9)


def _random_block(model: str, n: int, rng: np.random.Generator) -> tuple[Block, np.ndarray]:
    free = {
        "1PL": [False, True, False, False],
        "2PL": [True, True, False, False],
        "3PL": [True, True, True, False],
        "4PL": [True, True, True, True],
    }
    lower = rng.uniform(0.05, 0.3, n) if model in ("3PL", "4PL") else np.zeros(n)
    upper = rng.uniform(0.85, 0.98, n) if model == "4PL" else np.ones(n)
    with np.errstate(divide="ignore"):
        eta = np.column_stack(
            [
                rng.lognormal(0, 0.3, n),
                rng.normal(0, 1, n),
                np.log(lower) - np.log1p(-lower),
                np.log(upper) - np.log1p(-upper),
            ]
        )
    shared = np.full(n, model == "1PL")
    block = Block("dichotomous", np.arange(n), eta, np.tile(free[model], (n, 1)), shared)
    counts = rng.gamma(2.0, 5.0, (n, 2, 41))
    return block, counts


@pytest.mark.parametrize("model", ["1PL", "2PL", "3PL", "4PL"])
@pytest.mark.parametrize("priors", [NO_PRIORS, BAYES_DEFAULTS], ids=["ml", "bayes"])
def test_dichotomous_score_information_and_objective_equal_the_generic_formulas(model, priors):
    rng = np.random.default_rng(5)
    block, counts = _random_block(model, 25, rng)
    points = np.linspace(-6, 6, 41)
    grad, info = score_and_information(block, block.eta, counts, points, priors)
    # the generic multi-category formulas: Σ_q Σ_k r/P ∂P and Σ_q n_q Σ_k ∂P ∂Pᵀ / P
    P, J = prob_jacobian("dichotomous", block.eta, points)
    r = counts.transpose(2, 0, 1)
    ref_grad = np.einsum("qnk,qnkm->nm", r / P, J)
    ref_info = np.einsum("qn,qnkm,qnkl->nml", r.sum(axis=-1), J / P[..., None], J)
    lp = log_prob("dichotomous", block.eta, points).transpose(1, 2, 0)
    ref_obj = (counts * lp).sum(axis=(1, 2))
    if not priors.empty:
        from digicomp.calibration.priors import prior_terms

        logp, g, h = prior_terms(priors, "dichotomous", block.eta, block.free)
        ref_grad, ref_obj = ref_grad + g, ref_obj + logp
        ref_info = ref_info - np.einsum("nm,ml->nml", h, np.eye(4))
    # the columns that move (free for some item, or the shared 1PL slope) agree; the others are left at 0
    moving = block.free.any(axis=0) | ((np.arange(4) == 0) & block.shared.any())
    np.testing.assert_allclose(grad[:, moving], ref_grad[:, moving], rtol=1e-10, atol=1e-10 * np.abs(ref_grad).max())
    sub_info, sub_ref = info[:, moving][:, :, moving], ref_info[:, moving][:, :, moving]
    np.testing.assert_allclose(sub_info, sub_ref, rtol=1e-10, atol=1e-10 * np.abs(ref_info).max())
    assert not grad[:, ~moving].any() and not info[:, ~moving].any() and not info[:, :, ~moving].any()
    np.testing.assert_allclose(objective(block, block.eta, counts, points, priors), ref_obj, rtol=1e-12)
