"""The store on both back ends: round trips, refusals with clear errors, atomic batches, schema versions."""

from __future__ import annotations

import dataclasses
import io
import sqlite3
from contextlib import closing

import pytest

from digicomp.errors import StoreError
from digicomp.io.responses import read_responses
from digicomp.store import SCHEMA_VERSION, export_csv, open_store
from digicomp.store.schema import MIGRATIONS
from tests.store.conftest import make_record, small_bank


@pytest.fixture
def bank():
    return small_bank()


@pytest.fixture
def store(store_url, bank):
    with open_store(store_url) as s:
        s.register_bank(bank)
        yield s


def test_written_session_reads_back_equal(store, bank):
    rec = make_record(bank, "s-1")
    store.write(rec)
    back = store.get("s-1")
    assert back == rec
    assert back.result == rec.result
    assert store.count() == (1, rec.n_items)


def test_abandoned_session_is_stored_with_its_status(store, bank):
    store.write(make_record(bank, "a-1", status="abandoned", theta=None, se=None, finished_at=None))
    assert store.count(status="abandoned") == (1, 5)
    assert store.count(status="finished") == (0, 0)


def test_duplicate_session_id_is_refused_and_the_batch_is_not_written(store, bank):
    store.write(make_record(bank, "dup"))
    batch = [make_record(bank, "new-1", seed=1), make_record(bank, "dup", seed=2), make_record(bank, "new-2", seed=3)]
    with pytest.raises(StoreError, match=r"session 'dup' is already stored.*none of the 3 sessions"):
        store.write_many(batch)
    assert store.count() == (1, 5)


def test_duplicate_within_a_batch_is_refused(store, bank):
    with pytest.raises(StoreError, match="session 'x' appears twice"):
        store.write_many([make_record(bank, "x"), make_record(bank, "x", seed=4)])
    assert store.count() == (0, 0)


def test_session_of_an_unregistered_bank_version_is_refused(store, bank):
    other = small_bank(seed=99)
    with pytest.raises(StoreError, match=r"session 'old' was taken with bank version 'sha256:.*does not accept"):
        store.write(make_record(other, "old"))
    assert store.count() == (0, 0)


def test_session_naming_an_item_outside_its_bank_is_refused(store, bank):
    bigger = small_bank(n=20)
    rec = make_record(bigger, "s", n_items=20)
    rec = dataclasses.replace(rec, bank_fingerprint=bank.fingerprint)
    with pytest.raises(StoreError, match=r"item 'item(1[3-9]|20)' is not in bank version"):
        store.write(rec)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"status": "paused"}, "status 'paused'"),
        ({"theta": None}, "finished session needs its final theta"),
        ({"session_id": ""}, "non-empty string"),
    ],
)
def test_malformed_record_is_refused_naming_the_field(store, bank, change, message):
    with pytest.raises(StoreError, match=message):
        store.write(dataclasses.replace(make_record(bank, "m"), **change))


def test_registering_a_bank_twice_is_harmless(store, bank):
    store.register_bank(bank)
    assert [b["fingerprint"] for b in store.banks()] == [bank.fingerprint]


def test_read_responses_gives_the_calibrator_one_row_per_session(store, bank):
    recs = [make_record(bank, f"s{i}", seed=i) for i in range(30)]
    store.write_many(recs)
    other = small_bank(seed=5)
    store.register_bank(other)
    store.write(make_record(other, "elsewhere"))
    got = store.read_responses(bank)
    dense = got.responses.dense()
    assert got.n_sessions == 30 and got.n_responses == 150
    assert got.other_versions == {other.fingerprint: 1}
    rows = {p: k for k, p in enumerate(got.responses.person_ids)}
    cols = {i: k for k, i in enumerate(got.responses.item_ids)}
    for rec in recs:
        for it in rec.items:
            assert dense[rows[rec.session_id], cols[it.item_id]] == it.score
    assert (dense >= 0).sum() == 150
    assert got.responses.item_ids == [i for i in bank.ids if i in cols]
    pre = {it.item_id for r in recs for it in r.items if it.pretest}
    assert set(got.pretest_items) == pre


