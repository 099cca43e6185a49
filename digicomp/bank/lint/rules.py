"""Per-item rules of the linter: option cues (length, words, form, agreement, stem overlap, 'all/none of the above'),
negative stems, duplicate stems and gendered address. Provenance rules are in :mod:`digicomp.bank.lint.provenance`,
the numeric short answers' common-number rule in :mod:`digicomp.bank.lint.answers`.

Option rules apply to the items with keys and distractors (multiple choice and multiple response, where "the key"
reads "the keys"); ordering, matching and short-answer items have no distractors, so only the stem rules apply.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from digicomp.bank.lint.answers import common_number_findings
from digicomp.bank.lint.catalog import RULES, Finding
from digicomp.bank.lint.catalog import finding as _finding
from digicomp.bank.lint.options import OPTION_KINDS, _key_alone, _marks_distractors, _Options
from digicomp.bank.lint.provenance import provenance_findings
from digicomp.bank.lint.words import (
    _NEGATIVE_Q,
    _TOKEN,
    _WORDS,
    LANGS,
    _ends_with_mark,
    _found,
    _has_brackets,
    _is_list,
    _nfc,
    _starts_lower,
    _units,
)
from digicomp.bank.schema import Item


def item_findings(items: Sequence[Item], mc: _Options | None = None, today=None) -> list[Finding]:
    """Every per-item finding of ``items`` (option rules on the multiple-choice and multiple-response items)."""
    mc = mc or _Options.of(items)
    found: list[Finding] = []
    if mc.n:
        found += _length_findings(mc)
        found += _word_findings(mc)
        found += _form_findings(mc)
        found += _agreement_findings(mc)
        found += _overlap_findings(mc)
        found += _all_none_findings(mc)
    found += _negative_stem_findings(items)
    found += _duplicate_findings(items)
    found += _address_findings(items)
    found += common_number_findings(items)
    found += provenance_findings(items, today)
    order = {item.id: j for j, item in enumerate(items)}
    return sorted(found, key=lambda f: (order.get(f.item, len(order)), list(RULES).index(f.rule)))


def _the_key(mc: _Options, i: int) -> str:
    """How messages name the key(s) of item i."""
    return "the keys" if mc.kinds[i] == "multiple_response" else "the key"


KEY_LENGTH_RATIO = 1.25
"""The key is flagged when it is the longest (shortest) option by this factor over the next one."""
HOMOGENEITY_RATIO = 2.0
"""Options are flagged as unequal when the longest is this many times the shortest (in characters)..."""
HOMOGENEITY_MIN_GAP = 20
"""... and at least this many characters longer (short options such as 'TCVN3' and 'Unicode' are not flagged)."""


def _length_findings(mc: _Options) -> list[Finding]:
    out: list[Finding] = []
    key_notes: dict[int, list[str]] = {}
    spread_notes: dict[int, list[str]] = {}
    for lang in LANGS:
        length = mc.matrix(lang, lambda t: len(t.strip()))
        longest_other, shortest_other = mc.others_max(length), mc.others_min(length)
        shortest_key, longest_key = mc.keys_min(length), mc.keys_max(length)
        long_key = shortest_key >= KEY_LENGTH_RATIO * longest_other
        short_key = longest_key * KEY_LENGTH_RATIO <= shortest_other
        for i in np.flatnonzero(long_key | short_key):
            which = "longest" if long_key[i] else "shortest"
            key_len = shortest_key[i] if long_key[i] else longest_key[i]
            other = longest_other[i] if long_key[i] else shortest_other[i]
            if mc.kinds[i] == "multiple_response":
                text = f"the keys are the {which} options (down to {int(key_len)} characters, next {int(other)})"
                if not long_key[i]:
                    text = f"the keys are the {which} options (up to {int(key_len)} characters, next {int(other)})"
            else:
                text = f"the key is the {which} option ({int(key_len)} characters, next {int(other)})"
            key_notes.setdefault(i, []).append(f"{lang}: {text}")
        lo = np.where(mc.mask, length, np.inf).min(axis=1)
        hi = np.where(mc.mask, length, -np.inf).max(axis=1)
        uneven = (hi >= HOMOGENEITY_RATIO * np.maximum(lo, 1)) & (hi - lo >= HOMOGENEITY_MIN_GAP)
        for i in np.flatnonzero(uneven):
            spread_notes.setdefault(i, []).append(f"{lang}: options run from {int(lo[i])} to {int(hi[i])} characters")
    for i, notes in sorted(key_notes.items()):
        out.append(_finding(mc.ids[i], "key-length", "; ".join(notes)))
    for i, notes in sorted(spread_notes.items()):
        out.append(_finding(mc.ids[i], "option-homogeneity", "; ".join(notes) + "; write options of similar length"))
    return out


_WORD_RULES = (
    ("absolute-words", "absolute", _marks_distractors, "absolute words"),
    ("justification", "justification", _marks_distractors, "a reason clause"),
    ("hedge-words", "hedge", _key_alone, "qualifying words"),
    ("purpose", "purpose", _key_alone, "a purpose clause"),
)


def _word_findings(mc: _Options) -> list[Finding]:
    out: list[Finding] = []
    for rule, table, flagged_by, what in _WORD_RULES:
        notes: dict[int, list[str]] = {}
        for lang in LANGS:
            pattern = _WORDS[table][lang]
            hits = [[_found(pattern, t) for t in row] for row in mc.text[lang]]
            cue = mc.matrix(lang, lambda t, p=pattern: p.search(t) is not None, dtype=bool)
            for i in np.flatnonzero(flagged_by(cue, mc)):
                keys = set(np.flatnonzero(mc.is_key[i]).tolist())
                carriers = [j for j, h in enumerate(hits[i]) if h]
                where = ", ".join(f"{mc.labels[i][j]} ({', '.join(repr(h) for h in hits[i][j])})" for j in carriers)
                the_key = _the_key(mc, i)
                if keys & set(carriers) and mc.kinds[i] == "multiple_response":
                    text = f"only keys carry {what} ({where}); no distractor does"
                elif keys & set(carriers):
                    text = f"only the key, {where}, carries {what}"
                elif len(carriers) == len(hits[i]) - len(keys):
                    text = f"every distractor carries {what} ({where}); {the_key} {_do(the_key)} not"
                else:
                    who, verb = ("distractors", "carry") if len(carriers) > 1 else ("distractor", "carries")
                    text = f"{who} {where} {verb} {what}; {the_key} {_do(the_key)} not"
                notes.setdefault(i, []).append(f"{lang}: {text}")
        out += [_finding(mc.ids[i], rule, "; ".join(n)) for i, n in sorted(notes.items())]
    return out


def _do(subject: str) -> str:
    return "do" if subject.endswith("s") else "does"


_FORMS: tuple[tuple[str, Callable[[str], bool], str, str], ...] = (
    ("list-form", _is_list, "is a list (';', '→')", "is not a list while every distractor is"),
    ("punctuation", _ends_with_mark, "ends with punctuation", "lacks the end punctuation every distractor has"),
    ("punctuation", _starts_lower, "starts in lower case", "starts in upper case while every distractor does not"),
    ("punctuation", _has_brackets, "has a bracketed remark", "has no bracket while every distractor has one"),
)


def _form_findings(mc: _Options) -> list[Finding]:
    notes: dict[tuple[int, str], list[str]] = {}
    for rule, feature, alone, lacking in _FORMS:
        for lang in LANGS:
            cue = mc.matrix(lang, feature, dtype=bool)
            key = (cue & mc.is_key).any(axis=1)
            for i in np.flatnonzero(_key_alone(cue, mc)):
                text = f"only {_the_key(mc, i)} {alone}" if key[i] else f"{_the_key(mc, i)} {lacking}"
                notes.setdefault((i, rule), []).append(f"{lang}: {text}")
    return [_finding(mc.ids[i], rule, "; ".join(n)) for (i, rule), n in sorted(notes.items())]


_ARTICLE_END = re.compile(r"(?<!\w)(a|an)\s*(?:\.\.\.|…|_+)?\s*$", re.IGNORECASE)
_CONSONANT_SOUND = re.compile(r"^(?:uni|use|usu|eu|one|once|ur[aeiou])", re.IGNORECASE)
_VOWEL_SOUND = re.compile(r"^(?:hour|honest|honou?r|heir|[aeiou])", re.IGNORECASE)


def _takes_an(text: str) -> bool:
    """Whether an English option starts with a vowel sound (takes 'an'), by spelling with the common exceptions."""
    word = text.strip().lstrip("“\"'(")
    if _CONSONANT_SOUND.match(word):
        return False
    return bool(_VOWEL_SOUND.match(word)) or bool(re.match(r"^[AEFHILMNORSX](?:[A-Z]|\b)", word))


def _agreement_findings(mc: _Options) -> list[Finding]:
    out: list[Finding] = []
    for i, stem in enumerate(mc.stem["en"]):
        m = _ARTICLE_END.search(stem)
        if not m:
            continue
        wants_an = m.group(1).lower() == "an"
        agrees = [_takes_an(t) == wants_an for t in mc.text["en"][i]]
        keys = np.flatnonzero(mc.is_key[i]).tolist()
        if all(agrees[k] for k in keys) and not all(agrees):
            bad = ", ".join(mc.labels[i][j] for j, ok in enumerate(agrees) if not ok)
            out.append(
                _finding(mc.ids[i], "agreement", f"en: the stem ends with '{m.group(1)}', which {bad} do(es) not fit")
            )
    return out


STEM_OVERLAP_MARGIN = 2
"""The key is flagged when it shares at least this many more stem words (vi: syllable pairs) than any distractor."""


def _overlap_counts(mc: _Options, lang: str) -> NDArray[np.int64]:
    """(n, K) number of the stem's content units each option repeats."""
    out = np.zeros(mc.mask.shape, dtype=np.int64)
    for i, (stem, row) in enumerate(zip(mc.stem[lang], mc.text[lang])):
        units = _units(stem, lang)
        out[i, : len(row)] = [len(units & _units(t, lang)) for t in row]
    return out


