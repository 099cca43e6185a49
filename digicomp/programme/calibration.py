"""Calibration of the share intervals by simulation: units with known true levels, tested through the real CAT.

Units of 20–400 persons draw their true θ from different distributions (normal at several means and spreads,
uniform, bimodal, skewed); every person takes the design's adaptive test (the engine's lock-step core, exactly as
in :mod:`digicomp.simulation`); the report's estimator then gives each unit's share at or above each level. Half
the units are assessed whole (no headcount), half only partly (a random subset, with the headcount given), so both
the measurement and the sampling part of the interval are checked. The study reports how often the 95% intervals
cover the true share, next to the bias of counting hard classifications.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.levels import level_index
from digicomp.programme.errors import ProgrammeError
from digicomp.programme.estimate import estimate_shares

DISTRIBUTIONS = ("normal", "uniform", "bimodal", "skewed")


@dataclass
class CalibrationStudy:
    """Per unit-level pair: the true share, the estimate and interval, and the naive count (rows: unit × level≥1)."""

    unit: NDArray[np.intp]
    level: NDArray[np.intp]
    n_assessed: NDArray[np.int64]
    headcount: NDArray[np.int64]
    true_share: NDArray[np.float64]
    estimate: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    naive: NDArray[np.float64]
    distribution: list[str]
    area: list[str] | None = None
    """Per-area studies: the area of each pair (None: the overall score)."""

    @property
    def naive_covered(self) -> NDArray[np.bool_]:
        """Whether the count's own interval holds the true share: a Wilson 95% interval for sampling alone (the
        count takes every level as certain), with the finite-population correction (zero width when all were
        assessed), as a report that counts hard classifications would show."""
        z2 = 1.959964**2
        n = self.n_assessed.astype(float)
        fpc = 1.0 - n / np.maximum(self.headcount, n)
        n_eff = np.where(fpc > 0, n / np.where(fpc > 0, fpc, 1.0), np.inf)
        p = self.naive
        with np.errstate(divide="ignore", invalid="ignore"):
            centre = np.where(np.isfinite(n_eff), (p + z2 / (2 * n_eff)) / (1 + z2 / n_eff), p)
            half = np.where(
                np.isfinite(n_eff),
                np.sqrt(z2 * (p * (1 - p) / n_eff + z2 / (4 * n_eff**2))) / (1 + z2 / n_eff),
                0.0,
            )
        return (centre - half <= self.true_share + 1e-12) & (self.true_share <= centre + half + 1e-12)

    @property
    def covered(self) -> NDArray[np.bool_]:
        """Whether each interval holds the true share."""
        return (self.lower <= self.true_share + 1e-12) & (self.true_share <= self.upper + 1e-12)

    def summary(self) -> dict[str, Any]:
        """Coverage, mean bias and RMSE of the estimate and of the naive count (plain data)."""
        err, nerr = self.estimate - self.true_share, self.naive - self.true_share
        return {
            "pairs": int(self.unit.size),
            "units": int(np.unique(self.unit).size),
            "coverage": float(self.covered.mean()),
            "count_coverage": float(self.naive_covered.mean()),
            "estimate_bias": float(err.mean()),
            "estimate_rmse": float(np.sqrt((err**2).mean())),
            "estimate_mean_abs_error": float(np.abs(err).mean()),
            "naive_bias": float(nerr.mean()),
            "naive_rmse": float(np.sqrt((nerr**2).mean())),
            "naive_mean_abs_error": float(np.abs(nerr).mean()),
            "mean_interval_width": float((self.upper - self.lower).mean()),
        }

    def _group(self, sel: NDArray[np.bool_]) -> dict[str, Any]:
        """Pairs, coverage, bias and mean absolute error of the estimate and of the count over the pairs ``sel``."""
        e, nv = self.estimate[sel] - self.true_share[sel], self.naive[sel] - self.true_share[sel]
        return {
            "pairs": int(sel.sum()),
            "coverage": float(self.covered[sel].mean()),
            "estimate_bias": float(e.mean()),
            "naive_bias": float(nv.mean()),
            "estimate_mae": float(np.abs(e).mean()),
            "naive_mae": float(np.abs(nv).mean()),
        }

    def by_area(self) -> list[dict[str, Any]]:
        """The summary per area (per-area studies): coverage of the estimate's and of the count's interval, bias
        and mean absolute error of both."""
        if self.area is None:
            return []
        names = np.asarray(self.area)
        covered = self.naive_covered
        return [
            {"area": a, **self._group(names == a), "count_coverage": float(covered[names == a].mean())}
            for a in dict.fromkeys(self.area)
        ]

    def by_level(self) -> list[dict[str, Any]]:
        """The summary per level: coverage, bias and mean absolute error of both, side by side."""
        return [{"level": int(k), **self._group(self.level == k)} for k in np.unique(self.level)]


def _unit_plan(
    rng: np.random.Generator, n_units: int, sizes: tuple[int, int]
) -> tuple[list[str], NDArray[np.int64], NDArray[np.bool_]]:
    """Each simulated unit's θ distribution kind (in turn), size, and whether only part of it is assessed (every
    other unit)."""
    kinds = [DISTRIBUTIONS[u % len(DISTRIBUTIONS)] for u in range(n_units)]
    size = rng.integers(sizes[0], sizes[1] + 1, n_units)
    return kinds, size, np.arange(n_units) % 2 == 1


def _assessed(rng: np.random.Generator, n: int, partial: bool) -> NDArray[np.intp]:
    """Positions of the assessed persons of a unit of ``n``: all, or a random 30–90% (at least 5) when ``partial``."""
    if not partial:
        return np.arange(n)
    m = max(int(round(n * rng.uniform(0.3, 0.9))), 5)
    return np.sort(rng.choice(n, m, replace=False))


def draw_unit_thetas(rng: np.random.Generator, kind: str, n: int) -> NDArray[np.float64]:
    """True θ of ``n`` persons from a distribution of ``kind`` with a random location (and spread)."""
    mu = rng.uniform(-1.5, 1.5)
    if kind == "normal":
        return rng.normal(mu, rng.uniform(0.4, 1.2), n)
    if kind == "uniform":
        half = rng.uniform(0.8, 2.0)
        return rng.uniform(mu - half, mu + half, n)
    if kind == "bimodal":
        gap = rng.uniform(0.8, 1.6)
        side = rng.random(n) < rng.uniform(0.3, 0.7)
        return np.where(side, mu - gap, mu + gap) + rng.normal(0, 0.35, n)
    if kind == "skewed":
        sign = 1.0 if rng.random() < 0.5 else -1.0
        return mu + sign * (rng.lognormal(0.0, 0.6, n) - np.exp(0.18))
    raise ValueError(f"distribution {kind!r}: expected one of {', '.join(DISTRIBUTIONS)}")


def run_calibration(
    design: str | PathLike[str],
    *,
    n_units: int = 50,
    sizes: tuple[int, int] = (20, 400),
    seed: int = 2026,
    draws: int = 6,
) -> CalibrationStudy:
    """Simulate ``n_units`` units through ``design``'s CAT and check the intervals against the true shares."""
    from digicomp.cat.engine import AdaptiveTest
    from digicomp.simulation.runner import Truth, run_chunk

    engine = AdaptiveTest.from_yaml(design)
    cuts = np.asarray(engine.bank.cut_scores, float)
    prior = engine.design.scoring.prior
    rng = np.random.default_rng(seed)
    kinds, size, partial = _unit_plan(rng, n_units, sizes)
    thetas, assessed, units = [], [], []
    for u in range(n_units):
        t = draw_unit_thetas(rng, kinds[u], int(size[u]))
        thetas.append(t)
        pick = _assessed(rng, int(size[u]), bool(partial[u]))
        assessed.append(t[pick])
        units.append(np.full(pick.size, u, np.intp))
    theta = np.concatenate(assessed)
    unit = np.concatenate(units)
    out = run_chunk(engine, seed, np.arange(theta.size), theta, Truth(engine.core.tables.params), cuts)
    hard = level_index(out["theta"], cuts)
    ancestors = np.arange(n_units)[:, None]
    head = np.where(partial, size, -1)
    est = estimate_shares(
        out["theta"],
        out["se"],
        unit,
        ancestors,
        cuts,
        prior_mean=prior.mean,
        prior_sd=prior.sd,
        headcount=head,
        hard_level=hard,
        draws=draws,
        seed=seed,
    )
    k = cuts.size + 1
    true = np.array([[(level_index(t, cuts) >= j).mean() for j in range(k)] for t in thetas])
    uu, kk = np.meshgrid(np.arange(n_units), np.arange(1, k), indexing="ij")
    uu, kk = uu.ravel(), kk.ravel()
    return CalibrationStudy(
        uu,
        kk,
        est.n[uu],
        np.where(partial, size, est.n)[uu].astype(np.int64),
        true[uu, kk],
        est.estimate[uu, kk],
        est.lower[uu, kk],
        est.upper[uu, kk],
        est.naive[uu, kk],
        [kinds[u] for u in uu],
    )


