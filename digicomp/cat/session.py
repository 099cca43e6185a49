"""A live session: one person's test as a batch of one, with a small signed JSON state and a report.

The session holds its state and asks its engine (duck-typed: ``core``, ``bank``, ``design``, ``seeding``,
``item_content``); it never imports the engine module, which imports this one to start sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from digicomp.bank.scoring import score as content_score
from digicomp.cat.errors import (
    DuplicateAnswerError,
    InvalidAnswerError,
    ReplayedStateError,
    SessionFinishedError,
    StateMismatchError,
    TamperedStateError,
    WrongItemError,
)
from digicomp.cat.exposure import ProgressiveRestricted
from digicomp.cat.report import Outcome, build_report
from digicomp.cat.state import STATE_FORMAT, is_unicode
from digicomp.errors import DigicompError, ResponseError, SessionError

if TYPE_CHECKING:
    from digicomp.cat.engine import AdaptiveTest
    from digicomp.cat.saved_state import SavedState

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
    premises: list[dict] | None = None
    choices: list[dict] | None = None
    answer_kind: str | None = None
    """A short-answer item's ``number`` or ``text`` (what input to offer), never its accepted answers."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a JSON response."""
        return {k: v for k, v in self.__dict__.items() if v is not None}


class Session:
    """One person's adaptive test. Not shared between threads; the engine it uses may be."""

    def __init__(self, engine: AdaptiveTest, person_id: str | None, key: int, audit: bool) -> None:
        if person_id is not None and not isinstance(person_id, str):
            raise SessionError(f"person_id must be a string or None, got {type(person_id).__name__} {person_id!r}")
        if isinstance(person_id, str) and not is_unicode(person_id):
            raise SessionError(f"person_id {person_id!r} is not valid Unicode text (a lone surrogate)")
        self.engine = engine
        self.person_id = person_id
        self.key = int(key)
        self.state = engine.core.new_batch(np.array([self.key], np.uint64), audit=audit)
        self.answers: list[Any] = []
        self.pending: int | None = None
        self.seeded: list[dict[str, Any]] = []
        self.nonce: str | None = None
        """Set by the engine when it has a replay guard (:mod:`digicomp.cat.replay`); None otherwise."""
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

    @property
    def step(self) -> int:
        """Answers recorded so far, seeded pretest items included (the replay guard's step counter)."""
        return int(self.state.n_given[0]) + len(self.seeded)

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

    @property
    def _who(self) -> str:
        """How messages name this session: by its person id when it has one."""
        return "session" if self.person_id is None else f"session of {self.person_id!r}"

    def next_item(self) -> ItemView | None:
        """The item to show now (the same one until it is answered); None when the test is over."""
        if self.finished:
            return None
        if self._serve() is None:
            self._close()
            return None
        return self._view(self.pending)

    def _serve(self) -> int | None:
        """The bank position of the item to serve now (due seeded item first, else selected); None if none is left.

        Selecting sets ``pending``; finding no eligible item stops the test with ``no_items`` (the caller closes).
        """
        if self.pending is None and (seed := self._seed_due()) is not None:
            self.pending = seed
        if self.pending is None:
            rows, items = self.engine.core.select(self.state, _ROW)
            if rows.size:
                self.pending = int(items[0])
        return self.pending

    def record(self, item_id: str, answer: Any) -> None:
        """Score the raw ``answer`` to the served item server-side and update the test.

        Raw answers: an option id (multiple choice), a list of option ids (multiple response), every option id in
        order (ordering), {premise id: choice id} (matching), the typed text (short answer), a category
        (self-assessment). The answer is kept as plain JSON (a category given as a numpy integer as a Python int).
        """
        bank = self.engine.bank
        if not isinstance(item_id, str):
            raise WrongItemError(f"{self._who}: an item id is a string, got {type(item_id).__name__} {item_id!r}")
        if self.finished:
            raise SessionFinishedError(
                f"{self._who}: the test is over ({self.stop_reason}); no answer to {item_id!r} can be recorded"
            )
        if item_id in self.items or any(s["item"] == item_id for s in self.seeded):
            raise DuplicateAnswerError(f"{self._who}: item {item_id!r} was already answered")
        if self.pending is None or bank.ids[self.pending] != item_id:
            served = (
                f"the item served is {bank.ids[self.pending]!r}"
                if self.pending is not None
                else "no item is served (call next_item() first)"
            )
            raise WrongItemError(f"{self._who}: answer for item {item_id!r}, but {served}")
        answer, score = score_answer(bank, self.pending, answer)
        guard = getattr(self.engine, "replay_guard", None)
        if self.nonce is not None and guard is not None:  # last check: refused here, nothing has changed yet
            guard.advance(self.nonce, self.step + 1)
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
        engine = self.engine
        if hasattr(engine.core, "model"):  # a multidimensional test (cat.multidim): per-dimension results
            return engine.core.report(self.outcome(), self.state, 0, engine.bank, engine.design)
        return build_report(self.outcome(), engine.bank, engine.design, engine.core.tables)

    def outcome(self) -> Outcome:
        """The test's plain results so far (what the report is built from)."""
        st = self.state
        n = int(st.n_given[0])
        return Outcome(
            person=self.person_id,
            finished=self.finished,
            stop_reason=self.stop_reason,
            theta=self.theta,
            se=self.se,
            items=st.sequence[0, :n].copy(),
            scores=st.responses[0, :n].copy(),
            answers=list(self.answers),
            weights=st.weights(_ROW)[0],
            audit=None if st.audit is None else st.audit[0],
        )

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
        if (st.audit is not None) != self.engine.design.report.audit:
            data["audit"] = st.audit is not None
        if st.audit is not None and not _replayable(self.engine):
            data["trail"] = st.audit[0]
        if self.nonce is not None:
            data["nonce"] = self.nonce
            data["step"] = self.step
        if self.engine.hmac_key is not None:
            data["signature"] = _sign(self.engine.hmac_key, data)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_state(cls, engine: AdaptiveTest, state: str | bytes | dict, trusted: bool = False) -> Session:
        """Rebuild a session by replaying its answers through the engine (the posterior is recomputed).

        The state passes its schema (:mod:`digicomp.cat.saved_state`), then its signature, bank and design, then
        a replay that checks every step: each item is the one this engine serves, each score is its answer's,
        and the pending item and stop reason are the replay's. Any failure is a TamperedStateError naming the
        field (a StateMismatchError for another bank or design).
        """
        from digicomp.cat.saved_state import parse_state  # on first resume: its pydantic model is built at import

        saved, data = parse_state(state)
        _check_identity(engine, data)
        audit = engine.design.report.audit if saved.audit is None else saved.audit
        session = cls(engine, saved.person, int(saved.key, 16), audit)
        try:
            _replay(session, saved, trusted)
        except TamperedStateError:
            raise
        except DigicompError as exc:
            raise TamperedStateError(f"session state: {exc}") from None
        if saved.trail is not None and session.state.audit is not None:
            # choices read the live ledger, so the replay could not rebuild their audit: the state carries it
            session.state.audit[0] = [dict(entry) for entry in saved.trail]
        _check_replay(engine, session, saved)
        return session

    def _view(self, j: int) -> ItemView:
        return ItemView(position=self.position, **_copy_json(self.engine.item_content(j)))