def _overlap_findings(mc: _Options) -> list[Finding]:
    notes: dict[int, list[str]] = {}
    for lang in LANGS:
        overlap = _overlap_counts(mc, lang)
        key = mc.keys_min(overlap)
        best_other = np.maximum(mc.others_max(overlap), 0)
        unit = "syllable pairs" if lang == "vi" else "words"
        for i in np.flatnonzero(key >= best_other + STEM_OVERLAP_MARGIN):
            notes.setdefault(i, []).append(
                f"{lang}: {_the_key(mc, i)} {'repeat' if mc.kinds[i] == 'multiple_response' else 'repeats'} "
                f"{int(key[i])} of the stem's {unit}, no distractor more than {int(best_other[i])}"
            )
    return [_finding(mc.ids[i], "stem-overlap", "; ".join(n)) for i, n in sorted(notes.items())]


def _all_none_findings(mc: _Options) -> list[Finding]:
    out: list[Finding] = []
    for i in range(mc.n):
        notes = []
        for lang in LANGS:
            for j, text in enumerate(mc.text[lang][i]):
                hits = _found(_WORDS["all-none"][lang], text)
                if hits:
                    notes.append(f"{lang}: option {mc.labels[i][j]} ('{hits[0]}')")
        if notes:
            out.append(_finding(mc.ids[i], "all-none-of-above", "; ".join(notes)))
    return out


