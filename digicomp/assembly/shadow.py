"""Shadow tests (van der Linden & Reese 1998): the full-length test, holding the items already given, that meets
every constraint and is best at the current estimate; the adaptive test gives its best item not yet given.

One person's shadow test is one MILP: max Σ_j v_j x_j over binary x, with x_j = 1 for the items given, x_j = 0
for items the person may not get now, the model's count rows, and x_i + x_j ≤ 1 for enemies. scipy's ``milp``
(HiGHS) takes no starting solution, so the re-assembly between steps is sped up in three exact-or-checked ways:

* **incumbent-seeded reduced model**: the program is solved over the items given, the previous shadow test (still
  feasible: it holds every item given since, as each was taken from it), the ``candidates`` best items and, for
  each row with a minimum not yet met, its best items overall and in every cell where it crosses another binding
  row (as many as it still needs, plus one or two). The previous test guarantees the reduced program
  is feasible; when it is not (an item became unavailable), the full program over every usable item is solved.
  The reduced optimum is the full optimum unless an item outside the candidates would enter the best test:
  tests/assembly compare the two.
* **greedy certificate**: the rows split into families of disjoint rows (the areas; the level bands); over one
  family plus the length, the best test is found greedily (each row's minimum from its best items, then the best
  items under the maximums: optimal for such a partition); when that test also meets every other row and the
  enemies, it is optimal for the whole program (the optimum of a relaxation, and feasible), and no MILP is run.
* **integral LP relaxation**: each program's LP relaxation is solved first (dual simplex, about half a MILP's
  cost); an integral vertex is the MILP's optimum (a relaxation's optimum that is feasible), so the MILP runs only
  when the vertex is fractional (enemies and crossed rows can make it so; two partitions alone cannot).
* **last item in closed form**: with one item left, the best usable item that completes every row is found by a
  vectorised check of the rows, without a MILP.
* **memo**: identical inputs (values, items given, usable items, incumbent) give the identical test; persons
  with the same answers so far (every person at the first item, two kinds at the second, ...) share one solve.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from digicomp.assembly.model import ConstraintModel

MEMO_SIZE = 4096
"""Shadow tests remembered (a few MB at most)."""


@dataclass
class ShadowStats:
    """How the shadow tests were found: programs over the reduced and the full model (``lp`` of them settled by an
    integral LP relaxation, the rest by the MILP), greedy certificates, closed forms, memo hits, and steps where no
    test met every constraint (the rule then fell back to the plain criterion)."""

    reduced: int = 0
    full: int = 0
    lp: int = 0
    greedy: int = 0
    closed_form: int = 0
    memo: int = 0
    infeasible: int = 0


@dataclass
class ShadowAssembler:
    """Solves shadow tests for ``model`` (its ``length`` is the test's maximum length): ``candidates`` sizes the
    reduced model (0: the full one), ``greedy`` tries the greedy certificate first, ``relax`` the LP relaxation
    before each MILP (see the module docstring); with all three off every step is one full MILP."""

    model: ConstraintModel
    candidates: int = 60
    greedy: bool = True
    relax: bool = True
    time_limit: float = 5.0
    stats: ShadowStats = field(default_factory=ShadowStats)
    _memo: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        m = self.model
        self._M = m.matrix.astype(bool) if m.rows else np.zeros((0, m.n_items), bool)
        self._Mf = self._M.astype(float)
        self._lo, self._hi = m.lower, m.upper
        self._need = [np.flatnonzero(row) for row in self._M]
        self._has_min = np.flatnonzero(self._lo > 0)
        self._families = self._disjoint_families()
        binding = [r for r in range(1, len(self._lo)) if self._lo[r] > 0 or self._hi[r] < m.length]
        # per row with a minimum: its items, and its items in each other binding row (the cells it crosses), so the
        # reduced model can meet the minimum even where another row's maximum shuts its best items out
        self._cells = [
            (r, [self._need[r]] + [np.flatnonzero(self._M[r] & self._M[q]) for q in binding if q != r])
            for r in self._has_min
        ]
        e = m.enemies
        self._enemy = np.zeros((m.n_items, m.n_items), bool)
        if e.size:
            self._enemy[e[:, 0], e[:, 1]] = self._enemy[e[:, 1], e[:, 0]] = True

    def solve(
        self,
        value: NDArray[np.float64],
        given: NDArray[np.bool_],
        usable: NDArray[np.bool_],
        incumbent: NDArray[np.bool_] | None = None,
    ) -> NDArray[np.bool_] | None:
        """The shadow test (J,) bool: every ``given`` item, otherwise ``usable`` items only; None when none exists.

        ``value`` (J,) is what each item adds (information at θ̂, or its posterior expectation).
        """
        usable = usable & ~given & self.model.allowed
        key = self._key(value, given, usable, incumbent)
        with self._lock:
            hit = self._memo.get(key)
            if hit is not None:
                self._memo.move_to_end(key)
                self.stats.memo += 1
                return hit
        test = self._solve(value, given, usable, incumbent)
        with self._lock:
            self._memo[key] = test
            if len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return test

    @staticmethod
    def _key(value, given, usable, incumbent) -> bytes:
        h = hashlib.blake2b(digest_size=16)
        h.update(np.ascontiguousarray(value).tobytes())
        h.update(np.packbits(given).tobytes())
        h.update(np.packbits(usable).tobytes())
        if incumbent is not None:
            h.update(np.packbits(incumbent).tobytes())
        return h.digest()

    def _solve(self, value, given, usable, incumbent) -> NDArray[np.bool_] | None:
        left = self.model.length - int(given.sum())
        if left <= 0:
            return given.copy()
        if left == 1:
            self.stats.closed_form += 1
            return self._last_item(value, given, usable)
        if self.greedy and self.model.included.size == 0:
            for family in self._families:
                test = self._greedy(family, value, given, usable, left)
                if test is not None and self._feasible(test):
                    self.stats.greedy += 1
                    return test
        if self.candidates > 0:
            pool = self._reduced_pool(value, given, usable, incumbent)
            test = self._milp(value, given, pool)
            if test is not None:
                self.stats.reduced += 1
                return test
        test = self._milp(value, given, given | usable)
        if test is None:
            self.stats.infeasible += 1
        else:
            self.stats.full += 1
        return test

    def _disjoint_families(self) -> list[list[int]]:
        """The binding rows (other than the length, row 0) in families of pairwise disjoint rows, first fit."""
        L = self.model.length
        families: list[list[int]] = []
        covered: list[NDArray[np.bool_]] = []
        for r in range(1, len(self._lo)):
            if self._lo[r] <= 0 and self._hi[r] >= L:
                continue
            for f, cover in enumerate(covered):
                if not (cover & self._M[r]).any():
                    families[f].append(r)
                    cover |= self._M[r]
                    break
            else:
                families.append([r])
                covered.append(self._M[r].copy())
        return families

    def _greedy(self, family: list[int], value, given, usable, left: int) -> NDArray[np.bool_] | None:
        """The best test over the length and the disjoint rows ``family`` only (None when they cannot be met):
        each row's missing minimum from its best usable items, then the best remaining items under the maximums."""
        test = given.copy()
        room = left
        caps = []
        for r in family:
            mask = self._M[r]
            have = int(given[mask].sum())
            need = max(0, int(np.ceil(self._lo[r] - 1e-9)) - have)
            if have > self._hi[r] + 1e-9:
                return None
            if need:
                pool = np.flatnonzero(mask & usable)
                if pool.size < need:
                    return None
                top = pool[np.argsort(-value[pool], kind="stable")[:need]]
                test[top] = True
                room -= need
            caps.append(int(np.floor(self._hi[r] + 1e-9)) - have - need)
        if room < 0:
            return None
        if room:
            open_ = usable & ~test
            group = np.full(value.size, -1, np.intp)
            for k, r in enumerate(family):
                group[self._M[r]] = k
            order = np.flatnonzero(open_)
            order = order[np.argsort(-value[order], kind="stable")]
            left_cap = np.array(caps + [room], np.int64)  # the last entry: items outside every row of the family
            for j in order:
                g = group[j]
                if left_cap[g] > 0:
                    test[j] = True
                    left_cap[g] -= 1
                    room -= 1
                    if room == 0:
                        break
            if room:
                return None
        return test

    def _feasible(self, test: NDArray[np.bool_]) -> bool:
        """Every row and every enemy pair met by ``test``."""
        counts = self._Mf @ test
        if ((counts < self._lo - 1e-9) | (counts > self._hi + 1e-9)).any():
            return False
        e = self.model.enemies
        return not (e.size and (test[e[:, 0]] & test[e[:, 1]]).any())

    def _last_item(self, value, given, usable) -> NDArray[np.bool_] | None:
        counts = self._Mf @ given
        after = counts[:, None] + self._Mf  # (R, J): each row's count if item j were added
        fits = np.all((after >= self._lo[:, None] - 1e-9) & (after <= self._hi[:, None] + 1e-9), axis=0)
        fits &= usable & ~self._enemy[given].any(axis=0)
        missing = self.model.included[~given[self.model.included]]
        if missing.size:  # an included item not yet given must be the last one
            fits &= np.arange(given.size) == missing[0] if missing.size == 1 else False
        if not fits.any():
            self.stats.infeasible += 1
            return None
        j = int(np.argmax(np.where(fits, value, -np.inf)))
        test = given.copy()
        test[j] = True
        return test

    def _reduced_pool(self, value, given, usable, incumbent) -> NDArray[np.bool_]:
        pool = given.copy()
        free = np.flatnonzero(usable)
        if free.size:
            top = free[np.argsort(-value[free], kind="stable")[: self.candidates]]
            pool[top] = True
        for r, cells in self._cells:  # each unmet minimum's best items, overall and in each cell it crosses
            need = int(np.ceil(self._lo[r] - 1e-9)) - int(given[self._need[r]].sum())
            if need <= 0:
                continue
            for c, cell in enumerate(cells):
                items = cell[usable[cell]]
                k = need + 2 if c == 0 else need + 1
                if items.size > k:
                    items = items[np.argpartition(-value[items], k - 1)[:k]]
                pool[items] = True
        if incumbent is not None:
            pool |= incumbent & usable
        inc = self.model.included
        pool[inc[usable[inc]]] = True
        return pool

    def _milp(self, value, given, pool) -> NDArray[np.bool_] | None:
        from scipy.optimize import Bounds, LinearConstraint, milp

        idx = np.flatnonzero(pool)
        J = value.size
        rows = [self._Mf[:, idx]]
        lo, hi = [self._lo], [self._hi]
        e = self.model.enemies
        if e.size:
            inside = pool[e[:, 0]] & pool[e[:, 1]]
            if inside.any():
                local = np.full(J, -1, np.intp)
                local[idx] = np.arange(idx.size)
                pairs = local[e[inside]]
                E = np.zeros((pairs.shape[0], idx.size))
                E[np.arange(pairs.shape[0]), pairs[:, 0]] = 1.0
                E[np.arange(pairs.shape[0]), pairs[:, 1]] = 1.0
                rows.append(E)
                lo.append(np.full(pairs.shape[0], -np.inf))
                hi.append(np.ones(pairs.shape[0]))
        lb = given[idx].astype(float)
        inc = self.model.included
        if inc.size:
            must = np.zeros(J, bool)
            must[inc] = True
            if not pool[inc].all():
                return None
            lb = np.maximum(lb, must[idx])
        A, rlo, rhi = np.vstack(rows), np.concatenate(lo), np.concatenate(hi)
        test = self._lp(value, idx, A, rlo, rhi, lb) if self.relax else None
        if test is not None:
            return test
        res = milp(
            -value[idx],
            integrality=np.ones(idx.size),
            bounds=Bounds(lb, np.ones(idx.size)),
            constraints=LinearConstraint(A, rlo, rhi),
            options={"time_limit": self.time_limit, "presolve": False},  # small programs: presolve costs more
        )
        if res.x is None:
            return None
        test = np.zeros(J, bool)
        test[idx[res.x > 0.5]] = True
        return test

    def _lp(self, value, idx, A, rlo, rhi, lb) -> NDArray[np.bool_] | None:
        """The LP relaxation's vertex (dual simplex) when it is integral, else None: an integral optimum of the
        relaxation is feasible for the MILP and no worse than its optimum, so it is the MILP's optimum. Count rows
        over two partitions (areas, bands) are totally unimodular, so this is the usual case; enemies or crossed
        rows can make it fractional, and then the MILP is solved."""
        from scipy.optimize import linprog

        eq = rlo == rhi
        up = ~eq & np.isfinite(rhi)
        down = ~eq & np.isfinite(rlo)
        res = linprog(
            -value[idx],
            A_ub=np.vstack([A[up], -A[down]]),
            b_ub=np.concatenate([rhi[up], -rlo[down]]),
            A_eq=A[eq] if eq.any() else None,
            b_eq=rlo[eq] if eq.any() else None,
            bounds=np.column_stack([lb, np.ones(idx.size)]),
            method="highs-ds",
        )
        if res.x is None or np.abs(res.x - np.round(res.x)).max() > 1e-7:
            return None
        test = np.zeros(value.size, bool)
        test[idx[res.x > 0.5]] = True
        if not self._feasible(test):  # a tolerance gone wrong: let the MILP decide
            return None
        self.stats.lp += 1
        return test
