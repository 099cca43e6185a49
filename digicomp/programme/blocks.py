"""Each unit's persons as a padded block, so the grid model's E-step is a pair of batched matrix products.

The E-step (:class:`digicomp.programme.population.GridModel`) needs each person's normaliser, the dot product of
their cell masses with their unit's density, and each unit's sum of its persons' masses scaled by those
normalisers. With every unit's persons in a block of equal (padded) length both are batched matrix products over
the units (BLAS), and R bootstrap redraws share one pass over the masses: their R columns cost little more than one.
Units are grouped by size class so the padding stays small (at most :data:`GROWTH` times a class's smallest unit).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

DTYPE = np.float32
GROWTH = 1.4
"""A block holds units whose sizes are within this ratio (sizes below :data:`FLOOR` count as FLOOR): the padding is
under 40% of any block and the number of blocks grows with the log of the size range (about 12 for 7-400)."""
FLOOR = 8


@dataclass(frozen=True)
class Blocks:
    """The persons (sorted by unit) of the present units, block by block: ``units`` the present-unit indices of each
    block, ``mass`` (units, slots, cells) their cell masses, ``member`` (units, slots) True where a slot holds a
    person, and ``persons`` the sorted-person index of each member (in the order of ``member``'s True entries),
    from which the bootstrap weights are placed.

    A padding slot holds mass 1 in every cell: its weight is 0, so it adds nothing to any sum, and its normaliser is
    never 0, so a non-finite sum in :meth:`expected_counts` marks a member whose normaliser underflowed and nothing
    else (one check of the sums per block, not a search over every slot, in each EM step)."""

    units: tuple[NDArray[np.intp], ...]
    mass: tuple[NDArray[np.float32], ...]
    member: tuple[NDArray[np.bool_], ...]
    persons: tuple[NDArray[np.intp], ...]

    @classmethod
    def build(cls, mass: NDArray[np.float32], starts: NDArray[np.intp]) -> Blocks:
        """Blocks of the runs of ``mass`` (n, columns: the persons' cell masses for the E-step, or their piece masses
        for the level probabilities) that begin at ``starts`` (each present unit's first row)."""
        n = mass.shape[0]
        counts = np.diff(np.r_[starts, n])
        size_class = np.floor(np.log(np.maximum(counts, FLOOR) / FLOOR) / np.log(GROWTH)).astype(np.intp)
        units, blocks, member, persons = [], [], [], []
        for c in np.unique(size_class):
            ub = np.flatnonzero(size_class == c)
            cb = counts[ub]
            row = np.repeat(np.arange(ub.size), cb)
            slot = np.arange(row.size) - np.repeat(np.cumsum(cb) - cb, cb)
            who = np.repeat(starts[ub], cb) + slot
            block = np.ones((ub.size, int(cb.max()), mass.shape[1]), DTYPE)
            block[row, slot] = mass[who]
            mask = np.zeros(block.shape[:2], bool)
            mask[row, slot] = True
            units.append(ub)
            blocks.append(block)
            member.append(mask)
            persons.append(who)
        return cls(tuple(units), tuple(blocks), tuple(member), tuple(persons))

    def weights(self, weight: NDArray[np.float64] | None, draws: int) -> tuple[NDArray[np.float32], ...]:
        """Per block (units, slots, draws) each member's weight in each draw (``weight`` (draws, n) in sorted
        order; None: 1), 0 in the padding."""
        out = []
        for mask, who in zip(self.member, self.persons):
            w = np.zeros((*mask.shape, draws), DTYPE)
            w[mask] = 1.0 if weight is None else weight[:, who].T
            out.append(w)
        return tuple(out)

    def expected_counts(
        self, density: NDArray[np.float32], weights: tuple[NDArray[np.float32], ...]
    ) -> NDArray[np.float64]:
        """(cells, draws, units) each present unit's expected count of persons in each cell under ``density``
        (cells, draws, units): Σ_i w_i M_ic d_uc / Σ_c' M_ic' d_uc'. A member whose normaliser underflowed (their
        unit's density vanishes where their likelihood is) counts by their likelihood alone, as in the E-step of
        a unit that has no density there yet."""
        cells, draws, n_units = density.shape
        out = np.empty((cells, draws, n_units))
        for ub, mass, w in zip(self.units, self.mass, weights):
            d = np.ascontiguousarray(density[:, :, ub].transpose(2, 0, 1))  # (units, cells, draws)
            total = mass @ d  # (units, slots, draws): each member's normaliser in each draw
            with np.errstate(divide="ignore", invalid="ignore"):
                summed = mass.transpose(0, 2, 1) @ np.divide(w, total)  # (units, cells, draws)
            if not np.isfinite(summed).all():  # a member's normaliser underflowed to 0 (never a padding slot's)
                summed = mass.transpose(0, 2, 1) @ np.divide(w, total, out=np.zeros_like(total), where=total > 0)
                lost = np.nonzero((total <= 0) & (w > 0))
                own = mass[lost[0], lost[1]]
                own = own / np.maximum(own.sum(axis=1, keepdims=True), np.finfo(DTYPE).tiny)
                extra = np.zeros((ub.size, cells, draws))
                np.add.at(extra, (lost[0], slice(None), lost[2]), own * w[lost][:, None])
                out[:, :, ub] = (summed * d + extra).transpose(1, 2, 0)
                continue
            out[:, :, ub] = (summed * d).transpose(1, 2, 0)
        return out

    def products(self, per_unit: NDArray[np.float32]) -> NDArray[np.float32]:
        """(n, m) each member's mass row times their unit's matrix ``per_unit`` (units, cells, m), in sorted-person
        order: one batched product per block (e.g. every redraw's level sums at once)."""
        n = sum(who.size for who in self.persons)
        out = np.empty((n, per_unit.shape[2]), DTYPE)
        for ub, mass, mask, who in zip(self.units, self.mass, self.member, self.persons):
            out[who] = (mass @ per_unit[ub])[mask]
        return out
