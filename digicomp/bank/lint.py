"""Item-writing checks of a bank's content: per-item findings, and bank-level tests of cues against chance.

The rules are those of the multiple-choice item-writing guidelines reviewed by Haladyna, Downing & Rodriguez (2002,
*Applied Measurement in Education* 15(3), 309–334) and the cues of test-wiseness (Millman, Bishop & Ebel 1965,
*Educational and Psychological Measurement* 25(3), 707–726): options of unequal length, specific determiners
("always", "never"), a reason given only in wrong options, grammatical and formal cues, clang associations with the
stem, "all/none of the above", unemphasised negative stems, unbalanced key positions (Attali & Bar-Hillel 2003,
*Journal of Educational Measurement* 40(2), 109–128). Word lists are given for Vietnamese and English.

A cue matters when it is systematic, so beside the per-item findings each cue is tested across the bank against
random key placement: if keys were placed without regard to a feature, the key of each item would be a uniformly
random one of its options as far as that feature goes. The tests are exact (the permutation distribution of the
number of keys carrying the feature) or chi-square (key length rank, key position), with Holm's (1979) adjustment
over the whole family, so that a bank written without cues passes at the stated alpha.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from os import PathLike
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from scipy import sparse, stats

from digicomp.bank.schema import BankFile, Item
from digicomp.errors import DigicompError

Severity = Literal["error", "warning"]
LANGS = ("vi", "en")


@dataclass(frozen=True)
class Rule:
    """One check: its id, the severity of its findings, what it looks for and where the guideline comes from."""

    id: str
    severity: Severity
    summary: str
    source: str


_HDR = "Haladyna et al. 2002"
_MBE = "Millman et al. 1965"
RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("key-length", "warning", "the key is clearly the longest or the shortest option", f"{_HDR} #24, #28d"),
        Rule("option-homogeneity", "warning", "the longest option is at least twice the shortest", f"{_HDR} #23-24"),
        Rule("absolute-words", "warning", "absolute words mark distractors (or the key alone)", f"{_HDR} #28a; {_MBE}"),
        Rule("hedge-words", "warning", "only the key is qualified ('usually', 'may')", f"{_HDR} #28a; {_MBE}"),
        Rule("justification", "warning", "a reason clause ('vì', 'because') marks distractors", f"{_HDR} #23, #28d"),
        Rule("purpose", "warning", "the key alone differs from every distractor in giving a purpose", f"{_HDR} #23"),
        Rule("list-form", "warning", "the key alone is (or is not) a list of steps", f"{_HDR} #23, #28d"),
        Rule("punctuation", "warning", "the key alone differs in end punctuation, case or brackets", f"{_HDR} #23"),
        Rule("agreement", "warning", "'a'/'an' ending the stem agrees with the key only", f"{_HDR} #28c; {_MBE}"),
        Rule("stem-overlap", "warning", "the key repeats the stem's words more than any distractor", f"{_HDR} #28b"),
        Rule("all-none-of-above", "warning", "an option is 'all/none of the above', 'both A and B'", f"{_HDR} #25-26"),
        Rule("negative-stem", "warning", "a negative question ('NOT', 'KHÔNG') without emphasis", f"{_HDR} #17"),
        Rule("duplicate-stem", "error", "two items have the same stem", f"{_HDR} #4"),
        Rule("near-duplicate-stem", "warning", "two stems share half or more of their word 3-shingles", f"{_HDR} #4"),
        Rule("gendered-address", "warning", "the candidate is addressed as 'anh' or 'chị' alone", "neutral address"),
        Rule("law-review-date", "warning", "a legal document is cited but no review-by date is given", "provenance"),
    )
}  # fmt: skip
"""Every per-item rule, by id."""

# ------------------------------------------------------------------------------------------------ word lists
ABSOLUTE: dict[str, tuple[str, ...]] = {
    "vi": (
        "luôn luôn", "luôn", "chắc chắn", "mọi", "tất cả", "toàn bộ", "hoàn toàn", "tuyệt đối", "ngay lập tức",
        "lập tức", r"ngay(?!\s+cả)", "không bao giờ", "không cần", "chỉ cần", "bất kỳ", "bất kì", "bất cứ",
        "duy nhất", "ai cũng", "vĩnh viễn", "mãi mãi", r"100\s?%", r"càng\b.{1,40}?\bcàng",
    ),
    "en": (
        "always", "never", "all", "every", "everyone", "everybody", "everything", "any", "anyone", "anybody",
        "anything", "none", "nobody", "no one", "no need", "completely", "totally", "entirely", "absolutely",
        "certainly", "definitely", "guaranteed", "at once", "immediately", "right away", "whole", "entire",
        "forever", "permanently", "only need", "just need", r"100\s?%", r"the more\b.{1,40}?\bthe (?:more|better|less)",
    ),
}  # fmt: skip
"""Specific determiners: words that make an option absolute (Millman et al.: such options are usually wrong)."""

HEDGE: dict[str, tuple[str, ...]] = {
    "vi": (
        r"(?<!bình )thường(?!\s+xuyên|\s+trực)", "thông thường", "có thể", "phần lớn", "đa số", "hầu hết", "một số",
        r"tùy(?!\s+chọn|\s+chỉnh)", r"tuỳ(?!\s+chọn|\s+chỉnh)", "nếu cần", "khi cần", "nói chung", "có lẽ",
        "khi có thể", "nếu có thể",
    ),
    "en": (
        "usually", "often", "generally", "typically", "normally", "may", "might", "can be", "some", "most",
        "mostly", "perhaps", "possibly", "probably", "likely", "depending", "depends", "if needed", "when needed",
        "where appropriate", "as a rule",
    ),
}  # fmt: skip
"""Qualifiers: words that make an option cautious (test-wise readers take such options for the key)."""

JUSTIFICATION: dict[str, tuple[str, ...]] = {
    "vi": (r"(?<!thay )vì(?!\s+sao)", "bởi vì", "bởi", "tại vì", "là do", "do đó", "vì vậy", "vì thế"),
    "en": (r"because", r"since(?!\s+\d)", "given that", r"as (?:it|its|they|their|this|these|he|she|we|there)"),
}
"""Reason clauses: a 'because ...' attached to an option (in the bundled banks, almost only to distractors)."""

PURPOSE: dict[str, tuple[str, ...]] = {
    "vi": ("để", "nhằm", "cho tiện", "cho nhanh", "cho dễ", "cho đỡ", "cho chắc", "đỡ tốn", "đỡ mất"),
    "en": ("so that", "so as to", "in order to", "to save", "for convenience", "to make it easier", "just in case"),
}
"""Purpose clauses: 'để ...', 'so that ...' (common in correct options too, so tested as a bank-level cue)."""

ALL_NONE: dict[str, tuple[str, ...]] = {
    "vi": (
        r"tất cả (?:các )?(?:phương án|đáp án|ý|câu)(?: nêu)? trên",
        r"(?:các|cả) (?:phương án|đáp án|ý)(?: nêu)? trên(?: đều)?",
        r"không (?:có )?(?:phương án|đáp án|ý|câu) nào(?: đúng| ở trên| nêu trên| trên)?",
        r"cả (?-i:[A-F]) (?:và|lẫn) (?-i:[A-F])",
        r"(?-i:[A-F]) và (?-i:[A-F]) đều (?:đúng|sai)",
    ),
    "en": (
        r"all (?:of )?the (?:above|options|answers)", r"none of the (?:above|options|answers)",
        r"both (?-i:[A-F]) and (?-i:[A-F])", r"neither (?-i:[A-F]) nor (?-i:[A-F])",
        r"(?-i:[A-F]) and (?-i:[A-F]) are (?:both )?(?:correct|right)",
    ),
}  # fmt: skip
"""'All of the above', 'none of the above', 'both A and B'."""

_NEGATIVE_Q: dict[str, re.Pattern[str]] = {
    "vi": re.compile(
        r"(?<!\w)(?:nào|gì|đâu)(?:\s+sau\s+đây)?(?:\s+là)?\s+(?P<neg>không|chưa)\s+(?:phải|nên|được|đúng|cần|thể|"
        r"phù hợp|hợp lệ|an toàn|thuộc|có|là)(?!\w)|(?<!\w)(?:nào|gì)(?:\s+(?:là|thì))?\s+(?P<neg2>sai)(?!\w)"
        r"|(?<!\w)(?P<neg3>ngoại trừ)(?!\w)",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"(?<!\w)(?:which|what)\b(?:\s+[\w'-]+){0,4}?\s+(?:is|are|was|should|must|can|could|would|does|do|may|will)"
        r"\s+(?P<neg>not|never)(?!\w)|(?<!\w)(?P<neg2>except)(?!\w)"
        r"|(?<!\w)(?:which|what)\b(?:\s+[\w'-]+){0,4}?\s+(?:is|are)\s+(?P<neg3>false|incorrect|untrue)(?!\w)",
        re.IGNORECASE,
    ),
}
"""A question that asks for the option that is *not* so ('Which is NOT ...', 'Việc nào KHÔNG nên làm?')."""

_LAW_TYPE = re.compile(r"(?<!\w)(?:Bộ luật|Luật|Nghị định|Thông tư|Quyết định|Nghị quyết|Chỉ thị|Pháp lệnh)(?!\w)")
_LAW_EN = re.compile(
    r"(?<!\w)(?:Law|Code|Decree|Circular|Decision|Resolution|Directive|Ordinance)(?:\s+No\.?)?\s+\d+/[\w./-]*\w"
    r"|(?<!\w)Law on (?:the )?[A-Z][\w-]*(?: [\w-]+){0,4}|(?<!\w)(?:19|20)\d\d(?: [A-Z][\w-]*)+ Law(?!\w)"
)
_DOC_NUMBER = re.compile(r"^\d+/[\w./-]*\w")
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def _phrases(fragments: Sequence[str]) -> re.Pattern[str]:
    """One case-insensitive regex matching any fragment as whole words."""
    alternatives = "|".join(sorted(fragments, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


_WORDS = {
    name: {lang: _phrases(table[lang]) for lang in LANGS}
    for name, table in (
        ("absolute", ABSOLUTE),
        ("hedge", HEDGE),
        ("justification", JUSTIFICATION),
        ("purpose", PURPOSE),
        ("all-none", ALL_NONE),
    )
}


# ------------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class Finding:
    """One problem of one item: which rule, how serious, and why (in English)."""

    item: str
    rule: str
    severity: Severity
    message: str


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


@dataclass(frozen=True)
class LintReport:
    """Findings per item and cue tests for a whole bank."""

    bank: str
    n_items: int
    n_multiple_choice: int
    alpha: float
    findings: tuple[Finding, ...]
    tests: tuple[CueTest, ...]

    def counts(self) -> dict[str, int]:
        """Number of items with findings, per rule id, in the order of ``RULES``."""
        items = {rule: {f.item for f in self.findings if f.rule == rule} for rule in RULES}
        return {rule: len(found) for rule, found in items.items() if found}

    @property
    def errors(self) -> list[Finding]:
        """Findings of severity ``error``."""
        return [f for f in self.findings if f.severity == "error"]

    @property
    def significant_cues(self) -> list[CueTest]:
        """Bank-level cues distinguishable from chance at ``alpha`` (Holm-adjusted)."""
        return [t for t in self.tests if t.significant]

    @property
    def failed(self) -> bool:
        """True when an error was found or a bank-level cue is significant (what ``--strict`` refuses)."""
        return bool(self.errors or self.significant_cues)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (JSON-ready)."""
        return {
            "bank": self.bank,
            "n_items": self.n_items,
            "n_multiple_choice": self.n_multiple_choice,
            "alpha": self.alpha,
            "failed": self.failed,
            "counts": self.counts(),
            "tests": [asdict(t) for t in self.tests],
            "findings": [asdict(f) for f in self.findings],
            "rules": {rid: asdict(r) for rid, r in RULES.items()},
        }


