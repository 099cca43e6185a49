"""Item-writing checks of a bank's content: per-item findings, and bank-level tests of cues against chance.

The rules are those of the multiple-choice item-writing guidelines reviewed by Haladyna, Downing & Rodriguez (2002,
*Applied Measurement in Education* 15(3), 309–334) and the cues of test-wiseness (Millman, Bishop & Ebel 1965,
*Educational and Psychological Measurement* 25(3), 707–726): options of unequal length, specific determiners
("always", "never"), a reason given only in wrong options, grammatical and formal cues, clang associations with the
stem, "all/none of the above", unemphasised negative stems, unbalanced key positions (Attali & Bar-Hillel 2003,
*Journal of Educational Measurement* 40(2), 109–128); and the provenance of items that depend on legal documents.
Word lists are given for Vietnamese and English.

Modules: :mod:`~digicomp.bank.lint.words` (word lists, text features), :mod:`~digicomp.bank.lint.options` (option
arrays), :mod:`~digicomp.bank.lint.rules` (per-item rules), :mod:`~digicomp.bank.lint.provenance` (citations and
review-by dates), :mod:`~digicomp.bank.lint.answers` (numeric short answers), :mod:`~digicomp.bank.lint.cues`
(bank-level tests), :mod:`~digicomp.bank.lint.report` (the report).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from os import PathLike
from typing import Any

from digicomp.bank.lint.answers import GUESS_SHARE, MIN_NUMERIC
from digicomp.bank.lint.catalog import RULES, Finding, Rule, Severity
from digicomp.bank.lint.cues import (
    BANK_TESTS,
    LANGUAGE_FREE,
    MIN_EXPECTED,
    CueTest,
    cue_tests,
    exact_placement_test,
    holm,
    placement_null,
)
from digicomp.bank.lint.options import OPTION_KINDS, _Options
from digicomp.bank.lint.provenance import law_references, review_by, review_dates
from digicomp.bank.lint.report import LintReport
from digicomp.bank.lint.rules import (
    HOMOGENEITY_MIN_GAP,
    HOMOGENEITY_RATIO,
    KEY_LENGTH_RATIO,
    NEAR_DUPLICATE_JACCARD,
    STEM_OVERLAP_MARGIN,
    item_findings,
    second_person_titles,
    shingle_jaccard,
)
from digicomp.bank.lint.words import ABSOLUTE, ALL_NONE, HEDGE, JUSTIFICATION, LANGS, PURPOSE
from digicomp.bank.schema import BankFile, Item
from digicomp.errors import DigicompError

__all__ = [
    "ABSOLUTE",
    "ALL_NONE",
    "BANK_TESTS",
    "GUESS_SHARE",
    "HEDGE",
    "HOMOGENEITY_MIN_GAP",
    "HOMOGENEITY_RATIO",
    "JUSTIFICATION",
    "KEY_LENGTH_RATIO",
    "LANGS",
    "LANGUAGE_FREE",
    "MIN_NUMERIC",
    "MIN_EXPECTED",
    "NEAR_DUPLICATE_JACCARD",
    "OPTION_KINDS",
    "PURPOSE",
    "RULES",
    "STEM_OVERLAP_MARGIN",
    "CueTest",
    "Finding",
    "LintReport",
    "Rule",
    "Severity",
    "cue_tests",
    "exact_placement_test",
    "holm",
    "item_findings",
    "law_references",
    "lint_bank",
    "lint_items",
    "placement_null",
    "review_by",
    "review_dates",
    "second_person_titles",
    "shingle_jaccard",
]


def lint_bank(bank: Any, *, alpha: float = 0.05, today: datetime.date | None = None) -> LintReport:
    """Lint a bank: an ItemBank, a BankFile, or a bundled id / path loaded with ``load_bank``.

    ``today`` (default: today's UTC date) is the date review-by dates are compared with.
    """
    if isinstance(bank, (str, PathLike)):
        from digicomp.bank.loader import load_bank

        bank = load_bank(bank)
    spec = bank if isinstance(bank, BankFile) else getattr(bank, "spec", None)
    if not isinstance(spec, BankFile):
        raise DigicompError(f"lint_bank: expected an ItemBank, a BankFile, a bank id or a path, got {type(bank)}")
    return lint_items(spec.items, bank=spec.id, alpha=alpha, today=today)


def lint_items(
    items: Sequence[Item], *, bank: str = "", alpha: float = 0.05, today: datetime.date | None = None
) -> LintReport:
    """Lint validated items (``digicomp.bank.schema.Item``): per-item findings and the bank-level cue tests."""
    if not 0.0 < alpha < 1.0:
        raise DigicompError(f"lint: alpha must be between 0 and 1 (exclusive), got {alpha}")
    mc = _Options.of(items)
    return LintReport(
        bank=bank,
        n_items=len(items),
        n_multiple_choice=sum(k == "multiple_choice" for k in mc.kinds),
        alpha=alpha,
        findings=tuple(item_findings(items, mc, today)),
        tests=tuple(cue_tests(mc, alpha)),
        n_multiple_response=sum(k == "multiple_response" for k in mc.kinds),
    )
