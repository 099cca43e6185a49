"""Each unit's distribution of true θ on a grid, by EM with smoothing (EMS), from its persons' posteriors.

A person's stored result is a posterior under the scoring prior N(μ0, τ²), kept as its mean and SD; dividing the
prior out of N(eap, se²) gives the person's likelihood on the grid (a normal approximation). A unit's latent
distribution g_u is the smoothed nonparametric maximum likelihood estimate (Laird 1978; Mislevy 1984 for IRT;
smoothing step of Silverman, Jones, Wilson & Nychka 1990): alternate an EM step over the unit's persons with a
three-point smoothing of g_u. Persons' level probabilities under their unit's g_u are then what the shares use:
they are calibrated for that unit, where posteriors under the common prior pull every unit toward the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.programme.blocks import Blocks
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
STEP_MAX0, MSTEP = 1.0, 4.0
"""SQUAREM's step-length bound at the start and its growth / shrink factor (the defaults of Varadhan & Roland's
SQUAREM package): :func:`_squarem`."""


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
    _rows_of: NDArray[np.intp] | None = field(default=None, repr=False, compare=False)
    _blocks: Blocks | None = field(default=None, repr=False, compare=False)
    _step_cap: NDArray[np.float64] | None = field(default=None, repr=False, compare=False)
    """SQUAREM's step-length bound per present unit where the fit ended: the redraws start from it, as from its g."""

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
        model.g[present] = model._em(model.g[present][None], None, iterations, tol)[0]
        return model

    @property
    def _pieces(self) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """Cell and level of each piece of the θ axis, and the piece's share of its cell's width."""
        return _pieces(self.edges, self.cuts)

    def _rows(self) -> NDArray[np.intp]:
        """Each sorted person's row among the present units (their units' persons are runs of the sorted order)."""
        if self._rows_of is None:
            self._rows_of = np.repeat(np.arange(self.present.size), np.diff(np.r_[self.starts, self.order.size]))
        return self._rows_of

    def _density(self, g: NDArray) -> NDArray[np.float32]:
        """(units, pieces) each unit's density in each piece (a cell's density is flat across its pieces)."""
        cell, _, _ = self._pieces
        density = (g / np.diff(self.edges))[:, cell].astype(DTYPE)
        density[density < TINY] = 0.0
        return density

    def _by_level(self, density: NDArray[np.float32], rows: NDArray[np.intp], mass: NDArray) -> NDArray[np.float32]:
        """(n, K) each person's likelihood mass × their unit's density (row ``rows`` of ``density``) summed over the
        pieces of each level (:meth:`_likelihood_where_lost`)."""
        return self._likelihood_where_lost(self._level_sums(mass * density[rows]), mass)

    def _likelihood_where_lost(self, by_level: NDArray[np.float32], mass: NDArray) -> NDArray[np.float32]:
        """``by_level`` (n, K) or (n, draws, K), set in place where the unit's density underflowed under a person's
        likelihood (a row of 0): there the likelihood decides, and that person's row is their mass alone."""
        lost = np.nonzero(by_level.sum(axis=-1) <= 0)
        if lost[0].size:
            by_level[lost] = self._level_sums(np.asarray(mass[lost[0]], DTYPE))
        return by_level

    def _level_sums(self, joint: NDArray[np.float32]) -> NDArray[np.float32]:
        _, level, _ = self._pieces  # pieces run along θ, so each level's pieces are one run
        held = np.unique(level)
        out = np.zeros((joint.shape[0], self.cuts.size + 1), DTYPE)
        out[:, held] = np.add.reduceat(joint, np.searchsorted(level, held), axis=1)
        return out

    def _em(self, g: NDArray, weight: NDArray | None, iterations: int, tol: float) -> NDArray:
        """EMS iterations on ``g`` (draws, present units, cells) with per-person weights (draws, n) in sorted order
        (None: all 1, one draw): each draw's rows are iterated as if alone, all in the same matrix products.

        The E-step's expected count of unit u in cell c is Σ_i M_ic d_uc / total_i = d_uc Σ_i M_ic / total_i with
        M the persons' cell masses: the posterior (n, cells) is never formed, only each person's normaliser and one
        weighted sum of the masses per unit, both batched products over the units' blocks (:mod:`.blocks`). The
        iterate is held as columns (cells, draws × units): every sum and maximum over a unit's cells then runs
        along memory (over rows of 21 cells they cost more than the products).
        """
        draws, n_units, cells = g.shape
        blocks = self._block_layout()
        weights = blocks.weights(weight, draws)
        if weight is None:
            sizes = np.diff(np.r_[self.starts, self.order.size])[None, :]
        else:
            sizes = np.add.reduceat(weight, self.starts, axis=1)  # (draws, units) each unit's weighted persons
        sizes = np.maximum(sizes, 1e-12).astype(float).reshape(1, -1)
        width = np.diff(self.edges)[:, None]

        def step(cols: NDArray) -> NDArray:
            density = (cols / width).astype(DTYPE)
            density[density < TINY] = 0.0
            counts = blocks.expected_counts(density.reshape(cells, draws, n_units), weights).reshape(cells, -1)
            return _smooth_columns(np.divide(counts, sizes, out=counts), self.smooth_log, self.smooth_weight)

        cols = np.ascontiguousarray(g.reshape(-1, cells).T)
        if self.accelerate:
            start = None if self._step_cap is None else np.tile(self._step_cap, draws)
            cols, cap = _squarem(step, cols, iterations, tol, start)
            if weight is None:
                self._step_cap = cap
        else:
            for _ in range(iterations):
                new = step(cols)
                done = np.abs(new - cols).max() < tol
                cols = new
                if done:
                    break
        return np.ascontiguousarray(cols.T).reshape(g.shape)

    def _block_layout(self) -> Blocks:
        if self._blocks is None:
            cell, _, _ = self._pieces  # each cell's pieces are one run: its mass is their sum
            cell_mass = np.add.reduceat(self.mass, np.searchsorted(cell, np.arange(self.edges.size - 1)), axis=1)
            self._blocks = Blocks.build(cell_mass, self.starts)
        return self._blocks

    def redraws(self, rng: np.random.Generator, draws: int, iterations: int = 2) -> list[NDArray[np.float64]]:
        """``draws`` refits of g (units, cells), each on a Poisson bootstrap of each unit's persons, warm-started
        at the fit; all iterated together (one pass over the masses per step serves every draw).

        EM from the fitted g converges at the rate of the missing information (small for precise tests), so a
        few steps go most of the way to the bootstrap fit; the spread of such redraws is the uncertainty of g.
        """
        if draws < 1:
            return []
        weight = np.stack([self._bootstrap_weights(rng) for _ in range(draws)])
        fitted = np.broadcast_to(self.g[self.present], (draws, *self.g[self.present].shape))
        refit = self._em(np.array(fitted), weight, iterations, 0.0)
        out = []
        for r in range(draws):
            g = self.g.copy()
            g[self.present] = refit[r]
            out.append(g)
        return out

    def redraw(self, rng: np.random.Generator, iterations: int = 2) -> NDArray[np.float64]:
        """One bootstrap refit of g (:meth:`redraws`)."""
        return self.redraws(rng, 1, iterations)[0]

    def _bootstrap_weights(self, rng: np.random.Generator) -> NDArray[np.float64]:
        """Poisson(1) weights of the sorted persons; a unit whose persons all drew 0 has no resample: its persons
        are drawn again (the bootstrap given n ≥ 1)."""
        weight = rng.poisson(1.0, self.order.size).astype(float)
        rows = self._rows()
        while True:
            empty = np.flatnonzero(np.add.reduceat(weight, self.starts) == 0) if self.starts.size else self.starts
            if empty.size == 0:
                return weight
            redo = np.isin(rows, empty)
            weight[redo] = rng.poisson(1.0, int(redo.sum()))

    def at_or_above(self, g: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """(n, K) P(level ≥ k) of each fitted person (input order) under their unit's g."""
        return self.at_or_above_many([self.g if g is None else g])[0]

    def at_or_above_many(self, gs: Sequence[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
        """:meth:`at_or_above` under each of ``gs`` (units, cells), e.g. the fit's and its redraws': each person's
        mass at or above each level under every g is one batched product per block of units
        (:meth:`Blocks.products`), one pass over the masses for all of them."""
        _, level, _ = self._pieces
        k = self.cuts.size + 1
        at_or_above = (level[:, None] >= np.arange(k)).astype(DTYPE)  # (pieces, K): column 0 is every piece
        dens = np.stack([self._density(g[self.present]) for g in gs], axis=2)  # (units, pieces, G)
        per_unit = (dens[..., None] * at_or_above[:, None, :]).reshape(*dens.shape[:2], -1)  # (units, pieces, G × K)
        mass_above = Blocks.build(self.mass, self.starts).products(per_unit).reshape(self.order.size, len(gs), k)
        lost = np.nonzero(mass_above[..., 0] <= 0)  # the unit's density underflowed under these likelihoods
        if lost[0].size:  # the likelihood decides: the person's mass alone
            mass_above[lost] = self.mass[lost[0]] @ at_or_above
        unsort = np.empty_like(self.order)
        unsort[self.order] = np.arange(self.order.size)
        mass_above = mass_above[unsort]  # input order
        q = np.clip(mass_above / np.maximum(mass_above[..., :1], np.finfo(DTYPE).tiny), 0.0, 1.0, out=mass_above)
        return [q[:, j].astype(np.float64) for j in range(len(gs))]

    def at_or_above_for(self, eap: NDArray, se: NDArray, unit: NDArray[np.intp]) -> NDArray[np.float64]:
        """(n, K) P(level ≥ k) of other persons (e.g. earlier results) under the fitted g of their units."""
        mass = piece_masses(eap, se, self.edges, self.cuts, *self.prior)
        return _at_or_above(self._by_level(self._density(self.g), unit, mass))


def _at_or_above(by_level: NDArray[np.float32]) -> NDArray[np.float64]:
    """(..., K) P(level ≥ k) from each person's posterior mass per level (..., K): sums from the top, over the
    total; computed level by level on a (K, ...) copy (sums along a short last axis cost many times more)."""
    q = np.moveaxis(by_level, -1, 0).astype(np.float64)
    for k in range(q.shape[0] - 2, -1, -1):
        q[k] += q[k + 1]
    q /= np.maximum(q[0], np.finfo(DTYPE).tiny)
    return np.moveaxis(np.clip(q, 0.0, 1.0, out=q), 0, -1)


def _squarem(
    step: Any, g: NDArray[np.float64], evaluations: int, tol: float, cap: NDArray[np.float64] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The fixed point of ``step`` (one EMS iteration on every column of ``g`` (cells, units)) by SQUAREM (Varadhan
    & Roland 2008, scheme S3) with a step length per column (unit), safeguarded, within ``evaluations`` calls of
    ``step``.

    Each cycle: g1 = step(g), g2 = step(g1), r = g1 − g, v = g2 − 2 g1 + g, α = −‖r‖/‖v‖ bounded to [−cap, −1],
    the extrapolation g − 2αr + α²v clipped at 0 and renormalised, then one step from it. Safeguards as in the
    authors' SQUAREM package, with the residual in place of an objective (EMS maximises none): a unit whose step
    from the extrapolation moves it more than the first step moved g (no progress) takes g2, two plain steps, and
    its cap shrinks by MSTEP; a unit accepted at its cap gets MSTEP times more room. Without the bound, units whose
    two steps point the same way (‖v‖ ≈ 0) jumped by α of order 1e7 and never settled: their fit depended on the
    last bit of rounding. Stops when a cycle moves no cell by ``tol`` or more. ``cap``: the bounds to start from
    (a warm start's, e.g. a redraw from the fit); returned with the fixed point for that use.
    """
    used = 0
    cap = np.full(g.shape[1], STEP_MAX0) if cap is None else cap.copy()
    while used + 3 <= max(evaluations, 3):
        g1 = step(g)
        g2 = step(g1)
        r, v = g1 - g, g2 - 2 * g1 + g
        rn, vn = np.sqrt((r**2).sum(axis=0)), np.sqrt((v**2).sum(axis=0))
        length = np.clip(np.where(vn > 0, rn / np.where(vn > 0, vn, 1.0), 1.0), 1.0, cap)
        jump = np.maximum(g + 2 * length * r + length**2 * v, 0.0)  # α = −length
        total = jump.sum(axis=0)
        jump = np.where(total > 0, jump / np.where(total > 0, total, 1.0), g2)
        new = step(jump)
        used += 3
        stalled = np.sqrt(((new - jump) ** 2).sum(axis=0)) > rn
        new[:, stalled] = g2[:, stalled]
        cap = np.where(stalled, np.maximum(STEP_MAX0, cap / MSTEP), np.where(length >= cap, cap * MSTEP, cap))
        done = np.abs(new - g).max() < tol
        g = new
        if done:
            break
    return g, cap


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
    return np.ascontiguousarray(_smooth_columns(np.ascontiguousarray(np.asarray(g, float).T), log, weight).T)


def _smooth_columns(g: NDArray[np.float64], log: bool = False, weight: float | None = None) -> NDArray[np.float64]:
    """:func:`smooth` on each column of ``g`` (cells, units): the EM's layout, whose slices along the cells are
    whole rows of memory (and no matrix product: a BLAS call here ran its own threads every EM step, 30-80 times
    slower on a busy machine)."""
    w = SMOOTH if weight is None else weight
    if not log:
        pad = np.concatenate([g[:1], g, g[-1:]])
        out = w * pad[:-2] + (1 - 2 * w) * pad[1:-1] + w * pad[2:]
        return out / out.sum(axis=0)
    ends = np.empty((g.shape[0] + 2, g.shape[1]))  # log g with a cell beyond each end; every step in place
    out, side = ends[1:-1], np.empty_like(g)
    np.log(np.maximum(g, LOG_FLOOR * g.max(axis=0), out=out), out=out)
    for _ in range(LOG_PASSES):
        np.subtract(2 * out[0], out[1], out=ends[0])  # linear extrapolation
        np.subtract(2 * out[-1], out[-2], out=ends[-1])
        np.add(ends[:-2], ends[2:], out=side)
        out *= 1 - 2 * w
        out += np.multiply(side, w, out=side)
    out -= out.max(axis=0)
    np.exp(out, out=out)
    return np.divide(out, out.sum(axis=0), out=out)


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