# ------------------------------------------------------------------------------------------------ entry points
def lint_bank(bank: Any, *, alpha: float = 0.05) -> LintReport:
    """Lint a bank: an ItemBank, a BankFile, or a bundled id / path loaded with ``load_bank``."""
    if isinstance(bank, (str, PathLike)):
        from digicomp.bank.loader import load_bank

        bank = load_bank(bank)
    spec = bank if isinstance(bank, BankFile) else getattr(bank, "spec", None)
    if not isinstance(spec, BankFile):
        raise DigicompError(f"lint_bank: expected an ItemBank, a BankFile, a bank id or a path, got {type(bank)}")
    return lint_items(spec.items, bank=spec.id, alpha=alpha)


def lint_items(items: Sequence[Item], *, bank: str = "", alpha: float = 0.05) -> LintReport:
    """Lint validated items (``digicomp.bank.schema.Item``): per-item findings and the bank-level cue tests."""
    if not 0.0 < alpha < 1.0:
        raise DigicompError(f"lint: alpha must be between 0 and 1 (exclusive), got {alpha}")
    mc = _Options.of(items)
    order = {item.id: j for j, item in enumerate(items)}
    findings = sorted(
        item_findings(items, mc), key=lambda f: (order.get(f.item, len(order)), list(RULES).index(f.rule))
    )
    return LintReport(
        bank=bank,
        n_items=len(items),
        n_multiple_choice=mc.n,
        alpha=alpha,
        findings=tuple(findings),
        tests=tuple(cue_tests(mc, alpha)),
    )


