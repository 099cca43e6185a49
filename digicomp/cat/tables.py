"""Everything an engine computes once from the bank: the θ grid, its prior, and the item tables on it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from digicomp.models import ItemParameters
from digicomp.scoring.estimators import Grid
from digicomp.scoring.quadrature import Prior

FINE_STEP = 0.01
"""Spacing of the information table that maximum-information selection interpolates (relative error ~1e-4)."""


@dataclass(frozen=True)
class Tables:
    """The grid (Q,) with its log prior, and per item: log P on the grid (J, K, Q), P (Q, J, K), information (Q, J).

    ``fine_information`` (F, J) is I_j on a FINE_STEP grid, so I(θ̂) for a whole batch is two row gathers.
    ``finite_log_prob`` (Q, J*K) is log P with categories an item lacks set to 0 (their probability is 0).

    ``log_prob_jkq[j, k]`` is the row added to a person's log posterior after answering item j with category k
    (Bock & Mislevy 1982): the whole posterior update is one gather and one add.
    """

    params: ItemParameters
    points: NDArray[np.float64]
    log_prior: NDArray[np.float64]
    log_prob_jkq: NDArray[np.float64]
    prob: NDArray[np.float64]
    information: NDArray[np.float64]
    finite_log_prob: NDArray[np.float64]
    location: NDArray[np.float64]
    fine_points: NDArray[np.float64]
    fine_information: NDArray[np.float64]

    @classmethod
    def build(
        cls, params: ItemParameters, prior: Prior | None, n_points: int, theta_range: tuple[float, float] | None
    ) -> Tables:
        """Tables for ``params`` on the grid of ``prior`` (N(0, 1) by default)."""
        grid = Grid.build(prior, n_points, theta_range)
        log_prob = params.log_prob(grid.points)  # (Q, J, K)
        prob = np.exp(log_prob)
        info = information_table(params, grid.points)  # (Q, J)
        return cls(
            params=params,
            points=grid.points,
            log_prior=grid.log_prior,
            log_prob_jkq=np.ascontiguousarray(log_prob.transpose(1, 2, 0)),
            prob=prob,
            information=info,
            finite_log_prob=np.where(prob > 0, log_prob, 0.0).reshape(prob.shape[0], -1),
            location=item_location(params),
            fine_points=(fine := np.arange(grid.points[0], grid.points[-1] + FINE_STEP / 2, FINE_STEP)),
            fine_information=information_table(params, fine),
        )

    def information_at(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """I_j(θ) for every item (n, J) by linear interpolation in the FINE_STEP table (θ clipped to the grid)."""
        pts = self.fine_points
        x = (np.clip(theta, pts[0], pts[-1]) - pts[0]) / FINE_STEP
        i = np.minimum(x.astype(np.intp), pts.size - 2)
        w = (x - i)[:, None]
        lo, out = self.fine_information[i], self.fine_information[i + 1]
        out -= lo  # in place: fresh (n, J) temporaries cost more than the arithmetic (page faults)
        out *= w
        out += lo
        return out

    @property
    def n_items(self) -> int:
        """Number of items J."""
        return self.params.n_items

    @property
    def n_points(self) -> int:
        """Number of grid points Q."""
        return self.points.size


def information_table(params: ItemParameters, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """I_j(θ) (len(θ), J). 1–4PL banks in closed form, I = (a(u − c)s(1 − s))² / (P(1 − P)) with s = σ(aθ + d)
    (Birnbaum 1968; Barton & Lord 1981), ~10× faster than the generic path; other banks via ``params.information``."""
    if not params.is_dichotomous:
        return np.ascontiguousarray(params.information(theta))
    span = params.upper - params.lower
    z = np.multiply.outer(theta, params.slope)
    z += params.intercepts[:, 0]
    s = expit(z)
    r = expit(np.negative(z, out=z), out=z)  # σ(−z) = 1 − s without cancellation
    p = s * span
    p += params.lower
    q = r * span
    q += 1.0 - params.upper  # 1 − P
    s *= r
    s *= params.slope * span  # dP/dθ
    s *= s
    p *= q
    return np.divide(s, p, out=np.zeros_like(s), where=p > 0)  # in place: temporaries cost more than arithmetic


def item_location(params: ItemParameters) -> NDArray[np.float64]:
    """An item's place on θ (b for 0/1 items, the mean threshold for polytomous ones): what b-blocking sorts by."""
    return np.array([np.mean(rec["b"]) for rec in params.to_file_form()], dtype=float)
