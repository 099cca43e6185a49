"""The linter's rules (id, severity, what each looks for, where the guideline comes from) and its findings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


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
        Rule("common-number", "warning", "one number answers over a quarter of the numeric short answers", "no c"),
        Rule("law-review-date", "warning", "a legal document is cited but no review-by date is given", "provenance"),
        Rule("law-source", "warning", "a legal document cited in the text is not in 'sources'", "provenance"),
        Rule("review-overdue", "error", "a review-by date has passed: re-check the item", "provenance"),
    )
}  # fmt: skip
"""Every per-item rule, by id. On multiple-response items the option rules read 'the key' as 'the keys'."""


@dataclass(frozen=True)
class Finding:
    """One problem of one item: which rule, how serious, and why (in English)."""

    item: str
    rule: str
    severity: Severity
    message: str


def finding(item: str, rule: str, message: str) -> Finding:
    """A finding of ``rule`` on ``item`` with the rule's severity."""
    return Finding(item=item, rule=rule, severity=RULES[rule].severity, message=message)
