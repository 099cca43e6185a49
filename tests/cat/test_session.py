"""The live session: item views without keys, server-side scoring, refusals, small signed resumable state."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.cat import (
    AdaptiveTest,
    DuplicateAnswerError,
    InvalidAnswerError,
    SessionFinishedError,
    StateMismatchError,
    TamperedStateError,
    WrongItemError,
)
from digicomp.errors import SessionError

from .conftest import answer_for, content_bank, params_bank

DESIGN = {"stop": {"max_items": 12, "rules": [{"se": 0.3}]}}


def play(engine, bank, theta, seed, resume_every_step=False):
    """Run a session answering as a person with true θ; optionally save and resume after every call."""
    rng = np.random.default_rng(seed)
    session = engine.start(person_id="p", seed=seed)
    while True:
        if resume_every_step:
            session = engine.resume(session.to_json())
        item = session.next_item()
        if item is None:
            return session
        if resume_every_step:
            session = engine.resume(session.to_json())
        j = bank.ids.index(item.id)
        p = bank.params.prob(np.array(theta))[j]
        score = int(rng.random() > p[0])
        session.record(item.id, answer_for(bank, item.id, score))


def test_item_view_carries_content_but_no_key(cbank):
    engine = AdaptiveTest(cbank, DESIGN)
    view = engine.start(seed=1).next_item()
    data = view.to_dict()
    assert "key" not in data and "explanation" not in data and "params" not in data
    assert {o["id"] for o in data["options"]} == {"A", "B", "C", "D"}
    assert data["stem"]["vi"] and data["position"] == 1


def test_next_item_repeats_the_served_item_until_it_is_answered(cbank):
    session = AdaptiveTest(cbank, DESIGN).start(seed=2)
    assert session.next_item().id == session.next_item().id


def test_answers_are_scored_server_side_against_the_key(cbank):
    session = AdaptiveTest(cbank, DESIGN).start(seed=3)
    item = session.next_item()
    session.record(item.id, cbank.item(item.id).key)
    assert session.state.responses[0, 0] == 1


@pytest.mark.parametrize("case", ["wrong_item", "twice", "bad_option", "finished", "no_item_served"])
def test_refused_calls_raise_their_error_and_leave_the_session_unchanged(cbank, case):
    engine = AdaptiveTest(cbank, {"stop": {"max_items": 2}})
    session = engine.start(seed=4)
    first = session.next_item()
    if case == "no_item_served":
        session.record(first.id, "A")
        call, error = (lambda: session.record("q159", "A")), WrongItemError
    elif case == "wrong_item":
        other = next(i for i in cbank.ids if i != first.id)
        call, error = (lambda: session.record(other, "A")), WrongItemError
    elif case == "twice":
        session.record(first.id, "A")
        session.next_item()
        call, error = (lambda: session.record(first.id, "B")), DuplicateAnswerError
    elif case == "bad_option":
        call, error = (lambda: session.record(first.id, "Z")), InvalidAnswerError
    else:
        session.record(first.id, "A")
        second = session.next_item()
        session.record(second.id, "A")
        call, error = (lambda: session.record(second.id, "A")), SessionFinishedError
    before = session.to_json()
    with pytest.raises(error):
        call()
    assert session.to_json() == before
    assert issubclass(error, SessionError)


def test_resume_after_every_call_gives_the_uninterrupted_test(cbank):
    engine = AdaptiveTest(
        cbank,
        {
            "stop": {"max_items": 15, "rules": [{"se": 0.35}]},
            "exposure": {"method": "randomesque", "k": 3},
            "content": {"constraints": [{"group": "1", "min": 2}, {"group": "4", "max": 1}]},
        },
    )
    plain = play(engine, cbank, 0.4, seed=8)
    resumed = play(engine, cbank, 0.4, seed=8, resume_every_step=True)
    assert resumed.items == plain.items
    assert resumed.theta == pytest.approx(plain.theta, abs=1e-12)
    assert resumed.stop_reason == plain.stop_reason
    assert resumed.report()["audit"] == plain.report()["audit"]


def test_state_is_small_plain_json(cbank):
    engine = AdaptiveTest(cbank, {"stop": {"max_items": 40}})
    session = play(engine, cbank, 0.0, seed=5)
    text = session.to_json()
    assert len(json.loads(text)["items"]) == 40
    assert len(text.encode()) < 4096


def test_resume_with_another_design_or_bank_is_refused(cbank):
    session = play(AdaptiveTest(cbank, DESIGN), cbank, 0.0, seed=6)
    state = session.to_json()
    with pytest.raises(StateMismatchError, match="design"):
        AdaptiveTest(cbank, {"stop": {"max_items": 13, "rules": [{"se": 0.3}]}}).resume(state)
    with pytest.raises(StateMismatchError, match="bank"):
        AdaptiveTest(content_bank(seed=12), DESIGN).resume(state)


def test_signed_state_refuses_tampering_and_unsigned_states(cbank):
    engine = AdaptiveTest(cbank, DESIGN, hmac_key=b"secret")
    session = play(engine, cbank, 0.0, seed=7)
    state = json.loads(session.to_json())
    assert engine.resume(json.dumps(state)).theta == pytest.approx(session.theta)
    state["scores"][0] = 1 - state["scores"][0]
    with pytest.raises(TamperedStateError, match="signature"):
        engine.resume(json.dumps(state))
    unsigned = AdaptiveTest(cbank, DESIGN).start(seed=1).to_json()
    with pytest.raises(TamperedStateError):
        engine.resume(unsigned)


def test_unsigned_altered_scores_are_caught_by_the_replay(cbank):
    engine = AdaptiveTest(cbank, DESIGN)
    state = json.loads(play(engine, cbank, 0.0, seed=7).to_json())
    state["scores"][0] = 1 - state["scores"][0]
    with pytest.raises(TamperedStateError):
        engine.resume(json.dumps(state))


def test_parameter_banks_take_scored_categories():
    engine = AdaptiveTest(ItemBank.from_item_parameters(params_bank(30)), DESIGN)
    session = engine.start(seed=1)
    item = session.next_item()
    with pytest.raises(InvalidAnswerError, match="category 0..1"):
        session.record(item.id, "A")
    session.record(item.id, 1)
    assert session.report()["items"][0] == {"item": item.id, "answer": 1, "score": 1}


def test_report_has_level_probabilities_areas_and_audit(cbank):
    session = play(AdaptiveTest(cbank, {"stop": {"max_items": 20}}), cbank, 0.5, seed=9)
    rep = session.report()
    assert rep["finished"] and rep["stop_reason"] == "max_items" and rep["n_items"] == 20
    assert sum(rep["level_probabilities"].values()) == pytest.approx(1.0)
    assert rep["level"]["id"] in rep["level_probabilities"]
    assert sum(a["n_items"] for a in rep["areas"]) == 20
    assert len(rep["audit"]) == 20 and rep["audit"][0]["rule"] == "mfi"
    assert rep["audit"][3]["removed"]["administered"] == 3


def test_the_audit_names_first_items_by_the_design_key_not_pretest(cbank):
    """First items (``start.first_items``) are scored items, not seeded pretest items: the audit says so."""
    engine = AdaptiveTest(cbank, {"start": {"first_items": {"n": 2}}, "stop": {"max_items": 4}})
    session = engine.start(seed=3)
    while (item := session.next_item()) is not None:
        session.record(item.id, answer_for(cbank, item.id, 1))
    assert [step["rule"] for step in session.report()["audit"]] == ["first_items", "first_items", "mfi", "mfi"]
