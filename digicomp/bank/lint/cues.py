"""Bank-level tests of the linter: each cue tested across the bank against random key placement.

A cue matters when it is systematic: if keys were placed without regard to a feature, the keys of each item would be
a uniformly random set of its options as far as that feature goes. The tests are exact (the permutation distribution
of the number of keys carrying the feature) or chi-square (key length rank, key position; Attali & Bar-Hillel 2003,
*Journal of Educational Measurement* 40(2), 109–128), with Holm's (1979) adjustment over the whole family, so that a
bank written without cues passes at the stated alpha.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from digicomp.bank.lint.options import _Options
from digicomp.bank.lint.rules import _overlap_counts
from digicomp.bank.lint.words import _WORDS, LANGS, _is_list, option_magnitudes
from digicomp.bank.schema import Item


@dataclass(frozen=True)
class CueTest:
    """A bank-level test of one cue against random key placement.

    ``observed`` is the share of keys carrying the cue (for ``key-length-rank``: keys of the top length rank; for
    ``key-position``: keys in the most used position), ``expected`` the share expected by chance, ``distractors``
    the share of distractors carrying it; ``p_holm`` is the Holm-adjusted p-value over every test of the report.
    """

    rule: str
    lang: str | None
    method: str
    n_items: int
    statistic: float
    df: int | None
    p_value: float
    p_holm: float
    significant: bool
    observed: float
    expected: float
    distractors: float | None
    detail: str


def placement_null(
    scores: NDArray[np.integer], mask: NDArray[np.bool_], n_keys: NDArray[np.integer] | None = None
) -> NDArray[np.float64]:
    """Distribution of the sum over items of the keys' scores when each item's keys are a uniformly random set.

    ``scores`` (n, K) non-negative integers, ``mask`` (n, K) the real options, ``n_keys`` (n,) the number of keys
    of each item (default 1: one key, a uniformly random option). Exact: the convolution of the items' distributions
    (a multiple-response item's by enumerating its key sets; items with the same distribution are convolved by
    squaring). Entry s of the result is P(sum = s).
    """
    n = scores.shape[0]
    if n == 0:
        return np.ones(1)
    m = np.ones(n, np.intp) if n_keys is None else np.asarray(n_keys, dtype=np.intp)
    top = int(scores[mask].max()) if mask.any() else 0
    width = top * int(m.max()) + 1
    per_item = np.zeros((n, width))
    one = mask & (m == 1)[:, None]
    np.add.at(per_item, (np.nonzero(one)[0], scores[one].astype(np.intp)), 1.0)
    per_item[m == 1] /= mask[m == 1].sum(axis=1, keepdims=True)
    for i in np.flatnonzero(m > 1):  # multiple-response items: C(K, m) <= 20 key sets each
        sums = [sum(s) for s in itertools.combinations(scores[i, mask[i]].astype(np.intp).tolist(), int(m[i]))]
        per_item[i] = np.bincount(sums, minlength=width) / len(sums)
    unique, counts = np.unique(per_item, axis=0, return_counts=True)
    total = np.ones(1)
    for pmf, count in zip(unique, counts):
        total = np.convolve(total, _convolution_power(pmf, int(count)))
    return total


def _convolution_power(pmf: NDArray[np.float64], power: int) -> NDArray[np.float64]:
    result, base = np.ones(1), pmf
    while power:
        if power & 1:
            result = np.convolve(result, base)
        power >>= 1
        if power:
            base = np.convolve(base, base)
    return result


def exact_placement_test(scores: NDArray[np.integer], mask: NDArray[np.bool_], key: NDArray[Any]) -> float:
    """Two-sided exact p-value of the keys' total score against random key placement (twice the smaller tail).

    ``key`` is each item's key position (n,), or an (n, K) mask of each item's keys (multiple response).
    """
    key = np.asarray(key)
    if key.ndim == 1:
        is_key = np.zeros(mask.shape, dtype=bool)
        is_key[np.arange(len(key)), key] = True
    else:
        is_key = key.astype(bool)
    pmf = placement_null(scores, mask, is_key.sum(axis=1))
    observed = int(scores[is_key].sum())
    lower = float(pmf[: observed + 1].sum())
    upper = float(pmf[observed:].sum())
    return min(1.0, 2.0 * min(lower, upper))


def _binary_test(rule: str, lang: str | None, cue: NDArray[np.bool_], mc: _Options, what: str) -> dict[str, Any]:
    """Exact test of the number of keys carrying a yes/no feature (multiple-response keys each count)."""
    cue = cue & mc.mask
    with_cue = cue.sum(axis=1)
    informative = (with_cue > 0) & (with_cue < mc.k)
    keys_with = (cue & mc.is_key).sum(axis=1)
    n_keys = mc.n_keys
    observed = float(keys_with.sum() / n_keys.sum())
    expected = float((n_keys * with_cue / mc.k).sum() / n_keys.sum())
    distractors = float((with_cue - keys_with).sum() / (mc.k - n_keys).sum())
    p = exact_placement_test(cue.astype(np.int64), mc.mask, mc.is_key)
    return dict(
        rule=rule,
        lang=lang,
        method="exact permutation",
        n_items=int(informative.sum()),
        statistic=float(keys_with.sum()),
        df=None,
        p_value=p,
        observed=observed,
        expected=expected,
        distractors=distractors,
        detail=f"{what}: keys {observed:.0%}, distractors {distractors:.0%}, chance for keys {expected:.0%}",
    )


MIN_EXPECTED = 5.0
"""A chi-square table (items with the same number of options) is tested only when each cell expects this many."""


def _chi_square(tables: dict[int, NDArray[np.float64]], what: str, order: str, top: str) -> dict[str, Any]:
    """Chi-square against uniform cells, summed over tables {number of options: counts}; small tables are only shown.

    ``observed`` is the share of keys in the last cell (``top="last"``) or in each table's fullest cell (``"max"``).
    """
    chi2, df, lines, in_top, top_expected, n = 0.0, 0, [], 0.0, 0.0, 0
    for k, counts in sorted(tables.items()):
        expected = counts.sum() / k
        note = ""
        if expected >= MIN_EXPECTED:
            chi2 += float(((counts - expected) ** 2 / expected).sum())
            df += k - 1
            n += int(round(counts.sum()))
        else:
            note = f", not tested: fewer than {MIN_EXPECTED:g} expected per cell"
        in_top += counts[-1] if top == "last" else counts.max()
        top_expected += expected
        cells = "/".join(f"{c:.0f}" for c in counts)
        lines.append(f"{what} among {k} options, {order}: {cells} ({expected:.0f} each by chance{note})")
    total = sum(float(c.sum()) for c in tables.values())
    return dict(
        method="chi-square",
        n_items=n,
        statistic=chi2,
        df=df,
        p_value=float(stats.chi2.sf(chi2, df)) if df else 1.0,
        observed=in_top / total,
        expected=top_expected / total,
        distractors=None,
        detail="; ".join(lines),
    )


def _rank_test(lang: str, mc: _Options) -> dict[str, Any]:
    """Chi-square of the keys' length ranks (ties share their ranks) against the uniform ranks of random placement."""
    length = mc.matrix(lang, lambda t: len(t.strip()))
    key_len = mc.at_key(length)
    shorter = ((length < key_len[:, None]) & mc.mask).sum(axis=1)
    tied = ((length == key_len[:, None]) & mc.mask).sum(axis=1)
    tables = {}
    for k in np.unique(mc.k):
        rows = np.flatnonzero(mc.k == k)
        lo, t, rank = shorter[rows, None], tied[rows, None], np.arange(k)
        tables[int(k)] = (((rank >= lo) & (rank < lo + t)) / t).sum(axis=0)
    return dict(
        rule="key-length-rank", lang=lang, **_chi_square(tables, "key length rank", "shortest to longest", "last")
    )