def _replayable(engine: AdaptiveTest) -> bool:
    """True when a replay re-derives every choice (and so the audit); progressive-restricted reads the live ledger."""
    return not isinstance(engine.core.exposure, ProgressiveRestricted)


def _check_replay(engine: AdaptiveTest, session: Session, saved: SavedState) -> None:
    """With a replay guard: the state must carry its nonce and true step, and not be older than the session's mark.

    Sets the session's nonce (after the replay, so replayed seeded answers do not move the mark).
    """
    guard = getattr(engine, "replay_guard", None)
    if guard is None:
        if saved.nonce is not None:  # a guarded state resumed without a guard: keep the nonce, check nothing
            session.nonce = saved.nonce
        return
    if saved.nonce is None or saved.step is None:
        raise TamperedStateError("session state: nonce: missing (this engine guards states against replay)")
    if saved.step != session.step:
        raise TamperedStateError(f"session state: step: {saved.step}, but the state holds {session.step} answers")
    have = guard.mark(saved.nonce)
    if have > saved.step:
        from digicomp.cat.replay import replayed_message

        raise ReplayedStateError(replayed_message(saved.nonce, saved.step + 1, have))
    session.nonce = saved.nonce


def _replay(session: Session, saved: SavedState, trusted: bool = False) -> None:
    """Replay the saved answers into the new ``session``, checking each step against this engine (a ``trusted``
    state's choices are not re-derived: only what holds regardless is checked, as under progressive-restricted)."""
    engine = session.engine
    bank, st = engine.bank, session.state
    # Progressive-restricted withholds items by the live ledger, so its choices cannot be re-derived later;
    # every other method's choice depends only on the key, the answers and (item eligibility) the saved mask.
    verify = _replayable(engine) and not (trusted and st.audit is None)  # an audit needs the choices re-derived
    if (st.eligible is None) != (saved.ineligible is None):
        raise TamperedStateError(
            "session state: ineligible: "
            + ("missing (this engine's design uses item eligibility)" if st.eligible is not None else "not expected")
        )
    if saved.ineligible is not None:
        st.eligible[0] = True
        st.eligible[0, [_position(bank, i, f"ineligible[{k}]") for k, i in enumerate(saved.ineligible)]] = False
    if (engine.seeding is None) != (saved.seeded is None):
        raise TamperedStateError(
            "session state: seeded: "
            + ("missing (this engine's design seeds pretest items)" if engine.seeding is not None else "not expected")
        )
    seeded = list(saved.seeded or [])
    for n, (item_id, score, answer) in enumerate(zip(saved.items, saved.scores, saved.answers)):
        _replay_seeded(session, seeded)
        if session.finished:
            raise TamperedStateError(
                f"session state: items[{n}]: an answer to {item_id!r} after the test ended ({session.stop_reason})"
            )
        j = _position(bank, item_id, f"items[{n}]")
        _check_served(session, j, f"items[{n}]", verify)
        got_answer, got_score = _rescore(bank, j, answer, f"answers[{n}]")
        if got_score != score or got_answer != answer:
            raise TamperedStateError(
                f"session state: scores[{n}]: {score!r} is not the score of answer {answer!r} to item {item_id!r} "
                f"({got_score})"
            )
        engine.core.record(st, _ROW, np.array([j]), np.array([score]))
        session.answers.append(answer)
        session.pending = None
    _replay_seeded(session, seeded)
    if seeded:
        raise TamperedStateError(
            f"session state: seeded: seeded item {seeded[0].item!r} at position {seeded[0].position} is not what this "
            f"engine's seeding plan gives after {len(saved.items)} answers"
        )
    if saved.pending is not None:
        if session.finished:
            raise TamperedStateError(
                f"session state: pending: item {saved.pending!r} is pending after the test ended "
                f"({session.stop_reason})"
            )
        j = _position(bank, saved.pending, "pending")
        _check_served(session, j, "pending", verify)
        session.pending = j
    elif saved.stop_reason == "no_items" and not session.finished:
        if verify or session._seed_due() is not None:
            left = session._serve()  # sets stop reason no_items when nothing is left, as the live call did
            if left is not None:
                raise TamperedStateError(
                    f"session state: stop_reason: 'no_items', but this engine still serves {bank.ids[left]!r}"
                )
        else:
            st.stop_reason[0] = "no_items"
    if (saved.stop_reason or None) != session.stop_reason:
        raise TamperedStateError(
            f"session state: stop_reason: saved {saved.stop_reason!r}, the replay gives {session.stop_reason!r}"
        )


