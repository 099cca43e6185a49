"""Automated test assembly: the constraint model (from a ``kind: assembly_spec`` file), parallel fixed forms by
mixed-integer programming (``scipy.optimize.milp``, HiGHS), infeasibility diagnosis, and shadow tests for CAT.

``load_spec`` → ``build_model`` → ``assemble_forms`` for paper forms; :class:`ShadowAssembler` for the
``shadow`` selection rule of :mod:`digicomp.cat`; ``assemble_one`` for one best form (the simulation baseline).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.assembly.errors import AssemblyError
from digicomp.assembly.forms import FormsResult, assemble_forms
from digicomp.assembly.model import ConstraintModel, build_model, item_attributes, spec_problems
from digicomp.assembly.shadow import ShadowAssembler
from digicomp.assembly.spec import AssemblySpec, load_spec, read_spec

__all__ = [
    "AssemblyError",
    "AssemblySpec",
    "ConstraintModel",
    "FormsResult",
    "ShadowAssembler",
    "assemble_forms",
    "assemble_one",
    "build_model",
    "item_attributes",
    "load_spec",
    "read_spec",
    "spec_problems",
]


def assemble_one(
    bank: Any,
    spec: AssemblySpec,
    length: int,
    value: NDArray[np.float64],
    allowed: NDArray[np.bool_] | None = None,
    time_limit: float = 10.0,
) -> NDArray[np.intp]:
    """Bank positions of the ``length``-item form meeting ``spec`` with the largest Σ_j value_j (one MILP);
    ``allowed`` (J,) further limits the items. AssemblyError with the diagnosis when no form exists."""
    from digicomp.assembly.forms import _raise_infeasible
    from digicomp.assembly.milp import build_program, solve

    model = build_model(bank, spec, length)
    if allowed is not None:
        model.allowed &= np.asarray(allowed, bool)
        if model.enemies.size:
            model.enemies = model.enemies[model.allowed[model.enemies[:, 0]] & model.allowed[model.enemies[:, 1]]]
    program = build_program(model, 1, np.asarray(value, float)[None, :], "sum", None)
    res = solve(program, time_limit=time_limit)
    if res.x is None:
        if res.status == 2:
            _raise_infeasible(program, model, 1)
        raise AssemblyError(f"no form of {length} items found within {time_limit:g} s ({res.message})")
    P = program.pool.size
    chosen = program.pool[np.flatnonzero(res.x[:P] > 0.5)]
    # most valuable first, equal values in bank order: rounded, so that values equal but for the last bit (items
    # with the same parameters, summed by another BLAS kernel) keep one order on every machine (the order in
    # which a fixed form is given decides which random draw answers each item in a simulation)
    rounded = np.round(np.asarray(value, float)[chosen], 12)
    return chosen[np.lexsort((chosen, -rounded))]
