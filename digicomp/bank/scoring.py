"""Scoring a raw answer to a content item: the one place where an answer becomes a score category 0..K.

Raw answers, one form per format: an option id (multiple choice), a list of option ids (multiple response; order
irrelevant, duplicates refused), a list of every option id in the chosen order (ordering), a dict
``{premise_id: choice_id}`` covering every premise (matching), the typed text (short answer), a rater's points
``{criterion_id: points}`` for every rubric criterion (rated task). Anything else is a
:class:`~digicomp.errors.ResponseError` naming the item and what was wrong.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np

from digicomp.bank.formats import max_score, rule_of
from digicomp.bank.schema import Item
from digicomp.errors import ResponseError

MAX_TEXT = 500
"""Longest typed short answer read (longer text is not a short answer)."""

_NUMBER = re.compile(r"^(?P<sign>[+-]?)(?P<int>\d*)(?:(?P<mark>[.,])(?P<frac>\d+))?$")
_SPACES = re.compile(r"\s+")
_LETTER_D = str.maketrans({"đ": "d", "Đ": "D"})
_CHORD_SEPARATORS = re.compile(r"\s*\+\s*|(?<=\w)\s*-\s*(?=\w)|\s+")
_KEY_NAMES = {
    "control": "ctrl",
    "ctl": "ctrl",
    "escape": "esc",
    "return": "enter",
    "windows": "win",
    "window": "win",
    "⊞": "win",
    "option": "alt",
    "command": "cmd",
    "⌘": "cmd",
    "del": "delete",
    "ins": "insert",
    "spacebar": "space",
    "-": "minus",
    "pgup": "pageup",
    "pgdn": "pagedown",
    "prtsc": "printscreen",
    "prtscn": "printscreen",
}
_MODIFIERS = ("ctrl", "alt", "shift", "win", "cmd")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def score(item: Item, answer: Any) -> tuple[Any, int]:
    """``answer`` to ``item`` as plain JSON data (as given: lists keep their order) and its score category.

    Self-assessment and parameter-only items take the category itself and are scored by the caller, who knows
    the number of categories.
    """
    kind = item.kind
    if kind == "multiple_choice":
        ids = [o.id for o in item.options]
        if not isinstance(answer, str) or answer not in ids:
            raise ResponseError(f"item {item.id!r}: answer {answer!r} is not one of its options {ids}")
        return str(answer), int(answer == item.key)
    if kind == "multiple_response":
        chosen = _ids(item, answer, [o.id for o in item.options], "a list of the option ids chosen")
        if len(set(chosen)) != len(chosen):
            raise ResponseError(f"item {item.id!r}: answer {answer!r} names an option twice")
        hits = len(set(chosen) & set(item.keys))
        if rule_of(item) == "all_or_nothing":
            return chosen, int(set(chosen) == set(item.keys))
        return chosen, max(0, hits - (len(chosen) - hits))
    if kind == "ordering":
        ids = [o.id for o in item.options]
        order = _ids(item, answer, ids, "a list of every option id in the chosen order")
        if sorted(order) != sorted(ids):
            raise ResponseError(f"item {item.id!r}: answer {answer!r} must give every option {ids} exactly once")
        if rule_of(item) == "all_or_nothing":
            return order, int(order == list(item.key_order))
        pairs = set(zip(item.key_order, item.key_order[1:]))
        return order, sum(pair in pairs for pair in zip(order, order[1:]))
    if kind == "matching":
        pairs = _pairs(item, answer)
        right = sum(pairs[p] == c for p, c in item.key_map.items())
        if rule_of(item) == "all_or_nothing":
            return pairs, int(right == len(item.key_map))
        return pairs, right
    if kind == "short_answer":
        return _short_answer(item, answer)
    if kind == "rated_task":
        points = rating_points(item, answer)
        return points, sum(points.values())
    raise ResponseError(f"item {item.id!r}: a {kind} item is answered with its category, not scored from content")


def _ids(item: Item, answer: Any, ids: list[str], form: str) -> list[str]:
    """``answer`` as a list of known ids (a list or tuple of strings)."""
    if not isinstance(answer, (list, tuple)) or not all(isinstance(a, str) for a in answer):
        raise ResponseError(f"item {item.id!r}: answer {answer!r} must be {form}")
    unknown = [a for a in answer if a not in ids]
    if unknown:
        raise ResponseError(f"item {item.id!r}: answer names {unknown[0]!r}, which is not an option id {ids}")
    return list(answer)


def rating_points(item: Item, rating: Any) -> dict[str, int]:
    """A rater's ``{criterion id: points}`` for a rated task, checked: every criterion once, whole points 0..its max."""
    ids = [c.id for c in item.rubric]
    if not isinstance(rating, dict) or not all(isinstance(k, str) for k in rating):
        raise ResponseError(f"item {item.id!r}: a rating must be a dict {{criterion id: points}}, got {rating!r}")
    unknown = [k for k in rating if k not in ids]
    if unknown:
        raise ResponseError(f"item {item.id!r}: rating names {unknown[0]!r}, which is not a rubric criterion {ids}")
    missing = [c for c in ids if c not in rating]
    if missing:
        raise ResponseError(f"item {item.id!r}: rating gives no points for criterion {missing[0]!r}")
    out: dict[str, int] = {}
    for c in item.rubric:
        value = rating[c.id]
        whole = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if not whole or not 0 <= value <= c.points:
            raise ResponseError(
                f"item {item.id!r}: criterion {c.id!r} is scored 0..{c.points} in whole points, got {value!r}"
            )
        out[c.id] = int(value)
    return out


