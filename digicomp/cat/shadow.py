"""The shadow-test selection rule (van der Linden & Reese 1998): before each item, assemble the full-length test
that holds the items already given, meets every constraint and is most informative at θ̂; give its best free item.

Constraints: the design's ``content`` limits (per area or competence), enemies, exclusions, exposure eligibility
(the core's mask: items a person may not get now are fixed out of the shadow test) and ``selection.shadow.
constraints`` (any assembly-spec constraint: level bands, item types, crossed blueprints). The programs are
:class:`digicomp.assembly.shadow.ShadowAssembler`'s. A MILP has no batch form, so a lock-step step solves one
program per active person (the only per-person loop in the engine; persons with the same history share one solve).

Sympson–Hetter works unchanged: the criterion is −inf outside the shadow test, so the exposure walk goes down the
shadow test's free items in order of information, and an item it refuses is blocked and leaves the next shadow
test. Content targets (``method: mpi`` or ``kingsbury_zara``) are refused with this rule: its limits hold exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.assembly.model import build_model
from digicomp.assembly.shadow import ShadowAssembler
from digicomp.assembly.spec import AssemblySpec, Constraint
from digicomp.cat.context import StepContext
from digicomp.errors import DesignError

AUDIT_KEY = "shadow"
"""``state.info`` key of each row's latest shadow test (bank positions), read by the audit."""


@dataclass
class ShadowRule:
    """Criterion: each item's value at θ̂ for the free items of the person's shadow test, −inf for the rest."""

    assembler: ShadowAssembler
    objective: str = "information"

    def __call__(self, ctx: StepContext) -> NDArray[np.float64]:
        t = ctx.tables
        if self.objective == "posterior":
            value = t.exact_information.weigh(ctx.weights, (np.empty((ctx.n, t.n_items)), np.empty((ctx.n, t.n_items))))
        else:
            value = ctx.information
        out = np.full((ctx.n, t.n_items), -np.inf)
        state = ctx.state
        given = state.administered[ctx.rows]
        usable = ctx.eligible if ctx.eligible is not None else ~given
        tests = state.info.setdefault(AUDIT_KEY, {})
        for i, row in enumerate(ctx.rows.tolist()):  # one MILP per person: see the module docstring
            previous = tests.get(row)
            incumbent = None
            if previous is not None:
                incumbent = np.zeros(t.n_items, bool)
                incumbent[previous] = True
            test = self.assembler.solve(value[i], given[i], usable[i], incumbent)
            if test is None:  # no test meets every constraint now: the plain criterion, counted in the stats
                out[i] = value[i]
                tests.pop(row, None)
                continue
            free = test & ~given[i]
            out[i, free] = value[i, free]
            tests[row] = np.flatnonzero(test)
        return out


def design_spec(design: Any, length: int | None = None) -> AssemblySpec:
    """The design's content limits and shadow constraints as one assembly spec (enemies as the design says).

    For a test of ``length`` items other than ``stop.max_items`` (a baseline form of the mean length), each
    minimum is scaled down (floor) and each maximum up (ceil) by length / max_items.
    """
    content = design.content
    ratio = 1.0 if length is None else length / design.stop.max_items

    def scaled(c: Any) -> dict:
        lo = None if c.min is None else int(math.floor(c.min * ratio + 1e-9))
        hi = None if c.max is None else int(math.ceil(c.max * ratio - 1e-9))
        return {"min": lo, "max": hi}

    constraints = []
    if content.constraints:
        key = "competence" if content.by == "competence" else "area"
        for c in content.constraints:
            if c.min is not None or c.max is not None:
                constraints.append(Constraint(**{key: c.group, **scaled(c)}))
    shadow = design.selection.shadow
    for c in shadow.constraints if shadow is not None else []:
        constraints.append(c if ratio == 1.0 else c.model_copy(update=scaled(c)))
    return AssemblySpec(constraints=constraints, enemies=content.enemies)


def shadow_problems(bank: Any, design: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Every place the shadow rule's settings do not fit ``bank`` or the rest of the design (node paths)."""
    if design.selection.rule != "shadow":
        return []
    from digicomp.assembly.model import spec_problems

    out = []
    if design.content.method != "none":
        out.append(
            (
                ("content", "method"),
                f"rule 'shadow' meets content limits exactly; target steering ({design.content.method!r}) does not "
                "apply to it: set method 'none' and give min/max limits",
            )
        )
    shadow = design.selection.shadow
    if shadow is not None and shadow.constraints:
        spec = AssemblySpec(constraints=list(shadow.constraints))
        for loc, msg in spec_problems(bank, spec, design.stop.max_items):
            if loc and loc[0] == "constraints":
                out.append((("selection", "shadow") + tuple(loc), msg))
    return out


def build_shadow_rule(bank: Any, design: Any, allowed: NDArray[np.bool_]) -> ShadowRule:
    """The shadow rule of ``design`` on ``bank``; ``allowed`` the items the design may ever give."""
    spec = design_spec(design)
    try:
        model = build_model(bank, spec, design.stop.max_items)
    except DesignError:
        raise
    except Exception as exc:  # an AssemblyError: the design's limits against the bank
        raise DesignError(f"selection.shadow: {exc}") from None
    model.allowed &= allowed
    shadow = design.selection.shadow
    candidates = shadow.candidates if shadow is not None else 60
    objective = shadow.objective if shadow is not None else "information"
    return ShadowRule(ShadowAssembler(model, candidates=candidates), objective)


@dataclass(frozen=True)
class ShadowMinimums:
    """What the stopper asks of content control, with the shadow constraints' minimums added: a variable-length
    test does not stop before every minimum of the shadow model (level bands, item types, ...) is met."""

    content: Any
    rows: NDArray[np.float64]
    lower: NDArray[np.float64]

    @classmethod
    def of(cls, content: Any, rule: ShadowRule) -> ShadowMinimums:
        """The content control ``content`` with ``rule``'s minimums (the length row left out)."""
        model = rule.assembler.model
        keep = np.flatnonzero(model.lower > 0)
        keep = keep[keep > 0]
        return cls(content, model.matrix[keep].T.copy(), model.lower[keep])

    def minimums_met(self, state: Any, rows: NDArray[np.intp]) -> NDArray[np.bool_] | bool:
        """True for persons who have met every content and shadow minimum."""
        met = self.content.minimums_met(state, rows)
        if self.lower.size == 0:
            return met
        counts = state.administered[rows].astype(float) @ self.rows
        return met & np.all(counts >= self.lower - 1e-9, axis=1)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.content, name)
