"""Each unit's persons as a zero-padded block, so the grid model's E-step is a pair of batched matrix products.

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
    block, ``mass`` (units, slots, cells) their cell masses (0 in the padding), ``member`` (units, slots) True where
    a slot holds a person, and ``persons`` the sorted-person index of each member (in the order of ``member``'s
    True entries), from which the bootstrap weights are placed."""

    units: tuple[NDArray[np.intp], ...]
    mass: tuple[NDArray[np.float32], ...]
    member: tuple[NDArray[np.bool_], ...]
    persons: tuple[NDArray[np.intp], ...]

    @classmethod
    def build(cls, cell_mass: NDArray[np.float32], starts: NDArray[np.intp]) -> Blocks:
        """Blocks of the runs of ``cell_mass`` (n, cells) that begin at ``starts`` (each present unit's first row)."""
        n = cell_mass.shape[0]
        counts = np.diff(np.r_[starts, n])
        size_class = np.floor(np.log(np.maximum(counts, FLOOR) / FLOOR) / np.log(GROWTH)).astype(np.intp)
        units, mass, member, persons = [], [], [], []
        for c in np.unique(size_class):
            ub = np.flatnonzero(size_class == c)
            cb = counts[ub]
            row = np.repeat(np.arange(ub.size), cb)
            slot = np.arange(row.size) - np.repeat(np.cumsum(cb) - cb, cb)
            who = np.repeat(starts[ub], cb) + slot
            block = np.zeros((ub.size, int(cb.max()), cell_mass.shape[1]), DTYPE)
            block[row, slot] = cell_mass[who]
            mask = np.zeros(block.shape[:2], bool)
            mask[row, slot] = True
            units.append(ub)
            mass.append(block)
            member.append(mask)
            persons.append(who)
        return cls(tuple(units), tuple(mass), tuple(member), tuple(persons))

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
        """(draws, units, cells) each present unit's expected count of persons in each cell under ``density``
        (draws, units, cells): Σ_i w_i M_ic d_uc / Σ_c' M_ic' d_uc'. A member whose normaliser underflowed (their
        unit's density vanishes where their likelihood is) counts by their likelihood alone, as in the E-step of
        a unit that has no density there yet."""
        draws, n_units, cells = density.shape
        out = np.empty((draws, n_units, cells))
        for ub, mass, mask, w in zip(self.units, self.mass, self.member, weights):
            d = np.ascontiguousarray(density[:, ub, :].transpose(1, 2, 0))  # (units, cells, draws)
            total = mass @ d  # (units, slots, draws): each member's normaliser in each draw
            ok = total > 0
            scale = np.divide(w, total, out=np.zeros_like(total), where=ok)
            summed = mass.transpose(0, 2, 1) @ scale  # (units, cells, draws)
            out[:, ub, :] = (summed * d).transpose(2, 0, 1)
            lost = np.nonzero(mask[..., None] & ~ok)
            if lost[0].size:
                own = mass[lost[0], lost[1]]
                own = own / np.maximum(own.sum(axis=1, keepdims=True), np.finfo(DTYPE).tiny)
                np.add.at(out, (lost[2], ub[lost[0]]), own * w[lost][:, None])
        return out
