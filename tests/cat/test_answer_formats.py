"""A live session with every item format: raw answers scored on the server into 0..K, kept as given in the saved
state, the report and the audit; malformed raw answers refused naming the item; a tampered answer refused on resume;
views show each format's content but never its key."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digicomp.bank import load_bank
from digicomp.bank.formats import max_score
from digicomp.bank.scoring import answer_for, score
from digicomp.cat import AdaptiveTest, InvalidAnswerError, TamperedStateError

FORMATS = Path(__file__).parents[1] / "bank" / "fixtures" / "formats.yaml"
ORDER = ["f-mc", "f-mr", "f-mr-aon", "f-ord", "f-match", "f-num", "f-text", "f-hotline"]
DESIGN = {
    "start": {"first_items": {"n": 8, "rule": "fixed", "items": ORDER}},
    "stop": {"max_items": 8},
    "report": {"levels": True, "areas": False, "audit": True},
}


@pytest.fixture(scope="module")
def engine() -> AdaptiveTest:
    return AdaptiveTest(load_bank(FORMATS), DESIGN)


def sit(engine: AdaptiveTest, categories: dict[str, int], resume: bool = False):
    """A session answering each item with a raw answer scoring ``categories[item]``."""
    session = engine.start(person_id="p", seed=5)
    while (view := session.next_item()) is not None:
        item = engine.bank.item(view.id)
        session.record(view.id, answer_for(item, categories[view.id]))
        if resume:
            session = engine.resume(session.to_json())
    return session


PARTIAL = {"f-mc": 1, "f-mr": 2, "f-mr-aon": 0, "f-ord": 1, "f-match": 3, "f-num": 1, "f-text": 0, "f-hotline": 1}


def test_raw_answers_are_scored_into_their_categories_and_kept_as_given(engine):
    session = sit(engine, PARTIAL)
    state = json.loads(session.to_json())
    assert state["items"] == ORDER
    assert state["scores"] == [PARTIAL[i] for i in ORDER]
    answers = dict(zip(state["items"], state["answers"]))
    assert (
        isinstance(answers["f-mr"], list) and isinstance(answers["f-match"], dict) and isinstance(answers["f-num"], str)
    )
    for item_id, answer in answers.items():  # what is stored scores to what was recorded
        assert score(engine.bank.item(item_id), answer)[1] == PARTIAL[item_id]
    report = session.report()
    assert [(r["item"], r["answer"], r["score"]) for r in report["items"]] == list(
        zip(ORDER, state["answers"], state["scores"])
    )
    assert [step["item"] for step in report["audit"]] == ORDER
    json.dumps(report)  # the report with raw answers is plain JSON


def test_resuming_after_every_answer_gives_the_same_test(engine):
    straight, resumed = sit(engine, PARTIAL), sit(engine, PARTIAL, resume=True)
    assert resumed.to_json() == straight.to_json()
    assert resumed.theta == pytest.approx(straight.theta, abs=1e-12)


def test_a_higher_partial_credit_category_raises_theta(engine):
    """GPCM categories are ordered: more keys found in f-mr (all else equal) gives a higher θ̂."""
    thetas = [sit(engine, {**PARTIAL, "f-mr": k}).theta for k in range(max_score(engine.bank.item("f-mr")) + 1)]
    assert np.all(np.diff(thetas) > 0), thetas


@pytest.mark.parametrize(
    ("position", "answer", "fragment"),
    [
        (1, "A,C", "'f-mr': answer 'A,C' must be a list of the option ids chosen"),
        (1, ["A", "A"], "'f-mr': answer ['A', 'A'] names an option twice"),
        (3, ["C", "A"], "'f-ord': answer ['C', 'A'] must give every option"),
        (4, {"p1": "X"}, "'f-match': answer pairs no choice with premise 'p2'"),
        (5, 6.5, "'f-num': answer 6.5 must be the typed text"),
        (5, "1.000", "'f-num': answer '1.000' is ambiguous"),
    ],
)
def test_malformed_raw_answers_are_refused_naming_the_item_and_change_nothing(engine, position, answer, fragment):
    session = engine.start(seed=5)
    for item_id in ORDER[:position]:
        assert session.next_item().id == item_id
        session.record(item_id, answer_for(engine.bank.item(item_id), 1))
    served = session.next_item().id
    before = session.to_json()
    with pytest.raises(InvalidAnswerError, match=fragment.replace("[", r"\[").replace("(", r"\(")):
        session.record(served, answer)
    assert session.to_json() == before and session.next_item().id == served


def test_a_saved_answer_changed_to_another_score_or_a_malformed_one_is_refused_on_resume(engine):
    state = json.loads(sit(engine, PARTIAL).to_json())
    k = ORDER.index("f-mr")
    other = dict(state, answers=[*state["answers"][:k], ["A", "C", "D"], *state["answers"][k + 1 :]])
    with pytest.raises(TamperedStateError, match=r"scores\[1\]: 2 is not the score of answer \['A', 'C', 'D'\]"):
        engine.resume(json.dumps(other))
    broken = dict(state, answers=[*state["answers"][:k], ["A", "Q"], *state["answers"][k + 1 :]])
    with pytest.raises(TamperedStateError, match=r"answers\[1\]: item 'f-mr': answer names 'Q'"):
        engine.resume(json.dumps(broken))
    nested = dict(state, answers=[*state["answers"][:k], [["A"]], *state["answers"][k + 1 :]])
    with pytest.raises(TamperedStateError, match=r"answers\[1\]: expected a raw answer"):
        engine.resume(json.dumps(nested))


def test_views_show_each_formats_content_but_never_its_key(engine):
    session = engine.start(seed=5)
    views = {}
    while (view := session.next_item()) is not None:
        views[view.id] = view.to_dict()
        session.record(view.id, answer_for(engine.bank.item(view.id), 0))
    for data in views.values():
        assert not {"key", "keys", "key_order", "key_map", "answer", "scoring", "params"} & set(data)
    assert [o["id"] for o in views["f-mr"]["options"]] == ["A", "B", "C", "D", "E"]
    assert views["f-mr"]["kind"] == "multiple_response" and views["f-ord"]["kind"] == "ordering"
    assert [p["id"] for p in views["f-match"]["premises"]] == ["p1", "p2", "p3"]
    assert [c["id"] for c in views["f-match"]["choices"]] == ["X", "Y", "Z"]
    assert views["f-num"]["kind"] == "short_answer" and "options" not in views["f-num"]
    assert views["f-num"]["answer_kind"] == "number" and views["f-text"]["answer_kind"] == "text"
    assert "answer_kind" not in views["f-mr"]
    assert views["f-mc"]["media"]["src"] == "media/phishing.svg" and views["f-mc"]["media"]["alt"]["vi"]


RAW = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 5) | st.sampled_from(["A", "B", "C", "D", "E", "X", "p1", "6,5", ""]),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(["p1", "p2", "p3", "A"]), inner),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 7), RAW)
def test_any_replaced_saved_answer_is_refused_or_rescored_to_the_same_state(engine, position, replacement):
    """A saved answer replaced by anything: TamperedStateError, or (an answer with the same score) the same test."""
    state = json.loads(sit(engine, PARTIAL).to_json())
    state["answers"][position] = replacement
    try:
        resumed = engine.resume(json.dumps(state))
    except TamperedStateError:
        return
    assert json.loads(resumed.to_json()) == state