def _position(bank: Any, item_id: str, where: str) -> int:
    """Bank position of ``item_id`` (TamperedStateError naming ``where`` for an unknown id)."""
    try:
        return int(bank.index_of(item_id))
    except (DigicompError, KeyError):
        raise TamperedStateError(f"session state: {where}: bank {bank.id!r} has no item {item_id!r}") from None


def _check_served(session: Session, j: int, where: str, verify: bool) -> None:
    """Refuse bank item j at the session's next position unless this engine would serve it there.

    Without ``verify`` (choices read the live ledger) only what holds regardless is checked: the item is not
    given, set aside or excluded, and no seeded item is due.
    """
    bank, st = session.engine.bank, session.state
    if verify or session._seed_due() is not None:
        served = session._serve()
        if served != j:
            raise TamperedStateError(
                f"session state: {where}: item {bank.ids[j]!r} where this engine serves "
                + ("no item (none is left)" if served is None else repr(bank.ids[served]))
            )
        return
    if (
        st.administered[0, j]
        or st.blocked[0, j]
        or not session.engine.core.content.allowed[j]
        or (st.eligible is not None and not st.eligible[0, j])
    ):
        raise TamperedStateError(
            f"session state: {where}: item {bank.ids[j]!r} cannot be served at position {session.position} "
            "(already given, set aside, excluded or ineligible)"
        )


