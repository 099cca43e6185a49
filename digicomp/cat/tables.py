"""Everything an engine computes once from the bank: the θ grid, its prior, and the item tables on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from digicomp.models import ItemParameters
from digicomp.models.logistic import sigmoid as expit
from digicomp.scoring.estimators import Grid
from digicomp.scoring.quadrature import Prior

FINE_STEP = 0.01
"""Spacing of the information table that maximum-information selection interpolates (relative error ~1e-4)."""

HIGH_BITS = 26
"""A weight's high part is an integer count of 2**-26 of its row's bound; a table entry's, of 2**-25 of its column's."""
_MIN_EXPONENT = -900
"""Columns (and weight rows) bounded by less than 2**-900 count as 0, so every product stays a normal float."""


def _power_bound(bound: NDArray[np.float64]) -> NDArray[np.intp]:
    """The smallest e with ``bound`` ≤ 2**e (element-wise; at least −900)."""
    frac, e = np.frexp(bound)
    return np.maximum(np.where(frac == 0.5, e - 1, e), _MIN_EXPONENT)


def low_bits(n_points: int) -> int:
    """L, the extra bits of the low parts: the largest with 2**(24 + L)·(Q + 2) < 2**53 (Q = 61: L = 23)."""
    return 29 - int(np.ceil(np.log2(n_points + 2)))


@dataclass(frozen=True)
class ExactTable:
    """A (Q, M) table on the θ grid whose weighted sums Σ_q w_q T_qm are computed without rounding error in
    the matrix products, so a row's result does not depend on the batch, the BLAS or the machine's threads.

    Column m, bounded by 2**e, is T = T_hi + T_lo with T_hi in multiples of 2**(e − 25) and T_lo in multiples of
    2**(e − 25 − L), L = :func:`low_bits`. A weight row, scaled by 2**s ≥ Σ_q |w_q| (its own row-wise sum), is
    u = 2**−26 (h + 2**−L l) with integers h (|h| ≤ 2**26) and l (|l| ≤ 2**(L−1)). Then

    * h · (2**−26 T_hi): each product and partial sum is an integer multiple of 2**(e − 51) below 2**53 of them;
    * [h | l] · [2**−26 T_lo ; 2**−(26+L) T_hi] (one product over 2Q): multiples of 2**(e − 51 − L), below
      2**(24+L)·(2 + Q) ≤ 2**53 of them;

    so both are float64 sums with no rounding, whatever the summation order, blocking, FMA use, thread count or
    number of rows BLAS works with. They are added element-wise and scaled back by 2**s (the same roundings for
    a row in any batch). Left out are only the l·T_lo part and the inputs' bits below those units: the result is
    the weighted sum to ~1e-14 of Σ_q |w_q| max|T_m|, as accurate as a plain product, and the same bits for a
    person in a live session (a batch of one), in a simulation chunk of any size and in any process.
    """

    high: NDArray[np.float64]
    """2**−26 T_hi (Q, M)."""
    low: NDArray[np.float64]
    """[2**−26 T_lo ; 2**−(26+L) T_hi] (2Q, M)."""

    @classmethod
    def of(cls, table: NDArray[np.float64]) -> ExactTable:
        """``table`` (Q, M) split per column into its high and low parts, scaled for integer weights."""
        table = np.asarray(table, dtype=float)
        q = table.shape[0]
        e = _power_bound(np.abs(table).max(axis=0, initial=0.0))
        unit = np.ldexp(1.0, e - (HIGH_BITS - 1))
        t_hi = np.rint(table / unit) * unit  # powers of two: exact scaling
        unit_lo = np.ldexp(1.0, e - (HIGH_BITS - 1) - low_bits(q))
        t_lo = np.rint((table - t_hi) / unit_lo) * unit_lo
        high = np.ldexp(t_hi, -HIGH_BITS)
        low = np.vstack([np.ldexp(t_lo, -HIGH_BITS), np.ldexp(t_hi, -HIGH_BITS - low_bits(q))])
        return cls(np.ascontiguousarray(high), np.ascontiguousarray(low))

    def weigh(
        self,
        weights: NDArray[np.float64],
        work: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    ) -> NDArray[np.float64]:
        """Σ_q w_q T_qm for each row of ``weights`` (n, Q): (n, M), bit for bit the same for a row in any batch.

        ``work``: two (n, M) arrays to compute in (the result is the first), instead of fresh ones.
        """
        n, q = weights.shape
        total = np.abs(weights).sum(axis=1, keepdims=True)  # row-wise: the same additions in any batch
        s = _power_bound(total)
        x = np.ldexp(weights, HIGH_BITS - s)  # 2**26 u, exact
        hl = np.empty((n, 2 * q))
        h = np.rint(x, out=hl[:, :q])
        x -= h  # exact: the fraction of x
        np.rint(np.ldexp(x, low_bits(q), out=x), out=hl[:, q:])
        m = self.high.shape[1]
        out, part = work if work is not None else (np.empty((n, m)), np.empty((n, m)))
        np.matmul(h, self.high, out=out)
        out += np.matmul(hl, self.low, out=part)
        if np.any(s):  # normalised weights (posterior, likelihood) have s = 0
            out *= np.ldexp(1.0, s)
        return out


@dataclass(frozen=True)
class Tables:
    """The grid (Q,) with its log prior, and per item: log P on the grid (J, K, Q), P (Q, J, K), information (Q, J).

    ``fine_information`` (F, J) is I_j on a FINE_STEP grid, so I(θ̂) for a whole batch is two row gathers
    (of I at the grid point below θ̂ and of ``fine_slope``, the difference to the point above).
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
    fine_points: NDArray[np.float64]
    fine_information: NDArray[np.float64]
    points_squared: NDArray[np.float64] = field(init=False, repr=False)
    fine_slope: NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Derived tables: θ² on the grid (EAP variance) and I_j(θ_f+1) − I_j(θ_f) on the fine grid."""
        object.__setattr__(self, "points_squared", self.points**2)
        fine = self.fine_information
        slope = np.subtract(fine[1:], fine[:-1]) if fine.shape[0] > 1 else np.zeros_like(fine)
        object.__setattr__(self, "fine_slope", slope)

    @cached_property
    def exact_information(self) -> ExactTable:
        """``information`` (Q, J) as an :class:`ExactTable` (posterior/likelihood-weighted information)."""
        return ExactTable.of(self.information)

    @cached_property
    def exact_prob(self) -> ExactTable:
        """``prob`` as an :class:`ExactTable` (Q, J*K) (expected posterior variance)."""
        return ExactTable.of(self.prob.reshape(self.n_points, -1))

    @cached_property
    def exact_log_prob(self) -> ExactTable:
        """``finite_log_prob`` as an :class:`ExactTable` (Q, J*K) (Kullback–Leibler rules)."""
        return ExactTable.of(self.finite_log_prob)

    @cached_property
    def item_information(self) -> NDArray[np.float64]:
        """``information`` by item (J + 1, Q), the last row 0 (what a -1 padded test position reads)."""
        return np.vstack([self.information.T, np.zeros((1, self.n_points))])

    @cached_property
    def location(self) -> NDArray[np.float64]:
        """Each item's place on θ (see :func:`item_location`); computed on first use (only b-blocking needs it)."""
        return item_location(self.params)

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
            fine_points=(fine := np.arange(grid.points[0], grid.points[-1] + FINE_STEP / 2, FINE_STEP)),
            fine_information=information_table(params, fine),
        )

    def information_at(
        self, theta: NDArray[np.float64], work: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
    ) -> NDArray[np.float64]:
        """I_j(θ) for every item (n, J) by linear interpolation in the FINE_STEP table (θ clipped to the grid).

        ``work``: two (n, J) arrays to compute in (the result is the first), instead of fresh ones.
        """
        pts = self.fine_points
        x = (np.clip(theta, pts[0], pts[-1]) - pts[0]) / FINE_STEP
        i = np.minimum(x.astype(np.intp), pts.size - 2)
        w = (x - i)[:, None]
        if work is None:
            out = self.fine_slope.take(i, axis=0)  # (I[i+1] − I[i]) · w + I[i], as lo + (hi − lo)·w bit for bit
            out *= w
            out += self.fine_information.take(i, axis=0)
            return out
        if i.size and i.min() < 0:  # a NaN θ̂: fail as the unbuffered take would
            raise IndexError(f"θ̂ {theta[np.argmin(i)]!r} has no place in the information table")
        out, lo = work
        np.take(self.fine_slope, i, axis=0, out=out, mode="clip")  # i is in range: clip only skips a copy
        out *= w
        out += np.take(self.fine_information, i, axis=0, out=lo, mode="clip")
        return out

    @property
    def n_items(self) -> int:
        """Number of items J."""
        return self.params.n_items

    @property
    def n_points(self) -> int:
        """Number of grid points Q."""
        return self.points.size


