"""The saved state of a session at its boundary: malformed states are refused naming the field, real ones resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.cat import AdaptiveTest, InvalidAnswerError, TamperedStateError, WrongItemError
from digicomp.cat.exposure import ProgressiveRestricted
from digicomp.errors import DigicompError, SessionError

from .conftest import answer_for, params_bank

DESIGN = {"stop": {"max_items": 6}}
PBANK = ItemBank.from_item_parameters(params_bank(30))


def answered(engine: AdaptiveTest, n: int, seed: int = 1, person: str | None = "p", serve_next: bool = False):
    """A session of ``engine`` with ``n`` answers (alternately right and wrong), the next item served if asked."""
    session = engine.start(person_id=person, seed=seed)
    for k in range(n):
        item = session.next_item()
        session.record(item.id, answer_for(engine.bank, item.id, k % 2))
    if serve_next:
        session.next_item()
    return session


def state_of(session) -> dict:
    """The session's saved state, parsed."""
    return json.loads(session.to_json())


def nested(depth: int) -> str:
    """A state whose ``person`` is a list nested ``depth`` deep."""
    return '{"format":"digicomp.session/1","person":' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("key", "-1", "key: must be 16 lowercase hex digits"),
        ("key", "1" * 17, "key: must be 16 lowercase hex digits"),
        ("key", "0123456789ABCDEF", "key: must be 16 lowercase hex digits"),
        ("seeded", [1], "seeded"),
        ("scores", [[float("inf"), {}], 0, 1], r"scores\[0\]"),
        ("scores", {}, "scores: Input should be a valid list"),
        ("scores", [1.5, 0, 1], r"scores\[0\]"),
        ("scores", [2**70, 0, 1], r"scores\[0\]"),
        ("scores", [True, 0, 1], r"scores\[0\]"),
        ("scores", [-1, 0, 1], r"scores\[0\]"),
        ("person", 5, "person: Input should be a valid string"),
        ("person", "\ud800", "person: .*not valid Unicode"),
        ("items", ["item1", "item2"], "one entry per answered item"),
        ("answers", [1.0, 0, 1], r"answers\[0\]"),
        ("pending", ["item3"], "pending"),
        ("stop_reason", 0, "stop_reason"),
        ("extra", 1, "extra: not a field of a saved session state"),
    ],
)
def test_malformed_fields_are_refused_naming_the_field(field, value, message):
    engine = AdaptiveTest(PBANK, DESIGN)
    data = state_of(answered(engine, 3))
    data[field] = value
    for state in (json.dumps(data), data):  # as text and as the parsed dict
        with pytest.raises(TamperedStateError, match=message):
            engine.resume(state)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(nested(100_000), "not JSON", id="nested-100000"),
        pytest.param(nested(2_000), "not JSON", id="nested-2000"),
        (b'{"format": "digicomp.session/1", "person": "\xff"}', "not JSON"),
        ("[]", "must be a JSON object"),
        ('{"format": 1}', "format 1"),
        ('{"format": "digicomp.session/1"}', "bank: missing"),
    ],
)
def test_text_that_is_not_a_state_is_refused(text, message):
    with pytest.raises(TamperedStateError, match=message):
        AdaptiveTest(PBANK, DESIGN).resume(text)


@pytest.mark.parametrize("value", [None, 3, ["{}"], 2.5])
def test_a_state_that_is_neither_text_nor_a_dict_is_refused(value):
    with pytest.raises(TamperedStateError, match="JSON text or a dict"):
        AdaptiveTest(PBANK, DESIGN).resume(value)


@pytest.mark.parametrize("signature", ["é" * 64, "0" * 63, "A" * 64, 7], ids=["non-ascii", "short", "upper", "int"])
def test_signed_engines_refuse_malformed_signatures(signature):
    engine = AdaptiveTest(PBANK, DESIGN, hmac_key=b"k")
    data = state_of(answered(engine, 2))
    data["signature"] = signature
    with pytest.raises(TamperedStateError, match="signature"):
        engine.resume(json.dumps(data))


