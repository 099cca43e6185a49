"""The mixed-integer programs of test assembly, solved by HiGHS through ``scipy.optimize.milp``.

One builder for every use: N forms (x_fj binary, item j in form f) over the allowed items, the constraint
model's rows per form, enemies per form, items included in every form, and between forms either an exposure
cap Σ_f x_fj ≤ k or an overlap limit Σ_j w_fgj ≤ m with w_fgj ≥ x_fj + x_gj − 1 (van der Linden 2005, ch. 6).
The objective columns are added by the caller (see :mod:`digicomp.assembly.forms`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.assembly.model import ConstraintModel


@dataclass
class Program:
    """A MILP in scipy's form: minimise c·v subject to lo ≤ A v ≤ hi, bounds, integrality.

    ``pool`` maps the x columns of each form to bank positions: column ``f * P + p`` is item ``pool[p]`` in form f.
    ``groups`` names, per constraint row, the model node it enforces (for the infeasibility diagnosis).
    """

    c: NDArray[np.float64]
    A: object
    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    lb: NDArray[np.float64]
    ub: NDArray[np.float64]
    integrality: NDArray[np.int8]
    pool: NDArray[np.intp]
    n_forms: int
    groups: list[tuple]


class _Rows:
    """Sparse rows collected as COO triplets."""

    def __init__(self) -> None:
        self.r: list[NDArray] = []
        self.c: list[NDArray] = []
        self.v: list[NDArray] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.groups: list[tuple] = []

    def add(self, cols: NDArray, vals: NDArray | float, lo: float, hi: float, group: tuple) -> None:
        cols = np.asarray(cols, np.intp)
        k = len(self.lo)
        self.r.append(np.full(cols.size, k, np.intp))
        self.c.append(cols)
        self.v.append(np.broadcast_to(np.asarray(vals, float), cols.shape))
        self.lo.append(lo)
        self.hi.append(hi)
        self.groups.append(group)

    def matrix(self, n_cols: int):
        from scipy.sparse import csr_matrix

        if not self.lo:
            return csr_matrix((0, n_cols))
        return csr_matrix(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))), shape=(len(self.lo), n_cols)
        )


def build_program(
    model: ConstraintModel, n_forms: int, info: NDArray[np.float64], objective: str, target: NDArray | None
) -> Program:
    """The N-form program with its objective: ``minimax_target`` (min y, |I_f(θ_k) − T_k| ≤ y T_k, y the largest
    relative deviation), ``max_information`` (max y, I_f(θ_k) ≥ y) or ``sum`` (max Σ_f Σ_k I_f(θ_k)).
    ``info`` is (K, J): item information at the points."""
    pool = np.flatnonzero(model.allowed)
    P, N, K = pool.size, n_forms, info.shape[0]
    cap = model.max_forms
    overlap = model.overlap_max
    if cap is None and overlap is None:
        cap = 1  # parallel forms share no item unless the spec allows it
    pair_list = [(f, g) for f in range(N) for g in range(f + 1, N)] if overlap is not None and N > 1 else []
    if overlap is not None and overlap == 0:
        cap, pair_list = min(cap or 1, 1), []
    n_x = N * P
    n_w = len(pair_list) * P
    n = n_x + n_w + 1  # the last column is y
    y = n - 1
    rows = _Rows()
    local = {int(j): p for p, j in enumerate(pool)}
    M = model.matrix[:, pool] if model.rows else np.zeros((0, P))
    for f in range(N):
        base = f * P
        for r, row in enumerate(model.rows):
            cols = np.flatnonzero(M[r])
            rows.add(base + cols, 1.0, row.lo, row.hi, ("row", r))
        for i, j in model.enemies:
            rows.add(np.array([base + local[int(i)], base + local[int(j)]]), 1.0, -np.inf, 1.0, ("enemies",))
    if cap is not None and N > 1:
        for p in range(P):
            rows.add(np.arange(N) * P + p, 1.0, -np.inf, float(cap), ("exposure",))
    for k, (f, g) in enumerate(pair_list):
        w0 = n_x + k * P
        for p in range(P):  # w ≥ x_f + x_g − 1
            rows.add(np.array([w0 + p, f * P + p, g * P + p]), np.array([1.0, -1.0, -1.0]), -1.0, np.inf, ("overlap",))
        rows.add(np.arange(w0, w0 + P), 1.0, -np.inf, float(overlap), ("overlap",))
    c = np.zeros(n)
    if objective == "sum":
        c[:n_x] = -np.tile(info[:, pool].sum(axis=0), N)
    else:
        for f in range(N):
            for k in range(K):
                cols = np.append(f * P + np.arange(P), y)
                if objective == "minimax_target":  # −y T ≤ I − T ≤ y T (y a relative deviation), as two rows
                    t = float(target[k])
                    rows.add(cols, np.append(info[k, pool], -t), -np.inf, t, ("objective",))
                    rows.add(cols, np.append(info[k, pool], t), t, np.inf, ("objective",))
                else:
                    rows.add(cols, np.append(info[k, pool], -1.0), 0.0, np.inf, ("objective",))
        c[y] = 1.0 if objective == "minimax_target" else -1.0
    lb = np.zeros(n)
    ub = np.ones(n)
    ub[y] = np.inf
    for j in model.included:
        lb[np.arange(N) * P + local[int(j)]] = 1.0
    integrality = np.ones(n, np.int8)
    integrality[n_x:] = 0  # w and y continuous (w is integral at any optimum of the x's)
    return Program(c, rows.matrix(n), np.array(rows.lo), np.array(rows.hi), lb, ub, integrality, pool, N, rows.groups)


def solve(program: Program, time_limit: float | None = None, gap: float | None = None):
    """scipy.optimize.milp on ``program``; the OptimizeResult (status 0 optimal, 1 limit reached, 2 infeasible)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    options: dict = {}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    if gap is not None:
        options["mip_rel_gap"] = float(gap)
    constraints = [LinearConstraint(program.A, program.lo, program.hi)] if program.A.shape[0] else []
    return milp(
        program.c,
        integrality=program.integrality,
        bounds=Bounds(program.lb, program.ub),
        constraints=constraints,
        options=options,
    )