BLOCK = 16384
"""Table cells per block of θ rows when building information tables: the temporaries stay in cache."""


def information_table(params: ItemParameters, theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """I_j(θ) (len(θ), J). 1–4PL banks in closed form, I = (a(u − c)s(1 − s))² / (P(1 − P)) with s = σ(aθ + d)
    (Birnbaum 1968; Barton & Lord 1981), ~10× faster than the generic path; other banks via ``params.information``.

    The closed form runs over blocks of θ rows (a loop over table blocks, not persons or items): the same
    element-wise arithmetic, with temporaries small enough to stay in cache.
    """
    if not params.is_dichotomous:
        return np.ascontiguousarray(params.information(theta))
    theta = np.asarray(theta, dtype=float)
    if theta.ndim != 1:
        return _information_block(params, theta)
    out = np.empty((theta.size, params.n_items))
    step = max(1, BLOCK // max(params.n_items, 1))
    for start in range(0, theta.size, step):
        _information_block(params, theta[start : start + step], out[start : start + step])
    return out


def _information_block(
    params: ItemParameters, theta: NDArray[np.float64], out: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """The closed-form information of a 1–4PL bank at ``theta`` (into ``out`` when given)."""
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
    if out is None:
        out = np.zeros_like(s)
    else:
        out[...] = 0.0
    return np.divide(s, p, out=out, where=p > 0)  # in place: temporaries cost more than arithmetic


def item_location(params: ItemParameters) -> NDArray[np.float64]:
    """An item's place on θ (b for 0/1 items, the mean threshold for polytomous ones): what b-blocking sorts by."""
    return np.array([np.mean(rec["b"]) for rec in params.to_file_form()], dtype=float)
