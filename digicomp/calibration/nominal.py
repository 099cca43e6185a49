"""Marginal maximum likelihood for the nominal response model (Bock 1972) by Bock–Aitkin EM.

The E-step is the package's one (:class:`~digicomp.calibration.estep.ChunkedData`: expected category counts
r[j, k, q] on the quadrature grid); the M-step maximises Σ_k Σ_q r_jkq log P_jk(θ_q) over every item's free
parameters at once (the items are independent given the counts, so one BFGS run on their sum with the analytic
gradient solves them all). Defaults are mirt's ``mirt(data, 1, itemtype = "nominal")``: N(0, 1) latent density on
61 points over [-6, 6], tol 1e-4; the estimates are reported in mirt's identification, ak_0 = 0, ak_{m-1} = m - 1,
d_0 = 0, with 2m - 2 free parameters per item (a1, ak_1..ak_{m-2}, d_1..d_{m-1}). The EM itself works on the
category slopes s_k = a1·ak_k (s_0 = 0; the same model and parameter count), converging when the largest change of
a slope or intercept in a cycle is below ``tol``: the (a1, ak) form is ill-conditioned when a key barely differs
from the reference category (a1 near 0, where ak = s / a1 wanders while the model has converged).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.estep import ChunkedData
from digicomp.errors import CalibrationError, ConvergenceWarning
from digicomp.models.nominal import NominalParameters
from digicomp.responses import Responses

Array = NDArray[np.float64]


@dataclass
class NominalCalibration:
    """Estimates, marginal log-likelihood, information criteria and the EM's run."""

    params: NominalParameters
    loglik: float
    n_parameters: int
    n_persons: float
    iterations: int
    converged: bool

    @property
    def aic(self) -> float:
        """-2 logL + 2 p."""
        return -2 * self.loglik + 2 * self.n_parameters

    @property
    def bic(self) -> float:
        """-2 logL + p log N."""
        return -2 * self.loglik + self.n_parameters * np.log(self.n_persons)


def _free(n_cat: NDArray[np.intp], K: int) -> NDArray[np.bool_]:
    """Free cells of the slope and intercept tables: categories 1..m-1 (category 0 is the reference, 0 and 0)."""
    k = np.arange(K)[None, :]
    return (k >= 1) & (k <= n_cat[:, None] - 1)


def _m_step(counts: Array, points: Array, s: Array, d: Array, free: NDArray[np.bool_]) -> tuple[Array, Array]:
    """Maximise the expected complete-data log-likelihood of every item (counts (J, K, Q)) over the category slopes
    s_k = a1·ak_k and intercepts d_k (k ≥ 1): a smooth, well-conditioned problem even where a1 is near 0, which the
    (a1, ak) form is not; :func:`_mirt_form` converts back."""
    from scipy.optimize import minimize

    valid = np.isfinite(d)
    n_q = counts.sum(axis=1)  # (J, Q)
    s0, d0 = np.where(valid, s, 0.0), np.where(valid, d, 0.0)
    n_free = int(free.sum())

    def unpack(x: Array) -> tuple[Array, Array]:
        s_, d_ = s0.copy(), d0.copy()
        s_[free], d_[free] = x[:n_free], x[n_free:]
        return s_, d_

    def f(x: Array) -> tuple[float, Array]:
        s_, d_ = unpack(x)
        z = s_[:, :, None] * points[None, None, :] + d_[:, :, None]
        z = np.where(valid[:, :, None], z, -np.inf)
        top = z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z - top).sum(axis=1, keepdims=True)) + top
        logp = np.where(valid[:, :, None], z - lse, 0.0)
        value = float((counts * logp).sum())
        g = counts - n_q[:, None, :] * np.exp(np.where(valid[:, :, None], logp, -np.inf))  # (J, K, Q)
        grad = np.concatenate([(g @ points)[free], g.sum(axis=2)[free]])
        return -value, -grad

    res = minimize(f, np.concatenate([s0[free], d0[free]]), jac=True, method="BFGS", options={"maxiter": 15})
    s_new, d_new = unpack(res.x)
    return np.where(valid, s_new, np.nan), np.where(valid, d_new, np.nan)