def _pairs(item: Item, answer: Any) -> dict[str, str]:
    """``answer`` as {premise id: choice id} covering every premise of a matching item."""
    premises = [p.id for p in item.premises]
    choices = [c.id for c in item.choices]
    if not isinstance(answer, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in answer.items()):
        raise ResponseError(f"item {item.id!r}: answer {answer!r} must be a dict {{premise id: choice id}}")
    unknown = [p for p in answer if p not in premises]
    if unknown:
        raise ResponseError(f"item {item.id!r}: answer names {unknown[0]!r}, which is not a premise id {premises}")
    missing = [p for p in premises if p not in answer]
    if missing:
        raise ResponseError(f"item {item.id!r}: answer pairs no choice with premise {missing[0]!r}")
    bad = [(p, c) for p, c in answer.items() if c not in choices]
    if bad:
        raise ResponseError(
            f"item {item.id!r}: answer pairs premise {bad[0][0]!r} with {bad[0][1]!r}, not a choice id {choices}"
        )
    return dict(answer)


def _short_answer(item: Item, answer: Any) -> tuple[str, int]:
    """The typed text and 1 if it matches an accepted answer once normalised (number: within the tolerance)."""
    if not isinstance(answer, str):
        raise ResponseError(f"item {item.id!r}: answer {answer!r} must be the typed text (a string)")
    if len(answer) > MAX_TEXT:
        raise ResponseError(
            f"item {item.id!r}: answer is {len(answer)} characters; a short answer is at most {MAX_TEXT}"
        )
    spec = item.answer
    if spec.kind == "number":
        value = parse_number(answer, f"item {item.id!r}: answer")
        tol = spec.tolerance or 0.0
        # a relative hair above the tolerance so that 0.1 + 0.2 matches 0.3 with tolerance 0
        right = any(abs(value - float(v)) <= tol + 1e-9 * max(1.0, abs(float(v))) for v in spec.accepted)
        return answer, int(right)
    steps = spec.normalize or ()
    typed = normalize_text(answer, steps)
    return answer, int(any(typed == normalize_text(str(v), steps) for v in spec.accepted))


def parse_number(text: str, where: str) -> float:
    """A number typed with '.' or the Vietnamese ',' as decimal mark; thousands separators are refused.

    One mark followed by exactly three digits after a non-zero integer part of 1–3 digits ("1.000", "12,500")
    reads as a thousands separator in one convention and a decimal mark in the other, so it is refused as
    ambiguous rather than guessed.
    """
    s = text.strip()
    m = _NUMBER.match(s)
    if not m or not (m["int"] or m["frac"]):
        raise ResponseError(
            f"{where} {text!r} is not a number (digits, optionally one ',' or '.' decimal mark; no thousands "
            "separators or spaces)"
        )
    whole, frac = m["int"], m["frac"]
    if frac is not None and len(frac) == 3 and 1 <= len(whole) <= 3 and not whole.startswith("0"):
        raise ResponseError(
            f"{where} {text!r} is ambiguous: {m['mark']!r} may separate thousands or decimals; write the number "
            f"without thousands separators ({whole}{frac}) or with another number of decimals"
        )
    value = float(f"{m['sign']}{whole or '0'}.{frac or '0'}")
    if not math.isfinite(value):
        raise ResponseError(f"{where} {text!r} is too large")
    return value


