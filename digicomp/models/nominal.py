"""Bock's (1972) nominal response model in R mirt's parameterisation (Thissen, Cai & Bock 2010).

For an item with m unordered categories (the options of a multiple-choice item, say) k = 0..m-1:

    P_k(θ) = exp(a1 · ak_k · θ + d_k) / Σ_h exp(a1 · ak_h · θ + d_h)

with mirt's identification ak_0 = 0, ak_{m-1} = m - 1 and d_0 = 0 (its ``nominal`` itemtype: parameters ``a1``,
``ak0..ak(m-1)``, ``d0..d(m-1)``), so a parameter table reads the same in both programs. The category slopes
a1 · ak_k order the options by how strongly they attract able persons: on a well-keyed item the key has the largest.
A GPCM item is the special case ak_k = k with d the cumulative intercepts (:meth:`NominalParameters.from_gpcm`).

Arrays: ``a1`` (J,), ``ak`` and ``d`` (J, K) padded with NaN beyond each item's categories. Every method
broadcasts over a θ array of any shape S and returns S + (J, K) (or S + (J,)), like :class:`ItemParameters`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.errors import ParameterError

Array = NDArray[np.float64]


class NominalParameters:
    """Nominal-response items: slope ``a1``, category scoring ``ak`` and intercepts ``d`` (mirt's names)."""

    def __init__(self, a1: ArrayLike, ak: ArrayLike, d: ArrayLike, ids: Sequence[str] | None = None) -> None:
        self.a1 = np.atleast_1d(np.asarray(a1, dtype=float)).copy()
        self.ak = np.atleast_2d(np.asarray(ak, dtype=float)).copy()
        self.d = np.atleast_2d(np.asarray(d, dtype=float)).copy()
        J = self.a1.size
        if self.ak.shape != self.d.shape or self.ak.shape[0] != J:
            raise ParameterError(f"nominal items: a1 {self.a1.shape}, ak {self.ak.shape} and d {self.d.shape} differ")
        self.ids = [f"item{j + 1}" for j in range(J)] if ids is None else [str(i) for i in ids]
        if len(self.ids) != J or len(set(self.ids)) != J:
            raise ParameterError(f"nominal items need {J} distinct ids, got {len(self.ids)}")
        finite = np.isfinite(self.d)
        self.n_categories = finite.sum(axis=1).astype(np.intp)
        for j in range(J):
            m = int(self.n_categories[j])
            where = f"item {self.ids[j]!r} (nominal)"
            if m < 2 or not finite[j, :m].all() or finite[j, m:].any():
                raise ParameterError(f"{where}: field 'd' must hold 2 or more finite intercepts, NaN-padded at the end")
            if not np.isfinite(self.ak[j, :m]).all() or np.isfinite(self.ak[j, m:]).any():
                raise ParameterError(f"{where}: field 'ak' must have one finite value per category, as 'd'")
            if not np.isfinite(self.a1[j]):
                raise ParameterError(f"{where}: field 'a1' = {self.a1[j]!r} must be finite")
        self._valid = np.arange(self.ak.shape[1])[None, :] < self.n_categories[:, None]

    # ----------------------------------------------------------------- construction and tables
    @classmethod
    def from_gpcm(cls, a: ArrayLike, intercepts: ArrayLike, ids: Sequence[str] | None = None) -> NominalParameters:
        """The GPCM with slope ``a`` and cumulative intercepts (J, K-1) (``ItemParameters`` slope-intercept form) as
        nominal items: ak_k = k, d_0 = 0, d_k = the k-th cumulative intercept."""
        a = np.atleast_1d(np.asarray(a, dtype=float))
        c = np.atleast_2d(np.asarray(intercepts, dtype=float))
        d = np.concatenate([np.zeros((a.size, 1)), c], axis=1)
        ak = np.where(np.isfinite(d), np.arange(d.shape[1], dtype=float)[None, :], np.nan)
        return cls(a, ak, d, ids)

    def table(self) -> tuple[list[str], list[list[Any]]]:
        """mirt's layout: header ``item, itemtype, a1, ak0..ak(K-1), d0..d(K-1)`` and one row per item (blank
        cells beyond an item's categories)."""
        K = self.ak.shape[1]
        header = ["item", "itemtype", "a1", *[f"ak{k}" for k in range(K)], *[f"d{k}" for k in range(K)]]
        rows = []
        for j in range(self.n_items):
            cells = [float(v) if np.isfinite(v) else "" for v in (*self.ak[j], *self.d[j])]
            rows.append([self.ids[j], "nominal", float(self.a1[j]), *cells])
        return header, rows

    @classmethod
    def from_table(cls, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> NominalParameters:
        """Read :meth:`table`'s layout back (cells may be strings; blank = no such category)."""
        col = {h.strip(): i for i, h in enumerate(header)}
        aks = sorted((h for h in col if h.startswith("ak")), key=lambda h: int(h[2:]))
        ds = sorted((h for h in col if h[:1] == "d" and h[1:].isdigit()), key=lambda h: int(h[1:]))
        for name in ("item", "a1"):
            if name not in col:
                raise ParameterError(f"nominal parameter table: column {name!r} is missing")

        def num(cell: Any) -> float:
            return float("nan") if cell in ("", None) else float(cell)

        ids = [str(r[col["item"]]) for r in rows]
        a1 = [num(r[col["a1"]]) for r in rows]
        ak = [[num(r[col[h]]) for h in aks] for r in rows]
        d = [[num(r[col[h]]) for h in ds] for r in rows]
        return cls(a1, ak, d, ids)

    # ----------------------------------------------------------------- basic facts
    @property
    def n_items(self) -> int:
        """Number of items."""
        return self.a1.size

    @property
    def max_categories(self) -> int:
        """Largest number of categories."""
        return int(self.n_categories.max())

    def __len__(self) -> int:
        return self.n_items

    def __repr__(self) -> str:
        return f"NominalParameters({self.n_items} items; up to {self.max_categories} categories)"

    def subset(self, index: ArrayLike) -> NominalParameters:
        """The items at ``index`` (positions or a boolean mask), in that order."""
        idx = np.arange(self.n_items)[np.asarray(index)]
        width = int(self.n_categories[idx].max())
        return NominalParameters(self.a1[idx], self.ak[idx, :width], self.d[idx, :width], [self.ids[j] for j in idx])

    def category_slopes(self) -> Array:
        """a1 · ak_k per item and category (J, K), NaN beyond an item's categories."""
        return self.a1[:, None] * self.ak

    # ----------------------------------------------------------------- the math
    def _z(self, theta: ArrayLike) -> Array:
        th = np.asarray(theta, dtype=float)[..., None, None]
        z = self.category_slopes() * th + self.d
        return np.where(self._valid, z, -np.inf)

    def log_prob(self, theta: ArrayLike) -> Array:
        """log P(x = k | θ) shaped S + (J, K); -inf for categories an item does not have."""
        z = self._z(theta)
        top = z.max(axis=-1, keepdims=True)
        with np.errstate(divide="ignore"):
            return z - top - np.log(np.exp(z - top).sum(axis=-1, keepdims=True))

    def prob(self, theta: ArrayLike) -> Array:
        """Option characteristic curves P(x = k | θ), S + (J, K); rows sum to 1."""
        return np.exp(self.log_prob(theta))

    def derivatives(self, theta: ArrayLike) -> tuple[Array, Array, Array]:
        """(log P, ∂ log P/∂θ, ∂² log P/∂θ²) shaped S + (J, K)."""
        lp = self.log_prob(theta)
        P = np.exp(lp)
        s = np.nan_to_num(self.category_slopes())
        mean = (P * s).sum(axis=-1, keepdims=True)
        var = (P * s**2).sum(axis=-1, keepdims=True) - mean**2
        dl = np.where(self._valid, s - mean, 0.0)
        d2l = np.where(self._valid, -np.broadcast_to(var, lp.shape), 0.0)
        return lp, dl, d2l

    def information(self, theta: ArrayLike) -> Array:
        """Fisher information per item, a1² Var(ak | θ), shaped S + (J,)."""
        lp, dl, _ = self.derivatives(theta)
        return (np.exp(lp) * dl**2).sum(axis=-1)

    def expected_score(self, theta: ArrayLike) -> Array:
        """E[category index | θ], S + (J,) (meaningful when the categories are ordered scores)."""
        P = self.prob(theta)
        return (P * np.arange(P.shape[-1])).sum(axis=-1)

    def simulate(self, theta: ArrayLike, rng: np.random.Generator | int | None = None) -> NDArray[np.int64]:
        """Draw a category for every θ and item, S + (J,)."""
        rng = np.random.default_rng(rng)
        cum = np.cumsum(self.prob(theta), axis=-1)
        u = rng.random(cum.shape[:-1] + (1,))
        return np.minimum((cum < u).sum(axis=-1), self.n_categories - 1).astype(np.int64)