# ------------------------------------------------------------------------------------------------ option arrays
def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class _Options:
    """The multiple-choice items as padded (n, K) option arrays: mask of real options, key position, texts."""

    ids: list[str]
    key: NDArray[np.intp]
    mask: NDArray[np.bool_]
    labels: list[list[str]]
    text: dict[str, list[list[str]]]
    stem: dict[str, list[str]]

    @classmethod
    def of(cls, items: Sequence[Item]) -> _Options:
        mc = [it for it in items if it.kind == "multiple_choice" and it.options and it.stem is not None]
        width = max((len(it.options or []) for it in mc), default=0)
        mask = np.zeros((len(mc), width), dtype=bool)
        for i, it in enumerate(mc):
            mask[i, : len(it.options or [])] = True
        return cls(
            ids=[it.id for it in mc],
            key=np.array([[o.id for o in it.options or []].index(it.key) for it in mc], dtype=np.intp),
            mask=mask,
            labels=[[o.id for o in it.options or []] for it in mc],
            text={lang: [[_nfc(getattr(o, lang)) for o in it.options or []] for it in mc] for lang in LANGS},
            stem={lang: [_nfc(getattr(it.stem, lang)) for it in mc] for lang in LANGS},
        )

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def k(self) -> NDArray[np.intp]:
        """Number of options per item."""
        return self.mask.sum(axis=1)

    def matrix(self, lang: str, feature: Callable[[str], float], dtype: Any = float) -> NDArray[Any]:
        """(n, K) array of ``feature(option text)``; padding cells are 0."""
        out = np.zeros(self.mask.shape, dtype=dtype)
        for i, row in enumerate(self.text[lang]):
            out[i, : len(row)] = [feature(t) for t in row]
        return out

    def at_key(self, values: NDArray[Any]) -> NDArray[Any]:
        """Each item's value at its key."""
        return values[np.arange(self.n), self.key]


