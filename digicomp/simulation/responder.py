"""Simulated answers: person i answers item j from the true model with its own counter-based uniform.

The draw for a person's s-th answer is ``uniforms(key, s, STREAM_RESPONSE)`` (:mod:`digicomp.cat.draws`), so
the answers do not depend on the batch, the chunk or the process a person is simulated in, and a live session
fed the same rule reproduces the simulated test exactly. The category is x = #{k ≥ 1 : u < P(X ≥ k)}; for a
0/1 item that is "correct iff u < P(correct)".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.draws import STREAM_RESPONSE, uniforms
from digicomp.cat.state import BatchState
from digicomp.errors import BankError
from digicomp.models import ItemParameters


def category_from_uniform(u: NDArray[np.float64], prob: NDArray[np.float64]) -> NDArray[np.int64]:
    """x = #{k ≥ 1 : u < P(X ≥ k)} for category probabilities ``prob`` (n, K) and uniforms ``u`` (n,)."""
    survival = np.cumsum(prob[:, ::-1], axis=1)[:, ::-1]  # P(X >= k)
    return (u[:, None] < survival[:, 1:]).sum(axis=1).astype(np.int64)


def item_map(design_ids: list[str], true_params: ItemParameters) -> NDArray[np.intp]:
    """Position in the true bank of each design-bank item; BankError naming the items the true bank lacks."""
    where = {item_id: j for j, item_id in enumerate(true_params.ids)}
    missing = [i for i in design_ids if i not in where]
    if missing:
        raise BankError(
            f"true_bank: has no items {missing[:5]}{' …' if len(missing) > 5 else ''} "
            f"({len(missing)} of the design bank's {len(design_ids)}); it must hold every item id"
        )
    return np.array([where[i] for i in design_ids], dtype=np.intp)


@dataclass(frozen=True)
class Responder:
    """The answers of a batch whose row r is a person with true ability ``theta[r]``, from ``params``.

    ``items_to_true`` maps the design bank's positions to ``params`` positions (identity when None).
    """

    params: ItemParameters
    theta: NDArray[np.float64]
    items_to_true: NDArray[np.intp] | None = None

    def __call__(self, state: BatchState, rows: NDArray[np.intp], items: NDArray[np.intp]) -> NDArray[np.int64]:
        """Scored categories of ``rows``' answers to ``items`` (the engine's Responder protocol)."""
        true_items = items if self.items_to_true is None else self.items_to_true[items]
        prob = self.params.prob_at(self.theta[rows], true_items)
        u = uniforms(state.keys[rows], state.n_given[rows], STREAM_RESPONSE)
        return category_from_uniform(u, prob)
