"""The test-taker's pages through plain HTTP forms (no browser): a whole sitting in every item format, reload,
a resubmitted form, CSRF, the language switch, the result page, and the weight of each step (issue 14)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import SECRET, right_answer, service_config

pytest.importorskip("fastapi")

MAX_STEP_BYTES = 100_000


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', html).group(1)


def form_fields(item: dict[str, Any], answer: Any) -> list[tuple[str, str]]:
    """The form fields a person filling the page would send for the raw ``answer``."""
    kind = item["kind"]
    if kind == "multiple_response":
        return [("answer", a) for a in answer]
    if kind == "ordering":
        return [(f"pos_{o}", str(k + 1)) for k, o in enumerate(answer)]
    if kind == "matching":
        return [(f"match_{p}", c) for p, c in answer.items()]
    return [("answer", str(answer))]


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form pairs as httpx's ``data`` (a repeated field is a list)."""
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def begin(client, **fields) -> str:
    home = client.get("/")
    assert home.status_code == 200
    r = client.post("/start", data={"csrf": csrf_of(home.text), "lang": "vi", **fields}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/test"
    return client.cookies.get("dc_session")


def current(client, sid: str) -> dict:
    r = client.get(f"/api/v1/sessions/{sid}")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def unlimited(store_url):
    """An app without rate limits and its client: a scripted sitting sends ~6 requests an item, far above a
    person's pace (the limits have their own test below)."""
    from fastapi.testclient import TestClient

    from digicomp.service.app import create_app

    app = create_app(service_config(store_url, rate_limits=None), secret=SECRET)
    with TestClient(app) as c:
        yield c, app


def test_a_whole_sitting_through_the_forms(unlimited):
    client, app = unlimited
    sid = begin(client, person="p-1", unit="hn")
    kinds, weights = set(), []
    while True:
        page = client.get("/test")
        if page.url.path == "/result":
            break
        state = current(client, sid)
        item = state["item"]
        kinds.add(item["kind"])
        assert page.text.count("<fieldset") == 1 and "<legend>" in page.text and 'lang="vi"' in page.text
        assert page.text == client.get("/test").text  # a reload shows the same item
        fields = form_fields(item, right_answer(app, item))
        for name, _ in fields:
            assert f'name="{name}"' in page.text
        size = len(page.content) + sum(len(client.get(f"/static/app.{x}").content) for x in ("css", "js"))
        for src in re.findall(r'<img src="([^"]+)"', page.text):
            size += len(client.get(src).content)
        weights.append(size)
        body = [("csrf", csrf_of(page.text)), ("step", str(state["step"])), ("item", item["id"]), *fields]
        r = client.post("/test/answer", data=as_form(body), follow_redirects=False)
        assert r.status_code == 303, r.text
        again = client.post("/test/answer", data=as_form(body), follow_redirects=False)  # a resubmitted form: no harm
        assert again.status_code == 303
        assert current(client, sid)["step"] == state["step"] + 1
    result = client.get("/result")
    assert result.status_code == 200
    assert "Mức năng lực chung" in result.text and "Theo lĩnh vực" in result.text
    assert "Năng lực nên bồi dưỡng" in result.text or "to_work_on" not in result.text
    english = client.get("/result?lang=en")
    assert "Overall level" in english.text and 'lang="en"' in english.text
    assert max(weights) <= MAX_STEP_BYTES, max(weights)
    assert len(kinds) >= 2


def test_every_item_format_renders_and_scores_through_its_form(client, app):
    """Each format a session can give has its controls on the page, and the form's fields give the raw answer the
    engine scores (rated tasks are never given: a rater scores them after the sitting)."""
    from digicomp.service import pages

    engine = next(iter(app.state.service.engines.values()))
    seen = set()
    for j in range(engine.bank.n_items):
        content = engine.item_content(j)
        if engine.bank.is_rated[j] or (content["kind"] in seen and not content.get("media")):
            continue
        seen.add(content["kind"])
        answer = right_answer(app, content)
        html = pages.item_page(
            "vi",
            {"item": content, "step": 0, "progress": {}, "session": "s", "design": "d"},
            "0" * 64,
            "/media/x" if content.get("media") else None,
        )
        for name, _ in form_fields(content, answer):
            assert f'name="{name}"' in html
        if content.get("media"):
            assert '<img src="/media/x" alt="' in html and 'alt=""' not in html
        form: dict[str, list[str]] = {}
        for name, value in form_fields(content, answer):
            form.setdefault(name, []).append(value)
        got, problem = pages.answer_from_form(content, form, "vi")
        assert problem == "" and got == answer
        empty, problem = pages.answer_from_form(content, {}, "vi")
        assert empty is None and problem
    assert seen >= {"multiple_choice", "multiple_response", "ordering", "matching", "short_answer", "self_assessment"}


def test_forms_without_a_valid_csrf_token_are_refused(client):
    client.get("/")
    r = client.post("/start", data={"csrf": "0" * 64, "lang": "vi"}, follow_redirects=False)
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "Hãy tải lại trang" in r.text and 'lang="vi"' in r.text
    sid = begin(client)
    state = current(client, sid)
    r = client.post("/test/answer", data={"step": "0", "item": state["item"]["id"], "answer": "A"})
    assert r.status_code == 403 and current(client, sid)["step"] == 0


def test_an_empty_answer_is_asked_again_with_an_announced_error(client):
    sid = begin(client)
    page = client.get("/test")
    state = current(client, sid)
    r = client.post("/test/answer", data={"csrf": csrf_of(page.text), "step": "0", "item": state["item"]["id"]})
    assert r.status_code == 422 and 'role="alert"' in r.text and current(client, sid)["step"] == 0


def test_a_stale_tab_is_sent_to_the_current_item(client, app):
    sid = begin(client)
    page = client.get("/test")
    state = current(client, sid)
    item = state["item"]
    body = [("csrf", csrf_of(page.text)), ("step", "0"), ("item", item["id"])]
    right = as_form(body + form_fields(item, right_answer(app, item)))
    client.post("/test/answer", data=right, follow_redirects=False)
    other = as_form(body + form_fields(item, right_answer(app, item, 0)))
    r = client.post("/test/answer", data=other, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/test?moved=1"
    assert current(client, sid)["step"] == 1


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_person_over_the_session_rate_limit_gets_a_page_and_the_api_gets_json(store_url):
    """Past ``requests_per_session_per_minute`` the page says to wait (in the person's language, with
    Retry-After) and keeps the session; the API answers 429 JSON with ``retry_after``."""
    from fastapi.testclient import TestClient

    from digicomp.service.app import create_app

    app = create_app(service_config(store_url, rate_limits={"requests_per_session_per_minute": 3}), secret=SECRET)
    with TestClient(app) as client:
        sid = begin(client)
        for _ in range(3):
            assert client.get("/test").status_code == 200
        page = client.get("/test?lang=en")
        assert page.status_code == 429 and page.headers["content-type"].startswith("text/html")
        assert "Too many requests" in page.text and int(page.headers["retry-after"]) >= 1
        api = client.get(f"/api/v1/sessions/{sid}")
        assert api.status_code == 429 and api.json()["error"]["code"] == "rate_limited"
        assert api.json()["error"]["retry_after"] > 0
