"""Item banks: the YAML format, loading, validation against a framework, parameter tables, provisional rules.

``load_bank(id_or_path)`` gives an :class:`ItemBank` whose parameters sit in contiguous arrays
(``bank.params``) next to the engine's index arrays and the items' bilingual content.
"""

from digicomp.bank.itembank import ItemBank
from digicomp.bank.loader import load_bank
from digicomp.bank.validate import validate_bank, validate_file

__all__ = ["ItemBank", "LintReport", "lint_bank", "load_bank", "validate_bank", "validate_file"]


def __getattr__(name: str):
    """The linter (scipy.stats) loads on first use, so loading a bank stays fast."""
    if name in ("LintReport", "lint_bank"):
        from digicomp.bank import lint

        return getattr(lint, name)
    raise AttributeError(f"module 'digicomp.bank' has no attribute {name!r}")
