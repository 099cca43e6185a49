"""Print the competence × level coverage table of an item bank (bundled id or YAML path).

Usage: python examples/bank_coverage.py [civil-service | public-security | path/to/bank.yaml]
"""

from __future__ import annotations

import sys

from digicomp.bank import load_bank
from digicomp.bank.coverage import format_coverage


def main(argv: list[str]) -> int:
    bank = load_bank(argv[0] if argv else "civil-service")
    print(f"{bank.id} {bank.version} ({bank.n_items} items, {bank.fingerprint[:19]}...)")
    print("multiple-choice items per competence and intended level; SA = self-assessment items")
    print(format_coverage(bank))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
