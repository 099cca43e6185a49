"""What every part of the engine sees at one selection step: the active rows of a batch and shared tables."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.state import BatchState
from digicomp.cat.tables import Tables


@dataclass
class StepContext:
    """The active ``rows`` of ``state`` at one step; derived arrays are computed once, on first use.

    ``eligible`` (n, J) is True for items a person may still be given (set by the core before selection).
    """

    tables: Tables
    state: BatchState
    rows: NDArray[np.intp]
    max_length: int
    eligible: NDArray[np.bool_] | None = None

    @property
    def n(self) -> int:
        """Number of active persons in this step."""
        return self.rows.size

    @cached_property
    def theta(self) -> NDArray[np.float64]:
        """θ̂ of the active persons (n,)."""
        return self.state.theta[self.rows]

    @cached_property
    def se(self) -> NDArray[np.float64]:
        """SE of θ̂ of the active persons (n,)."""
        return self.state.se[self.rows]

    @cached_property
    def n_given(self) -> NDArray[np.intp]:
        """Items answered so far (n,); also the step number of the draw about to be made."""
        return self.state.n_given[self.rows]

    @cached_property
    def keys(self) -> NDArray[np.uint64]:
        """Random keys of the active persons (n,)."""
        return self.state.keys[self.rows]

    @cached_property
    def weights(self) -> NDArray[np.float64]:
        """Posterior weights on the grid (n, Q)."""
        return self.state.weights(self.rows)

    @cached_property
    def likelihood_weights(self) -> NDArray[np.float64]:
        """Normalised likelihood on the grid (n, Q): the posterior with the prior divided out."""
        lp = self.state.log_post[self.rows] - self.tables.log_prior
        w = np.exp(lp - lp.max(axis=1, keepdims=True))
        return w / w.sum(axis=1, keepdims=True)

    @cached_property
    def information(self) -> NDArray[np.float64]:
        """Fisher information of every item at each person's θ̂ (n, J), from the fine table."""
        return self.tables.information_at(self.theta)
