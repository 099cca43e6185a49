"""Sessions with every item format in the store: raw answers (lists, dicts, text) stored and read back as given,
exported as JSON, polytomous scores read for calibration; recalibration from such sessions recovers the generating
GPCM and 2PL parameters and writes a new version that loads with its media."""

from __future__ import annotations

import csv
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.bank.scoring import answer_for, score
from digicomp.cat import AdaptiveTest
from digicomp.errors import StoreError
from digicomp.loop import recalibrate
from digicomp.loop.simulate import simulate_records
from digicomp.store import ServedItem, SessionRecord, export_csv, open_store

FORMATS = Path(__file__).parents[1] / "bank" / "fixtures" / "formats.yaml"
CATEGORIES = {"f-mc": 1, "f-mr": 2, "f-mr-aon": 0, "f-ord": 1, "f-match": 3, "f-num": 1, "f-text": 0, "f-hotline": 1}


@pytest.fixture(scope="module")
def engine() -> AdaptiveTest:
    return AdaptiveTest(load_bank(FORMATS), {"stop": {"max_items": 8}})


def live_record(engine: AdaptiveTest, session_id: str) -> SessionRecord:
    session = engine.start(person_id=session_id, seed=4)
    while (view := session.next_item()) is not None:
        session.record(view.id, answer_for(engine.bank.item(view.id), CATEGORIES[view.id]))
    return SessionRecord.from_session(session, session_id)


def test_raw_answers_of_every_format_are_stored_read_back_and_exported(engine, store_url):
    record = live_record(engine, "s-1")
    with open_store(store_url) as store:
        store.register_bank(engine.bank)
        store.write(record)
        back = store.get("s-1")
        assert back.items == record.items
        answers = {it.item_id: it.answer for it in back.items}
        assert answers["f-match"] == answer_for(engine.bank.item("f-match"), 3)
        assert isinstance(answers["f-mr"], list) and isinstance(answers["f-num"], str)
        for it in back.items:
            assert score(engine.bank.item(it.item_id), it.answer)[1] == it.score == CATEGORIES[it.item_id]
        out = io.StringIO()
        export_csv(store, out, layout="full")
        rows = {r["item"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
        assert json.loads(rows["f-ord"]["answer"]) == answers["f-ord"]
        assert json.loads(rows["f-match"]["answer"]) == answers["f-match"]
        assert rows["f-num"]["answer"] == answers["f-num"]
        assert rows["f-match"]["response"] == "3"
        stored = store.read_responses(engine.bank)
        got = dict(zip([stored.responses.item_ids[j] for j in stored.responses.item], stored.responses.value))
        assert got == CATEGORIES


def test_an_answer_that_is_not_plain_json_is_refused_naming_session_and_item(engine):
    record = live_record(engine, "s-2")
    bad = SessionRecord(**{**record.__dict__, "items": (ServedItem(1, "f-mr", 1, {"A"}),)})
    with pytest.raises(StoreError, match=r"session 's-2': item 'f-mr' at position 1: answer \{'A'\}: expected plain"):
        bad.check()


def test_recalibration_from_sessions_with_every_format_recovers_the_generating_parameters(engine, tmp_path):
    bank = engine.bank
    theta = np.random.default_rng(1).normal(0, 1, 3000)
    records = simulate_records(engine, bank.params, theta, seed=2)
    for rec in records[:50]:  # what the simulation stores is what a live client would have sent
        assert all(score(bank.item(it.item_id), it.answer)[1] == it.score for it in rec.items)
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.register_bank(bank)
        store.write_many(records)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec = recalibrate(store, bank, mode="all", drift=False)
    assert rec.converged
    true = {r["id"]: r for r in bank.params.to_file_form()}
    for new in rec.bank.params.to_file_form():
        se = rec.result.se[new["id"]]
        for name in ("a", "b"):
            est, ref, err = (np.atleast_1d(x).astype(float) for x in (new[name], true[new["id"]][name], se[name]))
            # 4 SE: about 24 parameters; the linking to the bank's scale adds a little error the SEs do not carry
            assert np.all(np.abs(est - ref) < 4 * err), (new["id"], name, est, ref, err)
    assert rec.bank.item("f-match").key_map == bank.item("f-match").key_map
    out_dir = tmp_path / "next"
    out_dir.mkdir()
    bank_path, _ = rec.write(out_dir / "formats.yaml")
    assert (out_dir / "media" / "phishing.svg").read_bytes() == (FORMATS.parent / "media" / "phishing.svg").read_bytes()
    reloaded = load_bank(bank_path)
    assert reloaded.fingerprint == rec.bank.fingerprint and list(reloaded.kind) == list(bank.kind)


def test_seeded_pretest_items_of_the_new_formats_are_estimated_on_the_banks_scale(tmp_path):
    """Fixed-parameter calibration of a seeded multiple-response and a matching item (GPCM) from simulated sessions."""
    bank = load_bank(FORMATS)
    engine = AdaptiveTest(
        bank, {"stop": {"max_items": 6}, "seeding": {"n": 2, "items": ["f-mr", "f-match"], "within": 6}}
    )
    theta = np.random.default_rng(1).normal(0, 1, 3000)
    records = simulate_records(engine, bank.params, theta, seed=2)
    assert sum(it.pretest for rec in records for it in rec.items) == 2 * len(records)
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.register_bank(bank)
        store.write_many(records)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec = recalibrate(store, bank, mode="pretest", drift=False)
    assert rec.converged and sorted(rec.free_items) == ["f-match", "f-mr"]
    for item_id in rec.free_items:
        new, true, se = rec.bank.item(item_id).params, bank.item(item_id).params, rec.result.se[item_id]
        assert abs(new.a - true.a) < 4 * se["a"], (item_id, new.a, se["a"])
        assert np.all(np.abs(np.subtract(new.b, true.b)) < 4 * np.asarray(se["b"])), (item_id, new.b, se["b"])