def _key_alone(cue: NDArray[np.bool_], mc: _Options) -> NDArray[np.bool_]:
    """Items where the key differs from every one of (at least two) distractors on a yes/no feature."""
    key = mc.at_key(cue)
    n_with = (cue & mc.mask).sum(axis=1)
    distractors_with = n_with - key
    n_distractors = mc.k - 1
    return (n_distractors >= 2) & ((key & (distractors_with == 0)) | (~key & (distractors_with == n_distractors)))


def _marks_distractors(cue: NDArray[np.bool_], mc: _Options) -> NDArray[np.bool_]:
    """Items where a wrong-sounding feature sits on some distractor and not on the key, or on the key alone."""
    key = mc.at_key(cue)
    distractors_with = (cue & mc.mask).sum(axis=1) - key
    return (~key & (distractors_with > 0)) | (key & (distractors_with == 0))


# ------------------------------------------------------------------------------------------------ text features
def _found(pattern: re.Pattern[str], text: str) -> list[str]:
    """Distinct matches of ``pattern`` in ``text`` (lower case; a long match shown as 'first … last')."""
    out: list[str] = []
    for m in pattern.finditer(text):
        words = m.group(0).lower().split()
        shown = " ".join(words) if len(words) <= 4 else f"{words[0]} … {words[-1]}"
        if shown not in out:
            out.append(shown)
    return out


_LIST_MARK = re.compile(r"[;→•]|\s[–-]>\s|(?:^|\s)\d\)\s")


def _is_list(text: str) -> bool:
    """A list of steps or elements: semicolons, arrows, bullets or numbered parts."""
    return bool(_LIST_MARK.search(text))


def _ends_with_mark(text: str) -> bool:
    return text.rstrip()[-1:] in ".!?;:…"


def _starts_lower(text: str) -> bool:
    first = next((c for c in text if c.isalpha()), "")
    return first.islower()


def _has_brackets(text: str) -> bool:
    return "(" in text


