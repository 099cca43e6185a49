"""Starting values and parameter blocks: which internal parameters each model frees, and where EM begins.

Starts come from the observed category proportions (logits of cumulative or adjacent-category proportions, as
mirt does), slopes at D (i.e. a = 1), lower asymptotes at 0.2 and upper ones at 0.95; fixed items are not in a block.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.families import FAMILY_OF, logit
from digicomp.calibration.mstep import Block

FREE_COLUMNS = {
    "Rasch": [False, True, False, False],
    "1PL": [False, True, False, False],
    "2PL": [True, True, False, False],
    "3PL": [True, True, True, False],
    "4PL": [True, True, True, True],
}
START_LOWER, START_UPPER = 0.2, 0.95


def build_blocks(
    models: list[str],
    free_rows: NDArray[np.intp],
    n_categories: NDArray[np.intp],
    counts: NDArray[np.float64],
    D: float,
) -> list[Block]:
    """One block per family among ``free_rows``; ``counts`` (J, K) are observed category counts."""
    blocks = []
    for family in ("dichotomous", "graded", "gpcm"):
        rows = np.array([j for j in free_rows if FAMILY_OF[models[j]] == family], dtype=np.intp)
        if rows.size == 0:
            continue
        ms = [models[j] for j in rows]
        if family == "dichotomous":
            blocks.append(_dichotomous(rows, ms, counts[rows, :2], D))
        else:
            blocks.append(_polytomous(family, rows, ms, n_categories[rows], counts[rows], D))
    return blocks


def _dichotomous(rows: NDArray[np.intp], models: list[str], counts: NDArray[np.float64], D: float) -> Block:
    free = np.array([FREE_COLUMNS[m] for m in models], dtype=bool)
    p = (counts[:, 1] + 0.5) / (counts.sum(axis=1) + 1.0)
    g = np.where(free[:, 2], START_LOWER, 0.0)
    u = np.where(free[:, 3], START_UPPER, 1.0)
    core = np.clip((p - g) / (u - g), 0.02, 0.98)
    eta = np.column_stack([np.full(rows.size, D), logit(core), logit(g), logit(u)])
    shared = np.array([m == "1PL" for m in models], dtype=bool)
    return Block("dichotomous", rows, eta, free, shared)


def _polytomous(
    family: str, rows: NDArray[np.intp], models: list[str], K: NDArray[np.intp], counts: NDArray[np.float64], D: float
) -> Block:
    Kmax = int(K.max())
    c = counts[:, :Kmax] + 0.5
    valid = np.arange(Kmax)[None, :] < K[:, None]
    c = np.where(valid, c, 0.0)
    if family == "graded":
        tail = np.cumsum(c[:, ::-1], axis=1)[:, ::-1]  # N(x >= k)
        d = logit(tail[:, 1:] / tail[:, :1])
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.cumsum(np.log(c[:, 1:]) - np.log(c[:, :-1]), axis=1)
    steps_valid = valid[:, 1:]
    d = np.where(steps_valid, d, -np.inf)
    eta = np.column_stack([np.full(rows.size, D), d])
    free = np.column_stack([np.array([m not in ("PCM",) for m in models]), steps_valid])
    return Block(family, rows, eta, free, np.zeros(rows.size, dtype=bool))