def test_read_responses_of_an_unknown_bank_is_an_error(store):
    with pytest.raises(StoreError, match="not registered"):
        store.read_responses(small_bank(seed=42))


def test_long_export_is_read_back_by_read_responses(store, bank):
    recs = [make_record(bank, f"s{i}", seed=i) for i in range(10)]
    store.write_many(recs)
    buf = io.StringIO()
    assert export_csv(store, buf) == 50
    buf.seek(0)
    resp = read_responses(buf)
    dense = resp.dense()
    for rec in recs:
        p = resp.person_ids.index(rec.session_id)
        for it in rec.items:
            assert dense[p, resp.item_ids.index(it.item_id)] == it.score


def test_full_export_has_every_column(store, bank):
    store.write(make_record(bank, "s"))
    buf = io.StringIO()
    export_csv(store, buf, layout="full")
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("person,item,response,position,answer,seconds,pretest,person_id")
    assert len(lines) == 6 and lines[-1].split(",")[6] == "1"


def test_new_store_is_at_the_current_schema_version(store):
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)


def test_version_1_store_is_migrated_and_keeps_its_sessions(tmp_path, bank):
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        conn.execute(statement.replace("{ID}", "INTEGER PRIMARY KEY"))
    conn.execute("INSERT INTO digicomp_schema VALUES (1, '2026-01-01')")
    conn.commit()
    conn.close()
    with open_store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        s.register_bank(bank)
        s.write(make_record(bank, "after"))
        assert s.recalibrations() == []
        assert s.count() == (1, 5)


def test_store_from_a_newer_digicomp_is_refused(tmp_path):
    path = tmp_path / "future.db"
    open_store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO digicomp_schema VALUES (?, 'x')", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1} was written by a newer digicomp"):
        open_store(path)


def test_foreign_database_is_not_taken_over(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE sessions (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a digicomp store"):
        open_store(path)


def test_corrupted_header_is_a_clear_error(tmp_path, bank):
    path = tmp_path / "c.db"
    with open_store(path) as s:
        s.register_bank(bank)
        s.write(make_record(bank, "s"))
    data = bytearray(path.read_bytes())
    data[:16] = b"garbage garbage!"
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"c\.db: is not a SQLite database"):
        open_store(path)


def test_corrupted_pages_are_reported_not_read_as_data(tmp_path, bank):
    path = tmp_path / "c.db"
    with open_store(path) as s:
        s.register_bank(bank)
        s.write_many([make_record(bank, f"s{i}", seed=i) for i in range(300)])
        s._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with closing(sqlite3.connect(path)) as conn:  # the data's pages (the schema's stay readable, as it grows)
        pages = [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name IN ('sessions', 'responses')")]
    data = bytearray(path.read_bytes())
    page = 4096
    for p in (p - 1 for p in pages if p > 1):
        data[p * page + 8 : p * page + 1000] = b"\xff" * 992
    path.write_bytes(bytes(data))
    with open_store(path) as s:
        assert s.check()
        with pytest.raises(StoreError, match=r"c\.db: "):
            s.read_responses(bank)


def test_unknown_url_scheme_is_refused():
    with pytest.raises(StoreError, match="unknown store URL scheme"):
        open_store("mysql://localhost/x")


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "nope" / "s.db")


def test_unreachable_postgresql_is_a_clear_error():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreError, match=rf"postgresql://digicomp:\*\*\*@127\.0\.0\.1:{port}/x: cannot connect"):
        open_store(f"postgresql://digicomp:secret@127.0.0.1:{port}/x", connect_timeout=2)


def test_check_names_a_session_that_lost_responses(store, bank):
    store.write_many([make_record(bank, "whole"), make_record(bank, "cut", seed=1)])
    with store._transaction() as cur:  # damage done behind the store's back, as a faulty tool might
        cur.execute(
            store._sql(
                "DELETE FROM responses WHERE position = 5 AND session_ref = "
                "(SELECT ref FROM sessions WHERE session_id = ?)"
            ),
            ("cut",),
        )
    assert store.check() == ["session 'cut': 4 responses at positions 1..4, expected 5 at 1..5"]