def test_content_free_scores_must_be_the_answered_category():
    engine = AdaptiveTest(PBANK, DESIGN)
    data = state_of(answered(engine, 3))
    assert data["answers"][:2] == data["scores"][:2] == [0, 1]
    data["scores"][1] = 0  # answer 1, score 0
    with pytest.raises(TamperedStateError, match=r"scores\[1\]: 0 is not the score of answer 1"):
        engine.resume(json.dumps(data))


def test_pending_item_must_be_the_one_this_engine_serves():
    engine = AdaptiveTest(PBANK, DESIGN)
    session = answered(engine, 2, serve_next=True)
    data = state_of(session)
    assert engine.resume(json.dumps(data)).next_item().id == data["pending"]
    data["pending"] = next(i for i in PBANK.ids if i not in data["items"] and i != data["pending"])
    with pytest.raises(TamperedStateError, match="pending: item .* where this engine serves"):
        engine.resume(json.dumps(data))


def test_numpy_integer_answers_are_kept_as_plain_json():
    engine = AdaptiveTest(PBANK, DESIGN)
    session = engine.start(seed=3)
    session.record(session.next_item().id, np.int64(1))
    session.record(session.next_item().id, np.uint8(0))
    data = state_of(session)
    assert data["answers"] == [1, 0] and all(type(a) is int for a in session.answers)
    assert engine.resume(session.to_json()).to_json() == session.to_json()


@pytest.mark.parametrize("answer", [np.float64(1.0), 1.0, True, np.bool_(True), "1", None, [1], np.array([1])])
def test_answers_that_are_not_a_category_are_refused_and_change_nothing(answer):
    session = AdaptiveTest(PBANK, DESIGN).start(seed=4)
    item = session.next_item()
    before = session.to_json()
    with pytest.raises(InvalidAnswerError, match=f"item {item.id!r}: .* must be a category 0..1"):
        session.record(item.id, answer)
    assert session.to_json() == before


@pytest.mark.parametrize("item_id", [None, 3, ["item1"], np.array(["item1"])])
def test_item_ids_that_are_not_strings_are_refused(item_id):
    session = AdaptiveTest(PBANK, DESIGN).start(seed=4)
    session.next_item()
    with pytest.raises(WrongItemError, match="an item id is a string"):
        session.record(item_id, 1)


@pytest.mark.parametrize("person", [5, b"p", ["p"], "\udcff"])
def test_start_refuses_person_ids_that_are_not_text(person):
    with pytest.raises(SessionError, match="person_id"):
        AdaptiveTest(PBANK, DESIGN).start(person_id=person, seed=1)


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "3", True, (1, -1), (1, 2, 3), (2**70, 0)])
def test_start_refuses_seeds_that_are_not_non_negative_integers(seed):
    with pytest.raises(SessionError, match="seed must be a non-negative integer"):
        AdaptiveTest(PBANK, DESIGN).start(seed=seed)


def test_messages_without_a_person_id_do_not_say_none():
    engine = AdaptiveTest(PBANK, {"stop": {"max_items": 1}})
    session = engine.start(seed=1)
    messages = []
    for call in (
        lambda: session.record("item0", 1),  # nothing served yet
        lambda: session.record(session.next_item().id, 7),
    ):
        with pytest.raises(DigicompError) as info:
            call()
        messages.append(str(info.value))
    item = session.next_item()
    session.record(item.id, 1)
    for call in (lambda: session.record(item.id, 1), lambda: session.record("item0", 1)):
        with pytest.raises(SessionError) as info:
            call()
        messages.append(str(info.value))
    assert not any("None" in m for m in messages), messages
    assert messages[0] == "session: answer for item 'item0', but no item is served (call next_item() first)"
    named = engine.start(person_id="u1", seed=1)
    with pytest.raises(WrongItemError, match="^session of 'u1': answer for item 'item0'"):
        named.record("item0", 1)


@pytest.mark.parametrize("exposure", [{"method": "none"}, {"method": "progressive_restricted", "r_max": 0.5}])
def test_a_session_that_ran_out_of_items_resumes_from_its_own_state(exposure):
    tiny = ItemBank.from_item_parameters(params_bank(4))
    engine = AdaptiveTest(tiny, {"stop": {"max_items": 6}, "exposure": exposure})
    session = answered(engine, 4)
    assert session.next_item() is None and session.stop_reason == "no_items"
    persons = engine.ledger.persons
    again = engine.resume(session.to_json())
    assert again.stop_reason == "no_items" and again.items == session.items and again.theta == session.theta
    assert again.to_json() == session.to_json()
    assert engine.ledger.persons == persons  # resuming does not count the person again


