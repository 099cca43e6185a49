"""hypothesis stateful test: any sequence of valid and invalid calls leaves a consistent session."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from digicomp.cat import AdaptiveTest
from digicomp.errors import SessionError

from .conftest import content_bank

BANK = content_bank(n=40, enemies=5, self_assessment=0)
ENGINE = AdaptiveTest(
    BANK,
    {
        "stop": {"max_items": 8, "rules": [{"se": 0.4}]},
        "exposure": {"method": "randomesque", "k": 3},
        "content": {"constraints": [{"group": "1", "min": 2}]},
    },
    hmac_key=b"k",
)


class SessionMachine(RuleBasedStateMachine):
    """Drive a session with right, wrong and malformed calls; compare with a model of what must hold."""

    def __init__(self) -> None:
        super().__init__()
        self.session = ENGINE.start(person_id="h", seed=3)
        self.answered: list[str] = []
        self.served: str | None = None

    @rule()
    def next_item(self):
        item = self.session.next_item()
        if item is None:
            assert self.session.finished
        else:
            assert self.served in (None, item.id)
            self.served = item.id

    @precondition(lambda self: self.served is not None)
    @rule(option=st.sampled_from(["A", "B", "C", "D"]))
    def answer_served(self, option):
        self.session.record(self.served, option)
        self.answered.append(self.served)
        self.served = None

    @rule(item=st.sampled_from(BANK.ids), answer=st.one_of(st.sampled_from(["A", "B", "Z"]), st.integers(-1, 3)))
    def answer_anything(self, item, answer):
        before = self.session.to_json()
        try:
            self.session.record(item, answer)
        except SessionError:
            assert self.session.to_json() == before
        else:
            assert item == self.served and answer in ("A", "B")
            self.answered.append(item)
            self.served = None

    @rule()
    def save_and_resume(self):
        self.session = ENGINE.resume(self.session.to_json())

    @rule(field=st.sampled_from(["scores", "items", "key"]))
    def tampered_state_is_refused(self, field):
        data = json.loads(self.session.to_json())
        data[field] = data[field][::-1] + ["x"] if isinstance(data[field], list) else "0" * 16
        try:
            ENGINE.resume(json.dumps(data))
        except SessionError:
            return
        raise AssertionError("tampered state accepted")

    @invariant()
    def consistent(self):
        s = self.session
        assert s.items == self.answered
        n = len(self.answered)
        assert int(s.state.n_given[0]) == n <= 8
        assert len(set(self.answered)) == n
        given = s.state.administered[0]
        assert given.sum() == n
        pairs = BANK.enemy_pairs
        assert not np.any(given[pairs[:, 0]] & given[pairs[:, 1]])
        if s.finished:
            assert s.next_item() is None and s.stop_reason
        assert np.isfinite(s.theta) and s.se > 0


TestSession = SessionMachine.TestCase
TestSession.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
