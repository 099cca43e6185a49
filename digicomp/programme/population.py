"""Each unit's distribution of true θ on a grid, by EM with smoothing (EMS), from its persons' posteriors.

A person's stored result is a posterior under the scoring prior N(μ0, τ²), kept as its mean and SD; dividing the
prior out of N(eap, se²) gives the person's likelihood on the grid (a normal approximation). A unit's latent
distribution g_u is the smoothed nonparametric maximum likelihood estimate (Laird 1978; Mislevy 1984 for IRT;
smoothing step of Silverman, Jones, Wilson & Nychka 1990): alternate an EM step over the unit's persons with a
three-point smoothing of g_u. Persons' level probabilities under their unit's g_u are then what the shares use:
they are calibrated for that unit, where posteriors under the common prior pull every unit toward the reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.programme.errors import ProgrammeError

POINTS = 41
SMOOTH = 0.25
DTYPE = np.float32
"""Single precision: the posterior weights need no more, and the E-step over (points, persons) runs twice as fast."""
TINY = 1e-30
"""Likelihood masses and densities below this are 0: far below anything a person's posterior can notice (their sums
are of order 1e-3 or more unless the unit's density vanishes where the person is, when the likelihood decides), and
products of subnormal single-precision numbers are many times slower than of normal ones."""
Z_FLOOR, Z_CEIL = 15.0, 9.0
LOG_PASSES = 2
"""Passes of the three-point average over log g per EM iteration when smoothing the log-density (:func:`smooth`).
On the banks of c3e70b1, 2-6 passes gave the same per-area coverage; on the re-levelled banks (3b19739) more
passes left a larger bias at the top cut, and 2 covered best over five seeds of both (docs/programme.md)."""
LOG_FLOOR = 1e-4
"""Smoothing log g: cells below this fraction of the unit's largest are taken at it (1e-3 to 1e-5 gave the same
per-area coverage; at 1e-12 the redrawn densities collapse onto a few cells and the intervals are too narrow)."""
CHUNK = 16_384


@dataclass
class GridModel:
    """Latent distributions ``g`` (units, cells) on a histogram of ``edges``; for each person the likelihood's mass
    in every piece of the θ axis (cells split at the cuts), ``mass`` (n, pieces) sorted by unit (``order``)."""

    edges: NDArray[np.float64]
    cuts: NDArray[np.float64]
    g: NDArray[np.float64]
    mass: NDArray[np.float32]
    order: NDArray[np.intp]
    starts: NDArray[np.intp]
    present: NDArray[np.intp]
    prior: tuple[float, float]
    smooth_log: bool = False
    """Smooth log g instead of g (:func:`smooth`): the per-area model (few-item likelihoods, flat at the ends)."""
    smooth_weight: float = SMOOTH
    """The smoothing step's weight on each neighbour: the three-point average adds 2 × weight × (cell width)² to the
    variance per pass, so a grid of cells twice as wide takes a quarter of the weight for the same smoothing."""
    accelerate: bool = False
    """Run the EM with SQUAREM steps (:func:`_squarem`): the per-area model, whose EM must converge and converges
    slowly (few-item likelihoods, a large share of missing information)."""
    _work: NDArray[np.float32] | None = field(default=None, repr=False, compare=False)
    """Scratch (n, pieces) reused by every pass: a fresh array of that size each pass costs its page faults."""

    def _scratch(self) -> NDArray[np.float32]:
        if self._work is None:
            self._work = np.empty_like(self.mass)
        return self._work

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
        log_likelihood: NDArray[np.float64] | None = None,
        nodes: NDArray[np.float64] | None = None,
        smooth_log: bool = False,
        accelerate: bool = False,
        points: int = POINTS,
    ) -> GridModel:
        """EMS per unit, started from the pooled normal (units without persons keep the pooled start).

        Each person's likelihood is the normal recovered from ``eap``/``se`` (:func:`piece_masses`), or, when
        ``log_likelihood`` (n, Q) is given, their log-likelihood at the θ ``nodes`` (Q,) themselves
        (:func:`piece_masses_from_log_likelihood`): a few-item likelihood is skewed or one-sided, which no normal
        describes. ``iterations`` and ``tol`` bound the EM (40 and 5e-4 suffice for a precise overall score; a
        few-item area score needs the EM run to convergence: docs/programme.md, Per area). ``smooth_log``: smooth
        the log-density instead of the density (:func:`smooth`); ``accelerate``: SQUAREM steps (:func:`_squarem`);
        ``points``: cells of the grid over μ0 ± 4τ (the smoothing's weight scaled to keep its strength per θ unit).
        """
        centres = prior_mean + prior_sd * np.linspace(-4.0, 4.0, points)
        half = (centres[1] - centres[0]) / 2
        edges = np.r_[centres - half, centres[-1] + half]
        order = np.argsort(unit, kind="stable")
        cuts = np.asarray(cuts, float)
        if log_likelihood is None:
            mass = piece_masses(eap[order], se[order], edges, cuts, prior_mean, prior_sd)
        else:
            if nodes is None:
                raise ProgrammeError("log_likelihood given without its θ nodes")
            mass = piece_masses_from_log_likelihood(np.asarray(log_likelihood)[order], nodes, edges, cuts)
        sorted_unit = unit[order]
        starts = np.flatnonzero(np.r_[True, sorted_unit[1:] != sorted_unit[:-1]]) if unit.size else np.arange(0)
        present = sorted_unit[starts]
        pooled_mean, pooled_sd = float(eap.mean()), float(np.sqrt(eap.var() + np.mean(se**2)))
        start = np.exp(-0.5 * ((centres - pooled_mean) / pooled_sd) ** 2)
        g = np.tile(start / start.sum(), (n_units, 1))
        weight = SMOOTH * ((points - 1) / (POINTS - 1)) ** 2  # the same smoothing per θ unit on any grid
        model = cls(
            edges, cuts, g, mass, order, starts, present, (prior_mean, prior_sd), smooth_log, weight, accelerate
        )
        model.g[present] = model._em(model.g[present], None, iterations, tol)
        return model

    @property
    def _pieces(self) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """Cell and level of each piece of the θ axis, and the piece's share of its cell's width."""
        return _pieces(self.edges, self.cuts)

    def _rows(self) -> NDArray[np.intp]:
        return np.repeat(np.arange(self.present.size), np.diff(np.r_[self.starts, self.order.size]))

    def _density(self, g: NDArray) -> NDArray[np.float32]:
        """(units, pieces) each unit's density in each piece (a cell's density is flat across its pieces)."""
        cell, _, _ = self._pieces
        density = (g / np.diff(self.edges))[:, cell].astype(DTYPE)
        density[density < TINY] = 0.0
        return density

    def _weighted(self, density: NDArray[np.float32], rows: NDArray[np.intp], mass: NDArray) -> tuple[NDArray, ...]:
        """Each person's likelihood mass × their unit's density, (n, pieces), and its sum over the pieces (the
        posterior's normaliser); where the unit's density underflowed under a person's likelihood (sum 0), the
        likelihood decides: that person's row is their mass itself."""
        if mass is self.mass:
            joint = np.take(density, rows, axis=0, out=self._scratch())
            np.multiply(joint, mass, out=joint)
        else:
            joint = mass * density[rows]
        total = joint.sum(axis=1)
        lost = np.flatnonzero(total <= 0)
        if lost.size:
            joint[lost] = mass[lost]
            total[lost] = mass[lost].sum(axis=1)
        return joint, np.maximum(total, np.finfo(DTYPE).tiny)

    def _em(self, g: NDArray, weight: NDArray | None, iterations: int, tol: float) -> NDArray:
        """EMS iterations on the present units' rows ``g`` with per-person (sorted) weights (None: all 1).

        The E-step's expected count of unit u in piece p is Σ_i mass_ip d_up / total_i = d_up Σ_i mass_ip / total_i:
        the posterior (n, pieces) is never formed, only each person's normaliser (a row-wise dot product) and one
        weighted sum of the masses per unit: a few passes over ``mass`` per iteration instead of a dozen.
        """
        from scipy.sparse import csr_matrix

        rows = self._rows()
        bounds = np.r_[self.starts, rows.size]  # each unit's persons are one run of the sorted rows
        cell, _, _ = self._pieces
        to_cells = (cell[:, None] == np.arange(g.shape[1])[None, :]).astype(float)  # (pieces, cells)
        sizes = np.add.reduceat(weight, self.starts) if weight is not None else np.diff(np.r_[self.starts, rows.size])
        sizes = np.maximum(sizes, 1e-12).astype(float)
        w = None if weight is None else weight.astype(DTYPE)

        def step(g: NDArray) -> NDArray:
            density = self._density(g)
            dense = np.take(density, rows, axis=0, out=self._scratch())
            total = np.einsum("ij,ij->i", self.mass, dense)
            lost = np.flatnonzero(total <= 0)
            scale = (1.0 / np.maximum(total, np.finfo(DTYPE).tiny)).astype(DTYPE)
            if w is not None:
                scale *= w
            if lost.size:  # the unit's density underflowed under these persons' likelihoods: the likelihood decides
                scale[lost] = 0.0
            # Σ over each unit's persons of scale_i × mass_i: a (units × persons) sparse product, one pass over mass
            by_unit = csr_matrix((scale, np.arange(rows.size), bounds), shape=(bounds.size - 1, rows.size))
            per_piece = (by_unit @ self.mass).astype(float) * density
            if lost.size:
                own = self.mass[lost] / self.mass[lost].sum(axis=1, keepdims=True)
                if w is not None:
                    own *= w[lost, None]
                np.add.at(per_piece, rows[lost], own)
            return smooth((per_piece @ to_cells) / sizes[:, None], self.smooth_log, self.smooth_weight)

        if self.accelerate:
            return _squarem(step, g, iterations, tol)
        for _ in range(iterations):
            new = step(g)
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

    def at_or_above(self, g: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """(n, K) P(level ≥ k) of each fitted person (input order) under their unit's g."""
        g = self.g if g is None else g
        out = np.empty((self.order.size, self.cuts.size + 1))
        out[self.order] = self._levels(*self._weighted(self._density(g[self.present]), self._rows(), self.mass))
        return out

    def at_or_above_for(self, eap: NDArray, se: NDArray, unit: NDArray[np.intp]) -> NDArray[np.float64]:
        """(n, K) P(level ≥ k) of other persons (e.g. earlier results) under the fitted g of their units."""
        mass = piece_masses(eap, se, self.edges, self.cuts, *self.prior)
        return self._levels(*self._weighted(self._density(self.g), unit, mass))

    def _levels(self, joint: NDArray, total: NDArray) -> NDArray[np.float64]:
        _, level, _ = self._pieces
        to_levels = (level[:, None] == np.arange(self.cuts.size + 1)[None, :]).astype(DTYPE)
        lv = (joint @ to_levels).astype(float)
        lv /= lv.sum(axis=1, keepdims=True)
        return np.clip(np.cumsum(lv[:, ::-1], axis=1)[:, ::-1], 0.0, 1.0)


def _squarem(step: Any, g: NDArray[np.float64], evaluations: int, tol: float) -> NDArray[np.float64]:
    """The fixed point of ``step`` (one EMS iteration on every row of ``g``) by SQUAREM (Varadhan & Roland 2008,
    scheme S3), with a step length per row (unit), within ``evaluations`` calls of ``step``.

    Each cycle: g1 = step(g), g2 = step(g1), r = g1 − g, v = g2 − 2 g1 + g, α = −‖r‖/‖v‖ (at most −1), the
    extrapolation g − 2αr + α²v clipped at 0 and renormalised, then one step from it (which keeps the EMS's
    monotone progress). α = −1 is two plain steps. Stops when a cycle moves no cell by ``tol`` or more.
    """
    used = 0
    while used + 3 <= max(evaluations, 3):
        g1 = step(g)
        g2 = step(g1)
        r, v = g1 - g, g2 - 2 * g1 + g
        rn, vn = np.sqrt((r**2).sum(axis=1)), np.sqrt((v**2).sum(axis=1))
        alpha = np.where(vn > 0, np.minimum(-rn / np.where(vn > 0, vn, 1.0), -1.0), -1.0)[:, None]
        jump = np.maximum(g - 2 * alpha * r + alpha**2 * v, 0.0)
        total = jump.sum(axis=1, keepdims=True)
        jump = np.where(total > 0, jump / np.where(total > 0, total, 1.0), g2)
        new = step(jump)
        used += 3
        done = np.abs(new - g).max() < tol
        g = new
        if done:
            break
    return g


def smooth(g: NDArray[np.float64], log: bool = False, weight: float | None = None) -> NDArray[np.float64]:
    """EMS's smoothing step on each row of ``g`` (units, cells), renormalised.

    Plain (``log`` False): one three-point average (SMOOTH, 1 − 2 SMOOTH, SMOOTH) of g (Silverman, Jones, Wilson &
    Nychka 1990), the end cells repeated. It diffuses mass, and where the persons' likelihoods are flat (the ends of
    a few-item area score: everything right, or everything wrong and guessing) nothing pulls it back, so the fixed
    point is wider than the unit: shares above the top cut too high, above the lowest cut too low.

    ``log``: the same average applied LOG_PASSES times to log g (a discrete roughness penalty on the log-density, as
    in penalised log-density estimation: Silverman 1982; Eilers & Marx 1996), the ends extrapolated linearly (a
    natural boundary: exponential tails beyond the grid). Inside the grid a log-quadratic (normal) density passes
    unchanged up to its normaliser, so the step damps roughness without widening (at the ends it bends toward
    exponential tails; with quadratic extrapolation instead the per-area coverage was 0.5 points lower over five
    seeds); log g is floored at LOG_FLOOR of the row's largest cell, so no region the data leave open is
    ruled out by the smoothing alone.
    """
    w = SMOOTH if weight is None else weight
    if not log:
        pad = np.pad(g, ((0, 0), (1, 1)), mode="edge")
        out = w * pad[:, :-2] + (1 - 2 * w) * pad[:, 1:-1] + w * pad[:, 2:]
        return out / out.sum(axis=1, keepdims=True)
    out = np.log(np.maximum(g, LOG_FLOOR * g.max(axis=1, keepdims=True)))
    for _ in range(LOG_PASSES):
        ends = np.concatenate([2 * out[:, :1] - out[:, 1:2], out, 2 * out[:, -1:] - out[:, -2:-1]], axis=1)
        out = w * ends[:, :-2] + (1 - 2 * w) * ends[:, 1:-1] + w * ends[:, 2:]
    out = np.exp(out - out.max(axis=1, keepdims=True))
    return out / out.sum(axis=1, keepdims=True)


def _pieces(edges: NDArray, cuts: NDArray) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    inner = cuts[(cuts > edges[0]) & (cuts < edges[-1])]
    bounds = np.unique(np.r_[edges, inner])
    mid = (bounds[:-1] + bounds[1:]) / 2
    cell = np.clip(np.searchsorted(edges, mid, side="right") - 1, 0, edges.size - 2)
    level = np.searchsorted(cuts, mid, side="right")
    return cell, level, np.diff(bounds) / np.diff(edges)[cell]


def piece_masses_from_log_likelihood(
    log_likelihood: NDArray[np.float64], nodes: NDArray[np.float64], edges: NDArray[np.float64], cuts: NDArray
) -> NDArray[np.float32]:
    """(n, pieces) each person's likelihood mass in every piece of the θ axis from their log-likelihood at ``nodes``.

    The log-likelihood (n, Q) is interpolated linearly between the (increasing) nodes at each piece's midpoint and
    held at its end value beyond them; a piece's mass is the likelihood there times the piece's width (midpoint
    rule; a few-item likelihood changes little over a cell of 0.2 SD). Each row is scaled to a maximum of 1 (only
    ratios within a row matter to the posterior). Bad shapes or rows not finite everywhere are a ProgrammeError.
    """
    ll = np.asarray(log_likelihood, float)
    nodes = np.asarray(nodes, float)
    if ll.ndim != 2 or ll.shape[1] != nodes.size or nodes.size < 2 or np.any(np.diff(nodes) <= 0):
        raise ProgrammeError(f"log_likelihood {ll.shape} must be (persons, {nodes.size}) on increasing nodes")
    bad = np.flatnonzero(~np.isfinite(ll).all(axis=1))
    if bad.size:
        raise ProgrammeError(f"log_likelihood: rows {bad[:5].tolist()} are not finite")
    inner = cuts[(cuts > edges[0]) & (cuts < edges[-1])]
    bounds = np.unique(np.r_[edges, inner])
    mid = np.clip((bounds[:-1] + bounds[1:]) / 2, nodes[0], nodes[-1])
    j = np.clip(np.searchsorted(nodes, mid, side="right") - 1, 0, nodes.size - 2)
    f = (mid - nodes[j]) / (nodes[j + 1] - nodes[j])
    width = np.diff(bounds)
    mass = np.empty((ll.shape[0], width.size), DTYPE)
    for start in range(0, ll.shape[0], CHUNK):
        block = ll[start : start + CHUNK]
        at = (1 - f) * block[:, j] + f * block[:, j + 1]
        at -= at.max(axis=1, keepdims=True)
        mass[start : start + CHUNK] = np.exp(at) * width
    mass[mass < TINY] = 0.0
    return mass


def piece_masses(
    eap: NDArray[np.float64],
    se: NDArray[np.float64],
    edges: NDArray[np.float64],
    cuts: NDArray[np.float64],
    prior_mean: float,
    prior_sd: float,
) -> NDArray[np.float32]:
    """(n, pieces) each person's likelihood mass in every piece of the θ axis (cells split at the cuts).

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
    sd = np.sqrt(v)
    mass = np.empty((m.size, bounds.size - 1), DTYPE)
    for start in range(0, m.size, CHUNK):  # blocks of persons: the double-precision temporaries stay small
        block = slice(start, start + CHUNK)
        # beyond these z the CDF is 0 or 1 in single precision; clipping spares ndtr its slowest range
        z = np.clip((bounds[None, :] - m[block, None]) / sd[block, None], -Z_FLOOR, Z_CEIL)
        cdf = ndtr(z)
        mass[block] = cdf[:, 1:] - cdf[:, :-1]
    mass[mass < TINY] = 0.0  # out of the subnormal range, where every later product runs many times slower
    return mass