def _position_test(mc: _Options) -> dict[str, Any]:
    """Chi-square of the key positions against uniform (Attali & Bar-Hillel 2003)."""
    tables = {int(k): np.bincount(mc.key[mc.k == k], minlength=k).astype(float) for k in np.unique(mc.k)}
    return dict(rule="key-position", lang=None, **_chi_square(tables, "key position", "first to last", "max"))


def _multi_position_test(mc: _Options) -> dict[str, Any]:
    """Exact test of where multiple-response keys sit among their options: the sum of the keys' places (first = 0)
    against random key sets of the same sizes. Writers list the statements they have in mind as right first, so a
    reader who ticks the first options gains (the multiple-response form of Attali & Bar-Hillel's position bias)."""
    place = np.where(mc.mask, np.arange(mc.mask.shape[1]), 0)
    relative = place / np.maximum(mc.k - 1, 1)[:, None]
    observed = float(relative[mc.is_key].mean())
    distractors = float(relative[mc.distractor].mean())
    return dict(
        rule="multi-key-position",
        lang=None,
        method="exact permutation",
        n_items=mc.n,
        statistic=float(place[mc.is_key].sum()),
        df=None,
        p_value=exact_placement_test(place, mc.mask, mc.is_key),
        observed=observed,
        expected=0.5,
        distractors=distractors,
        detail=f"mean place of the keys among their options, first 0 to last 1: keys {observed:.2f}, "
        f"distractors {distractors:.2f}, chance 0.50",
    )


