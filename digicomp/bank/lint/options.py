"""The option items of a bank as padded (n, K) arrays: which cells are options, which are keys, and their texts.

Multiple-choice items have one key; multiple-response items ("choose all that apply") have a set of keys, and every
option rule reads "the key" as "the keys" and "a distractor" as "an option that is not a key". Ordering and matching
items have no distractors (every step and every choice is used), so the option rules skip them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.bank.lint.words import LANGS, _nfc
from digicomp.bank.schema import Item

OPTION_KINDS = ("multiple_choice", "multiple_response")
"""Item formats whose options have keys and distractors (the formats the option rules apply to)."""


def _keys(item: Item) -> list[str]:
    return [item.key] if item.kind == "multiple_choice" else list(item.keys or [])


@dataclass(frozen=True)
class _Options:
    """Option items as padded (n, K) arrays: mask of real options, mask of keys, labels, texts, stems."""

    ids: list[str]
    kinds: list[str]
    is_key: NDArray[np.bool_]
    mask: NDArray[np.bool_]
    labels: list[list[str]]
    text: dict[str, list[list[str]]]
    stem: dict[str, list[str]]

    @classmethod
    def of(cls, items: Sequence[Item], kinds: Sequence[str] = OPTION_KINDS) -> _Options:
        rows = [it for it in items if it.kind in kinds and it.options and it.stem is not None]
        width = max((len(it.options or []) for it in rows), default=0)
        mask = np.zeros((len(rows), width), dtype=bool)
        is_key = np.zeros((len(rows), width), dtype=bool)
        for i, it in enumerate(rows):
            ids = [o.id for o in it.options]
            mask[i, : len(ids)] = True
            is_key[i, [ids.index(k) for k in _keys(it) if k in ids]] = True
        return cls(
            ids=[it.id for it in rows],
            kinds=[it.kind for it in rows],
            is_key=is_key,
            mask=mask,
            labels=[[o.id for o in it.options or []] for it in rows],
            text={lang: [[_nfc(getattr(o, lang)) for o in it.options or []] for it in rows] for lang in LANGS},
            stem={lang: [_nfc(getattr(it.stem, lang)) for it in rows] for lang in LANGS},
        )

    def subset(self, rows: NDArray[np.intp]) -> _Options:
        """The items at ``rows``, trimmed to their widest option list."""
        width = int(self.mask[rows].sum(axis=1).max(initial=0))
        return _Options(
            ids=[self.ids[i] for i in rows],
            kinds=[self.kinds[i] for i in rows],
            is_key=self.is_key[rows, :width],
            mask=self.mask[rows, :width],
            labels=[self.labels[i] for i in rows],
            text={lang: [t[i] for i in rows] for lang, t in self.text.items()},
            stem={lang: [s[i] for i in rows] for lang, s in self.stem.items()},
        )

    def of_kind(self, kind: str) -> _Options:
        """The items of one format only."""
        return self.subset(np.flatnonzero(np.array([k == kind for k in self.kinds], dtype=bool)))

    def single_key(self) -> _Options:
        """The multiple-choice items only (one key each): what key-position and key-rank tests are about."""
        return self.of_kind("multiple_choice")

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def k(self) -> NDArray[np.intp]:
        """Number of options per item."""
        return self.mask.sum(axis=1)

    @property
    def n_keys(self) -> NDArray[np.intp]:
        """Number of keys per item."""
        return self.is_key.sum(axis=1)

    @property
    def distractor(self) -> NDArray[np.bool_]:
        """(n, K) real options that are not keys."""
        return self.mask & ~self.is_key

    @property
    def key(self) -> NDArray[np.intp]:
        """Position of each item's (first) key."""
        return np.argmax(self.is_key, axis=1)

    def matrix(self, lang: str, feature: Callable[[str], float], dtype: Any = float) -> NDArray[Any]:
        """(n, K) array of ``feature(option text)``; padding cells are 0."""
        out = np.zeros(self.mask.shape, dtype=dtype)
        for i, row in enumerate(self.text[lang]):
            out[i, : len(row)] = [feature(t) for t in row]
        return out

    def at_key(self, values: NDArray[Any]) -> NDArray[Any]:
        """Each item's value at its (first) key."""
        return values[np.arange(self.n), self.key]

    def keys_min(self, values: NDArray[Any]) -> NDArray[np.float64]:
        """Smallest value over each item's keys."""
        return np.where(self.is_key, values, np.inf).min(axis=1, initial=np.inf)

    def keys_max(self, values: NDArray[Any]) -> NDArray[np.float64]:
        """Largest value over each item's keys."""
        return np.where(self.is_key, values, -np.inf).max(axis=1, initial=-np.inf)

    def others_min(self, values: NDArray[Any]) -> NDArray[np.float64]:
        """Smallest value over each item's distractors."""
        return np.where(self.distractor, values, np.inf).min(axis=1, initial=np.inf)

    def others_max(self, values: NDArray[Any]) -> NDArray[np.float64]:
        """Largest value over each item's distractors."""
        return np.where(self.distractor, values, -np.inf).max(axis=1, initial=-np.inf)


def _counts(cue: NDArray[np.bool_], mc: _Options) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Per item: keys carrying the yes/no feature, and distractors carrying it."""
    return (cue & mc.is_key).sum(axis=1), (cue & mc.distractor).sum(axis=1)


def _key_alone(cue: NDArray[np.bool_], mc: _Options) -> NDArray[np.bool_]:
    """Items where the keys differ from every one of (at least two) distractors on a yes/no feature."""
    keys_with, distractors_with = _counts(cue, mc)
    n_distractors = mc.k - mc.n_keys
    every_key, no_key = keys_with == mc.n_keys, keys_with == 0
    return (n_distractors >= 2) & (
        (every_key & (distractors_with == 0)) | (no_key & (distractors_with == n_distractors))
    )


def _marks_distractors(cue: NDArray[np.bool_], mc: _Options) -> NDArray[np.bool_]:
    """Items where a wrong-sounding feature sits on some distractor and on no key, or on keys alone."""
    keys_with, distractors_with = _counts(cue, mc)
    return ((keys_with == 0) & (distractors_with > 0)) | ((keys_with > 0) & (distractors_with == 0))
