"""The same session answered from two clients at once: exactly one answer is accepted, the other gets 409, and the
store holds one answer per step (two app instances on one store stand for two workers; SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from digicomp.service.app import create_app
from digicomp.store import live as live_store
from digicomp.store import open_store

from .conftest import SECRET, right_answer, service_config

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402


def race(clients: list, url: str, bodies: list[dict]) -> list[int]:
    """POST ``bodies[i]`` from ``clients[i]`` released together; the statuses in client order."""
    barrier, out = threading.Barrier(len(clients)), [0] * len(clients)

    def run(i: int) -> None:
        barrier.wait()
        out[i] = clients[i].post(url, json=bodies[i]).status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.mark.parametrize("n_clients", [2, 6])
def test_two_tabs_or_workers_answering_one_step_get_exactly_one_accepted(store_url, n_clients):
    config = service_config(store_url, rate_limits=None)
    apps = [create_app(config, secret=SECRET) for _ in range(2)]  # two workers: separate caches, one store
    clients = [TestClient(apps[i % 2]) for i in range(n_clients)]
    sessions = [clients[0].post("/api/v1/sessions", json={}).json() for _ in range(6)]
    for reply in sessions:
        for _ in range(3):  # three contested steps per session
            item = reply["item"]
            bodies = [
                {"step": reply["step"], "item": item["id"], "answer": right_answer(apps[0], item, score=i % 2)}
                for i in range(n_clients)
            ]
            statuses = race(clients, f"/api/v1/sessions/{reply['session']}/answers", bodies)
            accepted = [i for i, s in enumerate(statuses) if s == 200]
            # identical bodies may both succeed (the second is an idempotent retry); differing ones never do
            winners = {str(bodies[i]["answer"]) for i in accepted}
            assert len(winners) == 1, statuses
            assert all(s in (200, 409) for s in statuses), statuses
            reply = clients[0].get(f"/api/v1/sessions/{reply['session']}").json()
            if reply["status"] != "active":
                break
    with open_store(store_url) as store:
        rows = live_store.answers(store)
        per_session = {}
        for sid, *_, step, _item, _answer, _score, _at in rows:
            per_session.setdefault(sid, []).append(step)
        for reply in sessions:
            steps = per_session[reply["session"]]
            assert steps == list(range(1, len(steps) + 1)) and len(steps) >= 1
        assert live_store.check(store) == []
    for c in clients:
        c.close()


def test_two_differing_answers_at_once_one_200_one_409(store_url):
    config = service_config(store_url, rate_limits=None)
    a, b = (create_app(config, secret=SECRET) for _ in range(2))
    with TestClient(a) as ca, TestClient(b) as cb:
        outcomes = []
        for _ in range(8):
            reply = ca.post("/api/v1/sessions", json={}).json()
            item = reply["item"]
            bodies = [
                {"step": 0, "item": item["id"], "answer": right_answer(a, item, score=s)}
                for s in (0, 1 if item["kind"] != "self_assessment" else 3)
            ]
            outcomes.append(sorted(race([ca, cb], f"/api/v1/sessions/{reply['session']}/answers", bodies)))
        assert all(o == [200, 409] for o in outcomes), outcomes


def test_the_store_pool_reopens_a_connection_the_database_dropped(pg_server):
    import psycopg

    from digicomp.errors import StoreError
    from digicomp.service.sessions import StorePool

    url = pg_server.new_database()
    pool = StorePool(url, 1)
    with pool.get() as store:
        pid = store._conn.info.backend_pid
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StoreError), pool.get() as store:
        store.schema_version  # noqa: B018 - fails: the server closed the connection
    with pool.get() as store:  # the next request gets a new connection
        assert store.schema_version >= 4 and store._conn.info.backend_pid != pid
    pool.close()
