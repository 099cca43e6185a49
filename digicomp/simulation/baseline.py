"""Non-adaptive baselines run through the same engine: a fixed (linear) form, or random items, of length L.

The fixed form is the L items with the largest information averaged over the design's prior,
∫ I_j(θ) π(θ) dθ (the best single form for that population; Lord 1980, ch. 11), skipping items the design
excludes and enemies of items already chosen. It is given as L fixed first items, scored and stopped
by the very same core as the adaptive designs.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.design import Design
from digicomp.cat.engine import AdaptiveTest
from digicomp.errors import DesignError

BASELINES = ("linear", "random", "none")


def fixed_form(engine: AdaptiveTest, length: int) -> NDArray[np.intp]:
    """Bank positions of the ``length`` items most informative over the prior, without enemy pairs."""
    core = engine.core
    prior = np.exp(core.tables.log_prior - core.tables.log_prior.max())
    value = (prior / prior.sum()) @ core.tables.information
    value = np.where(core.content.allowed, value, -np.inf)
    chosen: list[int] = []
    blocked = np.zeros(value.size, bool)
    for j in np.argsort(-value, kind="stable"):  # at most J cheap steps, once per study
        if len(chosen) == length or not np.isfinite(value[j]):
            break
        if blocked[j]:
            continue
        chosen.append(int(j))
        if core.enemies is not None:
            blocked |= core.enemies[j]
    if len(chosen) < length:
        raise DesignError(
            f"baseline: bank {engine.bank.id!r} has only {len(chosen)} usable items for a fixed form of {length}"
        )
    return np.array(chosen, dtype=np.intp)


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
