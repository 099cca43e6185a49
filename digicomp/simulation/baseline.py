"""Non-adaptive baselines run through the same engine: a fixed (linear) form, or random items, of length L.

The fixed form is the L items with the largest total information averaged over the design's prior,
∫ Σ_j I_j(θ) π(θ) dθ (the best single form for that population; Lord 1980, ch. 11), among the forms that meet
the design's content limits (each area's or competence's min and max, scaled by L / max_items), its shadow
constraints, exclusions and enemies: assembled by mixed-integer programming (:mod:`digicomp.assembly`), so no
minimum is skipped. It is given as L fixed first items, scored and stopped by the very same core as the adaptive
designs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.design import Design
from digicomp.cat.engine import AdaptiveTest
from digicomp.errors import DesignError

BASELINES = ("linear", "random", "none")


def fixed_form(engine: AdaptiveTest, length: int) -> NDArray[np.intp]:
    """Bank positions of the best ``length``-item form over the prior that meets the design's content limits,
    shadow constraints, exclusions and enemies; DesignError naming the limits that cannot all hold."""
    from digicomp.assembly import AssemblyError, assemble_one
    from digicomp.cat.shadow import design_spec

    core = engine.core
    usable = int(core.content.allowed.sum())
    if usable < length:
        raise DesignError(
            f"baseline: bank {engine.bank.id!r} has only {usable} usable items for a fixed form of {length}"
        )
    prior = np.exp(core.tables.log_prior - core.tables.log_prior.max())
    value = (prior / prior.sum()) @ core.tables.information
    try:
        return assemble_one(
            engine.bank, design_spec(engine.design, length), length, value, allowed=core.content.allowed
        )
    except AssemblyError as exc:
        raise DesignError(
            f"baseline: no fixed form of {length} items meets design {engine.design.id!r}: {exc}"
        ) from None


def baseline_design(kind: str, engine: AdaptiveTest, length: int) -> Design:
    """The ``linear`` or ``random`` baseline of ``length`` items, with the scoring and bank of ``engine``."""
    if length < 1:
        raise DesignError(f"baseline length = {length}; expected at least 1 item")
    base = engine.design
    common = {
        "bank": base.bank,
        "scoring": base.scoring,
        "content": base.content.model_copy(update={"constraints": [], "method": "none"}),
        "stop": {"max_items": length, "rules": []},
        "report": {"audit": False},
    }
    if kind == "linear":
        ids = [engine.bank.ids[j] for j in fixed_form(engine, length)]
        start = {"theta": base.start.theta, "first_items": {"n": length, "rule": "fixed", "items": ids}}
        return Design.model_validate(
            {
                **common,
                "id": f"linear-{length}",
                "start": start,
                "description": f"fixed form of the {length} items most informative over the prior",
            }
        )
    if kind == "random":
        return Design.model_validate(
            {
                **common,
                "id": f"random-{length}",
                "start": {"theta": base.start.theta},
                "selection": {"rule": "random"},
                "description": f"{length} items drawn at random for each person",
            }
        )
    raise DesignError(f"baseline = {kind!r}; expected one of {', '.join(BASELINES)}")
