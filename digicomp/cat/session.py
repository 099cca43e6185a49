"""A live session: one person's test as a batch of one, with a small signed JSON state and a report."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from digicomp.cat.errors import (
    DuplicateAnswerError,
    InvalidAnswerError,
    SessionFinishedError,
    StateMismatchError,
    TamperedStateError,
    WrongItemError,
)
from digicomp.cat.exposure import ItemEligibility, ProgressiveRestricted
from digicomp.cat.report import build_report
from digicomp.errors import DigicompError, SessionError

if TYPE_CHECKING:
    from digicomp.cat.engine import AdaptiveTest

STATE_FORMAT = "digicomp.session/1"
_ROW = np.array([0])


@dataclass(frozen=True)
class ItemView:
    """What a client may see of the served item: content without key, explanation or parameters."""

    id: str
    position: int
    kind: str
    competence: str | None = None
    level: int | None = None
    stem: dict | None = None
    options: list[dict] | None = None
    categories: list[dict] | None = None
    media: dict | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a JSON response."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


class Session:
    """One person's adaptive test. Not shared between threads; the engine it uses may be."""

    def __init__(self, engine: AdaptiveTest, person_id: str | None, key: int, audit: bool) -> None:
        self.engine = engine
        self.person_id = person_id
        self.key = int(key)
        self.state = engine.core.new_batch(np.array([self.key], np.uint64), audit=audit)
        self.answers: list[Any] = []
        self.pending: int | None = None
        self.seeded: list[dict[str, Any]] = []
        plan = engine.seeding.draw(np.array([self.key], np.uint64)) if engine.seeding is not None else None
        self._seed_plan = [] if plan is None else list(zip(plan[0][0].tolist(), plan[1][0].tolist()))

    # ------------------------------------------------------------------ the test
    @property
    def finished(self) -> bool:
        """True once a stopping rule fired (or no item is left)."""
        return self.state.stop_reason[0] != ""

    @property
    def stop_reason(self) -> str | None:
        """Why the test ended (None while it goes on)."""
        return self.state.stop_reason[0] or None

    @property
    def theta(self) -> float:
        """Current θ̂."""
        return float(self.state.theta[0])

    @property
    def se(self) -> float:
        """Current SE of θ̂."""
        return float(self.state.se[0])

    @property
    def position(self) -> int:
        """1-based position of the item to serve now (scored and seeded pretest items both count)."""
        return int(self.state.n_given[0]) + len(self.seeded) + 1

    def _seed_due(self) -> int | None:
        """The seeded pretest item (bank position) planned for the current position, if any."""
        k = len(self.seeded)
        if k < len(self._seed_plan) and self._seed_plan[k][1] == self.position:
            return self._seed_plan[k][0]
        return None

    @property
    def items(self) -> list[str]:
        """Ids of the items answered, in order."""
        ids = self.engine.bank.ids
        return [ids[j] for j in self.state.sequence[0, : self.state.n_given[0]]]

    def next_item(self) -> ItemView | None:
        """The item to show now (the same one until it is answered); None when the test is over."""
        if self.finished:
            return None
        if self.pending is None and (seed := self._seed_due()) is not None:
            self.pending = seed
        if self.pending is None:
            rows, items = self.engine.core.select(self.state, _ROW)
            if rows.size == 0:
                self._close()
                return None
            self.pending = int(items[0])
        return self._view(self.pending)

    def record(self, item_id: str, answer: Any) -> None:
        """Score ``answer`` (option id, or category) to the served item server-side and update the test."""
        bank = self.engine.bank
        if self.finished:
            raise SessionFinishedError(
                f"session of {self.person_id!r}: the test is over ({self.stop_reason}); "
                f"no answer to {item_id!r} can be recorded"
            )
        if item_id in self.items or any(s["item"] == item_id for s in self.seeded):
            raise DuplicateAnswerError(f"session of {self.person_id!r}: item {item_id!r} was already answered")
        if self.pending is None or bank.ids[self.pending] != item_id:
            served = bank.ids[self.pending] if self.pending is not None else None
            raise WrongItemError(
                f"session of {self.person_id!r}: answer for item {item_id!r}, but the item served "
                f"is {served!r}" + (" (call next_item() first)" if served is None else "")
            )
        score = score_answer(bank, self.pending, answer)
        if self.pending == self._seed_due():
            self.seeded.append({"item": item_id, "position": self.position, "answer": answer, "score": score})
            self.pending = None
            return
        self.engine.core.record(self.state, _ROW, np.array([self.pending]), np.array([score]))
        self.answers.append(answer)
        self.pending = None
        if self.finished:
            self._close()

    def _close(self) -> None:
        self.engine.core.finish(self.state, _ROW)

    def report(self) -> dict[str, Any]:
        """θ, SE, level and level probabilities, per area, items used, stop reason (and the audit trail)."""
        return build_report(self)

    # ------------------------------------------------------------------ state
    def to_json(self) -> str:
        """The session as small plain JSON, with the bank fingerprint, design hash and (optional) HMAC."""
        st, bank = self.state, self.engine.bank
        n = int(st.n_given[0])
        data: dict[str, Any] = {
            "format": STATE_FORMAT,
            "bank": self.engine.fingerprint,
            "design": self.engine.design_hash,
            "person": self.person_id,
            "key": f"{self.key:016x}",
            "items": self.items,
            "scores": st.responses[0, :n].tolist(),
            "answers": self.answers,
            "pending": bank.ids[self.pending] if self.pending is not None else None,
            "stop_reason": self.stop_reason,
        }
        if self.engine.seeding is not None:
            data["seeded"] = self.seeded
        if st.eligible is not None:
            data["ineligible"] = [bank.ids[j] for j in np.flatnonzero(~st.eligible[0])]
        if self.engine.hmac_key is not None:
            data["signature"] = _sign(self.engine.hmac_key, data)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_state(cls, engine: AdaptiveTest, state: str | dict) -> Session:
        """Rebuild a session by replaying its answers through the engine (the posterior is recomputed)."""
        data = _parse(state)
        _check_identity(engine, data)
        bank = engine.bank
        try:
            session = cls(engine, data["person"], int(data["key"], 16), engine.design.report.audit)
            st = session.state
            if "ineligible" in data:
                st.eligible[0] = True
                st.eligible[0, bank.index_of(list(data["ineligible"]))] = False
            verify = not isinstance(engine.core.exposure, (ItemEligibility, ProgressiveRestricted))
            seeded = list(data.get("seeded", []))
            for item_id, score, answer in zip(data["items"], data["scores"], data["answers"], strict=True):
                _replay_seeded(session, seeded)
                if session.finished:
                    raise TamperedStateError("the saved state has answers after the test ended")
                if verify:
                    session.next_item()
                j = int(bank.index_of(item_id))
                if verify and session.pending != j:
                    raise TamperedStateError(
                        f"the saved state gives item {item_id!r} where this engine serves {bank.ids[session.pending]!r}"
                    )
                if score_answer(bank, j, answer) != score and bank.item(item_id).kind != "parameters":
                    raise TamperedStateError(f"the saved score of item {item_id!r} does not match its answer")
                engine.core.record(st, _ROW, np.array([j]), np.array([score]))
                session.answers.append(answer)
                session.pending = None
            _replay_seeded(session, seeded)
            if seeded:
                raise TamperedStateError(
                    f"the saved state has seeded item {seeded[0].get('item')!r} at position "
                    f"{seeded[0].get('position')!r}, which this engine's plan does not give"
                )
            if data.get("pending") is not None:
                session.pending = int(bank.index_of(data["pending"]))
            if (data.get("stop_reason") or None) != session.stop_reason:
                raise TamperedStateError(
                    f"saved stop reason {data.get('stop_reason')!r} differs from the replay's {session.stop_reason!r}"
                )
        except SessionError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, DigicompError) as exc:
            raise TamperedStateError(f"not a valid session state: {type(exc).__name__}: {exc}") from None
        return session

    def _view(self, j: int) -> ItemView:
        return ItemView(position=self.position, **_copy_json(self.engine.item_content(j)))


