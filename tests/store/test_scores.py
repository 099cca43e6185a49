"""Per-area scores and "to work on" lists in the store's side table (schema version 5), on both back ends: written
with each session (write_many and the live service's advance), back-filled from the stored JSON when an older
store is migrated, read back equal to the results, and a malformed list refused naming the session."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digicomp.errors import StoreError
from digicomp.store import SCHEMA_VERSION, open_store
from digicomp.store import live as live_store
from digicomp.store.base import _INSERT_SESSION
from digicomp.store.records import utc_now
from tests.store.conftest import make_record, small_bank


@pytest.fixture
def bank():
    return small_bank()


def result_of(k: int) -> dict:
    """A result with per-area rows (one θ missing, one without n_items, one without a level) and "to work on"."""
    rng = np.random.default_rng(k)
    areas = [
        {"area": f"A{j}", "theta": round(float(rng.normal()), 4), "se": 0.4 + j / 10, "n_items": j + 1, "level": "mid"}
        for j in range(k % 4)
    ]
    if k % 5 == 1:
        areas.append({"area": "A9", "theta": None, "se": None, "level": None})
    work = [{"competence": f"c{j}", "theta": float(rng.normal()), "n_items": 1} for j in range(k % 3)]
    return {"theta": 0.1, "se": 0.3, "areas": areas, "to_work_on": work}


def expected(results: dict[int, dict]) -> tuple[list, list]:
    """(ref, area, θ, SE, items, level) and (ref, competence, θ) from the results themselves, in ref order."""
    areas, work = [], []
    for ref in sorted(results):
        res = results[ref] or {}
        for a in res.get("areas", []):
            areas.append((ref, a["area"], a["theta"], a["se"], a.get("n_items", 1), a.get("level")))
        for w in res.get("to_work_on", []):
            work.append((ref, w["competence"], w["theta"]))
    return areas, work


def read_back(store, status=None) -> tuple[list, list]:
    found = store.session_scores(status)
    a, w = found.areas, found.to_work_on
    nan = lambda x: None if math.isnan(x) else x  # noqa: E731
    areas = sorted(
        (int(r), a.codes[c], nan(t), nan(s), int(n), a.levels[lv])
        for r, c, t, s, n, lv in zip(a.ref, a.code, a.theta, a.se, a.n_items, a.level)
    )
    work = sorted((int(r), w.codes[c], float(t)) for r, c, t in zip(w.ref, w.code, w.theta))
    return areas, work


def refs_of(store) -> dict[str, int]:
    return dict(store._read("SELECT session_id, ref FROM sessions"))


def test_scores_written_with_each_session_read_back_equal(store_url, bank):
    results = {}
    with open_store(store_url) as store:
        store.register_bank(bank)
        recs = [make_record(bank, f"s{k}", seed=k, result=result_of(k)) for k in range(12)]
        recs.append(make_record(bank, "none", seed=99, result=None))
        store.write_many(recs[:6])
        for rec in recs[6:]:
            store.write(rec)
        refs = refs_of(store)
        results = {refs[r.session_id]: r.result for r in recs}
        got_areas, got_work = read_back(store)
        want_areas, want_work = expected(results)
        assert got_areas == sorted(want_areas)
        assert got_work == sorted(want_work)
        assert len(got_areas) > 10 and len(got_work) > 5  # the check is not vacuous


def test_scores_of_one_status_only(store_url, bank):
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.write(make_record(bank, "done", seed=1, result=result_of(3)))
        store.write(make_record(bank, "left", seed=2, result=result_of(2), status="abandoned", theta=None))
        refs = refs_of(store)
        assert {r[0] for r in read_back(store, "finished")[0]} == {refs["done"]}
        assert {r[0] for r in read_back(store, "abandoned")[0]} == {refs["left"]}
        assert {r[0] for r in read_back(store)[0]} == {refs["done"], refs["left"]}


def test_live_session_finishing_writes_its_scores(store_url, bank):
    with open_store(store_url) as store:
        store.register_bank(bank)
        now = utc_now()
        live = live_store.LiveSession("L1", "d", "p", None, "vi", "active", 0, 0, "{}", None, None, now, [], now, now)
        live_store.create(store, live)
        rec = make_record(bank, "L1", seed=4, result=result_of(7))
        live_store.advance(
            store,
            live,
            state="{}",
            status="finished",
            request=None,
            reply=None,
            served_at=None,
            seconds=[],
            answer=None,
            record=rec,
        )
        areas, work = read_back(store)
        want_areas, want_work = expected({refs_of(store)["L1"]: rec.result})
        assert areas == sorted(want_areas) and work == sorted(want_work) and areas


@pytest.mark.parametrize(
    "result, message",
    [
        ({"areas": {"A": 1}}, r"session 'bad': result 'areas': expected a list of objects"),
        ({"areas": ["A"]}, r"session 'bad': result 'areas': expected a list of objects"),
        ({"areas": [{"area": "A", "theta": "high"}]}, r"session 'bad': result 'areas' theta: 'high': expected a num"),
        ({"to_work_on": [{"competence": "c", "theta": True}]}, r"session 'bad': result 'to_work_on' theta: True"),
    ],
)
def test_malformed_lists_are_refused_naming_the_session(store_url, bank, result, message):
    with open_store(store_url) as store:
        store.register_bank(bank)
        with pytest.raises(StoreError, match=message):
            store.write_many([make_record(bank, "fine", seed=1), make_record(bank, "bad", seed=2, result=result)])
        assert store.count() == (0, 0)
        assert read_back(store) == ([], [])


def test_version_4_store_is_migrated_and_its_scores_back_filled(store_url, bank):
    """A store as version 4 left it (no side table, sessions with results) gets the table filled from the JSON."""
    with open_store(store_url) as store:
        store.register_bank(bank)
        with store._transaction() as cur:
            cur.execute("DROP TABLE session_scores")
            cur.execute("DROP TABLE derived_values")  # version 7's
            cur.execute("DELETE FROM digicomp_schema WHERE version >= 5")
        results = {}
        for k in range(40):  # rows as version 4 wrote them: the sessions table only
            rec = make_record(bank, f"old{k}", seed=k, result=result_of(k) if k != 3 else None)
            row = (
                rec.session_id,
                rec.person_id,
                rec.bank_fingerprint,
                None,
                "finished",
                None,
                rec.finished_at,
                utc_now(),
                None,
                rec.theta,
                rec.se,
                None,
                0,
                None if rec.result is None else _json(rec.result),
                None,
            )
            with store._transaction() as cur:
                cur.execute(store._sql(_INSERT_SESSION), row)
            results[rec.session_id] = rec.result
        assert store.schema_version == 4
    with open_store(store_url) as store:
        assert store.schema_version == SCHEMA_VERSION == 7
        refs = refs_of(store)
        want_areas, want_work = expected({refs[sid]: res for sid, res in results.items()})
        got_areas, got_work = read_back(store)
        assert got_areas == sorted(want_areas) and got_work == sorted(want_work) and len(got_areas) > 30
        store.write(make_record(bank, "new", seed=100, result=result_of(2)))  # and new sessions add theirs
        assert len(read_back(store)[0]) == len(got_areas) + 2


def test_back_fill_runs_in_batches(store_url, bank, monkeypatch):
    from digicomp.store import scores

    monkeypatch.setattr(scores, "BACKFILL_BATCH", 3)
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.write_many([make_record(bank, f"s{k}", seed=k, result=result_of(k)) for k in range(10)])
        with store._transaction() as cur:
            cur.execute("DELETE FROM session_scores")
            assert scores.backfill(store, cur) == 10
            assert scores.backfill(store, cur) == 0  # sessions that have their row are left alone
        refs = refs_of(store)
        want = expected({refs[f"s{k}"]: result_of(k) for k in range(10)})
        assert read_back(store) == (sorted(want[0]), sorted(want[1]))
        with store._transaction() as cur:
            cur.execute(store._sql("DELETE FROM session_scores WHERE session_ref > ?"), (refs["s4"],))
        assert store.fill_scores() == 5  # the public way to fill rows of sessions written around write_many
        assert read_back(store) == (sorted(want[0]), sorted(want[1]))
        assert sorted(store.session_scores().refs.tolist()) == sorted(refs.values())


def _json(value) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def test_back_fill_keeps_a_malformed_stored_result_and_names_it(store_url, bank):
    """A store opened after an upgrade must not be refused for one odd stored result: its lists are left empty,
    with a warning naming the session."""
    from digicomp.store import scores

    with open_store(store_url) as store:
        store.register_bank(bank)
        store.write_many([make_record(bank, f"s{k}", seed=k, result=result_of(k)) for k in range(3)])
        with store._transaction() as cur:
            cur.execute(store._sql("UPDATE sessions SET result = ? WHERE session_id = 's2'"), ('{"areas": "n/a"}',))
            cur.execute("DELETE FROM session_scores")
            with pytest.warns(UserWarning, match=r"1 stored session\(s\) .* 's2' \(session 's2': result 'areas'"):
                assert scores.backfill(store, cur) == 3
        refs = refs_of(store)
        want = expected({refs["s0"]: result_of(0), refs["s1"]: result_of(1)})
        assert read_back(store) == (sorted(want[0]), sorted(want[1]))
        assert sorted(store.session_scores().refs.tolist()) == sorted(refs.values())
