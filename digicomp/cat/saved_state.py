"""The saved state of a live session (``Session.to_json()``) as a strict schema: the one check at the boundary.

Everything ``resume()`` reads passes through :func:`parse_state` first, so the replay works on known types
(strings, non-negative integers, lists of the same length) and any other input is refused as a
:class:`~digicomp.cat.errors.TamperedStateError` naming the field. Meaning (the items an engine would serve,
scores matching answers, the stop reason) is checked by the replay itself.
"""

from __future__ import annotations

import json
import reprlib
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, StrictInt, StrictStr, ValidationError

from digicomp.cat.errors import TamperedStateError
from digicomp.cat.state import STATE_FORMAT, is_unicode

MAX_STATE_CHARS = 1_000_000
"""Longest state text read (a 40-item state is under 4 KB; a longer text is not a state this engine wrote)."""


def _utf8(text: str) -> str:
    """``text`` unchanged if it is valid Unicode (a state must survive a UTF-8 file and its signature)."""
    if not is_unicode(text):
        raise ValueError("text that is not valid Unicode (a lone surrogate)")
    return text


Text = Annotated[StrictStr, AfterValidator(_utf8)]
Score = Annotated[StrictInt, Field(ge=0)]


def _raw_answer(value: Any) -> Any:
    """``value`` unchanged if it has the form of a raw answer (what it scores to is the replay's check)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _utf8(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [_utf8(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return {_utf8(k): _utf8(v) for k, v in value.items()}
    raise ValueError(
        "expected a raw answer: an option id or typed text, a category, a list of option ids, or "
        "{premise id: choice id}"
    )


Answer = Annotated[Any, PlainValidator(_raw_answer)]
"""An option id or typed text (multiple choice, short answer), a category (self-assessment, parameter-only banks),
a list of option ids (multiple response, ordering) or {premise id: choice id} (matching)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SeededAnswer(_Strict):
    """A seeded pretest item's answer: the item, its 1-based position in the test, the raw answer and its score."""

    item: Text
    position: Annotated[StrictInt, Field(ge=1)]
    answer: Answer
    score: Score


class SavedState(_Strict):
    """``Session.to_json()`` of format ``digicomp.session/1``; ``items``, ``scores`` and ``answers`` run in parallel."""

    format: Text
    bank: Text
    design: Text
    person: Text | None
    key: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{16}$")]
    items: list[Text]
    scores: list[Score]
    answers: list[Answer]
    pending: Text | None
    stop_reason: Text | None
    seeded: list[SeededAnswer] | None = None
    ineligible: list[Text] | None = None
    audit: bool | None = None
    """The session's audit setting, written only when it differs from its design's ``report.audit``."""
    trail: list[dict[str, Any]] | None = None
    """The audit entries, written only when the engine's choices cannot be replayed (progressive-restricted)."""
    nonce: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{32}$")] | None = None
    """The session's random nonce, written when the engine has a replay guard (:mod:`digicomp.cat.replay`)."""
    step: Annotated[StrictInt, Field(ge=0)] | None = None
    """Answers recorded so far (seeded ones included), written with ``nonce``."""
    signature: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")] | None = None


def parse_state(state: Any) -> tuple[SavedState, dict[str, Any]]:
    """The validated state and the plain dict it came from (what the signature covers).

    ``state`` is the JSON text (str or UTF-8 bytes) or its parsed dict; TamperedStateError for anything else.
    """
    if isinstance(state, (str, bytes, bytearray)):
        if len(state) > MAX_STATE_CHARS:
            raise TamperedStateError(
                f"session state is {len(state):,} characters long; a saved state is at most {MAX_STATE_CHARS:,}"
            )
        try:
            data = json.loads(state)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            raise TamperedStateError(f"session state is not JSON: {_short(exc)}") from None
    elif isinstance(state, dict):
        data = state
    else:
        raise TamperedStateError(f"session state must be JSON text or a dict, got {type(state).__name__}")
    if not isinstance(data, dict):
        raise TamperedStateError(f"session state must be a JSON object, got {type(data).__name__}")
    if data.get("format") != STATE_FORMAT:
        raise TamperedStateError(f"session state has format {_show(data.get('format'))}, expected {STATE_FORMAT!r}")
    try:
        saved = SavedState.model_validate(data)
    except ValidationError as exc:
        raise TamperedStateError("session state: " + "; ".join(_problem(e) for e in exc.errors())) from None
    if not len(saved.items) == len(saved.scores) == len(saved.answers):
        raise TamperedStateError(
            f"session state: items, scores and answers must have one entry per answered item, got "
            f"{len(saved.items)}, {len(saved.scores)} and {len(saved.answers)}"
        )
    return saved, data


def _problem(err: Any) -> str:
    """``field.path: message (got value)`` for one pydantic error."""
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"]).lstrip(".") or "(state)"
    if err["type"] == "extra_forbidden":
        return f"{where}: not a field of a saved session state"
    if err["type"] == "missing":
        return f"{where}: missing"
    msg = err["msg"].removeprefix("Value error, ")
    if where.startswith("key"):
        msg = "must be 16 lowercase hex digits"
    elif where.startswith("nonce"):
        msg = "must be 32 lowercase hex digits"
    elif where.startswith("signature"):
        msg = "must be 64 lowercase hex digits (an HMAC-SHA256)"
    return f"{where}: {msg} (got {_show(err.get('input'))})"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 2, 40, 40, 4, 4


def _show(value: Any) -> str:
    """A short repr of a value from the state (never the whole of a long or deeply nested one)."""
    return _REPR.repr(value)


def _short(exc: BaseException) -> str:
    """The first 160 characters of an exception's message."""
    text = str(exc)
    return text if len(text) <= 160 else text[:159] + "…"
