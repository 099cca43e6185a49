"""Each session's log-likelihood on a fixed θ grid in the store's side table (schema version 6), on both back ends:
written with the session when the store holds its bank, equal to the sum of the items' log-probabilities of the
answers (pretest items left out), per area and for the whole test; NULL without the bank (a content-free bank, or
one not registered in this process); a version-5 store is migrated and back-filled from its stored answers."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.store import SCHEMA_VERSION, ServedItem, open_store
from digicomp.store.scores import LIKELIHOOD_TABLES, LOGLIK_NODES
from tests.store.conftest import make_record, small_bank


@pytest.fixture(scope="module")
def bank():
    return load_bank("civil-service")


def record(bank, session_id: str, seed: int, n_items: int = 14):
    """A finished session of ``bank``: ``n_items`` items with 0/1 scores (the last one pretest) and a result whose
    area list names the areas answered and one the test did not reach."""
    rng = np.random.default_rng(seed)
    items = rng.choice(bank.n_items, n_items, replace=False)
    scores = rng.integers(0, 2, n_items)
    served = tuple(
        ServedItem(k + 1, bank.ids[j], int(s), None, 10.0, k == n_items - 1)
        for k, (j, s) in enumerate(zip(items, scores))
    )
    codes = sorted({bank.areas[bank.area_index[j]] for j in items[:-1]}) + ["not-reached"]
    areas = [{"area": c, "theta": 0.0, "se": 0.5, "n_items": 1, "level": None} for c in codes]
    base = make_record(bank, session_id, n_items=1)
    return base.__class__(
        **{**base.__dict__, "items": served, "result": {"theta": 0.0, "se": 0.3, "areas": areas, "to_work_on": []}}
    )


def expected(bank, rec) -> dict[str, np.ndarray]:
    """{area: own-items log-likelihood} and the whole test's under "", from the bank's parameters directly."""
    lp = np.asarray(bank.params.log_prob(LOGLIK_NODES))  # (Q, J, K)
    out: dict[str, np.ndarray] = {"": np.zeros(LOGLIK_NODES.size)}
    for it in rec.items:
        if it.pretest:
            continue
        j = bank.ids.index(it.item_id)
        ll = lp[:, j, it.score]
        out[""] = out[""] + ll
        code = bank.areas[bank.area_index[j]]
        out[code] = out.get(code, 0.0) + ll
    return out


def check(store, bank, records) -> None:
    found = store.session_scores().areas
    refs = {sid: ref for sid, ref in store._read("SELECT session_id, ref FROM sessions")}
    assert found.has_likelihood().all()
    for rec in records:
        want = expected(bank, rec)
        mine = np.flatnonzero(found.ref == refs[rec.session_id])
        assert mine.size == len(rec.result["areas"])
        for e in mine:
            code = found.codes[found.code[e]]
            own = want.get(code, np.zeros(LOGLIK_NODES.size))  # the area not reached: 0 (flat)
            got_own, got_rest = found.likelihoods(np.array([e]))
            np.testing.assert_allclose(got_own[0], own, rtol=1e-5, atol=1e-4)
            np.testing.assert_allclose(got_rest[0], want[""] - own, rtol=1e-5, atol=1e-4)


def test_written_with_the_session_and_read_back(store_url, bank):
    records = [record(bank, f"s{k}", seed=k) for k in range(6)]
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.write_many(records[:4])
    with open_store(store_url) as other:  # another store object of the process (a service's pool): the same tables
        other.write(records[4])
        check(other, bank, records[:5])


def test_without_the_bank_the_rows_are_null_and_nothing_is_invented(store_url, bank):
    plain = small_bank()
    with open_store(store_url) as store:
        store.register_bank(plain)  # content-free: no areas, so no table
        store.write(make_record(plain, "plain", result={"areas": [{"area": "A", "theta": 0.1, "se": 0.4}]}))
        assert not store.session_scores().areas.has_likelihood().any()
        assert store.fill_likelihoods([plain]) == 0
    with open_store(store_url) as store:
        store.register_bank(bank)
    LIKELIHOOD_TABLES.clear()  # as in a process that registered nothing: sessions are written without
    with open_store(store_url) as store:
        store.write(record(bank, "later", seed=9))
        found = store.session_scores().areas
        assert not found.has_likelihood().any()


def test_a_version_5_store_is_migrated_and_back_filled_from_its_answers(store_url, bank):
    records = [record(bank, f"old{k}", seed=20 + k) for k in range(7)]
    with open_store(store_url) as store:
        store.register_bank(bank)
        store._loglik_tables.clear()  # as version 5 wrote them: no likelihoods
        store.write_many(records)
        with store._transaction() as cur:
            cur.execute("ALTER TABLE session_scores DROP COLUMN area_loglik")
            cur.execute("DROP TABLE derived_values")  # version 7's
            cur.execute("DELETE FROM digicomp_schema WHERE version >= 6")
        assert store.schema_version == 5
    with open_store(store_url) as store:
        assert store.schema_version == SCHEMA_VERSION == 7
        assert not store.session_scores().areas.has_likelihood().any()  # migrated rows: NULL until back-filled
        assert store.fill_likelihoods([bank]) == len(records)
        check(store, bank, records)
        assert store.fill_likelihoods([bank]) == 0  # once


def _same_entries(a, b) -> None:
    """Two readings of the side table hold the same entries (order of sessions aside) with the same likelihoods."""
    key_a, key_b = np.lexsort((a.code, a.ref)), np.lexsort((b.code, b.ref))
    assert a.ref[key_a].tolist() == b.ref[key_b].tolist()
    assert [a.codes[c] for c in a.code[key_a]] == [b.codes[c] for c in b.code[key_b]]
    np.testing.assert_array_equal(a.theta[key_a], b.theta[key_b])
    np.testing.assert_array_equal(a.has_likelihood()[key_a], b.has_likelihood()[key_b])
    has = a.has_likelihood()[key_a]
    for x, y in zip(a.likelihoods(key_a[has]), b.likelihoods(key_b[has])):
        np.testing.assert_array_equal(x, y)


def test_read_in_blocks_equals_read_at_once_and_a_short_buffer_grows(store_url, bank, monkeypatch):
    """The side table is read a block of rows at a time into a buffer sized by a first query: small blocks, sessions
    without likelihoods between others, and a buffer sized too small (rows written after the sizing query) give the
    same entries and likelihoods as one block."""
    from digicomp.store import scores

    records = [record(bank, f"s{k}", seed=k) for k in range(7)]
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.write_many(records[:4])
        LIKELIHOOD_TABLES.pop(bank.fingerprint)  # the next session is written without likelihoods
        store.write_many([record(bank, "bare", seed=40)])
        store.register_bank(bank)
        store.write_many(records[4:])
        whole = store.session_scores().areas
        assert (~whole.has_likelihood()).any() and whole.has_likelihood().any()  # both kinds are read
        monkeypatch.setattr(scores, "READ_BLOCK", 2)
        _same_entries(store.session_scores().areas, whole)
        real_read = store._read

        def undersized(sql, params=()):  # the sizing query answers as if most rows were not yet written
            rows = real_read(sql, params)
            return [(100,)] if "SUM(" in sql else rows

        monkeypatch.setattr(store, "_read", undersized)
        _same_entries(store.session_scores().areas, whole)


def test_blocks_are_at_most_the_size_asked_on_both_back_ends(store_url, bank):
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.write_many([record(bank, f"s{k}", seed=k) for k in range(7)])
        sizes = [len(b) for b in store.blocks("SELECT session_id FROM sessions ORDER BY ref", (), 3)]
        assert sizes == [3, 3, 1]
        # a stream read inside another's loop (PostgreSQL: two server-side cursors on one connection)
        pairs = [(a, b) for (a,) in store.stream("SELECT ref FROM sessions") for (b,) in store.stream("SELECT 1")]
        assert len(pairs) == 7
