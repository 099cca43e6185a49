"""Word lists and text features of the linter: specific determiners, qualifiers, reason and purpose clauses,
'all/none of the above', negative questions and legal-document citations, in Vietnamese and English.

Sources of the lists: Haladyna, Downing & Rodriguez (2002, *Applied Measurement in Education* 15(3), 309–334) and
Millman, Bishop & Ebel (1965, *Educational and Psychological Measurement* 25(3), 707–726), adapted to Vietnamese.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

LANGS = ("vi", "en")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


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


_PART_LABEL = re.compile(r"\((?:\d{1,2}|[a-h])\)")
_NUMBER_UNIT = re.compile(
    r"^\s*(?P<sign>[-−])?[$€£]?(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?P<dec>\.\d+)?\s*(?P<unit>[^\d]{0,30})$"
)


def option_magnitudes(options: Sequence[str]) -> list[float] | None:
    """The options' places on one scale, when they have one: the number of numbered parts each names ("Parts (1)
    and (3)"), or the number each is ("16.3 MB", "25%", "3 days", one unit for all); else None. English text."""
    parts = [len(_PART_LABEL.findall(t)) for t in options]
    if all(parts):
        return [float(n) for n in parts]
    values, units = [], set()
    for text in options:
        m = _NUMBER_UNIT.match(text)
        if m is None:
            return None
        number = float(m["num"].replace(",", "") + (m["dec"] or ""))
        values.append(-number if m["sign"] else number)
        units.add(m["unit"].strip().lower().removesuffix("s"))
    return values if len(units) == 1 else None
