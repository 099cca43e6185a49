"""The live-session fuzz harness shared by the hypothesis tests, the atheris run and the corpus replay.

A *case* is plain JSON, so a finding can be saved as a corpus file and replayed forever:

``{"engine": name, "base": {"seed": s, "answers": n, "serve_next": bool}, ...}`` and one of

- ``"mutations": [[op, path, value], ...]`` (op ``set`` / ``delete`` / ``append``; path a list of keys and
  indices into the base session's saved state), ``"sign": bool`` (re-sign after mutating, so the damage
  reaches past the signature check of a signing engine): ``resume()`` the damaged state;
- ``"text": str`` or ``"bytes_hex": str``: ``resume()`` these instead of a state;
- ``"record": {"item": id or "$served", "answer": value}``: ``record()`` the answer on the base session
  (a value ``{"numpy": dtype, "value": v}`` stands for a numpy scalar).

:func:`run_case` returns ``"ok"`` or the name of the DigicompError raised, and lets any other exception
through: the promise under test is "a DigicompError naming what and where, never anything else".
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from digicomp.bank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.cat import AdaptiveTest
from digicomp.errors import DigicompError
from digicomp.models import ItemParameters
from tests import banks

CORPUS = Path(__file__).parent / "corpus" / "state"
HMAC_KEY = b"fuzz-key"
COMPETENCES = ["1.1", "1.2", "2.1", "2.2", "3.1", "4.1"]


# ---------------------------------------------------------------------- banks and engines
@cache
def params_bank(n: int = 30) -> ItemBank:
    """A content-free bank of ``n`` 2PL/3PL items (answers are the scored categories)."""
    rng = np.random.default_rng(17)
    params = ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, n), b=rng.normal(0, 1, n), c=rng.uniform(0, 0.2, n))
    return ItemBank.from_item_parameters(params)


@cache
def content_bank() -> ItemBank:
    """A bank of 36 multiple-choice items with enemies, 4 self-assessment (GRM) items and 3 flagged pretest items."""
    data = banks.content_bank_data(
        COMPETENCES, 36, 23, enemies=4, self_assessment=4, flagged=range(33, 36), bank_id="fuzz", id_digits=2
    )
    return ItemBank(BankFile.model_validate(data))


STOP = {"max_items": 8, "rules": [{"se": 0.3}]}
HALF_THE_ITEMS = [f"item{j}" for j in range(1, 31, 2)]
ENGINES: dict[str, tuple[Any, dict[str, Any], bool]] = {
    # name: (bank builder, design, signs states)
    "params": (params_bank, {"stop": STOP}, False),
    "params-hmac": (params_bank, {"stop": STOP}, True),
    "content": (
        content_bank,
        {
            "stop": {"max_items": 10, "rules": [{"se": 0.35}]},
            "exposure": {"method": "randomesque", "k": 3},
            "content": {"self_assessment": True, "constraints": [{"group": "1", "min": 2}, {"group": "4", "max": 1}]},
            "seeding": {"n": 2, "flags": ["pretest"], "within": 5},
        },
        False,
    ),
    "content-hmac": (content_bank, {"stop": {"max_items": 6}, "seeding": {"n": 1, "flags": ["pretest"]}}, True),
    "sympson-hetter": (
        params_bank,
        {"stop": STOP, "exposure": {"method": "sympson_hetter", "parameters": dict.fromkeys(HALF_THE_ITEMS, 0.3)}},
        False,
    ),
    "eligibility": (params_bank, {"stop": STOP, "exposure": {"method": "item_eligibility", "r_max": 0.3}}, False),
    "restricted": (params_bank, {"stop": STOP, "exposure": {"method": "progressive_restricted", "r_max": 0.3}}, False),
    "tiny": (lambda: params_bank(4), {"stop": {"max_items": 6}}, False),  # runs out of items: stop reason no_items
}


def engine(name: str) -> AdaptiveTest:
    """A fresh engine (and so a fresh exposure ledger: every case runs alone, whatever ran before it)."""
    bank, design, signs = ENGINES[name]
    return AdaptiveTest(bank(), design, hmac_key=HMAC_KEY if signs else None)


def play(eng: AdaptiveTest, seed: int, answers: int, serve_next: bool) -> Any:
    """A real session: up to ``answers`` answers drawn from ``seed`` (valid options or categories)."""
    rng = np.random.default_rng(seed)
    session = eng.start(person_id=f"p{seed}", seed=seed)
    for _ in range(answers):
        view = session.next_item()
        if view is None:
            return session
        if view.options:
            answer: Any = view.options[int(rng.integers(len(view.options)))]["id"]
        else:
            k = int(eng.bank.params.n_categories[eng.bank.ids.index(view.id)])
            answer = int(rng.integers(k))
        session.record(view.id, answer)
    if serve_next:
        session.next_item()
    return session


# ---------------------------------------------------------------------- running a case
def run_case(case: dict[str, Any]) -> str:
    """Run one case; ``"ok"`` or the DigicompError's class name. Any other exception propagates."""
    base = case.get("base", {})
    base_key = (int(base.get("seed", 0)), int(base.get("answers", 0)), bool(base.get("serve_next", False)))
    try:
        if "record" in case:
            check_record(play(shared_engine(case["engine"]), *base_key), case["record"])
        else:
            state = state_input(case, base_key)
            check_resume(shared_engine(case["engine"]), state)
    except DigicompError as exc:
        return type(exc).__name__
    return "ok"