AREA_SPREAD = 0.5
"""SD of a person's area-specific deviation from their general level in the per-area study (with the units' general
spreads of 0.4-1.2 the areas correlate about 0.4-0.85 within a unit and about 0.8 across units, as the bank assumes)."""


@dataclass
class AreaSimulation:
    """Simulated units and the per-area results of their persons (see :func:`simulate_area_units`)."""

    kinds: list[str]
    size: NDArray[np.int64]
    partial: NDArray[np.bool_]
    true_area: list[NDArray[np.float64]]
    """Per unit: every person's true value in each area (N_u, G), the assessed and the others."""
    unit: NDArray[np.intp]
    areas: list[str]
    truth: NDArray[np.float64]
    """Assessed persons' true value in each area (n, G)."""
    theta: NDArray[np.float64]
    """Assessed persons' per-area EAP (n, G)."""
    se: NDArray[np.float64]
    reached: NDArray[np.bool_]
    """Whether the person's test reached the area (n, G)."""
    cuts: NDArray[np.float64]
    prior_mean: float
    prior_sd: float
    log_likelihood: NDArray[np.float64] | None = None
    """Each area's own-items log-likelihood (n, G, Q) at ``nodes`` (None for an MCAT whose bank does not factor by
    area)."""
    nodes: NDArray[np.float64] | None = None


