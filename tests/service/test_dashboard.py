"""The dashboard page (GET /dashboard): the programme report of the service's own store, authorised per unit, in
Vietnamese first, under the service's content security policy, never cached; on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import re

import pytest

from .conftest import ADMIN_KEY, BD_KEY, HN_KEY, PASSWORD, SECRET, service_config, sit

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from digicomp.service.app import create_app  # noqa: E402
from digicomp.service.config import ConfigError  # noqa: E402

TARGETS = "targets:\n  - {level: advanced, share: 0.5, date: 2026-12-31}\n"
NAMES = {"hn": "Công an Hà Nội", "hn-bd": "Công an quận Ba Đình", "hp": "Công an Hải Phòng"}


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def dash(store_url, tmp_path):
    (tmp_path / "targets.yaml").write_text(TARGETS, encoding="utf-8")
    config = service_config(store_url, rate_limits=None, targets=str(tmp_path / "targets.yaml"))
    app = create_app(config, secret=SECRET)
    with TestClient(app) as c:
        yield c, app


def sittings(client, app, plan: list[tuple[str, str | None, int | None]]) -> None:
    """Finish one sitting per (person, unit, score) over the API (score None: every answer right, 0: all wrong)."""
    for person, unit, score in plan:
        r = client.post("/api/v1/sessions", json={"person": person, "unit": unit, "lang": "vi"})
        assert r.status_code == 201, r.text
        assert sit(client, app, r.json(), score)["status"] == "finished"


def row(html: str, unit: str) -> list[str]:
    """The cells (tags stripped) of the drill-down row of ``unit``."""
    m = re.search(rf'<tr class="d\d"><td id="u-{re.escape(unit)}">(.*?)</tr>', html)
    assert m, f"no drill-down row for {unit}"
    return [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", "<td>" + m.group(1))]


def pct(cell: str) -> float:
    return float(cell.rstrip("%")) / 100


def test_the_dashboard_before_any_result_and_its_refusals(dash):
    client, _ = dash
    r = client.get("/dashboard")
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert r.headers["www-authenticate"].startswith("Basic") and r.headers["cache-control"] == "no-store"
    assert 'lang="vi"' in r.text and "cần đăng nhập" in r.text
    assert client.get("/dashboard", headers={"X-API-Key": "wrong" * 8}).status_code == 401
    assert client.get("/dashboard", headers=basic("root", "wrong password")).status_code == 401
    r = client.get("/dashboard?unit=hp&lang=en", headers={"X-API-Key": HN_KEY})
    assert r.status_code == 403 and "may not see" in r.text and r.headers["content-type"].startswith("text/html")
    assert client.get("/dashboard?unit=nowhere", headers={"X-API-Key": ADMIN_KEY}).status_code == 404
    r = client.get("/dashboard", headers={"X-API-Key": ADMIN_KEY})
    assert r.status_code == 200 and "Chưa có bài đánh giá nào hoàn thành" in r.text


def test_the_dashboard_shows_each_caller_their_units_in_their_language(dash):
    client, app = dash
    sittings(
        client,
        app,
        [("bd-1", "hn-bd", None), ("bd-2", "hn-bd", None), ("hn-1", "hn", 0), ("hp-1", "hp", 0), ("hp-2", "hp", 0)]
        + [("x-1", None, None)],
    )
    admin = client.get("/dashboard", headers=basic("root", PASSWORD))
    assert admin.status_code == 200 and admin.headers["cache-control"] == "no-store"
    page = admin.text
    assert "content-security-policy" in admin.headers
    assert ' style="' not in page and "<style" not in page and "<script>" not in page  # the CSP allows neither
    # the report's plots (SVG with presentation attributes, which the CSP allows): shares per unit, progress by month
    assert 'aria-label="Tỉ lệ theo đơn vị"' in page and page.count('<svg xmlns="http://www.w3.org/2000/svg"') >= 2
    assert '<link rel="stylesheet" href="/static/app.css">' in page
    assert all(name in page for name in NAMES.values())
    # assessed in each subtree (the row folds its sub-units in); the unit-less person is a group of their own
    assert row(page, "hn-bd")[1] == "2" and row(page, "hn")[1] == "3" and row(page, "hp")[1] == "2"
    assert "(chưa gắn đơn vị)" in page
    # every answer right in Ba Đình, every answer wrong in Hải Phòng: the shares at or above 'advanced' differ
    # (the column after the 'foundation' triple of the drill-down table)
    assert pct(row(page, "hn-bd")[6]) > pct(row(page, "hp")[6])
    assert "Báo cáo tiến độ chương trình" in page and "≥ Nâng cao" in page and "Mục tiêu" in page
    assert "Advanced" not in page and "Programme progress report" not in page
    assert 'href="/dashboard?unit=hn-bd&amp;lang=vi"' in page  # the drill-down links
    # a manager of Hà Nội sees Hà Nội and Ba Đình, nothing of Hải Phòng or the persons without a unit
    hn = client.get("/dashboard", headers={"X-API-Key": HN_KEY}).text
    assert NAMES["hn"] in hn and NAMES["hn-bd"] in hn and NAMES["hp"] not in hn and "chưa gắn đơn vị" not in hn
    assert row(hn, "hn")[1] == "3" and "3 người đã được đánh giá" in hn
    # Ba Đình's manager sees Ba Đình alone, and may not ask for its parent
    bd = client.get("/dashboard", headers={"X-API-Key": BD_KEY})
    assert NAMES["hn-bd"] in bd.text and NAMES["hn"] + "<" not in bd.text and 'id="u-hn"' not in bd.text
    assert client.get("/dashboard?unit=hn", headers={"X-API-Key": BD_KEY}).status_code == 403
    # drill-down: one unit's subtree
    sub = client.get("/dashboard?unit=hn", headers={"X-API-Key": ADMIN_KEY}).text
    assert 'id="u-hn"' in sub and 'id="u-hn-bd"' in sub and 'id="u-hp"' not in sub
    # the language switch: English names and labels, the switch link keeps the unit
    en = client.get("/dashboard?unit=hn&lang=en", headers={"X-API-Key": ADMIN_KEY})
    assert 'lang="en"' in en.text and "Hanoi Police" in en.text and "Programme progress report" in en.text
    assert "≥ Advanced" in en.text and "Nâng cao" not in en.text and "Báo cáo" not in en.text
    assert 'href="/dashboard?unit=hn&amp;lang=vi"' in en.text
    assert en.cookies.get("dc_lang") == "en"


def test_a_bad_targets_file_stops_the_service(store_url, tmp_path):
    bad = tmp_path / "targets.yaml"
    bad.write_text(
        "targets:\n  - {level: advanced, share: 0.5, date: 2026-12-31}\n  - {level: expert, share: 0.2, "
        "date: 2026-12-31}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"targets\.yaml:3: target 2: level 'expert' is not one of the levels"):
        create_app(service_config(store_url, targets=str(bad)), secret=SECRET)
    with pytest.raises(ConfigError, match="targets file .*missing.yaml' does not exist"):
        service_config(store_url, targets=str(tmp_path / "missing.yaml"))
