"""The single-code-path guarantee: a lock-step simulation gives each person the test a live session gives."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.cat import AdaptiveTest
from digicomp.cat.draws import STREAM_RESPONSE, uniforms
from digicomp.simulation import simulate
from tests.simulation.conftest import MFI_EAP

BALANCED = {
    "id": "balanced",
    "start": {"first_items": {"n": 2, "rule": "random"}},
    "selection": {"rule": "mpwi"},
    "exposure": {"method": "randomesque", "k": 4},
    "content": {
        "by": "area",
        "method": "mpi",
        "constraints": [{"group": g, "min": 2, "target": 0.25} for g in ("1", "2", "3", "4")],
    },
    "stop": {"min_items": 8, "max_items": 25, "rules": [{"classification": 0.9}, {"se": 0.35}]},
    "report": {"audit": False},
}


def live_test(engine: AdaptiveTest, seed: int, index: int, theta: float) -> tuple[list[str], float, float, str]:
    """One person's live session, answering each served item correctly iff u < P(correct | θ)."""
    bank = engine.bank
    session = engine.start(person_id=f"p{index}", seed=(seed, index))
    key = np.array([session.key], np.uint64)
    while (view := session.next_item()) is not None:
        j = bank.index_of(view.id)
        u = uniforms(key, len(session.items), STREAM_RESPONSE)[0]
        correct = u < bank.params.prob(np.array(theta))[j, 1]
        item = bank.item(view.id)
        if item.kind == "multiple_choice":
            wrong = next(o.id for o in item.options if o.id != item.key)
            session.record(view.id, item.key if correct else wrong)
        else:
            session.record(view.id, int(correct))
    return session.items, session.theta, session.se, session.stop_reason


@pytest.mark.parametrize("which", ["mfi-eap on a parameter bank", "balanced content bank"])
def test_lockstep_simulation_gives_each_person_the_live_session_test(which, param_bank, content_bank):
    bank, design = (param_bank, MFI_EAP) if which.startswith("mfi") else (content_bank, BALANCED)
    thetas = np.linspace(-2.5, 2.5, 12)
    result = simulate(design, bank=bank, thetas=thetas, seed=5, baseline="none", chunk_size=5)
    sim = result[design["id"]]
    engine = AdaptiveTest(bank, design)
    for i, theta in enumerate(thetas):
        items, est, se, reason = live_test(engine, 5, i, theta)
        assert sim.items(i) == items
        assert sim.outcome["theta"][i] == pytest.approx(est, abs=1e-12)
        assert sim.outcome["se"][i] == pytest.approx(se, abs=1e-12)
        assert sim.outcome["stop_reason"][i] == reason