def _replay_seeded(session: Session, seeded: list[dict[str, Any]]) -> None:
    """Record the saved seeded answers due at the session's current position (they are checked like live ones)."""
    while (
        seeded
        and not session.finished
        and seeded[0].get("position") == session.position
        and session._seed_due() is not None
    ):
        entry = seeded.pop(0)
        if session.engine.bank.ids[session._seed_due()] != entry.get("item"):
            raise TamperedStateError(
                f"the saved state gives seeded item {entry.get('item')!r} where this engine's "
                f"plan seeds {session.engine.bank.ids[session._seed_due()]!r}"
            )
        session.next_item()
        session.record(entry["item"], entry["answer"])
        if session.seeded[-1]["score"] != entry.get("score"):
            raise TamperedStateError(f"the saved score of seeded item {entry['item']!r} does not match its answer")


def item_content(bank: Any, j: int) -> dict[str, Any]:
    """What :class:`ItemView` shows of item j (all but the position), as plain JSON data."""
    item = bank.item(bank.ids[j])
    dump = lambda x: None if x is None else x.model_dump(mode="json", exclude_none=True)  # noqa: E731
    return {
        "id": item.id,
        "kind": item.kind,
        "competence": item.competence,
        "level": item.level,
        "stem": dump(item.stem),
        "options": [dump(o) for o in item.options] if item.options else None,
        "categories": [dump(c) for c in item.categories] if item.categories else None,
        "media": dump(item.media),
    }


