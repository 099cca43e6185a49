"""Load and faults (marker ``load``; .ci/run runs it): 200 simulated test takers against ``digicomp serve`` with 2
workers on PostgreSQL. No acknowledged answer is lost or stored twice (the store's counts are exact), and killing
one worker in the middle loses nothing acknowledged while the other worker carries on. Loopback only; the takers
think 0.3 s on average between answers, so a run takes well under a minute."""

from __future__ import annotations

import json
import os
import signal

import pytest

pytest.importorskip("httpx")

from digicomp.store import live as live_store  # noqa: E402
from digicomp.store import open_store  # noqa: E402

from .load import Takers, store_answers  # noqa: E402
from .server import Served  # noqa: E402

pytestmark = pytest.mark.load

TAKERS = 200


@pytest.fixture
def served(pg_server, tmp_path):
    url = pg_server.new_database()
    config = tmp_path / "SERVICE.yaml"
    config.write_text(json.dumps({"store": url, "rate_limits": None, "store_pool": 4}), encoding="utf-8")
    server = Served(url, workers=2, config=config, log=tmp_path / "serve.log")
    yield server, url
    server.stop()


def check_store(url: str, result) -> None:
    """Every acknowledged answer stored with its item, nothing else stored, every finished test written whole."""
    with open_store(url) as store:
        stored = store_answers(store)
        acknowledged = {(sid, step): item for sid, step, item in result.acknowledged}
        assert len(acknowledged) == len(result.acknowledged)  # no step acknowledged twice
        missing = [k for k in acknowledged if stored.get(k) != acknowledged[k]]
        assert missing == [], f"{len(missing)} acknowledged answers not stored: {missing[:5]}"
        extra = set(stored) - set(acknowledged)
        assert extra == set(), f"{len(extra)} answers stored that no taker saw acknowledged: {sorted(extra)[:5]}"
        assert live_store.check(store) == [] and store.check() == []
        sessions, responses = store.count(status="finished")
        assert sessions == len(result.finished) and responses == len(stored)


def test_200_takers_on_2_workers_lose_and_duplicate_no_answer(served):
    server, url = served
    result = Takers(server.url, TAKERS, think=0.3, seed=1).run()
    assert result.errors == []
    assert result.started == TAKERS and len(result.finished) == TAKERS
    check_store(url, result)


def test_killing_a_worker_midway_loses_no_acknowledged_answer(served):
    server, url = served
    workers = server.worker_pids(expect=2)
    assert len(workers) == 2, workers
    takers = Takers(server.url, TAKERS, think=0.3, seed=2)
    killed: list[int] = []

    def kill_one(n_acknowledged: int) -> None:
        if not killed and n_acknowledged >= 800:  # about a third of the way
            os.kill(workers[0], signal.SIGKILL)
            killed.append(n_acknowledged)

    takers.on_answer = kill_one
    result = takers.run()
    assert killed, "the run ended before the worker was killed"
    assert result.errors == []
    assert len(result.finished) == TAKERS  # the other worker (and uvicorn's replacement) carried every test on
    check_store(url, result)
