"""Each unit's distribution of true θ on a grid, by EM with smoothing (EMS), from its persons' posteriors.

A person's stored result is a posterior under the scoring prior N(μ0, τ²), kept as its mean and SD; dividing the
prior out of N(eap, se²) gives the person's likelihood on the grid (a normal approximation). A unit's latent
distribution g_u is the smoothed nonparametric maximum likelihood estimate (Laird 1978; Mislevy 1984 for IRT;
smoothing step of Silverman, Jones, Wilson & Nychka 1990): alternate an EM step over the unit's persons with a
three-point smoothing of g_u. Persons' level probabilities under their unit's g_u are then what the shares use:
they are calibrated for that unit, where posteriors under the common prior pull every unit toward the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.levels import level_cell_fractions

POINTS = 41
SMOOTH = 0.25
DTYPE = np.float32
"""Single precision: the posterior weights need no more, and the E-step over (points, persons) runs twice as fast."""


@dataclass
class GridModel:
    """Latent distributions ``g`` (units, points) on ``points``; persons' likelihoods ``lik`` (points, n) sorted by
    unit (``order``), the units present in sorted order (``present``) and where each one's persons start."""

    points: NDArray[np.float64]
    g: NDArray[np.float64]
    lik: NDArray[np.float32]
    order: NDArray[np.intp]
    starts: NDArray[np.intp]
    present: NDArray[np.intp]

    @classmethod
    def fit(
        cls,
        eap: NDArray[np.float64],
        se: NDArray[np.float64],
        unit: NDArray[np.intp],
        n_units: int,
        *,
        prior_mean: float = 0.0,
        prior_sd: float = 1.0,
        iterations: int = 60,
        tol: float = 1e-4,
    ) -> GridModel:
        """EMS per unit, started from the pooled normal (units without persons keep the pooled start)."""
        points = prior_mean + prior_sd * np.linspace(-4.0, 4.0, POINTS)
        order = np.argsort(unit, kind="stable")
        lik = likelihoods_on(eap[order], se[order], points, prior_mean, prior_sd)
        sorted_unit = unit[order]
        starts = np.flatnonzero(np.r_[True, sorted_unit[1:] != sorted_unit[:-1]]) if unit.size else np.arange(0)
        present = sorted_unit[starts]
        pooled_mean, pooled_sd = float(eap.mean()), float(np.sqrt(eap.var() + np.mean(se**2)))
        start = np.exp(-0.5 * ((points - pooled_mean) / pooled_sd) ** 2)
        g = np.tile(start / start.sum(), (n_units, 1))
        model = cls(points, g, lik, order, starts, present)
        model.g[present] = model._em(model.g[present], None, iterations, tol)
        return model

    def _rows(self) -> NDArray[np.intp]:
        return np.repeat(np.arange(self.present.size), np.diff(np.r_[self.starts, self.order.size]))

    def _em(self, g: NDArray, weight: NDArray | None, iterations: int, tol: float) -> NDArray:
        """EMS iterations on the present units' rows ``g`` with per-person (sorted) weights (None: all 1)."""
        rows = self._rows()
        sizes = np.add.reduceat(weight, self.starts) if weight is not None else np.diff(np.r_[self.starts, rows.size])
        sizes = np.maximum(sizes, 1e-12).astype(float)
        for _ in range(iterations):
            post = self.lik * g.T.astype(DTYPE)[:, rows]
            post /= post.sum(axis=0)
            if weight is not None:
                post *= weight.astype(DTYPE)
            new = np.add.reduceat(post, self.starts, axis=1).T.astype(float) / sizes[:, None]
            pad = np.pad(new, ((0, 0), (1, 1)), mode="edge")
            new = SMOOTH * pad[:, :-2] + (1 - 2 * SMOOTH) * pad[:, 1:-1] + SMOOTH * pad[:, 2:]
            new /= new.sum(axis=1, keepdims=True)
            done = np.abs(new - g).max() < tol
            g = new
            if done:
                break
        return g

    def redraw(self, rng: np.random.Generator, iterations: int = 3) -> NDArray[np.float64]:
        """g refitted on a Poisson bootstrap of each unit's persons, warm-started at the fit (units, points).

        EM from the fitted g converges at the rate of the missing information (small for precise tests), so a
        few steps go most of the way to the bootstrap fit; the spread of such redraws is the uncertainty of g.
        """
        weight = rng.poisson(1.0, self.order.size).astype(float)
        out = self.g.copy()
        out[self.present] = self._em(self.g[self.present], weight, iterations, 0.0)
        return out

    def at_or_above(self, cuts: NDArray[np.float64], g: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """(n, K) P(level ≥ k) of each fitted person (input order) under their unit's g."""
        g = self.g if g is None else g
        post = self.lik * g[self.present].T.astype(DTYPE)[:, self._rows()]
        post /= post.sum(axis=0)
        out = np.empty((self.order.size, cuts.size + 1))
        out[self.order] = _at_or_above(post, self.points, cuts)
        return out

    def at_or_above_for(
        self, eap: NDArray, se: NDArray, unit: NDArray[np.intp], cuts: NDArray, prior_mean: float, prior_sd: float
    ) -> NDArray[np.float64]:
        """(n, K) P(level ≥ k) of other persons (e.g. earlier results) under the fitted g of their units."""
        lik = likelihoods_on(eap, se, self.points, prior_mean, prior_sd)
        post = lik * self.g.T.astype(DTYPE)[:, unit]
        post /= post.sum(axis=0)
        return _at_or_above(post, self.points, cuts)


def _at_or_above(post: NDArray, points: NDArray, cuts: NDArray) -> NDArray[np.float64]:
    level = (level_cell_fractions(points, cuts).T.astype(DTYPE) @ post).T.astype(float)
    return np.clip(np.cumsum(level[:, ::-1], axis=1)[:, ::-1], 0.0, 1.0)


def likelihoods_on(
    eap: NDArray[np.float64], se: NDArray[np.float64], points: NDArray[np.float64], prior_mean: float, prior_sd: float
) -> NDArray[np.float32]:
    """(points, n) N(θ; eap, se²) / N(θ; μ0, τ²), each person's column scaled to a maximum of 1: the likelihood
    as the stored posterior's normal approximation with the scoring prior divided out."""
    se = np.maximum(np.asarray(se, float), 1e-6)
    z = (points[:, None] - np.asarray(eap, float)[None, :]) / se[None, :]
    out = -0.5 * z**2 + (0.5 * ((points - prior_mean) / prior_sd) ** 2)[:, None]
    out -= out.max(axis=0)
    return np.exp(out).astype(DTYPE)
