"""The programme's unit model as it was before the speed work of issue 15 (the posterior formed as a (pieces,
persons) array in each EM iteration), kept verbatim as the reference that the fast
:mod:`digicomp.programme.population` is tested against (tests/programme/test_fast_path.py). Not used by the library.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

POINTS = 41
SMOOTH = 0.25
DTYPE = np.float32
"""Single precision: the posterior weights need no more, and the E-step over (points, persons) runs twice as fast."""


@dataclass
class GridModel:
    """Latent distributions ``g`` (units, cells) on a histogram of ``edges``; for each person the likelihood's mass
    in every piece of the θ axis (cells split at the cuts), ``mass`` (pieces, n) sorted by unit (``order``)."""

    edges: NDArray[np.float64]
    cuts: NDArray[np.float64]
    g: NDArray[np.float64]
    mass: NDArray[np.float32]
    order: NDArray[np.intp]
    starts: NDArray[np.intp]
    present: NDArray[np.intp]
    prior: tuple[float, float]

    @classmethod
    def fit(
        cls,
        eap: NDArray[np.float64],
        se: NDArray[np.float64],
        unit: NDArray[np.intp],
        n_units: int,
        cuts: NDArray[np.float64],
        *,
        prior_mean: float = 0.0,
        prior_sd: float = 1.0,
        iterations: int = 40,
        tol: float = 5e-4,
    ) -> GridModel:
        """EMS per unit, started from the pooled normal (units without persons keep the pooled start)."""
        centres = prior_mean + prior_sd * np.linspace(-4.0, 4.0, POINTS)
        half = (centres[1] - centres[0]) / 2
        edges = np.r_[centres - half, centres[-1] + half]
        order = np.argsort(unit, kind="stable")
        cuts = np.asarray(cuts, float)
        mass = piece_masses(eap[order], se[order], edges, cuts, prior_mean, prior_sd)
        sorted_unit = unit[order]
        starts = np.flatnonzero(np.r_[True, sorted_unit[1:] != sorted_unit[:-1]]) if unit.size else np.arange(0)
        present = sorted_unit[starts]
        pooled_mean, pooled_sd = float(eap.mean()), float(np.sqrt(eap.var() + np.mean(se**2)))
        start = np.exp(-0.5 * ((centres - pooled_mean) / pooled_sd) ** 2)
        g = np.tile(start / start.sum(), (n_units, 1))
        model = cls(edges, cuts, g, mass, order, starts, present, (prior_mean, prior_sd))
        model.g[present] = model._em(model.g[present], None, iterations, tol)
        return model

    @property
    def _pieces(self) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """Cell and level of each piece of the θ axis, and the piece's share of its cell's width."""
        return _pieces(self.edges, self.cuts)

    def _rows(self) -> NDArray[np.intp]:
        return np.repeat(np.arange(self.present.size), np.diff(np.r_[self.starts, self.order.size]))

    def _posterior(self, g: NDArray, rows: NDArray[np.intp], mass: NDArray) -> NDArray[np.float32]:
        """(pieces, n) posterior over the pieces: likelihood mass × the unit's density in the piece's cell."""
        cell, _, _ = self._pieces
        density = (g / np.diff(self.edges))[:, cell]  # (units, pieces): a cell's density is flat across its pieces
        post = mass * density.T.astype(DTYPE)[:, rows]
        total = post.sum(axis=0)
        lost = total <= 0  # the unit's density underflowed where this person's likelihood lies: the likelihood decides
        if lost.any():
            post[:, lost] = mass[:, lost]
            total[lost] = mass[:, lost].sum(axis=0)
        post /= np.maximum(total, np.finfo(DTYPE).tiny)
        return post

    def _em(self, g: NDArray, weight: NDArray | None, iterations: int, tol: float) -> NDArray:
        """EMS iterations on the present units' rows ``g`` with per-person (sorted) weights (None: all 1)."""
        rows = self._rows()
        cell, _, _ = self._pieces
        to_cells = (cell[:, None] == np.arange(g.shape[1])[None, :]).astype(DTYPE)  # (pieces, cells)
        sizes = np.add.reduceat(weight, self.starts) if weight is not None else np.diff(np.r_[self.starts, rows.size])
        sizes = np.maximum(sizes, 1e-12).astype(float)
        for _ in range(iterations):
            post = self._posterior(g, rows, self.mass)
            if weight is not None:
                post *= weight.astype(DTYPE)
            per_piece = np.add.reduceat(post, self.starts, axis=1)  # (pieces, units present)
            new = (to_cells.T @ per_piece).T.astype(float) / sizes[:, None]
            pad = np.pad(new, ((0, 0), (1, 1)), mode="edge")
            new = SMOOTH * pad[:, :-2] + (1 - 2 * SMOOTH) * pad[:, 1:-1] + SMOOTH * pad[:, 2:]
            new /= new.sum(axis=1, keepdims=True)
            done = np.abs(new - g).max() < tol
            g = new
            if done:
                break
        return g

    def redraw(self, rng: np.random.Generator, iterations: int = 2) -> NDArray[np.float64]:
        """g refitted on a Poisson bootstrap of each unit's persons, warm-started at the fit (units, cells).

        EM from the fitted g converges at the rate of the missing information (small for precise tests), so a
        few steps go most of the way to the bootstrap fit; the spread of such redraws is the uncertainty of g.
        """
        weight = rng.poisson(1.0, self.order.size).astype(float)
        rows = self._rows()
        while True:  # a unit whose persons all drew 0 has no resample: drawn again (the bootstrap given n ≥ 1)
            empty = np.flatnonzero(np.add.reduceat(weight, self.starts) == 0) if self.starts.size else self.starts
            if empty.size == 0:
                break
            redo = np.isin(rows, empty)
            weight[redo] = rng.poisson(1.0, int(redo.sum()))
        out = self.g.copy()
        out[self.present] = self._em(self.g[self.present], weight, iterations, 0.0)
        return out

    def redraws(self, rng: np.random.Generator, draws: int, iterations: int = 2) -> list[NDArray[np.float64]]:
        """``draws`` redraws one after the other (the order in which they take their weights from ``rng``)."""
        return [self.redraw(rng, iterations) for _ in range(draws)]

    def at_or_above(self, g: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """(n, K) P(level ≥ k) of each fitted person (input order) under their unit's g."""
        g = self.g if g is None else g
        post = self._posterior(g[self.present], self._rows(), self.mass)
        out = np.empty((self.order.size, self.cuts.size + 1))
        out[self.order] = self._levels(post)
        return out

    def at_or_above_many(self, gs: list[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
        """:meth:`at_or_above` under each of ``gs``, one at a time."""
        return [self.at_or_above(g) for g in gs]

    def at_or_above_for(self, eap: NDArray, se: NDArray, unit: NDArray[np.intp]) -> NDArray[np.float64]:
        """(n, K) P(level ≥ k) of other persons (e.g. earlier results) under the fitted g of their units."""
        mass = piece_masses(eap, se, self.edges, self.cuts, *self.prior)
        return self._levels(self._posterior(self.g, unit, mass))

    def _levels(self, post: NDArray) -> NDArray[np.float64]:
        _, level, _ = self._pieces
        to_levels = (level[:, None] == np.arange(self.cuts.size + 1)[None, :]).astype(DTYPE)
        lv = (to_levels.T @ post).T.astype(float)
        lv /= lv.sum(axis=1, keepdims=True)
        return np.clip(np.cumsum(lv[:, ::-1], axis=1)[:, ::-1], 0.0, 1.0)


def _pieces(edges: NDArray, cuts: NDArray) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    inner = cuts[(cuts > edges[0]) & (cuts < edges[-1])]
    bounds = np.unique(np.r_[edges, inner])
    mid = (bounds[:-1] + bounds[1:]) / 2
    cell = np.clip(np.searchsorted(edges, mid, side="right") - 1, 0, edges.size - 2)
    level = np.searchsorted(cuts, mid, side="right")
    return cell, level, np.diff(bounds) / np.diff(edges)[cell]


def piece_masses(
    eap: NDArray[np.float64],
    se: NDArray[np.float64],
    edges: NDArray[np.float64],
    cuts: NDArray[np.float64],
    prior_mean: float,
    prior_sd: float,
) -> NDArray[np.float32]:
    """(pieces, n) each person's likelihood mass in every piece of the θ axis (cells split at the cuts).

    The likelihood is the stored posterior N(eap, se²) with the scoring prior divided out, N(m, v) (normal
    algebra: precisions subtract); integrating it over each piece exactly (not evaluating it at grid points) keeps
    a precisely measured person on the right side of a cut however fine the likelihood. The outermost pieces reach
    to ±∞, so no one's likelihood falls off the grid.
    """
    from scipy.special import ndtr

    se = np.maximum(np.asarray(se, float), 1e-6)
    tau2 = prior_sd**2
    prec = np.maximum(1.0 / se**2 - 1.0 / tau2, 1e-6)
    v = 1.0 / prec
    m = v * (np.asarray(eap, float) / se**2 - prior_mean / tau2)
    inner = cuts[(cuts > edges[0]) & (cuts < edges[-1])]
    bounds = np.unique(np.r_[edges, inner])
    bounds[0], bounds[-1] = -np.inf, np.inf
    cdf = ndtr((bounds[:, None] - m[None, :]) / np.sqrt(v)[None, :])
    return np.diff(cdf, axis=0).astype(DTYPE)
