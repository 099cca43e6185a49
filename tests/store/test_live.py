"""Live sessions and replay marks in the store (both back ends): a version is advanced once, whichever of several
connections tries; an answer's step is stored once; a replay mark moves only forward (issue 14)."""

from __future__ import annotations

import threading

import pytest

from digicomp.cat import AdaptiveTest
from digicomp.cat.errors import ReplayedStateError
from digicomp.cat.replay import StoreReplayGuard
from digicomp.store import live as live_store
from digicomp.store import open_store
from digicomp.store.records import utc_now

from .conftest import small_bank


def new_live(sid: str = "s1") -> live_store.LiveSession:
    now = utc_now()
    return live_store.LiveSession(sid, "d", "p", None, "vi", "active", 0, 0, "{}", None, None, now, [], now, now)


def race(url: str, n: int, work) -> list[str]:
    """Run ``work(store)`` on ``n`` threads with their own connections, released together; their outcomes."""
    stores = [open_store(url) for _ in range(n)]
    barrier, out = threading.Barrier(n), []

    def run(store) -> None:
        barrier.wait()
        out.append(work(store))

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    return sorted(out)


def test_one_version_is_advanced_once_across_connections(store_url):
    with open_store(store_url) as store:
        live_store.create(store, new_live())
        before = live_store.load(store, "s1")

    def work(store) -> str:
        try:
            live_store.advance(
                store,
                before,
                state="{}",
                status="active",
                request={"step": 1},
                reply={"ok": 1},
                served_at=None,
                seconds=[1.0],
                answer=("i1", "A", 1),
            )
            return "ok"
        except live_store.VersionConflict:
            return "conflict"

    assert race(store_url, 4, work) == ["conflict"] * 3 + ["ok"]
    with open_store(store_url) as store:
        after = live_store.load(store, "s1")
        assert (after.version, after.step, after.last_reply) == (1, 1, {"ok": 1})
        assert len(live_store.answers(store)) == 1 and live_store.check(store) == []


def test_replay_marks_move_forward_once(store_url):
    def work(store) -> str:
        try:
            StoreReplayGuard(store).advance("a" * 32, 1)
            return "ok"
        except ReplayedStateError:
            return "refused"

    with open_store(store_url):
        pass  # create the tables before the race
    assert race(store_url, 4, work) == ["ok"] + ["refused"] * 3
    with open_store(store_url) as store:
        guard = StoreReplayGuard(store)
        assert guard.mark("a" * 32) == 1
        guard.advance("a" * 32, 2)
        with pytest.raises(ReplayedStateError):
            guard.advance("a" * 32, 2)


def test_a_guarded_engine_on_a_store_refuses_an_older_state(store_url):
    bank = small_bank(20)
    with open_store(store_url) as store:
        engine = AdaptiveTest(bank, {"stop": {"max_items": 5}}, hmac_key=b"k", replay_guard=StoreReplayGuard(store))
        session = engine.start(seed=1)
        item = session.next_item()
        old = session.to_json()
        session.record(item.id, 1)
        with pytest.raises(ReplayedStateError):
            engine.resume(old)
