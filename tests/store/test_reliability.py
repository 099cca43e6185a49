"""Nothing lost, nothing half-written: a writer killed mid-batch, and several writer processes at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from digicomp.store import open_store
from tests.store.conftest import small_bank

ROOT = Path(__file__).resolve().parents[2]


def _writer(url: str, prefix: str, n: int, batch: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.writer", url, prefix, str(n), str(batch)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_every_session_whole(store) -> None:
    """Every stored session has exactly its n_items responses at positions 1..n_items."""
    assert store.check() == []


@pytest.mark.parametrize("kill_after", [2, 7])
def test_killed_writer_leaves_committed_sessions_whole_and_no_partial_batch(store_url, kill_after):
    batch = 25
    proc = _writer(store_url, "k", 100_000, batch)
    committed: list[str] = []
    for _ in range(kill_after):
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        committed += line.split()
    os.kill(proc.pid, signal.SIGKILL)  # mid-batch: the writer spends nearly all its time inside write_many
    proc.wait()
    with open_store(store_url) as store:
        n_sessions, n_responses = store.count()
        stored = {r[0] for r in store._read("SELECT session_id FROM sessions")}
        _assert_every_session_whole(store)
    assert set(committed) <= stored
    assert n_sessions % batch == 0, "a batch is stored in part"
    assert n_responses == 8 * n_sessions
    assert len(stored) <= len(committed) + batch  # at most the batch whose commit was not yet reported


def test_concurrent_writers_lose_nothing(store_url):
    writers, per_writer, batch = 3, 120, 10
    procs = [_writer(store_url, f"w{k}", per_writer, batch) for k in range(writers)]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert len(out.split()) == per_writer
    with open_store(store_url) as store:
        assert store.count() == (writers * per_writer, writers * per_writer * 8)
        _assert_every_session_whole(store)
        assert len(store.banks()) == 1
        got = store.read_responses(small_bank())
        assert got.n_sessions == writers * per_writer
