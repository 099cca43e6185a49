"""How many items a bank holds per competence and intended level: the table item writers work to."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from digicomp.bank.itembank import ItemBank
from digicomp.bank.provisional import N_LEVELS


def coverage(bank: ItemBank, kind: str = "multiple_choice", n_levels: int = N_LEVELS) -> NDArray[np.int64]:
    """Counts of ``kind`` items, shape (competences, levels + 1): column 0 counts items without a level."""
    mask = (bank.kind == kind) & (bank.competence_index >= 0)
    n_comp = len(bank.competences)
    flat = bank.competence_index[mask] * (n_levels + 1) + np.clip(bank.level[mask], 0, n_levels)
    return np.bincount(flat, minlength=n_comp * (n_levels + 1)).reshape(n_comp, n_levels + 1)


def format_coverage(bank: ItemBank, n_levels: int = N_LEVELS) -> str:
    """The competence × level table of multiple-choice items, with totals and self-assessment counts."""
    mc = coverage(bank, "multiple_choice", n_levels)[:, 1:]
    sa = coverage(bank, "self_assessment", n_levels).sum(axis=1)
    width = max([len("competence"), *map(len, bank.competences)])
    head = f"{'competence':<{width}}" + "".join(f"{f'L{lv}':>4}" for lv in range(1, n_levels + 1))
    head += f"{'MC':>5}{'SA':>4}"
    lines = [head, "-" * len(head)]
    for code, row, n_sa in zip(bank.competences, mc, sa):
        lines.append(f"{code:<{width}}" + "".join(f"{n:>4}" for n in row) + f"{row.sum():>5}{n_sa:>4}")
    lines.append("-" * len(head))
    total = mc.sum(axis=0)
    lines.append(f"{'total':<{width}}" + "".join(f"{n:>4}" for n in total) + f"{total.sum():>5}{sa.sum():>4}")
    return "\n".join(lines)