def simulate_area_units(
    design: str | PathLike[str],
    truth: str | PathLike[str],
    *,
    n_units: int = 50,
    sizes: tuple[int, int] = (20, 400),
    seed: int = 2026,
) -> AreaSimulation:
    """Units with known true per-area levels, tested through ``design`` answering by the multidimensional ``truth``.

    Units as in :func:`run_calibration` (normal, uniform, bimodal, skewed; half assessed in part with the headcount
    given); a person's true θ in area k is their general θ (from the unit's distribution) plus an area-specific
    N(0, ``AREA_SPREAD``²). ``truth`` is a bank with the areas as dimensions (``examples/banks/civil-service-areas
    .yaml``); ``design`` a unidimensional design (per-area results: each area's sub-score) or a multidimensional
    one (per-area results from the joint posterior). Items of the design's bank that the truth lacks are excluded.
    """
    from digicomp.bank import load_bank
    from digicomp.cat.design import load_design, resolve_bank_ref
    from digicomp.cat.engine import AdaptiveTest
    from digicomp.simulation.multidim import area_truth, simulate_areas

    truth_bank = load_bank(truth)
    spec = load_design(design)
    bank = load_bank(resolve_bank_ref(spec, Path(design).parent))
    _check_truth_matches(bank, truth_bank, truth)
    missing = [i for i in bank.ids if i not in set(truth_bank.ids)]
    if missing:
        d = spec.model_dump(exclude_unset=True)
        content = dict(d.get("content") or {})
        content["exclude"] = {"ids": sorted(set((content.get("exclude") or {}).get("ids", [])) | set(missing))}
        d["content"] = content
        d.pop("bank", None)
        engine = AdaptiveTest(bank, d)
    else:
        engine = AdaptiveTest(bank, spec)
    rng = np.random.default_rng(seed)
    kinds, size, partial = _unit_plan(rng, n_units, sizes)
    n_dims = len(truth_bank.dims.ids)
    true_area, assessed, units = [], [], []
    for u in range(n_units):
        general = draw_unit_thetas(rng, kinds[u], int(size[u]))
        t = general[:, None] + rng.normal(0.0, AREA_SPREAD, (int(size[u]), n_dims))
        true_area.append(area_truth(truth_bank, t)[1])
        pick = _assessed(rng, int(size[u]), bool(partial[u]))
        assessed.append(t[pick])
        units.append(np.full(pick.size, u, np.intp))
    res = simulate_areas(engine, truth_bank, np.concatenate(assessed), seed=seed)
    reached = np.isfinite(res.estimate) & np.isfinite(res.se) & (res.se > 0)
    if res.area_items is not None:
        reached &= res.area_items > 0
    prior = engine.design.scoring.prior
    return AreaSimulation(
        kinds,
        size.astype(np.int64),
        partial,
        true_area,
        np.concatenate(units),
        list(res.areas),
        res.truth,
        res.estimate,
        res.se,
        reached,
        np.asarray(res.cuts, float),
        float(getattr(prior, "mean", 0.0)),
        float(getattr(prior, "sd", 1.0)),
        res.log_likelihood,
        res.nodes,
    )