def _copy_json(data: dict | list) -> dict | list:
    """A deep copy of plain JSON data (dicts, lists, scalars): each view gets content it may change freely."""
    if isinstance(data, dict):
        return {k: _copy_json(v) if isinstance(v, (dict, list)) else v for k, v in data.items()}
    return [_copy_json(v) if isinstance(v, (dict, list)) else v for v in data]


def score_answer(bank: Any, j: int, answer: Any) -> int:
    """The scored category of ``answer`` to item j: 1/0 for an option id of a multiple-choice item
    (right/wrong), the category itself for self-assessment items and content-free banks."""
    item = bank.item(bank.ids[j])
    if item.kind == "multiple_choice":
        options = [o.id for o in item.options]
        if not isinstance(answer, str) or answer not in options:
            raise InvalidAnswerError(f"item {item.id!r}: answer {answer!r} is not one of its options {options}")
        return int(answer == item.key)
    k = int(bank.params.n_categories[j])
    if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)) or not 0 <= answer < k:
        raise InvalidAnswerError(f"item {item.id!r}: answer {answer!r} must be a category 0..{k - 1}")
    return int(answer)


def _sign(key: bytes, data: dict) -> str:
    body = {k: v for k, v in data.items() if k != "signature"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _parse(state: str | dict) -> dict:
    try:
        data = json.loads(state) if isinstance(state, (str, bytes)) else dict(state)
    except (ValueError, TypeError) as exc:
        raise TamperedStateError(f"session state is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise TamperedStateError(
            f"session state has format {data.get('format') if isinstance(data, dict) else None!r}, "
            f"expected {STATE_FORMAT!r}"
        )
    return data


def _check_identity(engine: AdaptiveTest, data: dict) -> None:
    key = engine.hmac_key
    if key is not None:
        sig = data.get("signature")
        if not isinstance(sig, str) or not hmac.compare_digest(sig, _sign(key, data)):
            raise TamperedStateError(
                "session state signature is missing or wrong: the state was altered or signed with another key"
            )
    if data.get("bank") != engine.fingerprint:
        raise StateMismatchError(
            f"session state was made with bank {data.get('bank')!r}; this engine's bank "
            f"{engine.bank.id!r} is {engine.fingerprint!r}"
        )
    if data.get("design") != engine.design_hash:
        raise StateMismatchError(
            f"session state was made with design {data.get('design')!r}; this engine's design "
            f"{engine.design.id!r} is {engine.design_hash!r}"
        )
