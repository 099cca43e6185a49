"""The FastAPI application: ``create_app(config)``; the REST API under ``/api/v1``, the pages, the security headers.

Every refusal is JSON ``{"error": {"code", "message", ...}}`` with a 4xx status (the codes are listed in
docs/service.md); malformed JSON is 400 ``bad_json``, a body of the wrong shape 422 ``validation_error``, and an
unexpected failure 500 ``internal_error`` without a traceback (the traceback goes to the server log only).
Workers keep no session state (see :mod:`digicomp.service.sessions`), so any number of them may serve one store.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from starlette.exceptions import HTTPException as StarletteHTTPException

from digicomp.cat.saved_state import Answer
from digicomp.service import pages
from digicomp.service.auth import Authenticator, RateLimiter, check_csrf, csrf_token
from digicomp.service.config import ServiceConfig, config_from
from digicomp.service.dashboard import Dashboard
from digicomp.service.errors import ApiError
from digicomp.service.sessions import SessionService, StorePool, build_engine, dumps
from digicomp.store import live as live_store

log = logging.getLogger("digicomp.service")

MAX_BODY = 64 * 1024
"""Largest request body read (an answer is well under 1 KB)."""

CSP = (
    "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SESSION_COOKIE = "dc_session"
PRE_COOKIE = "dc_pre"
LANG_COOKIE = "dc_lang"
CONFIG_ENV = "DIGICOMP_SERVICE_CONFIG"
"""Environment variable through which ``digicomp serve`` hands its workers the configuration (JSON, no secret)."""


# ---------------------------------------------------------------------- request bodies
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartRequest(_Body):
    """Start a session: the design (default: the first offered), the person id, the unit, the language."""

    design: str | None = Field(default=None, max_length=64)
    person: str | None = Field(default=None, max_length=128)
    unit: str | None = Field(default=None, max_length=64)
    lang: Literal["vi", "en"] = "vi"


class AnswerRequest(_Body):
    """An answer to the item shown at ``step``: its id and the raw answer (option id, list of option ids, ordering,
    {premise: choice}, typed text, or a category number)."""

    step: StrictInt = Field(ge=0)
    item: str = Field(max_length=128)
    answer: Answer


# ---------------------------------------------------------------------- security headers and body limit (ASGI)
class SecurityHeaders:
    """Adds the standard security headers to every response and refuses bodies over ``MAX_BODY`` (413)."""

    def __init__(self, app: Any, https: bool) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return await _send_json(send, ApiError(413, "too_large", f"the body is over {MAX_BODY} bytes"))
        if length is None and scope.get("method") in ("POST", "PUT", "PATCH"):  # chunked: read it here, bounded
            chunks, size = [], 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > MAX_BODY:
                    return await _send_json(send, ApiError(413, "too_large", f"the body is over {MAX_BODY} bytes"))
                if not message.get("more_body"):
                    break
            body = b"".join(chunks)

            async def receive() -> dict:  # noqa: F811 - the app reads the buffered body
                return {"type": "http.request", "body": body, "more_body": False}

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                have = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in self.headers if h[0] not in have]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _send_json(send: Any, err: ApiError) -> None:
    body = json.dumps(err.body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": err.status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------------- the application
def create_app(config: ServiceConfig | None = None, *, secret: bytes | None = None) -> Any:
    """The ASGI application of ``config`` (the defaults: local SQLite store, the civil-service test).

    ``secret`` overrides the configuration's (tests); the store's tables and units are set up here.
    """
    config = config or ServiceConfig()
    secret = secret if secret is not None else config.secret_bytes()
    engines = {d.id: build_engine(d) for d in config.designs}
    pool = StorePool(config.store, config.store_pool)
    with pool.get() as store:  # creates or migrates the tables; registers the banks and units
        for engine in engines.values():
            store.register_bank(engine.bank)
        if config.units:
            store.put_units([u.model_dump() for u in config.units])
    service = SessionService(config, pool, engines)
    auth = Authenticator(config)
    dashboard = Dashboard(config, engines)
    limits = config.rate_limits
    start_limit = RateLimiter(limits.starts_per_minute) if limits else None
    session_limit = RateLimiter(limits.requests_per_session_per_minute) if limits else None

    app = FastAPI(
        title="digicomp assessment service",
        version="1",
        description="Adaptive tests of digital competence: sessions, answers, reports; admin listing and export.",
        docs_url=None,  # Swagger UI loads scripts from a CDN: not under this CSP; /api/v1/docs lists the API instead
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.service = service
    app.state.config = config

    def client_of(request: Request) -> str:
        if config.trust_proxy:
            forwarded = request.headers.get("x-forwarded-for")
            if forwarded:
                return forwarded.split(",")[0].strip()
        return request.client.host if request.client else "unknown"

    def limit_start(request: Request) -> None:
        if start_limit is not None:
            start_limit.take(client_of(request), "tests started from this address")

    def limit_session(session_id: str) -> None:
        if session_limit is not None:
            session_limit.take(session_id, "requests for this session")

    # ------------------------------------------------------------------ errors
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        wait = int(exc.details["retry_after"]) + 1 if "retry_after" in exc.details else None
        headers = {"Retry-After": str(wait)} if wait is not None else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": 'Basic realm="digicomp"'}
        if is_page(request):  # a person at a page gets a page in their language, not JSON
            page = pages.error_page(_lang_of(request), exc.code, wait)
            return HTMLResponse(page, status_code=exc.status, headers={"Cache-Control": "no-store", **(headers or {})})
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse(ApiError(400, "bad_json", "the body is not valid JSON").body(), status_code=400)
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg", "")}
            for e in errors
        ]
        text = "; ".join(f"{p['field'] or '(body)'}: {p['message']}" for p in problems)
        body = ApiError(422, "validation_error", text, problems=problems).body()
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(ApiError(exc.status_code, code, str(exc.detail)).body(), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        body = ApiError(500, "internal_error", "the server failed on this request; it has been logged").body()
        return JSONResponse(body, status_code=500)

    # ------------------------------------------------------------------ test-taker API
    @app.post("/api/v1/sessions", status_code=201, tags=["sessions"])
    def start_session(body: StartRequest, request: Request) -> dict[str, Any]:
        """Start a session; the reply holds its id (keep it secret: it is the key to the session) and first item."""
        limit_start(request)
        return service.start(body.design, body.person, body.unit, body.lang)

    @app.get("/api/v1/sessions/{session_id}", tags=["sessions"], response_class=JSONResponse)
    def get_session(session_id: str) -> Response:
        """The session now: status, step and the item to answer (never its key)."""
        limit_session(session_id)
        return _json(service.current(session_id)[1])

    @app.post("/api/v1/sessions/{session_id}/answers", tags=["sessions"], response_class=JSONResponse)
    def post_answer(session_id: str, body: AnswerRequest) -> Response:
        """Answer the item shown at ``step``. A retry of an accepted request gets the same reply; an old,
        future or concurrent step is refused with 409."""
        limit_session(session_id)
        return _json(service.answer(session_id, body.step, body.item, body.answer))

    @app.get("/api/v1/sessions/{session_id}/report", tags=["sessions"])
    def get_report(session_id: str, lang: Literal["vi", "en"] | None = None) -> dict[str, Any]:
        """The result of a finished session: level overall and per area, competences to work on."""
        limit_session(session_id)
        return service.report(session_id, lang)

    @app.post("/api/v1/sessions/{session_id}/abandon", tags=["sessions"])
    def abandon(session_id: str) -> dict[str, Any]:
        """End the session without a result (stored as abandoned)."""
        limit_session(session_id)
        return service.abandon(session_id)

    # ------------------------------------------------------------------ admin API
    def principal(x_api_key: str | None, authorization: str | None) -> Any:
        return auth.principal(x_api_key, authorization)

    @app.get("/api/v1/admin/sessions", tags=["admin"])
    def list_sessions(
        unit: str | None = None,
        status: Literal["active", "finished", "abandoned"] | None = None,
        limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
        x_api_key: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """Sessions (newest first) of the units the caller may see, or of ``unit`` and the units below it."""
        who = principal(x_api_key, authorization)
        scope = auth.scope(who, unit)
        with service.pool.get() as store:
            rows = live_store.listing(store, scope, status, limit)
        return {"sessions": [r.summary() for r in rows]}

    @app.get("/api/v1/admin/responses.csv", tags=["admin"], response_class=PlainTextResponse)
    def export_responses(
        unit: str | None = None,
        x_api_key: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> Response:
        """Every acknowledged answer as a long CSV: session, person, unit, design, step, item, answer, score, time."""
        who = principal(x_api_key, authorization)
        scope = auth.scope(who, unit)
        with service.pool.get() as store:
            rows = live_store.answers(store, scope)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["session", "person", "unit", "design", "step", "item", "answer", "score", "answered_at"])
        writer.writerows([row[0], *(_cell(v) for v in row[1:])] for row in rows)  # the session id is ours: as stored
        return Response(out.getvalue(), media_type="text/csv; charset=utf-8")

    @app.get("/api/v1/admin/store/check", tags=["admin"])
    def store_check(
        x_api_key: Annotated[str | None, Header()] = None,
        authorization: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """The store's consistency check (whole sessions, answers at steps 1..n); administrators only."""
        who = principal(x_api_key, authorization)
        if who.role != "admin":
            raise ApiError(403, "forbidden", f"{who.name!r} is not an administrator")
        with service.pool.get() as store:
            problems = store.check() + live_store.check(store)
        return {"ok": not problems, "problems": problems}

    @app.get("/api/v1/health", tags=["admin"])
    def health() -> dict[str, Any]:
        """Liveness: the worker answers and reaches its store."""
        with service.pool.get() as store:
            store.schema_version  # noqa: B018 - one query
        return {"ok": True}

    @app.get("/api/v1/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """The OpenAPI document as a page (no external scripts): each path, method and summary."""
        spec = app.openapi()
        rows = "".join(
            f"<tr><td>{m.upper()}</td><td><code>{p}</code></td><td>{pages.escape(op.get('summary', ''))}</td></tr>"
            for p, ops in spec["paths"].items()
            for m, op in ops.items()
        )
        body = (
            '<h2>API v1</h2><p><a href="/api/v1/openapi.json">openapi.json</a></p>'
            f"<table><thead><tr><th>method</th><th>path</th><th>what</th></tr></thead><tbody>{rows}</tbody></table>"
        )
        return HTMLResponse(pages.page("en", "digicomp API", body, "/api/v1/docs"))

    # ------------------------------------------------------------------ pages
    _install_pages(app, service, config, secret, limit_start, limit_session)
    _install_dashboard(app, service, auth, dashboard)
    app.add_middleware(SecurityHeaders, https=config.https)
    return app


PAGE_PATHS = frozenset({"/", "/start", "/test", "/test/answer", "/result", "/dashboard"})


def is_page(request: Request) -> bool:
    """Whether ``request`` is for one of the test-taker's HTML pages (its errors are pages, not JSON)."""
    return request.url.path in PAGE_PATHS


def _lang_of(request: Request, default: str = "vi") -> str:
    """The page language: asked in the query, else remembered in the cookie, else ``default``."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or default
    return asked if asked in pages.TEXT else "vi"


def _json(data: Any) -> Response:
    """A JSON response written directly (the hot paths skip FastAPI's response validation of plain dicts)."""
    return Response(dumps(data).encode("utf-8"), media_type="application/json")


def _cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula (text starting = + - @ gets a leading ')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _install_pages(app: Any, service: SessionService, config: ServiceConfig, secret: bytes, limit_start, limit_session):
    """The test-taker's pages: /, /start, /test, /test/answer, /result, /media, /static."""
    secure = config.https

    lang_of = _lang_of

    def html(text: str, status: int = 200, lang: str | None = None, request: Request | None = None) -> HTMLResponse:
        resp = HTMLResponse(text, status_code=status, headers={"Cache-Control": "no-store"})
        if lang is not None and request is not None and request.query_params.get("lang") == lang:
            resp.set_cookie(LANG_COOKIE, lang, max_age=31536000, httponly=True, samesite="strict", secure=secure)
        return resp

    async def form_of(request: Request) -> dict[str, list[str]]:
        raw = await request.body()
        try:
            return parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "bad_form", "the form data is not valid") from None

    def designs_and_units(lang: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        designs = [(d.id, d.title.get(lang) or d.title.get("vi") or d.id) for d in config.designs]
        units = [(u.unit, (u.name_en if lang == "en" else u.name_vi) or u.name_vi or u.unit) for u in config.units]
        return designs, units

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request) -> HTMLResponse:
        lang = lang_of(request)
        sid = request.cookies.get(SESSION_COOKIE)
        if sid and request.query_params.get("new") is None:
            try:
                live, _ = service.current(sid)
                if live.status == "active":
                    return RedirectResponse("/test", status_code=303)
            except ApiError:
                pass
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(18)
        designs, units = designs_and_units(lang)
        resp = html(pages.start_page(lang, csrf_token(secret, pre), designs, units), lang=lang, request=request)
        resp.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", secure=secure)
        return resp

    @app.post("/start", include_in_schema=False)
    async def start(request: Request) -> Response:
        form = await form_of(request)
        lang = (form.get("lang") or ["vi"])[0]
        lang = lang if lang in pages.TEXT else "vi"
        check_csrf(secret, request.cookies.get(PRE_COOKIE), (form.get("csrf") or [None])[0])
        limit_start(request)
        person = (form.get("person") or [""])[0].strip() or None
        unit = (form.get("unit") or [""])[0] or None
        design = (form.get("design") or [""])[0] or None
        try:
            reply = service.start(design, person, unit, lang)
        except ApiError as exc:
            designs, units = designs_and_units(lang)
            pre = request.cookies.get(PRE_COOKIE) or ""
            text = pages.start_page(lang, csrf_token(secret, pre), designs, units, error=exc.message)
            return html(text, status=exc.status)
        resp = RedirectResponse("/test", status_code=303)
        resp.set_cookie(SESSION_COOKIE, reply["session"], httponly=True, samesite="strict", secure=secure)
        resp.set_cookie(LANG_COOKIE, lang, max_age=31536000, httponly=True, samesite="strict", secure=secure)
        return resp

    def item_response(request: Request, reply: dict[str, Any], status: int = 200, error: str = "", note: str = ""):
        lang = lang_of(request, reply["lang"])
        item = reply["item"]
        media = pages.media_path(reply["design"], item["id"]) if item.get("media") else None
        text = pages.item_page(lang, reply, csrf_token(secret, reply["session"]), media, error=error, note=note)
        return html(text, status=status, lang=lang, request=request)

    @app.get("/test", include_in_schema=False)
    def test(request: Request) -> Response:
        sid = request.cookies.get(SESSION_COOKIE)
        if not sid:
            return RedirectResponse("/", status_code=303)
        limit_session(sid)
        try:
            live, reply = service.current(sid)
        except ApiError:
            return RedirectResponse("/?new=1", status_code=303)
        if live.status == "finished":
            return RedirectResponse("/result", status_code=303)
        if live.status != "active":
            lang = lang_of(request, live.lang)
            return html(pages.message_page(lang, pages.TEXT[lang]["abandoned"]))
        note = pages.TEXT[lang_of(request, live.lang)]["stale"] if request.query_params.get("moved") else ""
        return item_response(request, reply, note=note)

    @app.post("/test/answer", include_in_schema=False)
    async def answer(request: Request) -> Response:
        sid = request.cookies.get(SESSION_COOKIE)
        if not sid:
            return RedirectResponse("/", status_code=303)
        form = await form_of(request)
        check_csrf(secret, sid, (form.get("csrf") or [None])[0])
        limit_session(sid)
        try:
            step = int((form.get("step") or [""])[0])
        except ValueError:
            raise ApiError(400, "bad_form", "the form has no valid step") from None
        item_id = (form.get("item") or [""])[0]
        live, reply = service.current(sid)
        lang = lang_of(request, live.lang)
        if live.status != "active" or reply.get("item", {}).get("id") != item_id or reply["step"] != step:
            # an old tab or a resubmitted form: the retry of the accepted answer, else the current item
            if _is_retry(service, live, step, item_id, form, lang):
                return RedirectResponse("/result" if live.status == "finished" else "/test", status_code=303)
            return RedirectResponse("/test?moved=1" if live.status == "active" else "/result", status_code=303)
        raw, problem = pages.answer_from_form(reply["item"], form, lang)
        if raw is None:
            return item_response(request, reply, status=422, error=problem)
        try:
            done = service.answer(sid, step, item_id, raw)
        except ApiError as exc:
            if exc.status == 422:
                return item_response(request, reply, status=422, error=exc.message)
            return RedirectResponse("/test?moved=1", status_code=303)
        return RedirectResponse("/result" if done["status"] == "finished" else "/test", status_code=303)

    @app.get("/result", include_in_schema=False)
    def result(request: Request) -> Response:
        sid = request.cookies.get(SESSION_COOKIE)
        if not sid:
            return RedirectResponse("/", status_code=303)
        limit_session(sid)
        try:
            live, _ = service.current(sid)
        except ApiError:
            return RedirectResponse("/?new=1", status_code=303)
        if live.status != "finished":
            return RedirectResponse("/test", status_code=303)
        lang = lang_of(request, live.lang)
        return html(pages.result_page(lang, service.report(sid, lang)), lang=lang, request=request)

    @app.get("/media/{design}/{item_id}", include_in_schema=False)
    def media(design: str, item_id: str) -> Response:
        engine = service.engines.get(design)
        if engine is None or item_id not in set(engine.bank.ids):
            raise ApiError(404, "not_found", "no such image")
        item = engine.bank.item(item_id)
        root = engine.bank.media_root
        if item.media is None or root is None:
            raise ApiError(404, "not_found", "no such image")
        path = (Path(root) / item.media.src).resolve()
        types = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
        if path.suffix.lower() not in types or not path.is_file():
            raise ApiError(404, "not_found", "no such image")
        return Response(
            path.read_bytes(),
            media_type=types[path.suffix.lower()],
            headers={
                "Cache-Control": "public, max-age=86400",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            },
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/static/app.css", include_in_schema=False)
    def css() -> Response:
        return Response(pages.CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    @app.get("/static/app.js", include_in_schema=False)
    def js() -> Response:
        return Response(pages.JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})


def _install_dashboard(app: Any, service: SessionService, auth: Authenticator, dashboard: Dashboard) -> None:
    """``GET /dashboard[?unit=ID][&lang=vi|en]``: the programme report of the service's store, per unit as the
    caller may see it (API key or HTTP Basic, like the admin API; a browser asks for the user's password)."""
    from urllib.parse import quote

    from digicomp.reporting.programme import programme_sections

    @app.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
    def dashboard_page(request: Request, unit: str | None = None) -> Response:
        lang = _lang_of(request)
        who = auth.principal(request.headers.get("x-api-key"), request.headers.get("authorization"))
        auth.scope(who, unit)  # 403 forbidden_unit / 404 unknown_unit
        allowed = auth.units_of(who)
        with service.pool.get() as store:
            data = dashboard.read(store)
        if data is None:
            body = pages.dashboard_empty(lang)
        else:
            report = dashboard.report(data, unit, allowed, lang)

            def link(u: str) -> str:
                return f"/dashboard?unit={quote(u, safe='')}&lang={lang}"

            body = "".join(programme_sections(report, lang, unit_link=link))
        switch = f"/dashboard?unit={quote(unit, safe='')}" if unit else "/dashboard"
        resp = HTMLResponse(pages.dashboard_page(lang, body, switch), headers={"Cache-Control": "no-store"})
        if request.query_params.get("lang") == lang:
            secure = auth.config.https
            resp.set_cookie(LANG_COOKIE, lang, max_age=31536000, httponly=True, samesite="strict", secure=secure)
        return resp


def _is_retry(service: SessionService, live: Any, step: int, item_id: str, form: dict, lang: str) -> bool:
    """True when the form is the last accepted answer sent again (a resubmitted form after a dropped reply)."""
    last = live.last_request
    engine = service.engines.get(live.design)
    if last is None or engine is None or last.get("step") != step or last.get("item") != item_id:
        return False
    content = engine.item_content(engine.bank.index_of(item_id))
    return pages.answer_from_form(content, form, lang)[0] == last.get("answer")


def app_from_env() -> Any:
    """The application for ``uvicorn --factory``: the configuration from ``DIGICOMP_SERVICE_CONFIG`` (JSON)."""
    text = os.environ.get(CONFIG_ENV)
    config = config_from(json.loads(text), CONFIG_ENV) if text else ServiceConfig()
    app = create_app(config)
    # The banks, designs and engines live as long as the worker: move them out of the collector's way, or every
    # full collection walks them (15-20 ms, in the middle of some request)
    gc.collect()
    gc.freeze()
    return app
