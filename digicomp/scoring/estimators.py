"""θ estimators on a response batch: EAP, MAP, ML, WLE and plausible values.

All share the grid posterior of :mod:`digicomp.scoring.posterior`; ML/MAP/WLE refine on it with
Newton steps (:mod:`digicomp.scoring.point`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import DataWarning, DigicompError
from digicomp.models import ItemParameters
from digicomp.parallel import thread_map
from digicomp.scoring import point
from digicomp.scoring.posterior import normalise_log_posterior, posterior_moments
from digicomp.scoring.quadrature import DEFAULT_RANGE, GridPrior, NormalPrior, Prior

if TYPE_CHECKING:  # the engine imports this module; the response layer (and scipy.sparse) only when scoring data
    from digicomp.responses import Responses

METHODS = ("EAP", "MAP", "ML", "WLE", "PV")


@dataclass
class Grid:
    """Quadrature points with the log prior weight of each."""

    points: NDArray[np.float64]
    log_prior: NDArray[np.float64]

    @classmethod
    def build(cls, prior: Prior | None, n_points: int, theta_range: tuple[float, float] | None) -> Grid:
        """The grid for ``prior`` (N(0,1) by default) with ``n_points`` on ``theta_range``."""
        prior = prior or NormalPrior()
        if isinstance(prior, NormalPrior):
            pts, logw = prior.grid(n_points, theta_range or DEFAULT_RANGE)
        elif isinstance(prior, GridPrior):
            pts, logw = prior.grid()
        else:
            raise DigicompError(f"prior must be a NormalPrior or GridPrior, got {type(prior).__name__}")
        return cls(pts, logw)


def log_likelihood_grid(params: ItemParameters, responses: Responses, points: NDArray[np.float64]) -> NDArray:
    """(n_persons, Q) log-likelihood of each person's observed responses at each grid point."""
    return responses.design(params.n_categories).log_likelihood(params.log_prob(points))


CHUNK = 4096  # persons per block: keeps the (persons × Q) posterior block in cache


def eap(params: ItemParameters, responses: Responses, grid: Grid) -> tuple[NDArray, NDArray]:
    """Expected a posteriori θ and posterior SD (Bock & Mislevy 1982).

    Persons are processed in cache-sized blocks spread over the machine's cores
    (:func:`digicomp.parallel.thread_map`); results do not depend on the split.
    """
    design = responses.design(params.n_categories)
    diff, base = design.split_log_prob(params.log_prob(grid.points))
    mean = np.empty(responses.n_persons)
    sd = np.empty(responses.n_persons)

    def block(start: int) -> None:
        rows = slice(start, start + CHUNK)
        log_post = design.log_likelihood_rows(diff, base, rows)
        log_post += grid.log_prior
        weights, _ = normalise_log_posterior(log_post)
        mean[rows], sd[rows] = posterior_moments(weights, grid.points)

    thread_map(block, range(0, responses.n_persons, CHUNK))
    return mean, sd


def plausible_values(
    params: ItemParameters, responses: Responses, grid: Grid, n_draws: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Draws from each person's posterior, (n_persons, n_draws), by inverse CDF on the grid with
    linear interpolation inside each cell (Mislevy 1991)."""
    log_post = log_likelihood_grid(params, responses, grid.points)
    log_post += grid.log_prior
    weights, _ = normalise_log_posterior(log_post)
    cdf = np.cumsum(weights, axis=1)
    cdf[:, -1] = 1.0
    u = rng.random((responses.n_persons, n_draws))
    idx = np.minimum((cdf[:, None, :] < u[:, :, None]).sum(axis=2), grid.points.size - 1)
    prev = np.where(idx > 0, np.take_along_axis(cdf, np.maximum(idx - 1, 0), axis=1), 0.0)
    here = np.take_along_axis(cdf, idx, axis=1)
    frac = np.where(here > prev, (u - prev) / np.maximum(here - prev, 1e-300), 0.5)
    step = grid.points[1] - grid.points[0] if grid.points.size > 1 else 0.0
    return grid.points[idx] + (frac - 0.5) * step


WLE_SE = ("information", "penalized")


def point_estimate(
    method: str,
    params: ItemParameters,
    responses: Responses,
    grid: Grid,
    prior: Prior | None,
    wle_se: str = "information",
) -> tuple[NDArray, NDArray, NDArray]:
    """ML, MAP or WLE θ with SE and the extreme flag (estimate at the range bound).

    WLE SEs: ``wle_se="information"`` is 1/sqrt(I(θ̂)), the asymptotic SE of the ML and WLE estimators (Warm
    1989); ``"penalized"`` is 1/sqrt(-d²/dθ² [log L(θ) + ½ log I(θ)]) at θ̂, the curvature of the objective the
    WLE maximises, which is what R mirt's ``fscores(method = "WLE")`` reports.
    """
    if wle_se not in WLE_SE:
        raise DigicompError(f"wle_se = {wle_se!r}; expected one of {', '.join(WLE_SE)}")
    ll = log_likelihood_grid(params, responses, grid.points)
    if method == "MAP":
        prior = prior or NormalPrior()
        if not isinstance(prior, NormalPrior):
            raise DigicompError("MAP scoring needs a normal prior; use EAP for a prior on a grid")
        ll += prior.log_density(grid.points)
    elif method == "WLE":
        info = params.information(grid.points)  # (Q, J)
        test_info = responses.design(params.n_categories).observed_sum(info.T)
        ll += 0.5 * np.log(np.maximum(test_info, 1e-300))
    theta, extreme = point.solve(method, params, responses, ll, grid.points, prior if method == "MAP" else None)
    info = point.answered_information(params, responses, theta)
    if method == "MAP":
        info = info + 1.0 / prior.sd**2
    elif method == "WLE" and wle_se == "penalized":
        everyone = np.ones(responses.n_persons, dtype=bool)
        h = 1e-5
        up, _ = point._gradient("WLE", params, responses, theta + h, everyone, None)
        down, _ = point._gradient("WLE", params, responses, theta - h, everyone, None)
        info = -(up - down) / (2 * h)  # minus the curvature of log L + ½ log I at θ̂
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.where(info > 0, 1.0 / np.sqrt(info), np.inf)
    empty = responses.counts_per_person() == 0
    if np.any(empty) and method in ("ML", "WLE"):
        theta[empty] = np.nan
        se[empty] = np.nan
        extreme[empty] = False
        warnings.warn(
            f"{int(empty.sum())} person(s) answered no item; their {method} estimate is undefined (NaN)",
            DataWarning,
            stacklevel=3,
        )
    if np.any(extreme):
        warnings.warn(
            f"{int(extreme.sum())} person(s) have no finite {method} maximum inside θ ∈ [{grid.points[0]:g}, "
            f"{grid.points[-1]:g}] (e.g. all answers correct or all wrong); their estimate is set to that bound "
            "and flagged in `extreme`",
            DataWarning,
            stacklevel=3,
        )
    return theta, se, extreme