def normalize_text(text: str, steps: Iterable[str]) -> str:
    """``text`` in Unicode NFC with the declared normalisations applied (in a fixed order, whatever the listing).

    strip: leading and trailing space; collapse_spaces: runs of white space become one space; casefold: case
    ignored; strip_diacritics: Vietnamese (and other) accents removed, đ read as d; strip_leading_dot: a leading
    '.' removed (".pdf" = "pdf"); key_chord: a keyboard shortcut whose keys are pressed together, so
    "Shift + Ctrl + Escape" = "ctrl-shift-esc" = "ctrl+shift+esc" (case, spacing, order, "+" or "-" between
    keys and the usual key-name aliases ignored);
    web_address: a site's address without its scheme, a leading "www." or trailing slashes
    ("https://www.dichvucong.gov.vn/" = "dichvucong.gov.vn").
    """
    steps = set(steps)
    out = unicodedata.normalize("NFC", text)
    if "strip" in steps:
        out = out.strip()
    if "collapse_spaces" in steps:
        out = _SPACES.sub(" ", out)
    if "casefold" in steps:
        out = out.casefold()
    if "strip_diacritics" in steps:
        decomposed = unicodedata.normalize("NFD", out.translate(_LETTER_D))
        out = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))
    if "strip_leading_dot" in steps:
        out = out.removeprefix(".") if "strip" not in steps else out.removeprefix(".").strip()
    if "web_address" in steps:
        out = _web_address(out)
    if "key_chord" in steps:
        out = _key_chord(out)
    return out


def _key_chord(text: str) -> str:
    """The keys of a shortcut, named one way and sorted (modifiers first): a chord has no order."""
    text = text.strip()
    if len(text) > 1 and text.endswith("+"):  # the plus key itself: "Ctrl + +"
        text = text[:-1] + " plus"
    keys = [_KEY_NAMES.get(k, k) for k in (t.casefold() for t in _CHORD_SEPARATORS.split(text)) if k]
    modifiers = [m for m in _MODIFIERS if m in keys]
    return "+".join(modifiers + sorted(k for k in set(keys) if k not in _MODIFIERS))


def _web_address(text: str) -> str:
    """``text`` without a URL scheme, a leading ``www.`` or trailing slashes; the host's case ignored."""
    out = _SCHEME.sub("", text.strip())
    host, slash, rest = out.partition("/")
    host = host.casefold().removeprefix("www.")
    return (host + slash + rest).rstrip("/")


def answer_for(item: Item, category: int) -> Any:
    """A raw answer to ``item`` whose score is exactly ``category`` (simulated test takers, the demo, tests)."""
    k = max_score(item)
    if isinstance(category, bool) or not isinstance(category, int) or k is None or not 0 <= category <= k:
        raise ResponseError(f"item {item.id!r}: no answer scores {category!r} (scores run 0..{k})")
    kind, whole = item.kind, rule_of(item) != "all_or_nothing"
    if kind == "multiple_choice":
        return item.key if category else next(o.id for o in item.options if o.id != item.key)
    if kind == "multiple_response":
        return list(item.keys[:category]) if whole else list(item.keys) if category else []
    if kind == "ordering":
        order = list(item.key_order)
        n = category + 1 if whole else len(order) if category else 1
        # the key's first n steps in order, after the rest reversed: exactly n - 1 of the key's adjacent pairs
        return order[n:][::-1] + order[:n]
    if kind == "matching":
        right = category if whole else len(item.key_map) if category else 0
        choices = [c.id for c in item.choices]
        return {
            p: c if i < right else next(x for x in choices if x != c) for i, (p, c) in enumerate(item.key_map.items())
        }
    if kind == "short_answer":
        spec = item.answer
        if spec.kind == "number":
            value = float(spec.accepted[0]) + (0 if category else (spec.tolerance or 0) + 1)
            while not category and any(abs(value - float(v)) <= (spec.tolerance or 0) + 1 for v in spec.accepted):
                value += (spec.tolerance or 0) + 1
            return _plain_number(value)
        if category:
            return str(spec.accepted[0])
        wrong = "?"
        while _short_answer(item, wrong)[1]:
            wrong += "?"
        return wrong
    if kind == "rated_task":
        out, left = {}, category
        for c in item.rubric:  # full points on the first criteria, the rest on the next, none after
            out[c.id] = min(c.points, left)
            left -= out[c.id]
        return out
    raise ResponseError(f"item {item.id!r}: a {kind} item is answered with its category")


def _plain_number(value: float) -> str:
    """``value`` as :func:`parse_number` reads it back: the shortest form, else 17 fixed decimals."""
    text = repr(float(value))
    whole, _, frac = text.partition(".")
    return text if "e" not in text and "n" not in text and len(frac) != 3 else f"{value:.17f}"
