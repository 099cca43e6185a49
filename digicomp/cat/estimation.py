"""θ̂ and its SE after each answer: EAP from the grid posterior, or ML/MAP/WLE via digicomp.scoring.point."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.state import BatchState
from digicomp.cat.tables import Tables
from digicomp.responses import Responses
from digicomp.scoring import point
from digicomp.scoring.quadrature import NormalPrior


def eap(state: BatchState, rows: NDArray[np.intp], tables: Tables) -> tuple[NDArray, NDArray]:
    """Posterior mean and SD on the grid (Bock & Mislevy 1982); row-wise sums keep rows batch-independent."""
    w = state.weights(rows)
    mean = (w * tables.points).sum(axis=1)
    w *= tables.points_squared  # w is not needed after this
    var = w.sum(axis=1)
    var -= mean**2
    np.maximum(var, 0.0, out=var)
    return mean, np.sqrt(var, out=var)


def answered(state: BatchState, rows: NDArray[np.intp], n_items: int) -> Responses:
    """The answers of ``rows`` as sparse Responses (person = position in ``rows``)."""
    seq = state.sequence[rows]
    person, pos = np.nonzero(seq >= 0)
    return Responses(person, seq[person, pos], state.responses[rows][person, pos], rows.size, n_items)


def answered_test_information(state: BatchState, rows: NDArray[np.intp], tables: Tables) -> NDArray[np.float64]:
    """Σ_j I_j(θ_q) over each row's answered items (n, Q), added in test order.

    A gather and a sum over test positions: each row gets the same additions in a batch of any size (a matrix
    product's rounding would depend on the batch). Unused positions (-1) read the zero row of the table.
    """
    return tables.item_information[state.sequence[rows]].sum(axis=1)


@dataclass(frozen=True)
class EAPEstimator:
    """Expected a posteriori θ̂ with the posterior SD as SE."""

    name = "EAP"

    def update(self, state: BatchState, rows: NDArray[np.intp], tables: Tables) -> None:
        """Set θ̂ and SE of ``rows`` from their posteriors."""
        state.theta[rows], state.se[rows] = eap(state, rows, tables)


@dataclass(frozen=True)
class PointEstimator:
    """ML, MAP or WLE θ̂ (Newton on the bracket the grid gives), SE = 1/√(test information [+ 1/σ² for MAP]).

    While a person's estimate does not exist (e.g. ML after all-correct answers) the EAP is used and the
    person is flagged ``extreme`` — the documented rule, as catR and mirtCAT do for early items.
    """

    name: str
    prior: NormalPrior | None = None

    def update(self, state: BatchState, rows: NDArray[np.intp], tables: Tables) -> None:
        """Set θ̂ and SE of ``rows`` from their answers."""
        theta_eap, se_eap = eap(state, rows, tables)
        resp = answered(state, rows, tables.n_items)
        objective = state.log_post[rows]
        if self.name != "MAP":
            objective = objective - tables.log_prior
        if self.name == "WLE":
            test_info = answered_test_information(state, rows, tables)
            objective = objective + 0.5 * np.log(np.maximum(test_info, 1e-300))
        theta, at_edge = point.solve(self.name, tables.params, resp, objective, tables.points, self.prior)
        info = point.answered_information(tables.params, resp, theta)
        if self.name == "MAP":
            info = info + 1.0 / self.prior.sd**2
        with np.errstate(divide="ignore"):
            se = np.where(info > 0, 1.0 / np.sqrt(info), np.inf)
        state.theta[rows] = np.where(at_edge, theta_eap, theta)
        state.se[rows] = np.where(at_edge, se_eap, se)
        state.extreme[rows] = at_edge


def build_estimator(method: str, prior: NormalPrior | None) -> EAPEstimator | PointEstimator:
    """The estimator for ``method`` (EAP, MAP, ML, WLE)."""
    if method == "EAP":
        return EAPEstimator()
    return PointEstimator(method, prior or NormalPrior() if method == "MAP" else None)