def _question(stem: str) -> str:
    """The last sentence of a stem (the question proper)."""
    parts = re.split(r"(?<=[.!?])\s+", stem.strip())
    return parts[-1] if parts else stem


def _emphasised(word: str, text: str, start: int) -> bool:
    """A negative word in capitals, or inside **bold** / <b>, <strong>, <em> markup."""
    if word.isupper() and len(word) > 1:
        return True
    before = text[:start]
    return before.rstrip().endswith(("**", "<b>", "<strong>", "<em>", "__"))


def _negative_stem_findings(items: Sequence[Item]) -> list[Finding]:
    out: list[Finding] = []
    for item in items:
        if item.kind not in OPTION_KINDS or item.stem is None:
            continue
        notes = []
        for lang in LANGS:
            question = _question(_nfc(getattr(item.stem, lang)))
            for m in _NEGATIVE_Q[lang].finditer(question):
                group = next(g for g in ("neg", "neg2", "neg3") if m.group(g))
                word = m.group(group)
                if not _emphasised(word, question, m.start(group)):
                    notes.append(f"{lang}: '{word}' in the question is not emphasised (write it in capitals)")
                    break
        if notes:
            out.append(_finding(item.id, "negative-stem", "; ".join(notes) + "; or word the stem positively"))
    return out


NEAR_DUPLICATE_JACCARD = 0.5
"""Two stems are near-duplicates when the Jaccard similarity of their word 3-shingle sets reaches this."""


def _normalised(text: str) -> str:
    return " ".join(_TOKEN.findall(_nfc(text).lower()))


def _shingles(text: str, size: int = 3) -> set[str]:
    words = _normalised(text).split()
    if len(words) < size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[j : j + size]) for j in range(len(words) - size + 1)}


def shingle_jaccard(texts: Sequence[str], size: int = 3) -> NDArray[np.float64]:
    """(n, n) Jaccard similarity of the texts' word ``size``-shingle sets, from one sparse product (Broder 1997)."""
    sets = [_shingles(t, size) for t in texts]
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, s in enumerate(sets):
        for sh in s:
            rows.append(i)
            cols.append(vocab.setdefault(sh, len(vocab)))
    x = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(sets), max(len(vocab), 1)))
    inter = (x @ x.T).toarray()
    size_ = np.asarray(x.sum(axis=1)).ravel()
    union = size_[:, None] + size_[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, inter / union, 0.0)


