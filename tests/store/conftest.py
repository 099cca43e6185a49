"""Fixtures of the store tests: a real PostgreSQL server (initdb + pg_ctl in a temporary folder) and small banks.

Every store test runs on both back ends through the ``store_url`` fixture. When the PostgreSQL binaries are
missing the PostgreSQL half fails (it does not skip): install Debian's ``postgresql`` package.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from digicomp.bank import ItemBank
from digicomp.errors import StoreError
from digicomp.models import ItemParameters
from digicomp.store import ServedItem, SessionRecord
from digicomp.store.pgserver import TemporaryPostgres


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TemporaryPostgres]:
    """A throw-away PostgreSQL server for the session; fails (never skips) when PostgreSQL is not installed."""
    try:
        server = TemporaryPostgres().__enter__()
    except StoreError as exc:
        pytest.fail(f"the PostgreSQL half of the store tests cannot run: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """URL of a new, empty store on each back end."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_server").new_database()


def small_bank(n: int = 12, seed: int = 3) -> ItemBank:
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
    base = dict(
        person_id=f"p-{session_id}",
        bank_fingerprint=bank.fingerprint,
        design_hash="sha256:design",
        status="finished",
        started_at="2026-11-01T08:00:00+00:00",
        finished_at="2026-11-01T08:10:00+00:00",
        stop_reason="se",
        theta=float(rng.normal()),
        se=0.3,
        level="intermediate",
        result={"theta": 0.1, "n_items": n_items},
    )
    base.update(kw)
    return SessionRecord(session_id=session_id, items=served, **base)
