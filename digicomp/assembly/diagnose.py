"""Why a spec cannot be met: the fewest constraint groups whose relaxation makes the forms feasible.

Elastic programming (Chinneck 2008, ch. 6; Huitzing, Veldkamp & Verschoor 2005 for test assembly): every group
of rows that one spec entry made (``constraints[3]``, ``length``, ``include``, ``enemies``, ``overlap``/``exposure``)
gets a binary switch z_g that, when on, lets its rows go by up to their whole range. Minimising Σ z_g finds a
smallest set of spec entries that cannot all hold together; each is named with its file line and with how far the
relaxed solution had to break it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.assembly.milp import Program


@dataclass(frozen=True)
class Conflict:
    """One spec entry in the smallest relaxation: its node, where it is in the file, and what breaking it took."""

    where: tuple
    location: str
    detail: str


def _group_of(program: Program, model, key: tuple) -> tuple:
    """The spec node behind a row group key of the program."""
    if key[0] == "row":
        return model.rows[key[1]].where
    return (key[0],)


def diagnose(program: Program, model, time_limit: float = 30.0, alternatives: int = 4) -> list[list[Conflict]]:
    """Smallest sets of spec entries whose relaxation makes ``program`` feasible: the first minimum relaxation and
    up to ``alternatives`` more of the same size (each found after forbidding those before), so a user sees every
    entry the conflict runs through, not just the one the solver happened to pick."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix, hstack, vstack

    A = program.A.tocsr()
    keep = [i for i, g in enumerate(program.groups) if g[0] != "objective"]
    A = A[keep]
    lo, hi = program.lo[keep], program.hi[keep]
    nodes = [_group_of(program, model, program.groups[i]) for i in keep]
    included = np.flatnonzero(program.lb[: program.n_forms * program.pool.size] > 0)
    names = list(dict.fromkeys(nodes + ([("include",)] if included.size else [])))
    G, n = len(names), A.shape[1]
    col_of = {g: n + k for k, g in enumerate(names)}
    big = np.asarray(abs(A).sum(axis=1)).ravel() + np.where(np.isfinite(lo), np.abs(lo), 0) + 1.0
    rows, rlo, rhi = [], [], []
    z = np.array([col_of[g] - n for g in nodes])
    Z = csr_matrix((big, (np.arange(len(nodes)), z)), shape=(len(nodes), G))
    low = np.isfinite(lo)
    high = np.isfinite(hi)
    if low.any():  # a x + M z ≥ lo
        rows.append(hstack([A[low], Z[low]]))
        rlo.append(lo[low])
        rhi.append(np.full(low.sum(), np.inf))
    if high.any():  # a x − M z ≤ hi
        rows.append(hstack([A[high], -Z[high]]))
        rlo.append(np.full(high.sum(), -np.inf))
        rhi.append(hi[high])
    lb = program.lb.copy()
    if included.size:  # x_fj + z_include ≥ 1 instead of the fixing
        lb[included] = 0.0
        k = col_of[("include",)] - n
        inc = csr_matrix((np.ones(included.size), (np.arange(included.size), included)), shape=(included.size, n))
        zc = csr_matrix(
            (np.ones(included.size), (np.arange(included.size), np.full(included.size, k))), shape=(included.size, G)
        )
        rows.append(hstack([inc, zc]))
        rlo.append(np.ones(included.size))
        rhi.append(np.full(included.size, np.inf))
    c = np.concatenate([np.zeros(n), np.ones(G)])
    base = vstack(rows).tocsr()
    cuts: list[NDArray] = []
    found: list[list[Conflict]] = []
    size = None
    for _ in range(alternatives + 1):
        extra = [base] + [csr_matrix(np.concatenate([np.zeros(n), cut])[None, :]) for cut in cuts]
        res = milp(
            c,
            integrality=np.concatenate([program.integrality, np.ones(G, np.int8)]),
            bounds=Bounds(np.concatenate([lb, np.zeros(G)]), np.concatenate([program.ub, np.ones(G)])),
            constraints=[
                LinearConstraint(
                    vstack(extra).tocsr(),
                    np.concatenate([np.concatenate(rlo), np.full(len(cuts), -np.inf)]),
                    np.concatenate([np.concatenate(rhi), [cut.sum() - 1 for cut in cuts]]),
                )
            ],
            options={"time_limit": time_limit},
        )
        if res.x is None:
            break
        on = np.flatnonzero(res.x[n:] > 0.5)
        if size is not None and on.size > size:
            break
        size = on.size
        found.append(_conflicts(program, model, [names[k] for k in on], res.x[:n], A, lo, hi, nodes, keep, included))
        cut = np.zeros(G)
        cut[on] = 1.0
        cuts.append(cut)  # forbid this set: Σ_{g in set} z_g ≤ |set| − 1
    if not found:
        return [[Conflict(("(spec)",), model.locate(()), "no relaxation of the spec entries is feasible")]]
    return found


def _conflicts(program, model, on, x, A, lo, hi, nodes, keep, included) -> list[Conflict]:
    """The relaxed entries ``on`` with what the relaxed solution ``x`` did to their rows."""
    values = A @ x
    out = []
    for g in on:
        broken = [
            f"{_row_text(program, model, keep[i])} = {values[i]:g}, outside [{lo[i]:g}, {hi[i]:g}]"
            for i in range(len(nodes))
            if nodes[i] == g and (values[i] < lo[i] - 1e-6 or values[i] > hi[i] + 1e-6)
        ]
        if g == ("include",):
            broken = [f"{len(included)} fixed items"]
        out.append(Conflict(g, model.locate(g), "; ".join(broken[:4]) + (" ..." if len(broken) > 4 else "")))
    return out


def _row_text(program: Program, model, i: int) -> str:
    """A short name of program row i (its form and the model row's label)."""
    key = program.groups[i]
    if key[0] == "row":
        return model.rows[key[1]].label
    return key[0]
