"""Marginal maximum likelihood for the nominal response model (Bock 1972) by Bock–Aitkin EM.

The E-step is the package's one (:class:`~digicomp.calibration.estep.ChunkedData`: expected category counts
r[j, k, q] on the quadrature grid); the M-step maximises Σ_k Σ_q r_jkq log P_jk(θ_q) over every item's free
parameters at once (the items are independent given the counts, so one BFGS run on their sum with the analytic
gradient solves them all). Identification and defaults are mirt's ``mirt(data, 1, itemtype = "nominal")``:
ak_0 = 0, ak_{m-1} = m - 1, d_0 = 0; N(0, 1) latent density on 61 points over [-6, 6]; convergence when the
largest parameter change of an EM cycle is below ``tol`` (1e-4). Free parameters per item: a1, ak_1..ak_{m-2},
d_1..d_{m-1} (2m - 2).
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


def _masks(n_cat: NDArray[np.intp], K: int) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    k = np.arange(K)[None, :]
    m = n_cat[:, None]
    free_ak = (k >= 1) & (k <= m - 2)
    free_d = (k >= 1) & (k <= m - 1)
    return free_ak, free_d


def _unpack(x: Array, J: int, free_ak: NDArray[np.bool_], free_d: NDArray[np.bool_], ak0: Array, d0: Array):
    a1 = x[:J]
    ak = ak0.copy()
    n_ak = int(free_ak.sum())
    ak[free_ak] = x[J : J + n_ak]
    d = d0.copy()
    d[free_d] = x[J + n_ak :]
    return a1, ak, d


def _m_step(
    counts: Array, points: Array, a1: Array, ak: Array, d: Array, free_ak: NDArray[np.bool_], free_d: NDArray[np.bool_]
) -> tuple[Array, Array, Array]:
    """Maximise the expected complete-data log-likelihood of every item (counts (J, K, Q))."""
    from scipy.optimize import minimize

    J, K, _ = counts.shape
    valid = np.isfinite(d)
    n_q = counts.sum(axis=1)  # (J, Q)
    ak_fixed = np.where(valid, ak, 0.0)
    d_fixed = np.where(valid, d, 0.0)
    x0 = np.concatenate([a1, ak_fixed[free_ak], d_fixed[free_d]])

    def f(x: Array) -> tuple[float, Array]:
        a, k_, d_ = _unpack(x, J, free_ak, free_d, ak_fixed, d_fixed)
        z = (a[:, None] * k_)[:, :, None] * points[None, None, :] + d_[:, :, None]
        z = np.where(valid[:, :, None], z, -np.inf)
        top = z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z - top).sum(axis=1, keepdims=True)) + top
        logp = np.where(valid[:, :, None], z - lse, 0.0)
        value = float((counts * logp).sum())
        g = counts - n_q[:, None, :] * np.exp(np.where(valid[:, :, None], logp, -np.inf))  # (J, K, Q)
        g_d = g.sum(axis=2)
        g_s = g @ points  # Σ_q g θ_q, (J, K): gradient in the category slope s_k = a1 ak_k
        grad_a = (g_s * k_).sum(axis=1)
        grad_ak = a[:, None] * g_s
        grad = np.concatenate([grad_a, grad_ak[free_ak], g_d[free_d]])
        return -value, -grad

    res = minimize(f, x0, jac=True, method="BFGS", options={"maxiter": 15, "gtol": 1e-8})
    a_new, ak_new, d_new = _unpack(res.x, J, free_ak, free_d, ak_fixed, d_fixed)
    return a_new, np.where(valid, ak_new, np.nan), np.where(valid, d_new, np.nan)


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
    free_ak, free_d = _masks(n_cat, K)
    if start is None:
        valid = np.arange(K)[None, :] < n_cat[:, None]
        props = per_cat[:, :K] / per_cat[:, :K].sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            d = np.where(valid, np.log(np.maximum(props, 1e-6)) - np.log(np.maximum(props[:, :1], 1e-6)), np.nan)
        ak = np.where(valid, np.arange(K, dtype=float)[None, :], np.nan)
        a1 = np.ones(J)
    else:
        if start.n_items != J or not np.array_equal(start.n_categories, n_cat):
            raise CalibrationError("start: the starting values do not match the items and categories of the data")
        a1, ak, d = start.a1.copy(), start.ak.copy(), start.d.copy()
    points = np.linspace(*theta_range, n_points)
    log_prior = -0.5 * points**2
    log_prior -= np.logaddexp.reduce(log_prior)
    data = ChunkedData(responses, n_cat, n_points)

    def log_p(a1: Array, ak: Array, d: Array) -> Array:
        return NominalParameters(a1, ak, d, ids).log_prob(points)  # (Q, J, K)

    converged = False
    cycles = 0
    for cycles in range(1, max_iter + 1):  # noqa: B007 (the count of cycles run is reported)
        stats = data.e_step(log_p(a1, ak, d), log_prior)
        a1_new, ak_new, d_new = _m_step(stats.counts, points, a1, ak, d, free_ak, free_d)
        change = max(
            float(np.max(np.abs(a1_new - a1))),
            float(np.nanmax(np.abs(ak_new - ak))),
            float(np.nanmax(np.abs(d_new - d))),
        )
        a1, ak, d = a1_new, ak_new, d_new
        if change < tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"nominal EM stopped after {max_iter} cycles without converging (largest change > tol {tol:g})",
            ConvergenceWarning,
            stacklevel=2,
        )
    final = data.e_step(log_p(a1, ak, d), log_prior)
    params = NominalParameters(a1, ak, d, ids)
    n_par = int(J + free_ak.sum() + free_d.sum())
    return NominalCalibration(params, final.loglik, n_par, float(weights.sum()), cycles, converged)
