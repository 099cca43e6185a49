"""Parallel fixed forms: N tests meeting every constraint, with information at chosen θ points matched to a target.

``assemble_forms`` builds the program of :mod:`digicomp.assembly.milp`, solves it with HiGHS, and on an
infeasible spec raises AssemblyError naming the smallest set of conflicting spec entries (their file lines) from
:mod:`digicomp.assembly.diagnose`. ``target: auto`` is found first: the forms that maximise the total information
at the points give, per point, the mean over forms, which the minimax stage then holds every form to.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.assembly.diagnose import diagnose
from digicomp.assembly.errors import AssemblyError
from digicomp.assembly.milp import Program, build_program, solve
from digicomp.assembly.model import ConstraintModel
from digicomp.assembly.spec import AssemblySpec


@dataclass(frozen=True)
class FormsResult:
    """The assembled forms and how good they are.

    ``forms`` bank positions per form (sorted); ``points`` θ points and ``information`` (N, K) each form's test
    information there; ``target`` (K,) for minimax; ``value`` the objective reached (minimax: the largest relative
    deviation from the target; max_information: the smallest information), ``bound`` the best bound HiGHS proved
    for it; ``status`` ``optimal`` or ``time_limit`` (then ``gap`` is HiGHS's relative MIP gap, which for a minimax
    value near 0 says little: read value − bound); ``seconds`` wall time of the solves.
    """

    forms: list[NDArray[np.intp]]
    points: NDArray[np.float64]
    information: NDArray[np.float64]
    target: NDArray[np.float64] | None
    objective: str
    value: float
    bound: float
    status: str
    gap: float
    seconds: float

    @property
    def spread(self) -> NDArray[np.float64]:
        """Per point, (max − min) / min of the forms' information: 0 for exactly parallel forms."""
        info = self.information
        return (info.max(axis=0) - info.min(axis=0)) / info.min(axis=0)


def points_of(spec: AssemblySpec, bank: Any) -> NDArray[np.float64]:
    """The θ points of the objective: the bank's cut scores for ``at: cuts``."""
    at = spec.objective.at
    if at == "cuts":
        cuts = np.asarray(bank.cut_scores, float)
        if cuts.size == 0:
            raise AssemblyError(f"objective.at: 'cuts', but bank {bank.id!r} has no cut scores; list θ points")
        return cuts
    return np.asarray(at, float)


def _forms_of(program: Program, x: NDArray[np.float64]) -> list[NDArray[np.intp]]:
    P = program.pool.size
    return [np.sort(program.pool[np.flatnonzero(x[f * P : (f + 1) * P] > 0.5)]) for f in range(program.n_forms)]


def _raise_infeasible(program: Program, model: ConstraintModel, n_forms: int) -> None:
    sets = diagnose(program, model)
    what = f"{n_forms} forms" if n_forms > 1 else "form"
    head = (
        f"{model.source or 'spec'}: no {what} of {model.length} items meet{'s' if n_forms == 1 else ''} every "
        f"constraint; these entries cannot hold together (relaxing {len(sets[0])} of them is the least that helps"
        + (f"; {len(sets)} ways" if len(sets) > 1 else "")
        + "):"
    )
    lines = []
    for conflicts in sets:
        if len(sets) > 1:
            lines.append(f"  relax {' and '.join(c.location.rsplit(': ', 1)[-1] for c in conflicts)}:")
        lines += [f"    {c.location} (relaxed: {c.detail})" for c in conflicts]
    raise AssemblyError("\n".join([head] + lines))


def assemble_forms(
    bank: Any,
    model: ConstraintModel,
    spec: AssemblySpec,
    n_forms: int = 1,
    *,
    time_limit: float = 10.0,
    gap: float = 1e-4,
) -> FormsResult:
    """``n_forms`` forms meeting ``model``, optimised as ``spec.objective`` says (see the module docstring)."""
    if n_forms < 1:
        raise AssemblyError(f"forms = {n_forms}; expected at least 1")
    pool = int(model.allowed.sum())
    cap = model.max_forms if model.max_forms is not None else (1 if model.overlap_max in (None, 0) else n_forms)
    if pool * cap < n_forms * model.length:
        raise AssemblyError(
            f"{model.locate(('length',))}: {n_forms} forms of {model.length} items need {n_forms * model.length} "
            f"item uses; bank {bank.id!r} has {pool} usable items, each in at most {cap} form(s)"
        )
    points = points_of(spec, bank)
    info = np.asarray(bank.params.information(points), float).reshape(points.size, bank.n_items)
    obj = spec.objective
    started = time.perf_counter()
    target = None
    if obj.type == "minimax_target":
        if obj.target == "auto":
            first = build_program(model, n_forms, info, "sum", None)
            res = solve(first, time_limit=time_limit * 0.3, gap=gap)
            if res.x is None:
                if res.status == 2:
                    _raise_infeasible(first, model, n_forms)
                raise AssemblyError(f"no feasible forms found within {time_limit:g} s ({res.message})")
            forms = _forms_of(first, res.x)
            target = np.mean([info[:, f].sum(axis=1) for f in forms], axis=0)
        else:
            target = np.asarray(obj.target, float)
            if target.size != points.size:
                raise AssemblyError(f"objective.target has {target.size} values for {points.size} θ points (the cuts)")
    left = max(time_limit - (time.perf_counter() - started) - 0.2, 0.5)  # keep room for building the forms
    program = build_program(model, n_forms, info, obj.type, target)
    res = solve(program, time_limit=left, gap=gap)
    seconds = time.perf_counter() - started
    if res.x is None:
        if res.status == 2:
            _raise_infeasible(program, model, n_forms)
        raise AssemblyError(f"no feasible forms found within {time_limit:g} s ({res.message})")
    forms = _forms_of(program, res.x)
    information = np.array([info[:, f].sum(axis=1) for f in forms])
    broken = model.violations(_as_tests(forms, bank.n_items))
    if broken.any():  # never hand out a form that breaks a rule (a solver tolerance gone wrong)
        raise AssemblyError(f"the solver's forms break {int(broken.sum())} constraints; report this as a bug")
    status = "optimal" if res.status == 0 else "time_limit"
    mip_gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    value, bound = float(res.fun), float(getattr(res, "mip_dual_bound", res.fun))
    if obj.type == "max_information":  # minimised −y
        value, bound = -value, -bound
    return FormsResult(forms, points, information, target, obj.type, value, bound, status, mip_gap, seconds)


def _as_tests(forms: list[NDArray[np.intp]], n_items: int) -> NDArray[np.bool_]:
    tests = np.zeros((len(forms), n_items), bool)
    for f, items in enumerate(forms):
        tests[f, items] = True
    return tests
