"""Fixtures of the service tests: the app on a fresh SQLite or PostgreSQL store, a TestClient, answering helpers.

The browser and load tests run only when ``-m`` names their marker (``.ci/run`` does: ``-m "browser or load"``);
the default run (README's ``-m "not slow"``) skips them, as they need Chromium and several minutes.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from digicomp.bank.formats import max_score  # noqa: E402
from digicomp.bank.scoring import answer_for  # noqa: E402
from digicomp.service.app import create_app  # noqa: E402
from digicomp.service.auth import hash_key, hash_password  # noqa: E402
from digicomp.service.config import config_from  # noqa: E402
from tests.store.conftest import pg_server  # noqa: E402,F401 - the PostgreSQL server fixture, shared

SECRET = b"s" * 40
ADMIN_KEY, HN_KEY, BD_KEY = "admin-key-" + "a" * 30, "hn-key-" + "b" * 30, "bd-key-" + "c" * 30
PASSWORD = "correct horse battery"
UNITS = [
    {"unit": "hn", "name_vi": "Công an Hà Nội", "name_en": "Hanoi Police"},
    {"unit": "hn-bd", "parent": "hn", "name_vi": "Công an quận Ba Đình"},
    {"unit": "hp", "name_vi": "Công an Hải Phòng"},
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser/load tests unless the -m expression names them."""
    expr = config.getoption("-m") or ""
    for item in items:
        for mark in ("browser", "load"):
            if item.get_closest_marker(mark) is not None and mark not in expr:
                item.add_marker(pytest.mark.skip(reason=f'run with -m "{mark}" (.ci/run does)'))


def service_config(store: str, **extra: Any) -> Any:
    """A configuration with units, an admin user, and API keys for an admin and two unit managers."""
    data = {
        "store": store,
        "units": UNITS,
        "users": [{"name": "root", "role": "admin", "password_hash": hash_password(PASSWORD)}],
        "api_keys": [
            {"name": "admin-bot", "role": "admin", "key_sha256": hash_key(ADMIN_KEY)},
            {"name": "hn-manager", "role": "manager", "units": ["hn"], "key_sha256": hash_key(HN_KEY)},
            {"name": "bd-manager", "role": "manager", "units": ["hn-bd"], "key_sha256": hash_key(BD_KEY)},
        ],
        **extra,
    }
    return config_from(data)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    return request.getfixturevalue("pg_server").new_database()


@pytest.fixture
def app(store_url):
    return create_app(service_config(store_url), secret=SECRET)


@pytest.fixture
def client(app) -> TestClient:
    with TestClient(app) as c:
        yield c


def right_answer(app, item: dict[str, Any], score: int | None = None) -> Any:
    """A raw answer to the served ``item`` scoring ``score`` (default: the item's highest score)."""
    engine = next(iter(app.state.service.engines.values()))
    it = engine.bank.item(item["id"])
    if item["kind"] == "self_assessment":
        return 2 if score is None else score
    return answer_for(it, max_score(it) if score is None else score)


def sit(client: TestClient, app, reply: dict[str, Any], score: int | None = None) -> dict[str, Any]:
    """Answer every item of the session in ``reply`` over the API; the last reply."""
    sid = reply["session"]
    while reply["status"] == "active":
        item = reply["item"]
        body = {"step": reply["step"], "item": item["id"], "answer": right_answer(app, item, score)}
        r = client.post(f"/api/v1/sessions/{sid}/answers", json=body)
        assert r.status_code == 200, r.text
        reply = r.json()
    return reply