def _duplicate_findings(items: Sequence[Item]) -> list[Finding]:
    with_stem = [it for it in items if it.stem is not None]
    if len(with_stem) < 2:
        return []
    out: list[Finding] = []
    best: dict[tuple[int, int], tuple[float, str, bool]] = {}
    for lang in LANGS:
        stems = [getattr(it.stem, lang) for it in with_stem]
        norm = [_normalised(s) for s in stems]
        sim = np.triu(shingle_jaccard(stems), k=1)
        for a, b in zip(*np.nonzero(sim >= NEAR_DUPLICATE_JACCARD)):
            same = norm[a] == norm[b]
            old = best.get((a, b))
            if old is None or (same, sim[a, b]) > (old[2], old[0]):
                best[(a, b)] = (float(sim[a, b]), lang, same)
    for (a, b), (jac, lang, same) in sorted(best.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        first, second = with_stem[a].id, with_stem[b].id
        if same:
            out.append(_finding(second, "duplicate-stem", f"{lang}: the stem is the same as {first}'s"))
        else:
            out.append(
                _finding(
                    second,
                    "near-duplicate-stem",
                    f"{lang}: the stem shares {jac:.0%} of its word 3-shingles with {first}'s (Jaccard)",
                )
            )
    return out


_TITLE = re.compile(r"(?<![\w/])(anh|chị)(?![\w/])", re.IGNORECASE)
_PAIRED = re.compile(r"^\s*(?:/|\(|,?\s*(?:hoặc\s+)?(?:anh|chị)(?!\w))", re.IGNORECASE)
_THIRD = re.compile(
    r"^\s+(?:ấy|ta|trai|gái|em|rể|dâu|họ|cả|hai|ba|hùng|dũng|tài|minh|linh|quốc)(?!\w)"
)  # 'anh ấy' (he), kinship and compounds ('anh hùng' = hero); lower case only, 'Anh Minh' is a name
_LANGUAGE = re.compile(r"(?:tiếng|nước|Vương quốc|người)\s+$", re.IGNORECASE)
_YOU = re.compile(r"(?<!\w)(?:you|your|yours|yourself)(?!\w)", re.IGNORECASE)


_ASKED = re.compile(r"(?<!\w)(?:hỏi|nhờ|giao|mời|gửi|báo|kể|với)(?:\s+ý\s+kiến)?\s+$", re.IGNORECASE)


def second_person_titles(vi: str, en: str, antecedents: set[str] | None = None) -> list[str]:
    """Uses of 'anh'/'chị' alone that address the reader in ``vi`` (``en`` its translation).

    Conservative. Not taken for address: 'anh/chị', 'anh (chị)', 'anh, chị'; a named person ('Chị Lan') and a later
    mention of one with the same title ('Chị Lan ... Chị nên làm gì?'; ``antecedents`` holds the titles named earlier
    in the item); 'anh ấy', kinship words, 'tiếng Anh'. What remains counts as address only when the English says
    'you', or when it is the object of asking, assigning or telling ('hỏi anh', 'nhờ chị', 'giao anh'), so that 'anh'
    meaning a third person ('sao cho anh thấy rõ' = 'so that he sees') is not taken for address.
    """
    says_you = _YOU.search(en) is not None
    named = set(antecedents or ())
    hits: list[str] = []
    for m in _TITLE.finditer(vi):
        title, after, before = m.group(1).lower(), vi[m.end() :], vi[: m.start()]
        if _PAIRED.match(after) or re.search(r"(?:anh|chị)\s*[/,(]?\s*$", before, re.IGNORECASE):
            continue
        if _LANGUAGE.search(before) and m.group(1)[0].isupper():
            continue
        nxt = re.match(r"^\s+(\w)", after)
        if nxt and nxt.group(1).isupper():
            named.add(title)
            continue
        if _THIRD.match(after) or title in named or not (says_you or _ASKED.search(before)):
            continue
        snippet = vi[max(0, m.start() - 25) : m.end() + 25].strip()
        hits.append(f"'{m.group(1)}' (…{snippet}…)")
    return hits


def _named_titles(vi: str) -> set[str]:
    """Titles used with a name in ``vi`` ('Chị Lan' → 'chị')."""
    return {m.group(1).lower() for m in _TITLE.finditer(vi) if re.match(r"\s+[^\W\d_]", vi[m.end() :]) and
            vi[m.end() :].lstrip()[:1].isupper()}  # fmt: skip


def _address_findings(items: Sequence[Item]) -> list[Finding]:
    out: list[Finding] = []
    for item in items:
        if item.stem is None:
            continue
        stem_vi = _nfc(item.stem.vi)
        named = _named_titles(stem_vi)
        hits = second_person_titles(stem_vi, item.stem.en)
        for opt in [*(item.options or []), *(item.premises or []), *(item.choices or [])]:
            hits += second_person_titles(_nfc(opt.vi), opt.en, named)
        if item.explanation is not None:
            hits += second_person_titles(_nfc(item.explanation.vi), item.explanation.en, named)
        if hits:
            out.append(
                _finding(
                    item.id,
                    "gendered-address",
                    "vi: addresses the candidate as " + "; ".join(hits) + "; write 'anh/chị' (or 'đồng chí')",
                )
            )
    return out
