"""Shares of a population at or above each level, from each person's level probabilities, with honest intervals.

The method (docs/programme.md) is the plausible-value approach of large-scale assessments (Mislevy 1991; Mislevy,
Beaton, Kaplan & Sheehan 1992; von Davier, Gonzalez & Mislevy 2009), computed in closed form instead of by drawing:

1. **Population model per unit.** A person's stored result is a posterior under the test's common prior
   (normally N(0, 1)), which pulls everyone toward the reference population; averaging those posteriors would bias
   a strong or weak unit's share toward the reference (and counting hard classifications is biased too). Each unit
   gets its own distribution of θ - by smoothed EM on a grid (:mod:`digicomp.programme.population`), or a normal by
   moments (``method="normal"``) - and each person's level probabilities are recomputed under their unit's
   distribution, as plausible values are drawn from a conditioning model that includes the group.
2. **Measurement (imputation) variance.** Given the data and π_u, the persons' "at or above level k" indicators
   are independent Bernoulli(q_ik); the complete-data share's variance over plausible values is Σ w²q(1−q)/W²,
   plus the variance from the unit models' own uncertainty: (1 + 1/m) times the variance over the m = ``draws``
   bootstrap redraws (Rubin 1987: the finite number of redraws adds its own share).
3. **Sampling variance** with the finite-population correction, where a unit's headcount N_h is given: persons
   are weighted N_h/n_h and each such stratum adds (N_h/W)² (1 − n_h/N_h) s_h²/n_h (Rubin's rules: total =
   sampling + imputation variance). Without a headcount the population is the persons assessed.
4. **Interval**: the Beta distribution with the estimate's mean and total variance, whose 2.5 and 97.5 percentiles
   stay inside [0, 1], widened by half a person each side (a continuity correction: the true share is a count
   over the population); P(true share ≥ s) is the Beta's upper tail at s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.programme.errors import ProgrammeError
from digicomp.programme.population import GridModel


@dataclass
class ShareEstimates:
    """Shares at or above each level for every unit (its whole subtree), shapes (units, levels).

    Column k is "at or above level k" (column 0 is everybody: 1). ``naive`` is the share of hard classifications
    at or above k (counted as if every level were certain) for comparison.
    """

    n: NDArray[np.int64]
    """Persons assessed in each unit's subtree."""
    population: NDArray[np.float64]
    """Total weight W: the headcount represented (assessed persons of units without a headcount count as 1)."""
    estimate: NDArray[np.float64]
    se: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    naive: NDArray[np.float64]
    measurement_var: NDArray[np.float64]
    sampling_var: NDArray[np.float64]
    a: NDArray[np.float64]
    b: NDArray[np.float64]
    model: GridModel | None = None
    """The units' fitted θ distributions (grid method), reusable for earlier months' results."""

    def prob_at_least(self, share: float | NDArray) -> NDArray[np.float64]:
        """P(true share ≥ ``share``) per unit and level under the Beta approximation (1 or 0 when certain)."""
        from scipy.special import betainc

        share = np.broadcast_to(np.asarray(share, float), self.estimate.shape)
        ok = np.isfinite(self.a) & (self.a > 0) & (self.b > 0)
        out = np.where(self.estimate >= share, 1.0, 0.0)
        if ok.any():
            out[ok] = 1.0 - betainc(self.a[ok], self.b[ok], np.clip(share[ok], 0.0, 1.0))
        return np.where(self.n > 0, out.T, np.nan).T


