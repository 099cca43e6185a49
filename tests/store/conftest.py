"""Fixtures of the store tests: a real PostgreSQL server (initdb + pg_ctl in a temporary folder) and small banks.

Every store test runs on both back ends through the ``store_url`` fixture. When the PostgreSQL binaries are
missing the PostgreSQL half fails (it does not skip): install Debian's ``postgresql`` package.
"""

from __future__ import annotations

import functools
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.models import ItemParameters
from digicomp.store import ServedItem, SessionRecord

_counter = itertools.count()


def _pg_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: the PostgreSQL half of the store tests "
                "cannot run. Install them: apt-get update && apt-get install -y postgresql", pytrace=False)


def _as_server_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its commands as the 'postgres' user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _run(bindir: str, program: str, *args: str) -> None:
    """Run a PostgreSQL program; its output is in the failure message when it fails."""
    done = subprocess.run(_as_server_user([f"{bindir}/{program}", *args]), capture_output=True, text=True)
    if done.returncode:
        pytest.fail(f"{program} failed ({done.returncode}): {done.stdout}{done.stderr}", pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A throw-away PostgreSQL server on 127.0.0.1; yields the URL prefix ``postgresql://digicomp@host:port``."""
    bindir = _pg_bin()
    root = Path(tempfile.mkdtemp(prefix="digicomp-pg-"))  # not under pytest's root-only folder: postgres reads it
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    run = functools.partial(_run, f"{bindir}")
    run("initdb", "-D", str(data), "-U", "digicomp", "--auth=trust", "-E", "UTF8", "--locale=C")
    run("pg_ctl", "-D", str(data), "-l", str(root / "log"), "-w", "-t", "60", "start",
        "-o", f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=on -c max_connections=50")
    try:
        yield f"postgresql://digicomp@127.0.0.1:{port}"
    finally:
        run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def new_pg_database(server: str) -> str:
    """A fresh, empty database on the test server; returns its URL."""
    import psycopg

    name = f"t{os.getpid()}_{next(_counter)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """URL of a new, empty store on each back end."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return new_pg_database(request.getfixturevalue("pg_server"))


def small_bank(n: int = 12, seed: int = 3, bank_id: str = "parameters") -> ItemBank:
    """A content-free 2PL bank of ``n`` items."""
    rng = np.random.default_rng(seed)
    params = ItemParameters.dichotomous(a=rng.lognormal(0, 0.2, n), b=rng.normal(0, 1, n))
    return ItemBank.from_item_parameters(params)


def make_record(bank: ItemBank, session_id: str, n_items: int = 5, seed: int = 0, **kw) -> SessionRecord:
    """A plausible finished session of ``bank``: ``n_items`` distinct items, 0/1 scores, times, last one pretest."""
    rng = np.random.default_rng(seed)
    items = rng.choice(bank.n_items, n_items, replace=False)
    served = tuple(
        ServedItem(k + 1, bank.ids[j], int(s), int(s), round(float(t), 3), k == n_items - 1)
        for k, (j, s, t) in enumerate(zip(items, rng.integers(0, 2, n_items), rng.uniform(3, 60, n_items)))
    )
    base = dict(person_id=f"p-{session_id}", bank_fingerprint=bank.fingerprint, design_hash="sha256:design",
                status="finished", started_at="2026-11-01T08:00:00+00:00", finished_at="2026-11-01T08:10:00+00:00",
                stop_reason="se", theta=float(rng.normal()), se=0.3, level="intermediate",
                result={"theta": 0.1, "n_items": n_items})
    base.update(kw)
    return SessionRecord(session_id=session_id, items=served, **base)
