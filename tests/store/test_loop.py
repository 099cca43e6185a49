"""The assessment loop: simulated sessions as live ones write them → store → recalibration → new bank version."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pytest

from digicomp.cat import AdaptiveTest
from digicomp.errors import CalibrationError, DataWarning
from digicomp.loop import next_version, recalibrate
from digicomp.loop.simulate import simulate_records, simulated_answer
from digicomp.models import ItemParameters
from digicomp.store import SessionRecord, open_store
from tests.store.loop_fixtures import loop_bank, loop_design


def test_simulated_records_equal_what_live_sessions_write():
    bank, truth = loop_bank(60, 8)
    engine = AdaptiveTest(bank, loop_design(3, 10))
    theta = np.random.default_rng(4).normal(size=25)
    batch = simulate_records(engine, truth, theta, seed=9)
    pretest_ids = {bank.ids[j] for j in engine.seeding.candidates}
    for i, t in enumerate(theta):
        session = engine.start(person_id=f"sim-{i}", seed=(9, i))
        while (item := session.next_item()) is not None:
            j = bank.ids.index(item.id)
            session.record(
                item.id,
                simulated_answer(
                    engine,
                    truth,
                    t,
                    session.key,
                    j,
                    item.position,
                    int(session.state.n_given[0]),
                    item.id in pretest_ids,
                ),
            )
        live = SessionRecord.from_session(session, f"sim-{i}")
        assert dataclasses.replace(live, finished_at=None) == batch[i]
    assert sum(it.pretest for r in batch for it in r.items) > 0


N_OP = 40


@pytest.fixture
def loop_store(store_url):
    """A store holding 2,000 simulated sessions of a 40 + 6 item bank; one much-used item drifted by +1.5 in b.

    Yields (store, bank, truth, id of the drifted item).
    """
    bank, truth = loop_bank(N_OP, 6, seed=2)
    recs = truth.to_file_form()
    moved = _central(recs[:N_OP])
    recs[moved]["b"] += 1.5
    engine = AdaptiveTest(bank, loop_design(2, 8))
    with open_store(store_url) as store:
        store.register_bank(bank)
        records = simulate_records(
            engine, ItemParameters.from_file_form(recs), np.random.default_rng(5).normal(size=2000), seed=1
        )
        for k in range(0, len(records), 500):
            store.write_many(records[k : k + 500])
        yield store, bank, truth, bank.ids[moved]


def _central(records: list[dict]) -> int:
    """The most discriminating item with |b| < 0.6 (an adaptive test gives it often)."""
    return max((k for k, r in enumerate(records) if abs(r["b"]) < 0.6), key=lambda k: records[k]["a"])


def test_recalibration_builds_the_next_bank_version_with_provenance(loop_store, tmp_path):
    store, bank, _, _ = loop_store
    rec = recalibrate(store, bank, drift=False)
    new = rec.bank
    assert new.version == "1.1" and new.id == bank.id and new.fingerprint != bank.fingerprint
    assert sorted(rec.free_items) == [f"pre{k:02d}" for k in range(6)]
    for item_id in rec.free_items:
        calib = new.item(item_id).calibration
        assert calib.status == "calibrated" and calib.n > 500 and set(calib.se) == {"a", "b"}
    assert new.item("op000") == bank.item("op000")
    n_sessions, n_responses = store.count(bank.fingerprint)
    prov = rec.provenance
    assert prov["data"]["n_sessions"] == n_sessions == 2000 and prov["data"]["n_responses"] == n_responses
    assert prov["source_bank"]["fingerprint"] == bank.fingerprint and prov["new_bank"]["fingerprint"] == new.fingerprint
    assert store.recalibrations()[-1]["new_fingerprint"] == new.fingerprint
    yaml_path, side = rec.write(tmp_path / "loop-1.1.yaml")
    assert json.loads(side.read_text())["data"]["sessions_sha256"] == prov["data"]["sessions_sha256"]
    from digicomp.bank import load_bank

    assert load_bank(yaml_path).fingerprint == new.fingerprint


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # heavy: the store is covered on both
def test_drift_check_flags_the_item_that_moved(loop_store):
    store, bank, _, moved = loop_store
    rec = recalibrate(store, bank, record=False)
    assert moved in rec.drifted
    row = next(r for r in rec.drift if r.item == moved and r.parameter == "b")
    assert abs(row.new - row.old - 1.5) < 4 * row.se
    # the others did not move: at z = 1.96 about 5% of their parameters are flagged by chance
    others = [r for r in rec.drift if r.item != moved]
    assert len({r.item for r in others}) > 20
    assert np.mean([r.drifted for r in others]) < 0.15


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # heavy: the store is covered on both
def test_recalibrating_everything_keeps_the_bank_scale(loop_store):
    store, bank, truth, moved = loop_store
    rec = recalibrate(store, bank, mode="all", drift=False, record=False)
    assert rec.linking is not None and moved in rec.free_items
    new = {r["id"]: r["b"] for r in rec.bank.params.to_file_form()}
    true = {r["id"]: r["b"] for r in truth.to_file_form()}
    common = [i for i in rec.free_items if i != moved and i.startswith("op")]
    assert len(common) > 20
    diff = np.array([new[i] - true[i] for i in common])
    se = np.array([rec.result.se[i]["b"] for i in common])
    assert abs(diff.mean()) < 3 * np.sqrt(np.mean(se**2) / len(common)) + 0.05


def test_other_bank_versions_are_reported_not_mixed_in(loop_store):
    store, bank, _, _ = loop_store
    other, _ = loop_bank(N_OP, 6, seed=3)
    store.register_bank(other)
    engine = AdaptiveTest(other, loop_design(2, 8))
    store.write_many(simulate_records(engine, other.params, np.zeros(5), seed=2, prefix="other"))
    with pytest.warns(DataWarning, match="5 stored sessions of other bank versions are not used"):
        rec = recalibrate(store, bank, drift=False, record=False)
    assert rec.provenance["data"]["n_sessions"] == 2000


def test_no_pretest_items_means_use_all(store_url):
    bank, truth = loop_bank(30, 0)
    engine = AdaptiveTest(bank, {"stop": {"max_items": 10}})
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.write_many(simulate_records(engine, truth, np.zeros(20), seed=1))
        with pytest.raises(CalibrationError, match="no pretest items.*mode='all'"):
            recalibrate(store, bank)


@pytest.mark.parametrize("old, new", [("1.0", "1.1"), ("3", "4"), ("2026.09-r2", "2026.09-r3"), ("beta", "beta.1")])
def test_next_version_increments_the_last_number(old, new):
    assert next_version(old) == new


@pytest.mark.slow
def test_full_loop_recovers_pretest_parameters_within_their_standard_errors(tmp_path):
    """40 pretest items seeded into 20,000 simulated sessions, stored, recalibrated: estimates vs truth in SE units."""
    bank, truth = loop_bank(200, 40, seed=11)
    engine = AdaptiveTest(bank, loop_design(5, 15))
    records = simulate_records(engine, truth, np.random.default_rng(12).normal(size=20_000), seed=13)
    with open_store(tmp_path / "loop.db") as store:
        store.register_bank(bank)
        for k in range(0, len(records), 1000):
            store.write_many(records[k : k + 1000])
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataWarning)
            rec = recalibrate(store, bank, drift=False)
    assert rec.result.converged and len(rec.free_items) == 40
    est = {r["id"]: r for r in rec.bank.params.to_file_form()}
    true = {r["id"]: r for r in truth.to_file_form()}
    z = np.array([(est[i][p] - true[i][p]) / rec.result.se[i][p] for i in rec.free_items for p in ("a", "b")])
    # 80 estimates: about 95% within 1.96 SE if the SEs are right; none beyond 4 SE
    assert np.mean(np.abs(z) < 1.96) >= 0.85, z
    assert np.all(np.abs(z) < 4), z
    assert 0.5 < np.mean(z**2) < 1.6
