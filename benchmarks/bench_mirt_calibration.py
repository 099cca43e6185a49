"""Benchmark: multidimensional calibration against PyPI ``mirt`` (pymirt), in one process.

Workloads (issue 12; seeded):
  M1  3 correlated dimensions (correlations 0.3/0.5/0.6), simple structure (10 items each), 30 items × 5,000
      persons, complete, 2PL: a ~ U(0.8, 2.0) on the item's dimension, d ~ N(0, 1). digicomp
      ``calibrate(..., structure=Q)`` and pymirt ``fit_mirt(..., spec="F1=1-10 F2=11-20 F3=21-30 COV=F1*F2*F3")``,
      both with 15 points per dimension on [-6, 6] (15³ = 3,375 points), tol 1e-4, no SEs. Reported: time, ratio,
      log-likelihoods, RMSE of slopes, intercepts and correlations against the truth.
  M2  8-area bifactor 2PL, 240 items (30 per area) × 20,000 persons, 30 random items each (sparse): general
      slopes U(1.0, 2.0), specific U(0.4, 1.0), d ~ N(0, 1); ``--bifactor-quadpts`` points per reduced dimension
      (default 31, mirt's default for 2 integrated dimensions), no SEs; with ``--m2-pymirt`` also pymirt's
      ``bfactor`` (its dimension-reduction EM) on the same data and points, missing responses as -1.
  M3  8 correlated areas (all correlations 0.8, the issue's truth), 240 items (30 per area) × 5,000 persons, 30
      random items each (sparse), 2PL, quasi-Monte-Carlo EM on 5,000 points (seed 0), no SEs; digicomp only.
The first line names the BLAS kernel and threads; each workload's line ends with the load average (1 min).

Run:  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_mirt_calibration.py [--only M1 M2]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings

import numpy as np
from _common import blas_report

from digicomp.calibration.multidim import calibrate_multidim
from digicomp.responses import Responses

CORR3 = np.array([[1.0, 0.3, 0.5], [0.3, 1.0, 0.6], [0.5, 0.6, 1.0]])


def simulate_m1(seed: int = 2026, n_persons: int = 5_000, per_dim: int = 10):
    """(a (30, 3), d (30,), responses (N, 30))."""
    rng = np.random.default_rng(seed)
    J = 3 * per_dim
    dim = np.repeat(np.arange(3), per_dim)
    a = np.zeros((J, 3))
    a[np.arange(J), dim] = rng.uniform(0.8, 2.0, J)
    d = rng.normal(0.0, 1.0, J)
    theta = rng.multivariate_normal(np.zeros(3), CORR3, size=n_persons)
    x = (rng.random((n_persons, J)) < 1 / (1 + np.exp(-(theta @ a.T + d)))).astype(np.int64)
    return a, d, x


def simulate_m2(seed: int = 2026, n_persons: int = 20_000, per_area: int = 30, areas: int = 8, per_person: int = 30):
    """(a (240, 9), d, Responses sparse, area of each item)."""
    rng = np.random.default_rng(seed)
    J = per_area * areas
    area = np.repeat(np.arange(areas), per_area)
    a = np.zeros((J, 1 + areas))
    a[:, 0] = rng.uniform(1.0, 2.0, J)
    a[np.arange(J), 1 + area] = rng.uniform(0.4, 1.0, J)
    d = rng.normal(0.0, 1.0, J)
    theta = rng.normal(size=(n_persons, 1 + areas))
    item = np.argpartition(rng.random((n_persons, J)), per_person, axis=1)[:, :per_person]
    item.sort(axis=1)
    person = np.repeat(np.arange(n_persons), per_person)
    item = item.ravel()
    z = np.einsum("nk,nk->n", theta[person], a[item]) + d[item]
    value = (rng.random(person.size) < 1 / (1 + np.exp(-z))).astype(np.int64)
    ids = [f"i{j + 1}" for j in range(J)]
    resp = Responses(person, item, value, n_persons, J, item_ids=ids)
    return a, d, resp, {ids[j]: f"area{area[j] + 1}" for j in range(J)}


def loglik_at(x: np.ndarray, a: np.ndarray, d: np.ndarray, cor: np.ndarray, quadpts: int) -> float:
    """Marginal log-likelihood of 2PL estimates (a, d, latent correlations) on digicomp's rectangular grid."""
    from digicomp.calibration.estep import ChunkedData
    from digicomp.calibration.mvn import MVNLatent, tensor_grid
    from digicomp.models import multidim as md

    pts = tensor_grid(quadpts, a.shape[1])
    lat = MVNLatent(pts, ~np.eye(a.shape[1], dtype=bool), cov=cor)
    data = ChunkedData(Responses.from_dense(x), np.full(x.shape[1], 2), pts.shape[0])
    return data.e_step(md.log_prob_dichotomous(pts, a, d), lat.log_weights()).loglik


def rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(x) - np.asarray(y)) ** 2)))


def run_m1(quadpts: int) -> None:
    a, d, x = simulate_m1()
    ids = [f"item{j + 1}" for j in range(x.shape[1])]  # the names digicomp gives the columns of an array
    q = {i: {f"F{k + 1}": int(a[j, k] != 0) for k in range(3)} for j, i in enumerate(ids)}
    load = os.getloadavg()[0]
    t = time.perf_counter()
    res = calibrate_multidim(x, "2PL", structure=q, quadpts=quadpts, se=False)
    t_dc = time.perf_counter() - t
    off = np.triu_indices(3, 1)
    print(
        f"M1 digicomp  {t_dc:7.2f} s  logLik {res.loglik:.3f}  cycles {res.iterations:>3}  "
        f"RMSE a {rmse(res.a[a != 0], a[a != 0]):.4f}  d {rmse(res.intercepts[:, 0], d):.4f}  "
        f"cor {rmse(res.latent_cor[off], CORR3[off]):.4f}",
        flush=True,
    )
    try:
        import mirt
    except ImportError:
        print("M1 pymirt    skipped (not installed: pip install -e '.[bench]')")
        return
    spec = "F1 = 1-10\nF2 = 11-20\nF3 = 21-30\nCOV = F1*F2*F3"
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mirt.fit_mirt(x, "2PL", n_factors=3, spec=spec, n_quadpts=quadpts, compute_standard_errors=False)
    t_pm = time.perf_counter() - t
    pa = np.asarray(fit.model.parameters["slopes"]).reshape(30, 3)
    pd = np.asarray(fit.model.parameters["intercepts"]).ravel()
    cov = np.asarray(fit.latent_covariance) if getattr(fit, "latent_covariance", None) is not None else np.eye(3)
    sd = np.sqrt(np.diag(cov))
    cor = cov / np.outer(sd, sd)
    print(
        f"M1 pymirt    {t_pm:7.2f} s  logLik {float(fit.log_likelihood):.3f}  cycles {fit.n_iterations:>3}  "
        f"RMSE a {rmse(pa[a != 0], a[a != 0]):.4f}  d {rmse(pd, d):.4f}  cor {rmse(cor[off], CORR3[off]):.4f}",
        flush=True,
    )
    print(
        f"M1 ratio pymirt/digicomp {t_pm / t_dc:.1f}x; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    # pymirt integrates with Gauss-Hermite nodes that follow the latent covariance, digicomp with a fixed rectangular
    # grid: their own logLik values are not on one footing. Both sets of estimates, evaluated by one likelihood:
    for q in (quadpts, 31):
        own = loglik_at(x, res.a, res.intercepts[:, 0], res.latent_cor, q)
        peer = loglik_at(x, pa, pd, cor, q)
        print(
            f"M1 logLik on a {q}-point rectangular grid: digicomp estimates {own:.3f}, pymirt estimates {peer:.3f} "
            f"(difference {own - peer:+.3f})",
            flush=True,
        )


def run_m2(quadpts: int, with_pymirt: bool = False) -> None:
    a, d, resp, areas = simulate_m2()
    load = os.getloadavg()[0]
    t = time.perf_counter()
    res = calibrate_multidim(resp, "2PL", structure="bifactor", areas=areas, quadpts=quadpts, se=False)
    dt = time.perf_counter() - t
    spec = a[:, 1:][a[:, 1:] != 0]
    est_spec = res.a[:, 1:][a[:, 1:] != 0]
    print(
        f"M2 digicomp  {dt:7.2f} s  logLik {res.loglik:.3f}  cycles {res.iterations:>3}  converged {res.converged}  "
        f"RMSE general a {rmse(res.a[:, 0], a[:, 0]):.4f}  specific a {rmse(est_spec, spec):.4f}  "
        f"d {rmse(res.intercepts[:, 0], d):.4f}; load average {load:.2f} before, {os.getloadavg()[0]:.2f} after",
        flush=True,
    )
    if not with_pymirt:
        return
    import mirt

    area = np.argmax(a[:, 1:] != 0, axis=1)
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mirt.bfactor(resp.dense(), area, n_quadpts=quadpts, compute_standard_errors=False)
    t_pm = time.perf_counter() - t
    g = np.asarray(fit.model.parameters["general_loadings"]).ravel()
    sp = np.asarray(fit.model.parameters["specific_loadings"]).ravel()
    ic = np.asarray(fit.model.parameters["intercepts"]).ravel()
    print(
        f"M2 pymirt    {t_pm:7.2f} s  logLik {float(fit.log_likelihood):.3f}  cycles {fit.n_iterations:>3}  "
        f"RMSE general a {rmse(g, a[:, 0]):.4f}  specific a {rmse(sp, a[np.arange(a.shape[0]), 1 + area]):.4f}  "
        f"d {rmse(ic, d):.4f}; ratio pymirt/digicomp {t_pm / dt:.1f}x",
        flush=True,
    )


def run_m3() -> None:
    rng = np.random.default_rng(2026)
    K, per, n, per_person = 8, 30, 5_000, 30
    J = K * per
    area = np.repeat(np.arange(K), per)
    a = np.zeros((J, K))
    a[np.arange(J), area] = rng.uniform(1.0, 2.0, J)
    d = rng.normal(0.0, 1.0, J)
    R = 0.8 * np.ones((K, K)) + 0.2 * np.eye(K)
    theta = rng.multivariate_normal(np.zeros(K), R, size=n)
    item = np.argpartition(rng.random((n, J)), per_person, axis=1)[:, :per_person]
    item.sort(axis=1)
    person = np.repeat(np.arange(n), per_person)
    item = item.ravel()
    z = np.einsum("nk,nk->n", theta[person], a[item]) + d[item]
    value = (rng.random(person.size) < 1 / (1 + np.exp(-z))).astype(np.int64)
    ids = [f"i{j + 1}" for j in range(J)]
    resp = Responses(person, item, value, n, J, item_ids=ids)
    areas = {ids[j]: f"area{area[j] + 1}" for j in range(J)}
    load = os.getloadavg()[0]
    t = time.perf_counter()
    res = calibrate_multidim(resp, "2PL", structure="areas", areas=areas, se=False)
    dt = time.perf_counter() - t
    iu = np.triu_indices(K, 1)
    print(
        f"M3 digicomp  {dt:7.2f} s  ({res.method}, {res.quadpts} points)  logLik {res.loglik:.3f}  cycles "
        f"{res.iterations:>3}  converged {res.converged}  RMSE a {rmse(res.a[a != 0], a[a != 0]):.4f}  "
        f"d {rmse(res.intercepts[:, 0], d):.4f}  cor {rmse(res.latent_cor[iu], R[iu]):.4f}; "
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", default=["M1", "M2", "M3"])
    ap.add_argument("--quadpts", type=int, default=15, help="M1 points per dimension (default 15)")
    ap.add_argument("--m2-pymirt", action="store_true", help="also fit M2 with pymirt's bfactor")
    ap.add_argument("--bifactor-quadpts", type=int, default=31, help="M2 points per reduced dimension (mirt's 31)")
    args = ap.parse_args()
    print(blas_report())
    if "M1" in args.only:
        run_m1(args.quadpts)
    if "M2" in args.only:
        run_m2(args.bifactor_quadpts, args.m2_pymirt)
    if "M3" in args.only:
        run_m3()
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