_TOKEN = re.compile(r"\w+", re.UNICODE)
_EN_STOP = frozenset(
    "a an the and or of to in on at for by with from as is are be was were it its this that these those he she they "
    "his her their him them you your we our i not no do does should can could would will may must which what who how "
    "when where why if then so than into about after before only also".split()
)


def _units(text: str, lang: str) -> set[str]:
    """Units of overlap: Vietnamese syllable pairs (most words have two syllables), English content words."""
    toks = [t.lower() for t in _TOKEN.findall(text)]
    if lang == "vi":
        return {f"{a} {b}" for a, b in zip(toks, toks[1:])}
    return {t for t in toks if t not in _EN_STOP and not t.isdigit()}


# ------------------------------------------------------------------------------------------------ per-item checks
def item_findings(items: Sequence[Item], mc: _Options | None = None) -> list[Finding]:
    """Every per-item finding of ``items`` (multiple-choice rules on the multiple-choice items only)."""
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
    found += _law_findings(items)
    return found


def _finding(item: str, rule: str, message: str) -> Finding:
    return Finding(item=item, rule=rule, severity=RULES[rule].severity, message=message)


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
        key_len = mc.at_key(length)
        others = np.where(mc.mask, length, np.nan)
        others[np.arange(mc.n), mc.key] = np.nan
        longest_other = np.nanmax(others, axis=1)
        shortest_other = np.nanmin(others, axis=1)
        long_key = key_len >= KEY_LENGTH_RATIO * longest_other
        short_key = key_len * KEY_LENGTH_RATIO <= shortest_other
        for i in np.flatnonzero(long_key | short_key):
            which = "longest" if long_key[i] else "shortest"
            other = longest_other[i] if long_key[i] else shortest_other[i]
            key_notes.setdefault(i, []).append(
                f"{lang}: the key is the {which} option ({int(key_len[i])} characters, next {int(other)})"
            )
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
                key = int(mc.key[i])
                carriers = [j for j, h in enumerate(hits[i]) if h]
                where = ", ".join(f"{mc.labels[i][j]} ({', '.join(repr(h) for h in hits[i][j])})" for j in carriers)
                if key in carriers:
                    text = f"only the key, {where}, carries {what}"
                elif len(carriers) == len(hits[i]) - 1:
                    text = f"every distractor carries {what} ({where}); the key does not"
                else:
                    who, verb = ("distractors", "carry") if len(carriers) > 1 else ("distractor", "carries")
                    text = f"{who} {where} {verb} {what}; the key does not"
                notes.setdefault(i, []).append(f"{lang}: {text}")
        out += [_finding(mc.ids[i], rule, "; ".join(n)) for i, n in sorted(notes.items())]
    return out


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
            key = mc.at_key(cue)
            for i in np.flatnonzero(_key_alone(cue, mc)):
                text = f"only the key {alone}" if key[i] else f"the key {lacking}"
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
        key = int(mc.key[i])
        if agrees[key] and not all(agrees):
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
        key = mc.at_key(overlap)
        others = np.where(mc.mask, overlap, -1)
        others[np.arange(mc.n), mc.key] = -1
        best_other = others.max(axis=1)
        unit = "syllable pairs" if lang == "vi" else "words"
        for i in np.flatnonzero(key >= best_other + STEM_OVERLAP_MARGIN):
            notes.setdefault(i, []).append(
                f"{lang}: the key repeats {key[i]} of the stem's {unit}, no distractor more than {best_other[i]}"
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
        if item.kind != "multiple_choice" or item.stem is None:
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
        for opt in item.options or []:
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


def law_references(text: str, lang: str) -> list[str]:
    """Legal documents cited in ``text``: a document type with its number, or a law by its name (and year)."""
    text = _nfc(text)
    if lang != "vi":
        return _distinct(" ".join(m.group(0).split()) for m in _LAW_EN.finditer(text))
    refs = []
    for m in _LAW_TYPE.finditer(text):
        words = text[m.end() :].split()[:12]
        if words and words[0] == "số":
            words = words[1:]
        if words and _DOC_NUMBER.match(words[0]):
            refs.append(f"{m.group(0)} {_DOC_NUMBER.match(words[0]).group(0)}")
        elif words and words[0][:1].isupper() and m.group(0) in ("Luật", "Bộ luật"):
            refs.append(f"{m.group(0)} {_law_name(words)}")
    return _distinct(refs)


_NAME_ENDS = frozenset(
    "và có cho theo cấm yêu quy đã được là thì mới hiệu của về với khi nêu đang vẫn sẽ không chưa bổ sửa thay tại từ "
    "trong giao đều nhưng nên do bởi vì này đó".split()
)


def _law_name(words: list[str]) -> str:
    """A law's name from the words after 'Luật': up to a year or number, a clause word or punctuation."""
    name = [words[0].strip(',.;:!?()“”"')]
    for w in words[1:12]:
        bare = w.strip(',.;:!?()“”"')
        if _YEAR.match(bare) or _DOC_NUMBER.match(bare):
            name.append(bare)
            break
        if bare in ("năm", "số"):
            continue
        if not bare[:1].islower() or bare in _NAME_ENDS:
            break
        name.append(bare)
        if bare != w:
            break
    return " ".join(name)


def _distinct(values: Any) -> list[str]:
    out: list[str] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def review_by(item: Item) -> str | None:
    """The item's review-by date if it carries one (``review_by`` on the item or on one of its ``sources``)."""
    data = item.model_dump(mode="json", exclude_none=True)
    if data.get("review_by"):
        return str(data["review_by"])
    for source in data.get("sources") or []:
        if isinstance(source, dict) and source.get("review_by"):
            return str(source["review_by"])
    return None


def _law_findings(items: Sequence[Item]) -> list[Finding]:
    out: list[Finding] = []
    for item in items:
        if item.stem is None or review_by(item) is not None:
            continue
        texts = [item.stem] + list(item.options or []) + ([item.explanation] if item.explanation else [])
        refs: list[str] = []
        for lang in LANGS:
            for t in texts:
                refs += [r for r in law_references(getattr(t, lang), lang) if r not in refs]
            if refs:
                break
        if refs:
            cited = "; ".join(refs[:4]) + ("; …" if len(refs) > 4 else "")
            out.append(_finding(item.id, "law-review-date", f"cites {cited} but carries no review-by date"))
    return out


# ------------------------------------------------------------------------------------------------ bank-level tests
def placement_null(scores: NDArray[np.integer], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Distribution of the sum over items of the key's score when each key is a uniformly random option.

    ``scores`` (n, K) non-negative integers, ``mask`` (n, K) the real options. Exact: the convolution of the items'
    uniform distributions over their options' scores (items with the same distribution are convolved by squaring).
    Entry s of the result is P(sum = s).
    """
    n = scores.shape[0]
    if n == 0:
        return np.ones(1)
    top = int(scores[mask].max()) if mask.any() else 0
    per_item = np.zeros((n, top + 1))
    rows = np.nonzero(mask)[0]
    np.add.at(per_item, (rows, scores[mask].astype(np.intp)), 1.0)
    per_item /= mask.sum(axis=1, keepdims=True)
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


def exact_placement_test(scores: NDArray[np.integer], mask: NDArray[np.bool_], key: NDArray[np.intp]) -> float:
    """Two-sided exact p-value of the keys' total score against random key placement (twice the smaller tail)."""
    pmf = placement_null(scores, mask)
    observed = int(scores[np.arange(len(key)), key].sum())
    lower = float(pmf[: observed + 1].sum())
    upper = float(pmf[observed:].sum())
    return min(1.0, 2.0 * min(lower, upper))


def _binary_test(rule: str, lang: str, cue: NDArray[np.bool_], mc: _Options, what: str) -> dict[str, Any]:
    cue = cue & mc.mask
    with_cue = cue.sum(axis=1)
    informative = (with_cue > 0) & (with_cue < mc.k)
    key_has = mc.at_key(cue)
    observed = float(key_has.mean())
    expected = float((with_cue / mc.k).mean())
    distractors = float((with_cue - key_has).sum() / (mc.k - 1).sum())
    p = exact_placement_test(cue.astype(np.int64), mc.mask, mc.key)
    return dict(
        rule=rule,
        lang=lang,
        method="exact permutation",
        n_items=int(informative.sum()),
        statistic=float(key_has.sum()),
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
    """Bank-level tests of every cue against random key placement, Holm-adjusted at ``alpha``."""
    if not isinstance(mc, _Options):
        mc = _Options.of(mc)
    if mc.n == 0:
        return []
    raw: list[dict[str, Any]] = []
    for lang in LANGS:
        raw.append(_rank_test(lang, mc))
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
    raw.append(_position_test(mc))
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
)
"""The bank-level tests, each run per language except ``key-position``."""