def test_a_state_claiming_no_items_left_while_items_are_left_is_refused():
    engine = AdaptiveTest(PBANK, DESIGN)
    data = state_of(answered(engine, 2))
    data["stop_reason"] = "no_items"
    with pytest.raises(TamperedStateError, match="stop_reason: 'no_items', but this engine still serves"):
        engine.resume(json.dumps(data))


def test_a_refused_state_leaves_the_exposure_ledger_unchanged():
    engine = AdaptiveTest(ItemBank.from_item_parameters(params_bank(4)), {"stop": {"max_items": 6}})
    session = answered(engine, 4)
    session.next_item()
    data = state_of(session)
    data["items"].append("item0")
    data["scores"].append(0)
    data["answers"].append(0)
    persons = engine.ledger.persons
    with pytest.raises(TamperedStateError, match=r"items\[4\]"):
        engine.resume(json.dumps(data))
    assert engine.ledger.persons == persons


@pytest.mark.parametrize("when", ["every_call", "item_pending"])
@pytest.mark.parametrize(
    "exposure",
    [
        {"method": "sympson_hetter", "parameters": dict.fromkeys(PBANK.ids[::2], 0.3)},
        {"method": "item_eligibility", "r_max": 0.3},
        {"method": "progressive_restricted", "r_max": 0.3},
    ],
    ids=["sympson_hetter", "item_eligibility", "progressive_restricted"],
)
def test_resumed_sessions_give_the_uninterrupted_test_under_exposure_control(exposure, when):
    design = {"stop": {"max_items": 10}, "exposure": exposure, "report": {"audit": True}}

    def run(resume: bool):
        engine = AdaptiveTest(PBANK, design)
        for person in range(5):  # earlier test takers fill the ledger the later ones read
            session = engine.start(seed=(9, person))
            while True:
                if resume and when == "every_call":
                    session = engine.resume(session.to_json())
                item = session.next_item()
                if item is None:
                    break
                if resume:
                    session = engine.resume(session.to_json())
                session.record(item.id, answer_for(PBANK, item.id, len(session.items) % 2))
        return session, engine.ledger

    (plain, plain_ledger), (resumed, resumed_ledger) = run(False), run(True)
    assert resumed.items == plain.items and resumed.theta == plain.theta
    assert resumed.to_json() == plain.to_json()
    if not isinstance(resumed.engine.core.exposure, ProgressiveRestricted):  # its choices are not replayed
        assert resumed.report()["audit"] == plain.report()["audit"]
    assert resumed_ledger.persons == plain_ledger.persons == 5
    np.testing.assert_array_equal(resumed_ledger.given, plain_ledger.given)


@pytest.mark.parametrize(
    ("exposure", "field", "message"),
    [
        ({"method": "item_eligibility", "r_max": 0.3}, "ineligible", "ineligible: missing"),
        ({"method": "none"}, "ineligible", "ineligible: not expected"),
    ],
)
def test_the_eligibility_mask_is_present_exactly_under_item_eligibility(exposure, field, message):
    engine = AdaptiveTest(PBANK, {"stop": {"max_items": 6}, "exposure": exposure})
    data = state_of(answered(engine, 2))
    if field in data:
        del data[field]
    else:
        data[field] = []
    with pytest.raises(TamperedStateError, match=message):
        engine.resume(json.dumps(data))


def test_an_item_given_twice_is_refused_where_choices_are_not_replayed():
    restricted = {"method": "progressive_restricted", "r_max": 0.5}
    engine = AdaptiveTest(PBANK, {"stop": {"max_items": 6}, "exposure": restricted})
    data = state_of(answered(engine, 3))
    data["items"][2] = data["items"][0]
    data["answers"][2] = data["scores"][2] = data["answers"][0]
    with pytest.raises(TamperedStateError, match=r"items\[2\]: .* cannot be served at position 3"):
        engine.resume(json.dumps(data))