def likelihoods(
    eap: NDArray[np.float64], se: NDArray[np.float64], prior_mean: float = 0.0, prior_sd: float = 1.0
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each person's likelihood as a normal (mean m, variance v): the stored posterior N(eap, se²) without its prior.

    Precisions add: 1/v = 1/se² − 1/τ², m = v (eap/se² − μ0/τ²). A posterior as wide as the prior (no information)
    gets a variance of 1e6 (flat).
    """
    tau2 = prior_sd**2
    prec = 1.0 / np.maximum(se, 1e-6) ** 2 - 1.0 / tau2
    prec = np.maximum(prec, 1e-6)
    v = 1.0 / prec
    return v * (eap / np.maximum(se, 1e-6) ** 2 - prior_mean / tau2), v


@dataclass
class UnitModel:
    """Each unit's normal population model N(mu, sigma²) of true θ, fitted by moments to its persons' likelihoods."""

    mu: NDArray[np.float64]
    sigma2: NDArray[np.float64]
    spread: NDArray[np.float64]
    """Variance of the likelihood means in the unit (σ² + mean v): the scale of μ's sampling error."""
    vbar: NDArray[np.float64]
    count: NDArray[np.float64]

    @classmethod
    def fit(cls, m: NDArray, v: NDArray, unit: NDArray[np.intp], n_units: int, min_sd: float = 0.1) -> UnitModel:
        """Moments per unit: μ = mean m, σ² = var m − mean v (at least ``min_sd``²); empty units get the pooled fit."""
        count = np.bincount(unit, minlength=n_units).astype(float)
        c = np.maximum(count, 1)
        mu = np.bincount(unit, m, n_units) / c
        spread = np.bincount(unit, m**2, n_units) / c - mu**2
        vbar = np.bincount(unit, v, n_units) / c
        pooled_mu = m.mean() if m.size else 0.0
        pooled_spread = m.var() if m.size else 1.0
        pooled_vbar = v.mean() if v.size else 0.0
        # a unit of one or two persons: spread shrunk toward the pooled one by two pseudo-persons
        spread = (spread * count + 2 * pooled_spread) / (count + 2)
        mu = np.where(count > 0, mu, pooled_mu)
        vbar = np.where(count > 0, vbar, pooled_vbar)
        sigma2 = np.maximum(spread - vbar, min_sd**2)
        return cls(mu, sigma2, spread, vbar, count)

    def draw(self, rng: np.random.Generator) -> tuple[NDArray, NDArray]:
        """(μ, σ²) drawn from their approximate sampling distribution (normal mean, scaled χ² spread)."""
        n = np.maximum(self.count, 2)
        mu = self.mu + rng.standard_normal(self.mu.shape) * np.sqrt(self.spread / n)
        spread = self.spread * rng.chisquare(n - 1) / (n - 1)
        return mu, np.maximum(spread - self.vbar, 0.01)


def level_posteriors(
    m: NDArray, v: NDArray, unit: NDArray[np.intp], mu: NDArray, sigma2: NDArray, cuts: NDArray
) -> NDArray[np.float64]:
    """(n, K) P(θ at or above each level) under each person's unit model (column 0 is 1)."""
    from scipy.special import ndtr

    s2 = sigma2[unit]
    var = 1.0 / (1.0 / v + 1.0 / s2)
    mean = var * (m / v + mu[unit] / s2)
    out = np.ones((m.size, cuts.size + 1))
    out[:, 1:] = ndtr((mean[:, None] - cuts[None, :]) / np.sqrt(var)[:, None])
    return out


def _roll_up(leaf: NDArray[np.float64], ancestors: NDArray[np.intp]) -> NDArray[np.float64]:
    """Per-unit sums over whole subtrees from per-unit own sums (leaf rows), via the ancestor table (U, D)."""
    out = np.zeros_like(leaf)
    for d in range(ancestors.shape[1]):
        a = ancestors[:, d]
        ok = a >= 0
        np.add.at(out, a[ok], leaf[ok])
    return out


def estimate_shares(
    eap: NDArray[np.float64],
    se: NDArray[np.float64],
    unit: NDArray[np.intp],
    ancestors: NDArray[np.intp],
    cuts: NDArray[np.float64],
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    headcount: NDArray[np.int64] | None = None,
    hard_level: NDArray[np.intp] | None = None,
    draws: int = 6,
    seed: int = 0,
    level: float = 0.95,
    method: str = "grid",
    model: GridModel | None = None,
    q: NDArray[np.float64] | None = None,
    iterations: int = 40,
    tol: float = 5e-4,
    redraw_iterations: int = 2,
    log_likelihood: NDArray[np.float64] | None = None,
    nodes: NDArray[np.float64] | None = None,
    smooth_log: bool = True,
) -> ShareEstimates:
    """Shares at or above each level for every unit's subtree (see the module docstring for the method).

    ``eap``, ``se`` (n,): each assessed person's posterior mean and SD under the scoring prior N(prior_mean,
    prior_sd²); ``unit`` (n,): their own unit's position; ``ancestors`` (U, D) from :meth:`UnitTree.ancestors`;
    ``headcount`` (U,): each unit's own headcount or -1; ``hard_level`` (n,): the reported level index for the
    naive count (default: the level of the EAP). ``method``: ``grid`` (each unit's θ distribution by EMS,
    :mod:`digicomp.programme.population`) or ``normal`` (a normal per unit, by moments: faster, less robust);
    ``model``: a fitted :class:`GridModel` to use as it is (e.g. the latest results' for earlier months);
    ``q`` (n, K): the persons' P(level ≥ k) already computed under such a model (no model is fitted or redrawn);
    (1 + draws, n, K) or a list of such (n, K): those under the fitted model, then under each redraw of it (the
    between-draw variance counts).
    ``iterations``/``tol`` bound the grid model's EM and ``redraw_iterations`` each bootstrap redraw's (the defaults
    suit a precise overall score; imprecise area scores need them run to convergence, see
    :data:`digicomp.programme.areas.AREA_EM`). ``log_likelihood`` (n, Q) at θ ``nodes`` (Q,): each person's own
    likelihood, used by the grid model instead of the normal recovered from ``eap``/``se`` (which then serve only
    the model's start and the naive count). ``smooth_log``: the grid model smooths its log-density (the plain
    smoothing widens each unit's distribution: shares at the ends biased, coverage 0.940 against 0.953 over ten
    seeds; docs/programme.md, Calibration).
    """
    from scipy.special import betaincinv

    cuts = np.asarray(cuts, float)
    n_units, k = ancestors.shape[0], cuts.size + 1
    counts = np.bincount(unit, minlength=n_units).astype(float)
    head = np.full(n_units, -1.0) if headcount is None else np.asarray(headcount, float)
    known = (head >= counts) & (counts > 0)
    unit_w = np.where(known, head / np.maximum(counts, 1), 1.0)
    w = unit_w[unit]

    rng = np.random.default_rng(seed)
    eap, se = np.asarray(eap, float), np.asarray(se, float)
    fitted = None
    if not unit.size:
        method = "normal"
    if method == "grid" and model is None and q is None:
        fitted = GridModel.fit(
            eap,
            se,
            unit,
            n_units,
            cuts,
            prior_mean=prior_mean,
            prior_sd=prior_sd,
            iterations=iterations,
            tol=tol,
            smooth_log=smooth_log,
            **({} if log_likelihood is None else {"log_likelihood": log_likelihood, "nodes": nodes}),
        )
    elif log_likelihood is not None and unit.size:
        raise ProgrammeError("log_likelihood needs method='grid' and no fitted model or q")
    means, bern = [], []
    if isinstance(q, (list, tuple)):  # the fit's and each redraw's, as they are (stacking them is a copy)
        draws_of = iter([np.asarray(d, float) for d in q])
    elif q is not None:
        q_arr = np.asarray(q, float)
        draws_of = iter(list(q_arr) if q_arr.ndim == 3 else [q_arr])
    else:
        args = (eap, se, unit, n_units, cuts, prior_mean, prior_sd, method, draws, rng, model, fitted)
        draws_of = _posterior_draws(*args, redraw_iterations=redraw_iterations)
    by_unit, by_unit_sq = _unit_matrix(unit, n_units, w), _unit_matrix(unit, n_units, w**2)
    for q in draws_of:
        means.append(by_unit @ q)
        bern.append(by_unit_sq @ (q * (1 - q)))
    leaf_mean = means[0]
    big_w = _roll_up(np.bincount(unit, w, n_units)[:, None], ancestors)[:, 0]
    safe_w = np.where(big_w > 0, big_w, 1.0)
    est = np.clip(_roll_up(leaf_mean, ancestors) / safe_w[:, None], 0.0, 1.0)
    est[:, 0] = 1.0
    if len(means) > 2:
        sub = np.stack([_roll_up(s, ancestors) for s in means[1:]]) / safe_w[None, :, None]
        between = (1 + 1 / sub.shape[0]) * sub.var(axis=0, ddof=1)  # Rubin (1987): (1 + 1/m) B
    else:
        between = np.zeros_like(est)
    within = _roll_up(np.mean(bern, axis=0), ancestors) / safe_w[:, None] ** 2
    measurement = (within + between) * _few_draws_widening(within, between, len(means) - 1)

    # sampling: per own-unit stratum with a headcount, (N_h/W)^2 (1 - f_h) s_h^2 / n_h, summed over the subtree
    own = leaf_mean / np.maximum(head * known, 1)[:, None]
    n_h = np.maximum(counts, 2)[:, None]
    smooth = (own * counts[:, None] + 0.5) / (counts[:, None] + 1.0)
    s2 = n_h / (n_h - 1) * smooth * (1 - smooth)
    fpc = np.where(known, 1.0 - counts / np.maximum(head, 1), 0.0)[:, None]
    leaf_samp = (head * known)[:, None] ** 2 * fpc * s2 / n_h
    sampling = _roll_up(leaf_samp, ancestors) / safe_w[:, None] ** 2
    total = measurement + sampling
    total[:, 0] = 0.0

    n_sub = _roll_up(counts[:, None], ancestors)[:, 0].astype(np.int64)
    a, b = _beta(est, total)
    alpha = (1 - level) / 2
    lower, upper = est.copy(), est.copy()
    ok = np.isfinite(a)
    lower[ok] = betaincinv(a[ok], b[ok], alpha)
    upper[ok] = betaincinv(a[ok], b[ok], 1 - alpha)
    # continuity correction: the true share is a count of persons over the population W, so the continuous Beta's
    # quantiles are widened by half a person each side (else a unit whose persons are all at the level, share
    # exactly 1, is missed by an interval ending at 0.9999)
    half = (0.5 / np.maximum(big_w, 1.0))[:, None]
    # a J-shaped Beta (a handful assessed of a large headcount) can put both percentiles on one side of its mean
    lower = np.clip(np.minimum(lower, est) - half, 0.0, 1.0)
    upper = np.clip(np.maximum(upper, est) + half, 0.0, 1.0)
    lower[:, 0] = upper[:, 0] = 1.0
    hard = np.searchsorted(cuts, eap, side="right") if hard_level is None else np.asarray(hard_level)
    hard_q = (hard[:, None] >= np.arange(k)[None, :]).astype(float)
    naive = _roll_up(by_unit @ hard_q, ancestors) / safe_w[:, None]
    empty = n_sub == 0
    for arr in (est, lower, upper, naive):
        arr[empty] = np.nan
    sd = np.sqrt(total)
    return ShareEstimates(n_sub, big_w, est, sd, lower, upper, naive, measurement, sampling, a, b, fitted or model)


def _posterior_draws(
    eap, se, unit, n_units, cuts, prior_mean, prior_sd, method, draws, rng, model, fitted, redraw_iterations=2
):
    """The persons' P(level ≥ k) under the fitted unit models, then under ``draws`` redraws of those models."""
    if method == "grid":
        if model is not None:
            yield model.at_or_above_for(eap, se, unit)
            return
        yield from fitted.at_or_above_many([fitted.g, *fitted.redraws(rng, draws, redraw_iterations)])
        return
    if method != "normal":
        raise ValueError(f"method {method!r}: expected 'grid' or 'normal'")
    m, v = likelihoods(eap, se, prior_mean, prior_sd)
    fitted_n = UnitModel.fit(m, v, unit, n_units)
    for i in range(draws + 1):
        mu, s2 = (fitted_n.mu, fitted_n.sigma2) if i == 0 else fitted_n.draw(rng)
        yield level_posteriors(m, v, unit, mu, s2, cuts)


def _unit_matrix(unit: NDArray[np.intp], n_units: int, weight: NDArray[np.float64]) -> Any:
    """(units, persons) sparse matrix of the persons' weights in their unit's row: ``M @ x`` sums the weighted rows
    of ``x`` (persons, K) per unit in one pass (built once per estimate, used for every draw)."""
    from scipy.sparse import csr_matrix

    return csr_matrix((weight, (unit, np.arange(unit.size))), shape=(n_units, unit.size))


def _few_draws_widening(within: NDArray[np.float64], between: NDArray[np.float64], m: int) -> NDArray[np.float64]:
    """(t_ν / z)² at 97.5%: Rubin's (1987) reference for an estimate combined over ``m`` draws is Student's t with
    ν = (m − 1)(1 + W / ((1 + 1/m) B))² degrees of freedom (``between`` already holds (1 + 1/m) B), wider than the
    normal when the between-draw part, itself estimated from few draws, dominates; the imputation variance is scaled
    by this factor before the interval's Beta is fitted. 1 where there is no between-draw variance."""
    if m < 2:
        return np.ones_like(within)
    from scipy.special import ndtri, stdtrit

    has = between > 0
    nu = (m - 1) * (1 + within / np.where(has, between, 1.0)) ** 2
    return np.where(has, (stdtrit(np.where(has, nu, 1.0), 0.975) / ndtri(0.975)) ** 2, 1.0)


def _beta(mean: NDArray[np.float64], var: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """Beta(a, b) with the given mean and variance (NaN where the variance is 0 or the mean is 0 or 1)."""
    m = np.clip(mean, 0.0, 1.0)
    room = m * (1 - m)
    ok = (var > 1e-14) & (room > 1e-12) & np.isfinite(m)
    v = np.minimum(var, 0.999 * room)
    nu = np.where(ok, room / np.where(ok, v, 1.0) - 1.0, np.nan)
    return m * nu, (1 - m) * nu
