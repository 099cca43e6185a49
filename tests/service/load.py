"""Simulated test takers against a running ``digicomp serve`` (asyncio + httpx), for the load test and the benchmark.

Each taker starts a session, then answers item after item (a random score of each item, raw answer built from the
bank as a client would send it) after a random think time, until the test ends. A request that fails on the
connection (a worker killed in the middle) is sent again unchanged: the service treats it as a retry. Every
answer acknowledged with 200 is remembered, so the caller can check the store holds exactly those.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from digicomp.bank import load_bank
from digicomp.bank.formats import max_score
from digicomp.bank.scoring import answer_for


@dataclass
class LoadResult:
    """What the takers saw: per-answer latencies (s), acknowledged (session, step, item), errors, retries."""

    latencies: list[float] = field(default_factory=list)
    acknowledged: list[tuple[str, int, str]] = field(default_factory=list)
    finished: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    seconds: float = 0.0
    started: int = 0

    def percentile(self, q: float) -> float:
        """The q-th percentile of the answer latencies, in milliseconds."""
        xs = sorted(self.latencies)
        if not xs:
            return float("nan")
        k = min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))
        return xs[k] * 1000


class Takers:
    """``n`` simulated takers against ``url``; ``think`` is the mean think time in seconds (exponential)."""

    def __init__(self, url: str, n: int, think: float, seed: int = 1, bank: str = "civil-service") -> None:
        self.url, self.n, self.think = url, n, think
        self.rng = random.Random(seed)
        self.bank = load_bank(bank)
        self.result = LoadResult()
        self.on_answer: Any = None
        """Called (with the count of acknowledged answers) after each one: the fault test kills a worker there."""

    def raw_answer(self, item: dict[str, Any]) -> Any:
        it = self.bank.item(item["id"])
        if item["kind"] == "self_assessment":
            return self.rng.randrange(len(item.get("categories") or [0, 1]))
        return answer_for(it, self.rng.randint(0, max_score(it)))

    async def _post(self, client: httpx.AsyncClient, path: str, body: dict) -> httpx.Response:
        """POST, sending the same request again after a connection failure (up to 20 times)."""
        for attempt in range(20):
            try:
                return await client.post(self.url + path, json=body)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                self.result.retries += 1
                if attempt == 19:
                    raise RuntimeError(f"{path}: no reply after 20 attempts ({exc!r})") from None
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _taker(self, client: httpx.AsyncClient, k: int) -> None:
        await asyncio.sleep(self.rng.uniform(0, max(self.think, 0.05)))  # arrivals spread over one think time
        r = await self._post(client, "/api/v1/sessions", {"person": f"load-{k}"})
        if r.status_code != 201:
            self.result.errors.append(f"start: {r.status_code} {r.text[:200]}")
            return
        reply = r.json()
        self.result.started += 1
        while reply["status"] == "active":
            if self.think:
                await asyncio.sleep(self.rng.expovariate(1 / self.think))
            item = reply["item"]
            body = {"step": reply["step"], "item": item["id"], "answer": self.raw_answer(item)}
            t0 = time.perf_counter()
            r = await self._post(client, f"/api/v1/sessions/{reply['session']}/answers", body)
            elapsed = time.perf_counter() - t0
            if r.status_code != 200:
                self.result.errors.append(f"answer: {r.status_code} {r.text[:200]}")
                return
            self.result.latencies.append(elapsed)
            self.result.acknowledged.append((reply["session"], reply["step"] + 1, item["id"]))
            reply = r.json()
            if self.on_answer is not None:
                self.on_answer(len(self.result.acknowledged))
        self.result.finished[reply["session"]] = reply["step"]

    async def _run(self) -> LoadResult:
        limits = httpx.Limits(max_connections=self.n, max_keepalive_connections=self.n)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            t0 = time.perf_counter()
            await asyncio.gather(*(self._taker(client, k) for k in range(self.n)))
            self.result.seconds = time.perf_counter() - t0
        return self.result

    def run(self) -> LoadResult:
        """Run every taker to the end of their test; the result."""
        return asyncio.run(self._run())


def store_answers(store: Any) -> dict[tuple[str, int], str]:
    """{(session, step): item} of every answer in the store's ``live_answers``."""
    from digicomp.store import live as live_store

    return {(row[0], int(row[4])): row[5] for row in live_store.answers(store)}


def page_weights(url: str, steps: int = 40) -> list[int]:
    """Bytes a browser loads per step of a sitting through the pages (HTML, stylesheet, script, images)."""
    import re

    sizes = []
    with httpx.Client(base_url=url, follow_redirects=True, timeout=30) as client:
        home = client.get("/")
        token = re.search(r'name="csrf" value="([0-9a-f]{64})"', home.text).group(1)
        page = client.post("/start", data={"csrf": token, "lang": "vi"})
        assets = sum(len(client.get(f"/static/app.{x}").content) for x in ("css", "js"))
        bank = load_bank("civil-service")
        for _ in range(steps):
            if "/result" in str(page.url):
                sizes.append(len(page.content) + assets)
                break
            size = len(page.content) + assets
            for src in re.findall(r'<img src="([^"]+)"', page.text):
                size += len(client.get(src).content)
            sizes.append(size)
            sid = client.cookies.get("dc_session")
            state = client.get(f"/api/v1/sessions/{sid}").json()
            item = state["item"]
            it = bank.item(item["id"])
            raw = 0 if item["kind"] == "self_assessment" else answer_for(it, max_score(it))
            fields: dict[str, Any] = {"csrf": re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)}
            fields.update(step=str(state["step"]), item=item["id"])
            if item["kind"] == "multiple_response":
                fields["answer"] = list(raw)
            elif item["kind"] == "ordering":
                fields.update({f"pos_{o}": str(k + 1) for k, o in enumerate(raw)})
            elif item["kind"] == "matching":
                fields.update({f"match_{p}": c for p, c in raw.items()})
            else:
                fields["answer"] = str(raw)
            page = client.post("/test/answer", data=fields)
    return sizes