def _extreme_test(mc: _Options) -> dict[str, Any]:
    """Exact test of the keys at the smallest or largest option, where the options are numbers or sets of parts.

    Test-wise readers avoid the extremes of a numeric scale (the middle-value strategy; Attali & Bar-Hillel 2003 find
    the same edge aversion for positions), and writers of computed or "which parts" items tend to place the key
    between the errors they anticipate. Items whose options are not on one scale carry no cue and are not counted.
    """
    cue = np.zeros(mc.mask.shape, dtype=bool)
    for i, row in enumerate(mc.text["en"]):
        values = option_magnitudes(row)
        if values is not None:
            v = np.asarray(values)
            cue[i, : len(v)] = (v == v.min()) | (v == v.max())
    return _binary_test("key-extreme", None, cue, mc, "the smallest or largest number or set of parts")


def holm(p_values: Sequence[float]) -> NDArray[np.float64]:
    """Holm (1979) step-down adjusted p-values (family-wise error rate)."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    out = np.empty(m)
    out[order] = adjusted
    return out


def cue_tests(mc: _Options | Sequence[Item], alpha: float = 0.05) -> list[CueTest]:
    """Bank-level tests of every cue against random key placement, Holm-adjusted at ``alpha``.

    Word, form, length and overlap cues are tested over the multiple-choice and multiple-response items together;
    the key-length rank, key position and key extremes (one key per item) over the multiple-choice items; the
    places of the keys over the multiple-response items.
    """
    if not isinstance(mc, _Options):
        mc = _Options.of(mc)
    if mc.n == 0:
        return []
    single = mc.single_key()
    raw: list[dict[str, Any]] = []
    for lang in LANGS:
        if single.n:
            raw.append(_rank_test(lang, single))
        length = mc.matrix(lang, lambda t: len(t.strip()))
        longest = (length == np.where(mc.mask, length, -1).max(axis=1, keepdims=True)) & mc.mask
        raw.append(_binary_test("key-longest", lang, longest, mc, "a longest option"))
        for rule, table, what in (
            ("absolute-words", "absolute", "absolute words"),
            ("hedge-words", "hedge", "qualifying words"),
            ("justification", "justification", "a reason clause"),
            ("purpose", "purpose", "a purpose clause"),
        ):
            pattern = _WORDS[table][lang]
            cue = mc.matrix(lang, lambda t, p=pattern: p.search(t) is not None, dtype=bool)
            raw.append(_binary_test(rule, lang, cue, mc, what))
        raw.append(_binary_test("list-form", lang, mc.matrix(lang, _is_list, dtype=bool), mc, "a list"))
        overlap = _overlap_counts(mc, lang)
        most = (overlap == np.where(mc.mask, overlap, -1).max(axis=1, keepdims=True)) & (overlap > 0) & mc.mask
        raw.append(_binary_test("stem-overlap", lang, most, mc, "most stem words repeated"))
    if single.n:
        raw.append(_position_test(single))
        raw.append(_extreme_test(single))
    multi = mc.of_kind("multiple_response")
    if multi.n:
        raw.append(_multi_position_test(multi))
    adjusted = holm([r["p_value"] for r in raw])
    return [CueTest(**r, p_holm=float(a), significant=bool(a <= alpha)) for r, a in zip(raw, adjusted)]


BANK_TESTS = (
    "key-length-rank",
    "key-longest",
    "absolute-words",
    "hedge-words",
    "justification",
    "purpose",
    "list-form",
    "stem-overlap",
    "key-position",
    "key-extreme",
    "multi-key-position",
)
"""The bank-level tests, each run per language except the language-free ones."""

LANGUAGE_FREE = ("key-position", "key-extreme", "multi-key-position")
"""Bank-level tests run once, not per language: the key's position, its place on the options' own scale, and the
places of multiple-response keys."""
