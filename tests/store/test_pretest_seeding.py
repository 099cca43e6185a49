"""Pretest items seeded into live sessions: planned positions, no influence on the test, stored, resumable."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.cat import AdaptiveTest, TamperedStateError
from digicomp.cat.draws import STREAM_RESPONSE, uniforms
from digicomp.errors import DesignError
from digicomp.models import ItemParameters
from digicomp.store import SessionRecord, open_store
from tests.cat.conftest import content_bank

CANDIDATES = [f"item{j}" for j in range(51, 61)]
BASE = {"stop": {"min_items": 10, "max_items": 15, "rules": [{"se": 0.4}]}}


@pytest.fixture(scope="module")
def bank() -> ItemBank:
    rng = np.random.default_rng(8)
    return ItemBank.from_item_parameters(
        ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, 60), b=rng.normal(0, 1, 60))
    )


def seeded_engine(bank, n=3, within=8):
    return AdaptiveTest(bank, {**BASE, "seeding": {"n": n, "items": CANDIDATES, "within": within}})


def take(session, bank, theta=0.3):
    """Answer like a simulated person of ability θ; returns the (item, position) sequence served."""
    served = []
    while (item := session.next_item()) is not None:
        j = bank.ids.index(item.id)
        u = uniforms(np.array([session.key], np.uint64), [0], STREAM_RESPONSE, [j])[0, 0]  # same answer per item
        session.record(item.id, int(u < bank.params.prob(np.array([theta]))[0, j, 1]))
        served.append((item.id, item.position))
    return served


def test_seeded_items_come_at_their_planned_positions_from_the_candidates(bank):
    engine = seeded_engine(bank)
    for seed in range(20):
        session = engine.start(seed=seed)
        served = take(session, bank)
        items, positions = engine.seeding.draw(np.array([session.key], np.uint64))
        seeded = [(i, p) for i, p in served if i in CANDIDATES]
        assert [p for _, p in seeded] == positions[0].tolist()
        assert [i for i, _ in seeded] == [bank.ids[j] for j in items[0]]
        assert [s["position"] for s in session.seeded] == positions[0].tolist()
        assert [p for _, p in served] == list(range(1, len(served) + 1))


def test_seeded_items_do_not_change_the_test(bank):
    """The operational items, θ̂ and SE equal those of the same design with the candidates merely excluded."""
    seeded = seeded_engine(bank)
    plain = AdaptiveTest(bank, {**BASE, "content": {"exclude": {"ids": CANDIDATES}}})
    for seed in range(10):
        a, b = seeded.start(seed=seed), plain.start(seed=seed)
        take(a, bank)
        take(b, bank)
        assert a.items == b.items and not set(a.items) & set(CANDIDATES)
        assert a.theta == b.theta and a.se == b.se
        assert a.report()["n_items"] == b.report()["n_items"]


def test_state_with_seeded_answers_resumes_to_the_same_session(bank):
    engine = seeded_engine(bank, within=4)
    session = engine.start(seed=5)
    for _ in range(3):
        item = session.next_item()
        session.record(item.id, 1)
    pending = session.next_item()
    state = session.to_json()
    again = engine.resume(state)
    assert again.seeded == session.seeded and again.items == session.items
    assert again.next_item() == pending
    assert again.to_json() == state


def test_altered_seeded_answer_is_refused(bank):
    engine = seeded_engine(bank, within=3)
    session = engine.start(seed=2)
    take(session, bank)
    data = json.loads(session.to_json())
    data["seeded"][0]["item"] = "item1"
    with pytest.raises(TamperedStateError, match="seeded item"):
        engine.resume(data)


def test_record_of_a_seeded_session_flags_its_pretest_items(bank):
    engine = seeded_engine(bank)
    session = engine.start(person_id="u1", seed=11)
    take(session, bank)
    rec = SessionRecord.from_session(session, "sess-11")
    assert [it.position for it in rec.items] == list(range(1, len(rec.items) + 1))
    assert {it.item_id for it in rec.items if it.pretest} == {s["item"] for s in session.seeded}
    assert [it.item_id for it in rec.items if not it.pretest] == session.items
    assert rec.theta == round(session.theta, 4) and rec.status == "finished"


def test_unknown_or_too_few_candidates_are_design_errors(bank):
    with pytest.raises(DesignError, match="seeding.items\\[0\\]: bank .* has no item 'nope'"):
        AdaptiveTest(bank, {"seeding": {"n": 1, "items": ["nope"]}})
    with pytest.raises(DesignError, match="2 candidate pretest items, fewer than n = 3"):
        AdaptiveTest(bank, {"seeding": {"n": 3, "items": CANDIDATES[:2]}})
    with pytest.raises(DesignError, match="within = 2 leaves no room"):
        AdaptiveTest(bank, {"seeding": {"n": 3, "items": CANDIDATES, "within": 2}})


def test_live_content_session_round_trips_through_the_store(store_url):
    """Multiple-choice answers (option ids), pretest flags, level and an abandoned session survive the store."""
    cbank = content_bank()
    engine = AdaptiveTest(
        cbank,
        {
            "stop": {"min_items": 6, "max_items": 10},
            "seeding": {"n": 2, "items": ["q000", "q001", "q002", "q003"], "within": 5},
        },
    )
    done = engine.start(person_id="u-1", seed=3)
    while (item := done.next_item()) is not None:
        done.record(item.id, "B")
    left = engine.start(person_id="u-2", seed=4)
    for _ in range(3):
        left.record(left.next_item().id, "A")
    records = [
        SessionRecord.from_session(done, "done", seconds=[4.5] * len(done.items + done.seeded)),
        SessionRecord.from_session(left, "left"),
    ]
    with open_store(store_url) as store:
        store.register_bank(cbank)
        store.write_many(records)
        back = store.get("done")
        assert back == records[0] and back.level == done.report()["level"]["id"]
        assert {it.answer for it in back.items} == {"B"} and all(it.seconds == 4.5 for it in back.items)
        assert sum(it.pretest for it in back.items) == 2
        assert store.get("left").status == "abandoned" and store.count(status="abandoned") == (1, 3)