def _check_truth_matches(bank: Any, truth_bank: Any, truth: Any) -> None:
    """ProgrammeError when a truth bank whose items each load on their own area only (no general dimension) gives
    an item other response probabilities than the design bank does: then the sub-scores would be computed with
    parameters other than the ones the answers follow, a mismatch real use does not have (the bank that scores is
    the calibrated one). A truth derived from an older bank version (examples/make_area_bank.py) is the usual cause.
    """
    from digicomp.models.multidim import own_dimension_log_prob

    dims = truth_bank.dims
    it = truth_bank.mparams
    if dims is None or dims.general is not None or np.any((it.a != 0).sum(axis=1) != 1):
        return
    where = {i: k for k, i in enumerate(truth_bank.ids)}
    shared = [(j, where[i]) for j, i in enumerate(bank.ids) if i in where]
    if not shared:
        return
    grid = np.linspace(-3.0, 3.0, 7)
    design_lp = np.asarray(bank.params.log_prob(grid))  # (Q, J, K)
    truth_lp = np.asarray(own_dimension_log_prob(grid, it.a, it.intercepts, it.c, it.u, it.models))  # (Q, J, C)
    j, t = np.asarray(shared).T
    k = min(truth_lp.shape[2], design_lp.shape[2])
    width = np.asarray(it.n_categories)[t]
    used = np.arange(k) < width[:, None]  # (shared, k): each item's own categories
    close = np.isclose(truth_lp[:, t, :k], design_lp[:, j, :k], atol=1e-6) | ~used
    wider = width > k  # more categories than the design's model has: not the same item
    stale = [bank.ids[i] for i in j[~close.all(axis=(0, 2)) | wider]]
    if stale:
        raise ProgrammeError(
            f"truth {truth}: {len(stale)} of the {len(shared)} items it shares with bank {bank.id!r} answer by other "
            f"parameters than the bank scores them with (e.g. {', '.join(stale[:3])}); the truth is derived from "
            "another version of the bank: regenerate it (python examples/make_area_bank.py)"
        )


def area_study(sim: AreaSimulation, seed: int = 0, estimator: Any = None, likelihoods: bool = True) -> CalibrationStudy:
    """The per-area calibration study of ``sim``: each unit's share at or above each level in each area by
    ``estimator`` (default :func:`digicomp.programme.areas.estimate_area_shares`, the report's per-area method)
    against the true share over the whole unit. Rows: area × unit × level. With ``likelihoods`` (and ``sim``
    holding them) the estimator gets each person's own-items area log-likelihood too (``log_likelihood``,
    ``nodes``); without, only the area θ and SD (what the store holds today)."""
    from digicomp.programme.areas import estimate_area_shares

    estimator = estimator or estimate_area_shares
    n_units = len(sim.kinds)
    ancestors = np.arange(n_units)[:, None]
    head = np.where(sim.partial, sim.size, -1)
    cuts = sim.cuts
    k = cuts.size + 1
    parts: dict[str, list] = {f: [] for f in ("unit", "level", "n", "head", "true", "est", "lo", "hi", "naive")}
    areas, dists = [], []
    for g, code in enumerate(sim.areas):
        ok = sim.reached[:, g]
        extra = {}
        if likelihoods and sim.log_likelihood is not None:
            own = sim.log_likelihood[ok, g]
            rest = sim.log_likelihood[ok].sum(axis=1) - own  # every other area's items: the rest of the test
            extra = {"log_likelihood": own, "nodes": sim.nodes, "rest_log_likelihood": rest}
        est = estimator(
            sim.theta[ok, g],
            sim.se[ok, g],
            sim.unit[ok],
            ancestors,
            cuts,
            prior_mean=sim.prior_mean,
            prior_sd=sim.prior_sd,
            headcount=head,
            seed=seed,
            **extra,
        )
        true = np.array([[(level_index(t[:, g], cuts) >= j).mean() for j in range(k)] for t in sim.true_area])
        uu, kk = np.meshgrid(np.arange(n_units), np.arange(1, k), indexing="ij")
        uu, kk = uu.ravel(), kk.ravel()
        keep = est.n[uu] > 0
        uu, kk = uu[keep], kk[keep]
        for f, v in (
            ("unit", uu),
            ("level", kk),
            ("n", est.n[uu]),
            ("head", np.where(sim.partial, sim.size, est.n)[uu]),
            ("true", true[uu, kk]),
            ("est", est.estimate[uu, kk]),
            ("lo", est.lower[uu, kk]),
            ("hi", est.upper[uu, kk]),
            ("naive", est.naive[uu, kk]),
        ):
            parts[f].append(v)
        areas += [code] * uu.size
        dists += [sim.kinds[u] for u in uu]
    cat = {f: np.concatenate(v) for f, v in parts.items()}
    return CalibrationStudy(
        cat["unit"].astype(np.intp),
        cat["level"].astype(np.intp),
        cat["n"].astype(np.int64),
        cat["head"].astype(np.int64),
        cat["true"],
        cat["est"],
        cat["lo"],
        cat["hi"],
        cat["naive"],
        dists,
        areas,
    )


def run_area_calibration(
    design: str | PathLike[str],
    truth: str | PathLike[str],
    *,
    n_units: int = 50,
    sizes: tuple[int, int] = (20, 400),
    seed: int = 2026,
) -> CalibrationStudy:
    """The per-area calibration study: :func:`simulate_area_units` then :func:`area_study`."""
    return area_study(simulate_area_units(design, truth, n_units=n_units, sizes=sizes, seed=seed), seed=seed)
