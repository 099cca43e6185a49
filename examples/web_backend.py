"""Embed an adaptive test in a web back end: a standard-library HTTP handler whose session state travels as JSON.

The dependency-free embedding example (the deployable service is ``digicomp serve``, docs/service.md). The server
keeps no session: ``POST /start`` returns the first item and the signed session state; the client sends the state
back with each answer to ``POST /answer`` and gets the next item (or the report) and the new state. Restart the
server between two answers and the test goes on; alter the state and it is refused (HMAC-SHA256); send an older
state again to answer an item twice and it is refused too (a replay guard keeps each session's newest step: here
in memory, in a real deployment in the store, ``digicomp.cat.replay.StoreReplayGuard``). A body that is not a JSON
object with the fields named gets a 400 naming what is wrong. The HMAC key comes from ``DIGICOMP_DEMO_KEY`` (a
random one per process otherwise). Run it as a demo (a scripted client sits a whole test against it) or serve:

    python examples/web_backend.py            # start, answer every question, print the level, stop
    python examples/web_backend.py --serve 8000
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from digicomp import AdaptiveTest, DigicompError
from digicomp.cat.errors import ReplayedStateError
from digicomp.cat.replay import MemoryReplayGuard
from digicomp.commands.take import design_for

# One engine for the whole process: it holds only immutable tables, so every request thread may use it.
KEY = os.environ.get("DIGICOMP_DEMO_KEY") or secrets.token_hex(32)
ENGINE = AdaptiveTest(
    "civil-service", design_for(None, "vi"), hmac_key=KEY.encode("utf-8"), replay_guard=MemoryReplayGuard()
)


class BadRequest(Exception):
    """A body that is not what the route reads (400 with this message)."""


def field(body: dict[str, Any], name: str) -> Any:
    """``body[name]``; BadRequest naming the field when it is missing."""
    if name not in body:
        raise BadRequest(f"the body has no {name!r} field")
    return body[name]


def start(body: dict[str, Any]) -> dict[str, Any]:
    """A new session: the first item and the state to send back."""
    session = ENGINE.start(person_id=body.get("person"), seed=body.get("seed"))
    return {"item": session.next_item().to_dict(), "state": session.to_json()}


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """Record one answer to the served item; the next item (or the report) and the new state."""
    session = ENGINE.resume(field(body, "state"))
    session.record(field(body, "item"), field(body, "answer"))
    item = session.next_item()
    out: dict[str, Any] = {"state": session.to_json()}
    if item is None:
        report = session.report()
        report.pop("audit", None)
        out["report"] = report
    else:
        out["item"] = item.to_dict()
    return out


ROUTES = {"/start": start, "/answer": answer}


class Handler(BaseHTTPRequestHandler):
    """POST JSON in, JSON out. A malformed body or a refused call (wrong item, altered state) is a 400 with the
    message, a replayed state a 409; nothing the client sends makes a 500 with a traceback."""

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        route = ROUTES.get(self.path)
        if route is None:
            return self._send(404, {"error": f"no route {self.path}; use {', '.join(ROUTES)}"})
        try:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= 1_000_000:
                raise BadRequest(f"Content-Length {length} is not 0..1000000")
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
            return self._send(200, route(body))
        except ReplayedStateError as exc:
            return self._send(409, {"error": f"{type(exc).__name__}: {exc}"})
        except (DigicompError, BadRequest, ValueError) as exc:  # ValueError: not JSON, a bad Content-Length
            return self._send(400, {"error": f"{type(exc).__name__}: {exc}"})
        except Exception:  # noqa: BLE001 - a bug here must not show the client a traceback
            return self._send(500, {"error": "internal error"})

    def _send(self, status: int, data: dict[str, Any]) -> None:
        payload = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        """Quiet: the demo prints its own lines."""


def post(base: str, path: str, body: Any) -> dict[str, Any]:
    """The client side: POST JSON, read JSON (HTTP errors carry JSON too)."""
    req = urllib.request.Request(base + path, json.dumps(body).encode("utf-8"), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


def raw_answer(item: dict[str, Any]) -> Any:
    """The demo's answer in each format's raw form: option B, [B], the steps as shown, the first choice, "1"."""
    kind = item["kind"]
    if kind == "multiple_response":
        return ["B"]
    if kind == "ordering":
        return [o["id"] for o in item["options"]]
    if kind == "matching":
        return {p["id"]: item["choices"][0]["id"] for p in item["premises"]}
    if kind == "short_answer":
        return "1"
    return "B"


def demo_client(base: str) -> int:
    """Sit a whole test over HTTP answering as :func:`raw_answer`, and check that an altered state is refused."""
    reply = post(base, "/start", {"person": "web-demo", "seed": 1})
    first, first_state, first_item = reply["item"], reply["state"], reply["item"]["id"]
    sizes = []
    while "item" in reply:
        item = reply["item"]
        sizes.append(len(reply["state"]))
        reply = post(base, "/answer", {"state": reply["state"], "item": item["id"], "answer": raw_answer(item)})
    report = reply["report"]
    print(f"{report['n_items']} items over HTTP; state JSON {min(sizes)}–{max(sizes)} bytes between requests")
    print(
        f"level: {report['level']['name']} (θ = {report['theta']:+.2f}, SE {report['se']:.2f}, "
        f"stop: {report['stop_reason']})"
    )
    forged = json.loads(reply["state"])
    forged["scores"][0] = 1 - forged["scores"][0]
    refused = post(base, "/answer", {"state": json.dumps(forged), "item": "x", "answer": "B"})
    print(f"altered state refused: {refused['error'][:70]}...")
    replayed = post(base, "/answer", {"state": first_state, "item": first_item, "answer": raw_answer(first)})
    print(f"replayed state refused: {replayed['error'][:70]}...")
    bad = post(base, "/answer", [])
    print(f"a JSON array as the body: {bad['error']}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, metavar="PORT", help="serve on this port until Ctrl-C")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.serve or 0), Handler)
    if args.serve:
        print(f"serving on http://127.0.0.1:{args.serve} (POST /start, POST /answer)")
        server.serve_forever()
        return 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return demo_client(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()


if __name__ == "__main__":
    raise SystemExit(main())