def _rescore(bank: Any, j: int, answer: Any, where: str) -> tuple[str | int, int]:
    """:func:`score_answer` for a saved answer (TamperedStateError naming ``where`` for an invalid one)."""
    try:
        return score_answer(bank, j, answer)
    except InvalidAnswerError as exc:
        raise TamperedStateError(f"session state: {where}: {exc}") from None


def _replay_seeded(session: Session, seeded: list[Any]) -> None:
    """Record the saved seeded answers due at the session's current position (checked like the live ones)."""
    bank = session.engine.bank
    while seeded and not session.finished and seeded[0].position == session.position:
        due = session._seed_due()
        if due is None:
            return
        entry = seeded.pop(0)
        if bank.ids[due] != entry.item:
            raise TamperedStateError(
                f"session state: seeded: seeded item {entry.item!r} at position {entry.position} where this engine's "
                f"plan seeds {bank.ids[due]!r}"
            )
        answer, score = _rescore(bank, due, entry.answer, f"seeded item {entry.item!r}: answer")
        if score != entry.score or answer != entry.answer:
            raise TamperedStateError(
                f"session state: seeded: score {entry.score!r} of seeded item {entry.item!r} is not the score of "
                f"answer {entry.answer!r} ({score})"
            )
        session.pending = due
        session.record(entry.item, entry.answer)


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
        "premises": [dump(p) for p in item.premises] if item.premises else None,
        "choices": [dump(c) for c in item.choices] if item.choices else None,
        "answer_kind": item.answer.kind if item.answer is not None else None,
    }


def _copy_json(data: dict | list) -> dict | list:
    """A deep copy of plain JSON data (dicts, lists, scalars): each view gets content it may change freely."""
    if isinstance(data, dict):
        return {k: _copy_json(v) if isinstance(v, (dict, list)) else v for k, v in data.items()}
    return [_copy_json(v) if isinstance(v, (dict, list)) else v for v in data]


def score_answer(bank: Any, j: int, answer: Any) -> tuple[Any, int]:
    """``answer`` to item j as plain JSON and its scored category: content items by :func:`digicomp.bank.scoring.score`
    (multiple choice 1/0; multiple response, ordering, matching 0..K by their rule; short answer 1/0), the category
    itself for self-assessment items and content-free banks (a numpy integer is taken as its Python int);
    InvalidAnswerError for anything else."""
    item = bank.item(bank.ids[j])
    if item.kind not in ("self_assessment", "parameters"):
        try:
            return content_score(item, answer)
        except ResponseError as exc:
            raise InvalidAnswerError(str(exc)) from None
    k = int(bank.params.n_categories[j])
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (int, np.integer)) or not 0 <= answer < k:
        raise InvalidAnswerError(f"item {item.id!r}: answer {answer!r} must be a category 0..{k - 1} (an integer)")
    return int(answer), int(answer)


def _sign(key: bytes, data: dict) -> str:
    body = {k: v for k, v in data.items() if k != "signature"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _check_identity(engine: AdaptiveTest, data: dict) -> None:
    """Refuse a state whose signature (when the engine signs), bank fingerprint or design hash is not this engine's."""
    key = engine.hmac_key
    if key is not None:
        sig = data.get("signature")
        if sig is None or not hmac.compare_digest(sig, _sign(key, data)):
            raise TamperedStateError(
                "session state signature is missing or wrong: the state was altered or signed with another key"
            )
    if data["bank"] != engine.fingerprint:
        raise StateMismatchError(
            f"session state was made with bank {data['bank']!r}; this engine's bank "
            f"{engine.bank.id!r} is {engine.fingerprint!r}"
        )
    if data["design"] != engine.design_hash:
        raise StateMismatchError(
            f"session state was made with design {data['design']!r}; this engine's design "
            f"{engine.design.id!r} is {engine.design_hash!r}"
        )
