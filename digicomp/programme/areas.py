"""The programme report's per-area shares: each area's unit model (the conditioning model on the persons' own-items
area likelihoods, or the normal model on the area θ and SD), and the threads that run the areas beside the rest of
the report (docs/programme.md, Per area and Speed)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.parallel import single_threaded_blas
from digicomp.programme.errors import ProgrammeError
from digicomp.programme.estimate import ShareEstimates, estimate_shares
from digicomp.programme.population import GridModel

AREA_DRAWS = 4
"""Per-area shares from θ and SD only (what the store holds today) use the normal unit model with fewer redraws:
eight areas at the grid model's cost would be most of the report's time."""
AREA_EM = {"iterations": 60, "tol": 1e-4, "redraw_iterations": 12, "draws": 10, "accelerate": True, "points": 21}
"""Per-area shares from the persons' own-items area likelihoods: the grid model on 21 cells (0.4 apart, the smoothing
scaled to match 41 cells'), its EM accelerated by SQUAREM and run to convergence (at most 60 EM steps to a change
below 1e-4; SQUAREM bounded: docs/programme.md), then 10 bootstrap redraws of 12 steps each from the fit, iterated
together (6 steps covered half a point less once the fit converged). An area rests on 2-6 items, so the missing
information is large and the overall score's 40 + 2 plain EM steps stop far from the fixed point. Plain EM to 1e-6
(about 300 steps) on 41 cells with 8 redraws of 40 steps gave the same coverage at about five times the cost; 6
redraws instead of 10 left the between-draw variance too noisy (about a point less coverage; docs/programme.md,
Per area)."""
AREA_THREADS = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)
"""Threads estimating areas side by side in the report (:func:`area_estimates`): one per core this process may use,
at most four (each holds its area's likelihoods, masses and level probabilities: about 250 MB at 200,000 persons)."""
AREA_BANDS = 3
"""Per-area conditioning model: each unit's persons are split into this many bands of their result on the rest of
the test (tertiles of the rest-of-test EAP), and each unit × band gets its own θ distribution of the area. The test
chose each person's area items by their answers to the other areas, so the own-items likelihood alone is not the
whole of what the data say about the area value (docs/programme.md, Per area); 2-4 bands gave the same coverage."""


def area_estimates(
    sessions, latest, leaf, anc, scale, kw, pool: Any = None
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Shares per area from each person's latest per-area result (persons whose test reached the area), as
    futures (``.result()``: the area's :class:`ShareEstimates`) computed on ``pool`` (None: here, now), and how
    each area was estimated.

    An area whose persons all have their log-likelihoods stored (``session_scores.area_loglik``) is estimated from
    them with the conditioning model (:func:`estimate_area_shares`); otherwise from the area θ and SD (the normal
    unit model), and ``method`` says so with how many of its persons lacked them. The areas are independent of each
    other and of the overall estimate, and spend their time in numpy and scipy kernels that release the GIL, so the
    report runs them on threads (:func:`area_pool`) beside its other work; each area's result is the same on any
    number of threads.
    """
    from digicomp.store.scores import LOGLIK_NODES

    e = sessions.areas
    person, mine = e.of(latest)
    ok = mine & (e.n_items > 0) & np.isfinite(e.theta) & np.isfinite(e.se) & (e.se > 0)
    has = e.has_likelihood()
    jobs, method = {}, {}
    for c in sorted(range(len(e.codes)), key=e.codes.__getitem__):
        sel = ok & (e.code == c)
        if not sel.any():
            continue
        code = e.codes[c]
        lacking = int((~has[sel]).sum())
        if lacking == 0:
            method[code] = {"method": "likelihood", "persons": int(sel.sum()), "without_likelihood": 0}
        else:
            method[code] = {"method": "theta_se", "persons": int(sel.sum()), "without_likelihood": lacking}
        jobs[code] = (sel, lacking == 0)

    def one(sel: NDArray[np.bool_], with_likelihood: bool) -> ShareEstimates:
        lik = {}
        if with_likelihood:
            own, rest = e.likelihoods(sel)
            lik = {"log_likelihood": own, "nodes": LOGLIK_NODES, "rest_log_likelihood": rest}
        return estimate_area_shares(e.theta[sel], e.se[sel], leaf[person[sel]], anc, scale.cuts, **lik, **kw)

    if pool is None:
        return {code: _Done(one(*job)) for code, job in jobs.items()}, method
    return {code: pool.submit(one, *job) for code, job in jobs.items()}, method


@dataclass
class _Done:
    """An area estimate computed in place, with a future's ``result()``."""

    value: ShareEstimates

    def result(self) -> ShareEstimates:
        return self.value


@contextmanager
def area_pool() -> Iterator[Any]:
    """Threads for the area estimates (:data:`AREA_THREADS`), or None (compute in place) when there is one core or
    BLAS cannot be kept to one thread each (:func:`digicomp.parallel.single_threaded_blas`): without that, every
    thread's large products start BLAS threads of their own on the same cores, and the report measured no faster
    than serial."""
    from concurrent.futures import ThreadPoolExecutor

    single_blas = single_threaded_blas() if AREA_THREADS > 1 else None
    if single_blas is None:
        yield None
        return
    with single_blas, ThreadPoolExecutor(AREA_THREADS) as pool:
        yield pool


def estimate_area_shares(
    theta: NDArray[np.float64],
    se: NDArray[np.float64],
    unit: NDArray[np.intp],
    ancestors: NDArray[np.intp],
    cuts: NDArray[np.float64],
    *,
    log_likelihood: NDArray[np.float64] | None = None,
    nodes: NDArray[np.float64] | None = None,
    rest_log_likelihood: NDArray[np.float64] | None = None,
    **kw: Any,
) -> ShareEstimates:
    """One area's shares per unit: the report's per-area method (and the one the per-area calibration study checks,
    :func:`digicomp.programme.calibration.run_area_calibration`).

    With ``log_likelihood`` (n, Q) at θ ``nodes`` (Q,) (each person's own-items likelihood in the area): the grid
    unit model on those likelihoods, its log-density smoothed (:func:`digicomp.programme.population.smooth`) and its
    EM run to convergence (:data:`AREA_EM`), per unit × band of the person's result on the rest of the test when
    ``rest_log_likelihood`` (n, Q) is given (:data:`AREA_BANDS`; the conditioning model), the level probabilities
    of the fit and of 10 bootstrap redraws combined by Rubin's rules (:func:`estimate_shares`). With the area θ and
    SD alone: the normal unit model (:data:`AREA_DRAWS`), which the few-item likelihoods fit worse.
    """
    hard = np.searchsorted(cuts, theta, side="right")
    if log_likelihood is None:
        kw = {"draws": AREA_DRAWS, "method": "normal", **kw}
        return estimate_shares(theta, se, unit, ancestors, cuts, hard_level=hard, **kw)
    if nodes is None:
        raise ProgrammeError("log_likelihood given without its θ nodes")
    n_units = ancestors.shape[0]
    prior = (kw.get("prior_mean", 0.0), kw.get("prior_sd", 1.0))
    band = np.zeros(unit.size, np.intp)
    if rest_log_likelihood is not None and unit.size:
        band = rest_bands(rest_log_likelihood, nodes, *prior)
    if not unit.size:
        return estimate_shares(theta, se, unit, ancestors, cuts, hard_level=hard, method="normal", **kw)
    model = GridModel.fit(
        theta,
        se,
        unit * AREA_BANDS + band,
        n_units * AREA_BANDS,
        cuts,
        prior_mean=prior[0],
        prior_sd=prior[1],
        iterations=AREA_EM["iterations"],
        tol=AREA_EM["tol"],
        log_likelihood=log_likelihood,
        nodes=nodes,
        smooth_log=True,
        accelerate=AREA_EM.get("accelerate", False),
        points=AREA_EM.get("points", 41),
    )
    rng = np.random.default_rng(kw.get("seed", 0))
    q = model.at_or_above_many([model.g, *model.redraws(rng, AREA_EM["draws"], AREA_EM["redraw_iterations"])])
    return estimate_shares(theta, se, unit, ancestors, cuts, hard_level=hard, q=q, **kw)


def rest_bands(
    rest_log_likelihood: NDArray[np.float64], nodes: NDArray[np.float64], prior_mean: float = 0.0, prior_sd: float = 1.0
) -> NDArray[np.intp]:
    """Band (0 .. AREA_BANDS − 1) of each person's EAP on the rest of the test (their log-likelihood there (n, Q) at
    ``nodes`` under the scoring prior), cut at its tertiles over the persons given."""
    nodes = np.asarray(nodes, float)
    ll = np.asarray(rest_log_likelihood, np.float32)  # single precision: a band needs no more, and it is 2x faster
    if ll.ndim != 2 or ll.shape[1] != nodes.size or not np.isfinite(ll).all():
        raise ProgrammeError(f"rest_log_likelihood {ll.shape}: expected finite (persons, {nodes.size})")
    lp = ll - (0.5 * ((nodes - prior_mean) / prior_sd) ** 2).astype(np.float32)
    lp -= lp.max(axis=1, keepdims=True)
    w = np.exp(lp, out=lp)
    eap = np.einsum("ij,j->i", w, nodes.astype(np.float32)) / w.sum(axis=1)  # no BLAS threads (see smooth)
    edges = np.quantile(eap, np.arange(1, AREA_BANDS) / AREA_BANDS)
    return np.searchsorted(edges, eap, side="right").astype(np.intp)
