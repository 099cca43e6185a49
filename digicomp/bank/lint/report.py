"""The lint report: findings per item, bank-level cue tests, counts, plain data and terminal text."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from digicomp.bank.lint.catalog import RULES, Finding
from digicomp.bank.lint.cues import CueTest


@dataclass(frozen=True)
class LintReport:
    """Findings per item and cue tests for a whole bank."""

    bank: str
    n_items: int
    n_multiple_choice: int
    alpha: float
    findings: tuple[Finding, ...]
    tests: tuple[CueTest, ...]
    n_multiple_response: int = 0

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
            "n_multiple_response": self.n_multiple_response,
            "alpha": self.alpha,
            "failed": self.failed,
            "counts": self.counts(),
            "tests": [asdict(t) for t in self.tests],
            "findings": [asdict(f) for f in self.findings],
            "rules": {rid: asdict(r) for rid, r in RULES.items()},
        }

    def text(self, rules: list[str] | None = None, findings: bool = True) -> str:
        """The report as terminal text: the findings (of ``rules`` only, if given), counts per rule, cue tests."""
        lines: list[str] = []
        shown = [f for f in self.findings if not rules or f.rule in rules]
        if findings and shown:
            width = max(len(f.item) for f in shown)
            lines.append("Findings")
            lines += [f"  {f.item:<{width}}  {f.severity:<7}  {f.rule:<19}  {f.message}" for f in shown]
            lines.append("")
        lines.append(
            f"Bank {self.bank}: {self.n_items} items, {self.n_multiple_choice} multiple-choice, "
            f"{self.n_multiple_response} multiple-response; {len({f.item for f in self.findings})} items with findings"
        )
        lines.append(f"  {'rule':<20} {'severity':<8} {'items':>5}  what")
        for rule, count in self.counts().items():
            lines.append(f"  {rule:<20} {RULES[rule].severity:<8} {count:>5}  {RULES[rule].summary}")
        if self.tests:
            lines.append("")
            lines.append(
                f"Bank-level cues: keys against random key placement, Holm-adjusted over {len(self.tests)} tests, "
                f"α = {self.alpha:g}"
            )
            lines.append(
                f"  {'test':<18} {'lang':<4} {'items':>5}  {'statistic':<14} {'p':>8} {'p(Holm)':>8}  cue  effect"
            )
            for t in self.tests:
                if t.df is not None:
                    stat = f"χ²({t.df})={t.statistic:.1f}"
                elif t.rule == "multi-key-position":
                    stat = f"places {t.statistic:.0f}"
                else:
                    stat = f"{t.statistic:.0f} keys"
                lines.append(
                    f"  {t.rule:<18} {t.lang or '-':<4} {t.n_items:>5}  {stat:<14} {t.p_value:>8.2g} "
                    f"{t.p_holm:>8.2g}  {'YES' if t.significant else 'no ':<3}  {t.detail}"
                )
        return "\n".join(lines)
