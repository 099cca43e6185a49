"""Person fit: does a person's answer pattern look like the model's, or like guessing, copying or carelessness?

Statistics per person, over the items that person answered (sparse designs welcome), at the person's θ estimate:

* ``l0``, ``lz``: the log-likelihood of the pattern and its standardised form (Drasgow, Levine & Williams 1985;
  for polytomous items the same sums run over categories), lz = (l0 - E[l0]) / sqrt(Var[l0]); as R ltm's
  ``person.fit`` (L0, Lz) and PerFit's ``lz``. Large negative values mean misfit.
* ``lz_star``: Snijders' (2001) lz*, lz corrected for θ being estimated from the same answers, so that it is
  asymptotically N(0, 1) under the model (lz is not: its variance is below 1); for polytomous items the same
  correction over categories (Sinharay 2016's lz*_p), which reduces to Snijders's for 0/1 items. The correction
  uses the estimating equation of the θ estimator: Σ (x_j - p_j) r_j(θ) + r_0(θ) = 0 with r_j = p'_j / (p_j q_j)
  and r_0 = 0 (ML), J/(2I) (Warm's WLE) or -(θ - μ)/σ² (MAP with a N(μ, σ²) prior), as PerFit's ``lzstar``.
* ``outfit`` and ``infit``: the mean squared standardised residual and the information-weighted one
  (Wright & Masters 1982), expected value 1; large values mean unexpected answers (outfit: far from θ).
* ``guttman``: Guttman errors G (pairs of item steps where the easier step failed and the harder one passed;
  items ordered by their observed popularity; polytomous items as their steps x ≥ s, Molenaar 1991) and
  ``guttman_norm``, G divided by its maximum r(k - r) for r steps passed out of k (Meijer 1994); NaN when the
  maximum is 0 (all steps passed or none).

Flags: ``misfit`` when lz* (or lz where lz* is undefined) is below the lower ``alpha`` quantile of N(0, 1).
All sums are ``numpy.bincount`` over the observed (person, item) pairs: no loop over persons or items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.analysis.tables import Table
from digicomp.errors import DigicompError
from digicomp.models import ItemParameters
from digicomp.responses import Responses

Array = NDArray[np.float64]


@dataclass
class PersonFit(Table):
    """Per-person fit statistics (one row per person); see the module docstring for each column."""

    person: list[str]
    n_items: NDArray[np.int64]
    theta: Array
    l0: Array
    lz: Array
    lz_star: Array
    outfit: Array
    infit: Array
    guttman: Array
    guttman_norm: Array
    misfit: NDArray[np.bool_]
    method: str = "WLE"
    alpha: float = 0.05


def _r0(method: str, theta: Array, info: Array, warm_j: Array, prior: Any) -> Array:
    if method == "ML":
        return np.zeros_like(theta)
    if method == "WLE":
        with np.errstate(invalid="ignore", divide="ignore"):
            return warm_j / (2 * info)
    if method == "MAP":
        mean, sd = (0.0, 1.0) if prior is None else (prior.mean, prior.sd)
        return -(theta - mean) / sd**2
    raise DigicompError(f"lz* needs the θ estimator ML, WLE or MAP, got {method!r}")


def person_fit(
    params: ItemParameters,
    responses: Responses,
    theta: Array | None = None,
    *,
    method: str = "WLE",
    prior: Any = None,
    alpha: float = 0.05,
) -> PersonFit:
    """Person-fit statistics of every person in ``responses`` against ``params``.

    ``theta``: the persons' estimates; by default estimated here by ``method`` (WLE: finite for all-correct and
    all-wrong patterns; ML; MAP with ``prior``). If you pass ``theta``, pass the ``method`` that produced it: lz*
    depends on it. ``alpha``: one-sided level of the ``misfit`` flag.
    """
    from digicomp.analysis.probability import norm_ppf

    method = method.upper()
    if responses.n_items != params.n_items:
        raise DigicompError(f"responses cover {responses.n_items} items, the item parameters {params.n_items}")
    if responses.item_ids is not None and list(responses.item_ids) != list(params.ids):
        raise DigicompError("responses and item parameters list different items (align them by id first)")
    responses.check_categories(params.n_categories)
    n = responses.n_persons
    if theta is None:
        from digicomp.scoring.api import score

        theta = score(params, responses, method, prior=prior).theta
    theta = np.asarray(theta, dtype=float)
    if theta.shape != (n,):
        raise DigicompError(f"theta has shape {theta.shape}; expected ({n},), one per person")
    pp, jj, x = responses.person, responses.item, responses.value.astype(np.intp)
    lp, dl, d2l = params.derivatives(theta[pp], jj)
    valid = np.arange(lp.shape[1])[None, :] < params.n_categories[jj][:, None]
    P = np.where(valid, np.exp(lp), 0.0)
    lpz = np.where(valid, lp, 0.0)
    cats = np.arange(lp.shape[1], dtype=float)

    def per_person(v: Array) -> Array:
        return np.bincount(pp, v, n)

    # lz (Drasgow et al. 1985), polytomous form
    l_obs = np.take_along_axis(lpz, x[:, None], axis=1)[:, 0]
    e_l = (P * lpz).sum(axis=1)
    v_l = (P * lpz**2).sum(axis=1) - e_l**2
    l0 = per_person(l_obs)
    with np.errstate(invalid="ignore", divide="ignore"):
        lz = (l0 - per_person(e_l)) / np.sqrt(per_person(v_l))

    # infit / outfit
    expected = P @ cats
    var = P @ cats**2 - expected**2
    resid2 = (x - expected) ** 2
    count = np.bincount(pp, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        outfit = per_person(resid2 / var) / count
        infit = per_person(resid2) / per_person(var)

    # lz* (Snijders 2001; for polytomous items Sinharay 2016's lz*_p): with w = log P and r = ∂ log P/∂θ per category,
    # c = Σ_j Cov_P(w_j, r_j) / Σ_j Var_P(r_j), w̃ = w - c r, lz* = (l0 - E[l0] + c r0) / sqrt(Σ_j Var_P(w̃_j));
    # for 0/1 items these are Snijders's formulas exactly (w's logit and r = p'/(p q) up to a constant per item).
    r = np.where(valid, dl, 0.0)
    e_r = (P * r).sum(axis=1)
    cov_wr = (P * lpz * r).sum(axis=1) - e_l * e_r
    var_r = (P * r**2).sum(axis=1) - e_r**2
    info = per_person(var_r)
    warm_j = per_person(np.where(valid, P * dl * (d2l + dl**2), 0.0).sum(axis=1))
    r0 = _r0(method, theta, info, warm_j, prior)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = per_person(cov_wr) / info
        w_tilde = lpz - c[pp, None] * r
        e_wt = (P * w_tilde).sum(axis=1)
        tau2 = per_person((P * w_tilde**2).sum(axis=1) - e_wt**2)
        lz_star = (l0 - per_person(e_l) + c * r0) / np.sqrt(tau2)

    g, g_norm = _guttman(responses, params.n_categories)
    z = norm_ppf(alpha)
    stat = np.where(np.isnan(lz_star), lz, lz_star)
    misfit = np.nan_to_num(stat, nan=np.inf) < z
    ids = responses.person_ids or [str(k + 1) for k in range(n)]
    return PersonFit(list(ids), count, theta, l0, lz, lz_star, outfit, infit, g, g_norm, misfit, method, alpha)


def _guttman(responses: Responses, n_categories: NDArray[np.intp]) -> tuple[Array, Array]:
    """Guttman errors over item steps ordered by observed popularity (Molenaar 1991's G_p; G for 0/1 items)."""
    pp, jj, x = responses.person, responses.item, responses.value
    n, n_items = responses.n_persons, responses.n_items
    steps = n_categories - 1
    first = np.concatenate([[0], np.cumsum(steps)])
    total_steps = int(first[-1])
    # popularity of step s of item j: share of those answering j with x_j >= s
    answered_n = np.bincount(jj, minlength=n_items).astype(float)
    step_item = np.repeat(np.arange(n_items), steps)
    passed_n = np.zeros(total_steps)
    for level in range(1, int(steps.max(initial=1)) + 1):  # a loop over category levels (at most K - 1), not items
        has = steps[jj] >= level
        np.add.at(passed_n, first[jj[has]] + level - 1, (x[has] >= level).astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        popularity = passed_n / answered_n[step_item]
    order = np.argsort(-np.nan_to_num(popularity, nan=-1.0), kind="stable")
    rank = np.empty(total_steps, np.intp)
    rank[order] = np.arange(total_steps)
    # per (person, step) observed: passed or not; G = Σ over passed steps of the failed steps easier than it
    obs_step = np.repeat(np.arange(pp.size), steps[jj])
    lvl = np.arange(obs_step.size) - np.repeat(np.cumsum(steps[jj]) - steps[jj], steps[jj]) + 1
    sp, sj, sx = pp[obs_step], jj[obs_step], x[obs_step]
    srank = rank[first[sj] + lvl - 1]
    passed = sx >= lvl
    key = np.lexsort((srank, sp))
    sp, passed = sp[key], passed[key]
    failed_before = np.cumsum(~passed) - ~passed
    start = np.searchsorted(sp, np.arange(n))
    base = np.concatenate([[0], np.cumsum(~passed)])[start]
    failed_before = failed_before - base[sp]
    g = np.bincount(sp, np.where(passed, failed_before, 0).astype(float), n)
    r = np.bincount(sp, passed.astype(float), n)
    k = np.bincount(sp, minlength=n).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        g_norm = np.where(r * (k - r) > 0, g / (r * (k - r)), np.nan)
    return g, g_norm
