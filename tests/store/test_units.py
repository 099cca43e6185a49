"""Organisational units in the store (schema version 3): the unit tree, person links, each session's unit."""

from __future__ import annotations

import sqlite3

import pytest

from digicomp.errors import StoreError
from digicomp.store import SCHEMA_VERSION, open_store
from digicomp.store.schema import MIGRATIONS
from tests.store.conftest import make_record, small_bank

TREE = [
    {"unit": "P", "parent": None, "name_vi": "Tỉnh", "name_en": "Province", "headcount": 500},
    {"unit": "D1", "parent": "P", "name_vi": "Sở 1", "name_en": "Dept 1", "headcount": None},
]


@pytest.fixture
def bank():
    return small_bank()


@pytest.fixture
def store(store_url, bank):
    with open_store(store_url) as s:
        s.register_bank(bank)
        yield s


def test_units_round_trip_and_are_replaced_by_id(store):
    assert store.put_units(TREE) == 2
    assert store.units() == sorted(TREE, key=lambda u: u["unit"])
    store.put_units([{**TREE[1], "name_en": "Department 1", "headcount": 40}])
    assert [u["name_en"] for u in store.units()] == ["Department 1", "Province"]
    assert store.units()[0]["headcount"] == 40


def test_session_unit_is_stored_and_read_back(store, bank):
    store.put_units(TREE)
    rec = make_record(bank, "s-unit", unit="D1")
    store.write(rec)
    assert store.get("s-unit").unit == "D1"
    store.write(make_record(bank, "s-none", seed=1))
    assert store.get("s-none").unit is None


def test_session_in_an_unknown_unit_is_refused(store, bank):
    store.put_units(TREE)
    with pytest.raises(StoreError, match=r"session 'x': unit 'NOPE' is not one of the store's units"):
        store.write(make_record(bank, "x", unit="NOPE"))
    assert store.count() == (0, 0)


def test_unit_added_by_another_connection_is_seen(store_url, bank):
    with open_store(store_url) as a, open_store(store_url) as b:
        a.register_bank(bank)
        a.put_units(TREE[:1])
        a.write(make_record(bank, "first", unit="P"))
        b.put_units(TREE)
        a.write(make_record(bank, "second", seed=2, unit="D1"))
        assert a.get("second").unit == "D1"


def test_person_links_replace_earlier_ones_and_refuse_unknown_units(store):
    store.put_units(TREE)
    assert store.link_persons({"p1": "P", "p2": "D1"}) == 2
    store.link_persons({"p1": "D1"})
    assert store.person_units() == {"p1": "D1", "p2": "D1"}
    with pytest.raises(StoreError, match=r"person 'p3': unit 'Z' is not one of the store's units"):
        store.link_persons({"p4": "P", "p3": "Z"})
    assert "p4" not in store.person_units()


@pytest.mark.parametrize(
    "unit, message",
    [
        ({"unit": ""}, "expected a non-empty string id"),
        ({"unit": "U", "headcount": -1}, "headcount -1"),
        ({"unit": "U", "headcount": 2.5}, "headcount 2.5"),
    ],
)
def test_bad_unit_rows_are_refused(store, unit, message):
    with pytest.raises(StoreError, match=message):
        store.put_units([unit])
    assert store.units() == []


@pytest.mark.parametrize("old_version", [1, 2])
def test_older_store_is_migrated_and_its_sessions_have_no_unit(tmp_path, bank, old_version):
    path = tmp_path / f"v{old_version}.db"
    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[:old_version]:
        for statement in migration:
            conn.execute(statement.replace("{ID}", "INTEGER PRIMARY KEY"))
    conn.execute("INSERT INTO banks VALUES (?, 'b', '1', ?, '2026-01-01')", (bank.fingerprint, _ids_json(bank)))
    conn.execute(
        "INSERT INTO sessions (session_id, person_id, bank_fingerprint, status, written_at, theta, n_items) "
        "VALUES ('old', 'p-old', ?, 'finished', '2026-01-01', 0.5, 0)",
        (bank.fingerprint,),
    )
    conn.execute("INSERT INTO digicomp_schema VALUES (?, '2026-01-01')", (old_version,))
    conn.commit()
    conn.close()
    with open_store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        assert s.get("old").unit is None
        s.put_units(TREE)
        s.write(make_record(bank, "new", unit="P"))
        assert s.get("new").unit == "P"
        assert s.units()[1]["unit"] == "P"


def _ids_json(bank) -> str:
    import json

    return json.dumps(list(bank.ids))
