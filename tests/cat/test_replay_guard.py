"""Client-held states under a replay guard: an older signed state cannot answer again, a retry of the newest can;
two uses of one state get exactly one answer; and a resumed session keeps every audit entry (issue 14)."""

from __future__ import annotations

import json
import threading

import pytest

from digicomp.bank import ItemBank
from digicomp.cat import AdaptiveTest, TamperedStateError
from digicomp.cat.errors import ReplayedStateError
from digicomp.cat.replay import MemoryReplayGuard

from .conftest import answer_for, params_bank

PBANK = ItemBank.from_item_parameters(params_bank(40))
DESIGN = {"stop": {"max_items": 8}}


def guarded() -> AdaptiveTest:
    return AdaptiveTest(PBANK, DESIGN, hmac_key=b"test key", replay_guard=MemoryReplayGuard())


def test_an_older_signed_state_cannot_answer_its_item_again():
    engine = guarded()
    session = engine.start(person_id="p", seed=3)
    item = session.next_item()
    before = session.to_json()  # the state a cheating client keeps
    session.record(item.id, answer_for(PBANK, item.id, 0))
    session.next_item()
    after = session.to_json()
    assert json.loads(after)["step"] == 1 and json.loads(before)["step"] == 0
    with pytest.raises(ReplayedStateError):
        engine.resume(before)  # refused at once: its step is below the session's mark
    resumed = engine.resume(after)  # the newest state resumes
    assert resumed.items == session.items


def test_of_two_uses_of_one_state_exactly_one_answer_is_accepted():
    engine = guarded()
    session = engine.start(person_id="p", seed=4)
    item = session.next_item()
    state = session.to_json()
    first, second = engine.resume(state), engine.resume(state)  # two tabs resumed the same state
    first.record(item.id, answer_for(PBANK, item.id, 1))
    with pytest.raises(ReplayedStateError):
        second.record(item.id, answer_for(PBANK, item.id, 0))
    assert second.step == 0 and second.to_json() == state  # the refused call changed nothing


def test_concurrent_answers_from_one_state_are_accepted_once():
    engine = guarded()
    session = engine.start(seed=5)
    item = session.next_item()
    state = session.to_json()
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def answer() -> None:
        s = engine.resume(state)
        barrier.wait()
        try:
            s.record(item.id, answer_for(PBANK, item.id, 1))
            outcomes.append("ok")
        except ReplayedStateError:
            outcomes.append("refused")

    threads = [threading.Thread(target=answer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    assert engine.replay_guard.mark(json.loads(state)["nonce"]) == 1


def test_a_guarded_engine_refuses_states_without_nonce_or_with_a_false_step():
    engine = guarded()
    plain = AdaptiveTest(PBANK, DESIGN, hmac_key=b"test key")
    unguarded = plain.start(seed=6)
    item = unguarded.next_item()
    unguarded.record(item.id, answer_for(PBANK, item.id, 1))
    with pytest.raises(TamperedStateError, match="nonce: missing"):
        engine.resume(unguarded.to_json())
    session = engine.start(seed=6)
    item = session.next_item()
    session.record(item.id, answer_for(PBANK, item.id, 1))
    data = json.loads(session.to_json())
    data["step"] = 5
    unsigned = AdaptiveTest(PBANK, DESIGN, replay_guard=engine.replay_guard)
    data.pop("signature")
    with pytest.raises(TamperedStateError, match="step: 5"):
        unsigned.resume(data)


def test_unguarded_states_are_unchanged():
    engine = AdaptiveTest(PBANK, DESIGN)
    data = json.loads(engine.start(seed=1).to_json())
    assert "nonce" not in data and "step" not in data


def test_resume_then_record_keeps_the_audit_of_the_item_served_before_saving():
    """Under progressive-restricted exposure the replay cannot re-derive the choices, so the state carries the trail."""
    design = {"stop": {"max_items": 6}, "exposure": {"method": "progressive_restricted", "r_max": 0.3}}
    engine = AdaptiveTest(PBANK, design)
    plain, resumed = engine.start(seed=2), None
    for k in range(4):
        item = plain.next_item()
        resumed = engine.resume(plain.to_json())  # saved with the item served, then resumed and answered
        resumed.record(item.id, answer_for(PBANK, item.id, k % 2))
        plain.record(item.id, answer_for(PBANK, item.id, k % 2))
    assert [a["item"] for a in resumed.report()["audit"]] == plain.items
    assert resumed.report()["audit"] == plain.report()["audit"]


def test_a_session_started_with_audit_keeps_it_when_its_design_has_none():
    engine = AdaptiveTest(PBANK, {"stop": {"max_items": 6}, "report": {"audit": False}})
    session = engine.start(seed=2, audit=True)
    item = session.next_item()
    resumed = engine.resume(session.to_json())
    resumed.record(item.id, answer_for(PBANK, item.id, 1))
    session.record(item.id, answer_for(PBANK, item.id, 1))
    assert resumed.report()["audit"] == session.report()["audit"] != []


def test_a_trusted_resume_gives_the_same_session_and_still_checks_scores():
    engine = AdaptiveTest(PBANK, {"stop": {"max_items": 10}, "exposure": {"method": "randomesque", "k": 3}})
    plain = engine.start(seed=11, audit=False)
    k = 0
    while (item := plain.next_item()) is not None:
        state = plain.to_json()
        trusted = engine.resume(state, trusted=True)
        checked = engine.resume(state)
        assert trusted.to_json() == checked.to_json() == state
        assert trusted.next_item() == checked.next_item() == item
        plain.record(item.id, answer_for(PBANK, item.id, k % 2))
        k += 1
    forged = json.loads(plain.to_json())
    forged["scores"][0] = 1 - forged["scores"][0]
    with pytest.raises(TamperedStateError):
        engine.resume(forged, trusted=True)