def shared_engine(name: str) -> AdaptiveTest:
    """The engine ``name``, built once, with an empty exposure ledger: every case runs as if alone."""
    eng = _built(name)
    ledger = eng.ledger
    ledger.persons = 0
    ledger.eligible[:] = 0
    ledger.given[:] = 0
    return eng


@cache
def _built(name: str) -> AdaptiveTest:
    return engine(name)


@lru_cache(maxsize=4096)
def base_state(name: str, seed: int, answers: int, serve_next: bool) -> str:
    """The saved state of the real session ``play`` gives on a fresh engine ``name``."""
    return play(shared_engine(name), seed, answers, serve_next).to_json()


def state_input(case: dict[str, Any], base_key: tuple[int, int, bool]) -> Any:
    """What the case hands to ``resume()``: its text or bytes, or the base state with the mutations applied."""
    if "text" in case:
        return case["text"]
    if "bytes_hex" in case:
        return bytes.fromhex(case["bytes_hex"])
    data: Any = json.loads(base_state(case["engine"], *base_key))
    for op, path, *value in case.get("mutations", []):
        data = mutate(data, op, list(path), value[0] if value else None)
    if case.get("sign") and ENGINES[case["engine"]][2] and isinstance(data, dict):
        data["signature"] = sign(HMAC_KEY, data)
    return json.dumps(data, ensure_ascii=False)


def sign(key: bytes, data: dict[str, Any]) -> str:
    """The HMAC-SHA256 ``Session.to_json`` writes, also for text a state may not hold (lone surrogates)."""
    body = {k: v for k, v in data.items() if k != "signature"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def mutate(data: Any, op: str, path: list[Any], value: Any) -> Any:
    """``data`` with ``op`` applied at ``path`` (a path that does not lead anywhere leaves it unchanged)."""
    if not path:
        return copy.deepcopy(value) if op == "set" else data
    parent = data
    for key in path[:-1]:
        try:
            parent = parent[key]
        except (KeyError, IndexError, TypeError):
            return data
    last = path[-1]
    if isinstance(parent, list):
        if not isinstance(last, int) or not -len(parent) <= last < len(parent):
            return data
    elif not isinstance(parent, dict) or not isinstance(last, str):
        return data
    if op == "set":
        parent[last] = copy.deepcopy(value)
    elif op == "delete" and (isinstance(parent, list) or last in parent):
        del parent[last]
    elif op == "append" and isinstance(parent, dict) and isinstance(parent.get(last), list):
        parent[last].append(copy.deepcopy(value))
    return data


def check_resume(eng: AdaptiveTest, state: Any) -> None:
    """Resume ``state``; an accepted state must be one the engine stands by: it saves and resumes to itself."""
    session = eng.resume(state)
    text = session.to_json()
    again = eng.resume(text)
    assert again.to_json() == text, "a resumed session does not resume to itself"
    assert again.items == session.items and again.stop_reason == session.stop_reason


def check_record(session: Any, spec: dict[str, Any]) -> None:
    """Record the case's answer; a refusal must leave the session as it was, an acceptance must stay saveable."""
    view = session.next_item()
    item = spec.get("item", "$served")
    if item == "$served":
        item = view.id if view is not None else session.engine.bank.ids[0]
    answer = decode_answer(spec.get("answer"))
    before = session.to_json()
    try:
        session.record(item, answer)
    except DigicompError:
        assert session.to_json() == before, "a refused record() changed the session"
        raise
    text = session.to_json()
    json.loads(text)
    assert session.engine.resume(text).to_json() == text, "a recorded answer does not survive save and resume"


def decode_answer(value: Any) -> Any:
    """A case's answer: ``{"numpy": dtype, "value": v}`` is that numpy scalar, anything else itself."""
    if isinstance(value, dict) and set(value) == {"numpy", "value"}:
        return np.array(value["value"]).astype(value["numpy"])[()]
    return value


def corpus_cases() -> list[tuple[str, dict[str, Any]]]:
    """(file name, case) of every regression input in ``corpus/state``."""
    return [(p.name, json.loads(p.read_text(encoding="utf-8"))) for p in sorted(CORPUS.glob("*.json"))]