def _mirt_form(s: Array, d: Array, n_cat: NDArray[np.intp], ids: list[str]) -> NominalParameters:
    """Category slopes → mirt's a1 = s_{m-1}/(m-1) and ak = s / a1 (ak_0 = 0, ak_{m-1} = m - 1)."""
    top = s[np.arange(s.shape[0]), n_cat - 1]
    a1 = top / (n_cat - 1)
    a1 = np.where(np.abs(a1) < 1e-12, 1e-12, a1)  # a key exactly as flat as the reference: ak then carries it
    ak = s / a1[:, None]
    ak[np.arange(s.shape[0]), n_cat - 1] = n_cat - 1
    return NominalParameters(a1, ak, d, ids)


def calibrate_nominal(
    responses: Responses,
    *,
    n_points: int = 61,
    theta_range: tuple[float, float] = (-6.0, 6.0),
    tol: float = 1e-4,
    max_iter: int = 2000,
    start: NominalParameters | None = None,
) -> NominalCalibration:
    """Nominal response model estimates for every item of ``responses`` (categories 0..m-1 as coded).

    ``start``: starting values (default: mirt's, a1 = 1, ak = 0..m-1, d from the category proportions).
    Every item needs at least two observed categories; an item whose top category nobody chose is refused, since
    its parameters are not identified.
    """
    J = responses.n_items
    if J == 0 or responses.n_persons == 0:
        raise CalibrationError("no responses to calibrate")
    weights = np.ones(responses.n_persons) if responses.weights is None else np.asarray(responses.weights, float)
    per_cat = np.zeros((J, int(responses.value.max()) + 1 if responses.value.size else 1))
    np.add.at(per_cat, (responses.item, responses.value), weights[responses.person])
    n_cat = np.array([int(np.flatnonzero(row > 0).max(initial=-1)) + 1 for row in per_cat], dtype=np.intp)
    ids = responses.item_ids or [f"item{j + 1}" for j in range(J)]
    for j in range(J):
        chosen = np.flatnonzero(per_cat[j, : n_cat[j]] > 0)
        if n_cat[j] < 2 or chosen.size < n_cat[j]:
            raise CalibrationError(
                f"item {ids[j]!r}: categories {sorted(set(range(max(n_cat[j], 2))) - set(chosen.tolist()))} were "
                "never chosen; the nominal model needs every category 0..m-1 observed (recode or drop the item)"
            )
    K = int(n_cat.max())
    free = _free(n_cat, K)
    valid = np.arange(K)[None, :] < n_cat[:, None]
    if start is None:
        props = per_cat[:, :K] / per_cat[:, :K].sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            d = np.where(valid, np.log(np.maximum(props, 1e-6)) - np.log(np.maximum(props[:, :1], 1e-6)), np.nan)
        slopes = np.where(valid, np.arange(K, dtype=float)[None, :], np.nan)  # a1 = 1, ak = 0..m-1 (mirt's start)
    else:
        if start.n_items != J or not np.array_equal(start.n_categories, n_cat):
            raise CalibrationError("start: the starting values do not match the items and categories of the data")
        slopes, d = start.category_slopes(), start.d.copy()
    points = np.linspace(*theta_range, n_points)
    log_prior = -0.5 * points**2
    log_prior -= np.logaddexp.reduce(log_prior)
    data = ChunkedData(responses, n_cat, n_points)

    def log_p(slopes: Array, d: Array) -> Array:
        z = np.where(valid, slopes, 0.0)[None] * points[:, None, None] + np.where(valid, d, 0.0)[None]
        z = np.where(valid[None], z, -np.inf)
        return z - np.logaddexp.reduce(z, axis=2, keepdims=True)  # (Q, J, K)

    converged = False
    cycles = 0
    for cycles in range(1, max_iter + 1):  # noqa: B007 (the count of cycles run is reported)
        stats = data.e_step(log_p(slopes, d), log_prior)
        s_new, d_new = _m_step(stats.counts, points, slopes, d, free)
        change = max(float(np.nanmax(np.abs(s_new - slopes))), float(np.nanmax(np.abs(d_new - d))))
        slopes, d = s_new, d_new
        if change < tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"nominal EM stopped after {max_iter} cycles without converging (largest change > tol {tol:g})",
            ConvergenceWarning,
            stacklevel=2,
        )
    final = data.e_step(log_p(slopes, d), log_prior)
    params = _mirt_form(slopes, d, n_cat, list(ids))
    n_par = int(2 * free.sum())
    return NominalCalibration(params, final.loglik, n_par, float(weights.sum()), cycles, converged)
