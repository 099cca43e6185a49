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


def _sparse(model: str, n_persons: int, n_items: int, per_person: int, seed: int) -> Responses:
    """Responses of a CAT-like design (``per_person`` random items each) to 2PL, 3PL or 4-category GRM items."""
    rng = np.random.default_rng(seed)
    a, b = rng.lognormal(0.0, 0.3, n_items), rng.normal(0.0, 1.0, n_items)
    theta = rng.normal(0.0, 1.0, n_persons)
    item = np.sort(np.argsort(rng.random((n_persons, n_items)), axis=1)[:, :per_person], axis=1)
    person = np.repeat(np.arange(n_persons), per_person)
    item = item.ravel()
    if model == "GRM":
        d = a[:, None] * (np.array([1.0, 0.0, -1.0]) - b[:, None])  # thresholds b - 1, b, b + 1
        above = 1 / (1 + np.exp(-(a[item, None] * theta[person, None] + d[item])))
        value = (rng.random(person.size)[:, None] < above).sum(axis=1)
    else:
        c = rng.uniform(0.1, 0.25, n_items) if model == "3PL" else np.zeros(n_items)
        p = c[item] + (1 - c[item]) / (1 + np.exp(-a[item] * (theta[person] - b[item])))
        value = (rng.random(person.size) < p).astype(np.int64)
    return Responses(person, item, value, n_persons, n_items)


def _fit(resp: Responses, model: str, monkeypatch: pytest.MonkeyPatch, count_dtype: type, **options):
    run = em_module.EMEngine.run

    def run_in(self, *args, **kwargs):
        return run(self, *args, count_dtype=count_dtype, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(em_module.EMEngine, "run", run_in)
        return calibrate(resp, model, se_method="xpd", fit=False, **options)


def _internal_value(res, j: int, key: str) -> float:
    """Item j's estimate under mirt's name (a1, d, d1.., g, u), on the scale of ``res.se_internal``."""
    p = res.params
    if key == "a1":
        return float(p.slope[j])
    if key in ("g", "u"):
        return float((p.lower if key == "g" else p.upper)[j])
    return float(p.intercepts[j, 0 if key == "d" else int(key[1:]) - 1])


@pytest.mark.parametrize(
    "model, options", [("2PL", {}), ("3PL", {"priors": "bayes"}), ("GRM", {})], ids=["2PL", "3PL-bayes", "GRM"]
)
def test_float32_counts_move_estimates_by_under_a_hundredth_of_a_standard_error(model, options, monkeypatch):
    resp = _sparse(model, 5000, 80, 15, seed=17)  # 19% of cells observed: the sparse kernel
    fast = _fit(resp, model, monkeypatch, np.float32, **options)
    plain = _fit(resp, model, monkeypatch, np.float64, **options)
    assert fast.converged and plain.converged
    for j, i in enumerate(plain.ids):
        for key, se in plain.se_internal[i].items():
            mine, ref = _internal_value(fast, j, key), _internal_value(plain, j, key)
            assert abs(mine - ref) < 0.01 * se, f"{i} {key}: |Δ| {abs(mine - ref):.2e}, SE {se:.3f}"
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
