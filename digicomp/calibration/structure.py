"""Factor structures of a multidimensional calibration: which slopes are free, and how the latent space is integrated.

* ``unidimensional``: one dimension, every item loads on it.
* ``between`` (correlated areas): each item loads on the one dimension of its area; dimensions correlate.
* ``within`` (a Q-matrix): item j loads on the dimensions k with Q[j, k] = 1; dimensions correlate.
* ``bifactor``: a general dimension every item loads on, plus one specific dimension per area; all orthogonal.
* ``two-tier`` (Cai 2010): G correlated primary dimensions (a pattern per item) plus orthogonal specific ones.

Identification (the rules :meth:`Structure.check` enforces, see docs/calibration.md): the latent means are 0 and
variances 1; correlations among correlated dimensions are estimated, specific dimensions are orthogonal to
everything. Every dimension needs at least two items loading on it (three for a specific dimension, whose slopes
are otherwise identified only through one residual covariance); no item may load on nothing; in a Q-matrix no two
dimensions may have the same column and the columns must be linearly independent (else rotations of the factors
fit equally well). Arrays only: reading a Q-matrix file is :mod:`digicomp.io.qmatrix`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import CalibrationError

MIN_ITEMS = 2
MIN_ITEMS_SPECIFIC = 3


@dataclass
class Structure:
    """A loading pattern over named dimensions and the way the latent space is integrated.

    ``pattern`` (J, K) bool: free slopes. ``primary``: indices of the dimensions integrated jointly (all of them
    for correlated structures, the general one(s) for bifactor/two-tier). ``specific`` (J,): each item's specific
    dimension (index into ``dims``) or -1. ``correlated`` (K, K) bool: which correlations are estimated.
    """

    kind: str
    item_ids: list[str]
    dims: list[str]
    pattern: NDArray[np.bool_]
    primary: NDArray[np.intp]
    specific: NDArray[np.intp]
    correlated: NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    areas: list[str | None] = field(default_factory=list)

    @property
    def n_dims(self) -> int:
        """Number of dimensions K."""
        return len(self.dims)

    @property
    def reduced(self) -> bool:
        """True when specific dimensions are integrated one at a time (Gibbons & Hedeker 1992)."""
        return bool(np.any(self.specific >= 0))

    @property
    def specific_dims(self) -> NDArray[np.intp]:
        """Indices of the specific dimensions, in ``dims`` order."""
        return np.setdiff1d(np.arange(self.n_dims), self.primary)

    def subset(self, ids: Sequence[str]) -> Structure:
        """The structure restricted to the items ``ids`` (the items the data kept), in that order."""
        pos = {i: k for k, i in enumerate(self.item_ids)}
        missing = [i for i in ids if i not in pos]
        if missing:
            raise CalibrationError(
                f"item {missing[0]!r} is in the responses but not in the {self.kind} structure "
                f"({len(missing)} such items); every calibrated item needs a loading pattern"
            )
        rows = np.array([pos[i] for i in ids], dtype=np.intp)
        out = Structure(
            self.kind,
            [self.item_ids[r] for r in rows],
            list(self.dims),
            self.pattern[rows],
            self.primary,
            self.specific[rows],
            self.correlated,
            [self.areas[r] for r in rows] if self.areas else [],
        )
        out.check()
        return out

    def check(self) -> None:
        """Raise CalibrationError naming the item or dimension that leaves the structure unidentified."""
        J, K = self.pattern.shape
        if J != len(self.item_ids) or K != len(self.dims):
            raise CalibrationError(f"pattern shape {self.pattern.shape} does not match {J} items × {K} dimensions")
        if len(set(self.dims)) != K:
            dup = sorted({d for d in self.dims if self.dims.count(d) > 1})
            raise CalibrationError(f"dimension {dup[0]!r} is named twice")
        empty = np.flatnonzero(~self.pattern.any(axis=1))
        if empty.size:
            raise CalibrationError(
                f"item {self.item_ids[int(empty[0])]!r} loads on no dimension (an all-zero row; "
                f"{empty.size} such items); give it at least one 1"
            )
        per_dim = self.pattern.sum(axis=0)
        spec = set(self.specific_dims.tolist())
        for k in range(K):
            need = MIN_ITEMS_SPECIFIC if k in spec else MIN_ITEMS
            if per_dim[k] < need:
                what = "specific dimension" if k in spec else "dimension"
                raise CalibrationError(
                    f"{what} {self.dims[k]!r} has {int(per_dim[k])} item(s) loading on it; at least {need} are "
                    "needed to identify its slopes (merge it with another, or drop it from the structure)"
                )
        prim = self.pattern[:, self.primary]
        if self.kind == "within" and prim.shape[1] > 1:
            cols = [tuple(c) for c in prim.T.astype(int)]
            for a in range(len(cols)):
                for b in range(a + 1, len(cols)):
                    if cols[a] == cols[b]:
                        raise CalibrationError(
                            f"dimensions {self.dims[self.primary[a]]!r} and {self.dims[self.primary[b]]!r} have the "
                            "same items: the structure is not identified (the two factors cannot be told apart)"
                        )
            if np.linalg.matrix_rank(prim.astype(float)) < prim.shape[1]:
                raise CalibrationError(
                    "the Q-matrix columns are linearly dependent: the structure is not identified "
                    "(some dimension's items are exactly the union of others')"
                )
        if self.reduced:
            both = self.pattern[:, self.specific_dims].sum(axis=1)
            bad = np.flatnonzero(both > 1)
            if bad.size:
                raise CalibrationError(
                    f"item {self.item_ids[int(bad[0])]!r} loads on more than one specific dimension; a bifactor "
                    "or two-tier structure allows at most one"
                )


def _area_list(item_ids: Sequence[str], areas: Mapping[str, str] | Sequence[str]) -> list[str]:
    """The area of every item, from a mapping id -> area or a list in item order."""
    if isinstance(areas, Mapping):
        missing = [i for i in item_ids if i not in areas or areas[i] in (None, "")]
        if missing:
            raise CalibrationError(
                f"item {missing[0]!r} has no area ({len(missing)} such items); the areas structure needs every "
                "item's area"
            )
        return [str(areas[i]) for i in item_ids]
    out = [str(a) for a in areas]
    if len(out) != len(item_ids):
        raise CalibrationError(f"{len(out)} areas given for {len(item_ids)} items")
    return out


def _ordered(values: Sequence[str], order: Sequence[str] | None) -> list[str]:
    seen = list(dict.fromkeys(values))
    if order is None:
        return seen
    unknown = [v for v in seen if v not in order]
    if unknown:
        raise CalibrationError(f"area {unknown[0]!r} is not among the declared dimensions {', '.join(order)}")
    return [o for o in order if o in seen]


def unidimensional(item_ids: Sequence[str], dim: str = "theta") -> Structure:
    """Every item on one dimension."""
    ids = list(item_ids)
    s = Structure(
        "unidimensional",
        ids,
        [dim],
        np.ones((len(ids), 1), dtype=bool),
        np.array([0]),
        np.full(len(ids), -1),
        np.zeros((1, 1), dtype=bool),
    )
    s.check()
    return s


def between_items(
    item_ids: Sequence[str], areas: Mapping[str, str] | Sequence[str], order: Sequence[str] | None = None
) -> Structure:
    """Correlated areas: each item loads on its area's dimension only; dimensions named by area, in ``order``."""
    ids = list(item_ids)
    area = _area_list(ids, areas)
    dims = _ordered(area, order)
    pattern = np.array([[a == d for d in dims] for a in area], dtype=bool).reshape(len(ids), len(dims))
    K = len(dims)
    s = Structure(
        "between",
        ids,
        dims,
        pattern,
        np.arange(K),
        np.full(len(ids), -1),
        ~np.eye(K, dtype=bool),
        area,
    )
    s.check()
    return s


def within_items(item_ids: Sequence[str], dims: Sequence[str], q: NDArray | Sequence[Sequence[int]]) -> Structure:
    """A Q-matrix (J, K) of 0/1 over ``dims``; dimensions correlate."""
    ids = list(item_ids)
    arr = np.asarray(q)
    if arr.shape != (len(ids), len(dims)):
        raise CalibrationError(f"Q-matrix has shape {arr.shape}, expected ({len(ids)}, {len(dims)})")
    bad = np.argwhere(~np.isin(arr, (0, 1)))
    if bad.size:
        j, k = (int(x) for x in bad[0])
        raise CalibrationError(f"Q-matrix: item {ids[j]!r}, dimension {dims[k]!r}: {arr[j, k].item()!r} is not 0 or 1")
    K = len(dims)
    kind = "within" if K > 1 else "unidimensional"
    s = Structure(
        kind, ids, [str(d) for d in dims], arr.astype(bool), np.arange(K), np.full(len(ids), -1), ~np.eye(K, dtype=bool)
    )
    s.check()
    return s


def bifactor(
    item_ids: Sequence[str],
    areas: Mapping[str, str | None] | Sequence[str | None],
    order: Sequence[str] | None = None,
    general: str = "general",
) -> Structure:
    """A general dimension plus one orthogonal specific dimension per area (an item with area None: general only)."""
    ids = list(item_ids)
    if isinstance(areas, Mapping):
        area = [None if areas.get(i) in (None, "") else str(areas[i]) for i in ids]
    else:
        area = [None if a in (None, "") else str(a) for a in areas]
        if len(area) != len(ids):
            raise CalibrationError(f"{len(area)} areas given for {len(ids)} items")
    specs = _ordered([a for a in area if a is not None], order)
    if general in specs:
        raise CalibrationError(f"an area is named {general!r}, the name of the general dimension")
    dims = [general, *specs]
    J = len(ids)
    pattern = np.zeros((J, len(dims)), dtype=bool)
    pattern[:, 0] = True
    specific = np.full(J, -1)
    for j, a in enumerate(area):
        if a is not None:
            specific[j] = 1 + specs.index(a)
            pattern[j, specific[j]] = True
    s = Structure("bifactor", ids, dims, pattern, np.array([0]), specific, np.zeros((len(dims),) * 2, bool), area)
    s.check()
    return s


def two_tier(
    item_ids: Sequence[str],
    primary_dims: Sequence[str],
    primary_q: NDArray | Sequence[Sequence[int]],
    areas: Mapping[str, str | None] | Sequence[str | None],
    order: Sequence[str] | None = None,
) -> Structure:
    """G correlated primary dimensions (Q-matrix ``primary_q`` (J, G)) plus one orthogonal specific per area."""
    ids = list(item_ids)
    q = np.asarray(primary_q)
    G = len(primary_dims)
    if q.shape != (len(ids), G) or not np.all(np.isin(q, (0, 1))):
        raise CalibrationError(f"two-tier primary Q-matrix must be 0/1 of shape ({len(ids)}, {G}), got {q.shape}")
    base = bifactor(ids, areas, order, general=str(primary_dims[0]))
    specs = base.dims[1:]
    clash = set(specs) & {str(d) for d in primary_dims}
    if clash:
        raise CalibrationError(f"dimension {sorted(clash)[0]!r} is both primary and specific")
    dims = [str(d) for d in primary_dims] + specs
    pattern = np.concatenate([q.astype(bool), base.pattern[:, 1:]], axis=1)
    specific = np.where(base.specific >= 0, base.specific - 1 + G, -1)
    corr = np.zeros((len(dims),) * 2, dtype=bool)
    corr[:G, :G] = ~np.eye(G, dtype=bool)
    s = Structure("two-tier", ids, dims, pattern, np.arange(G), specific, corr, base.areas)
    s.check()
    return s


def from_mapping(
    item_ids: Sequence[str], q: Mapping[str, Mapping[str, int] | Sequence[int]], dims: Sequence[str]
) -> Structure:
    """A within-item structure from {item: {dim: 0/1}} or {item: [0/1 per dim]}; every item of ``item_ids`` in it."""
    rows = []
    for i in item_ids:
        if i not in q:
            raise CalibrationError(f"item {i!r} is in the responses but not in the Q-matrix")
        row = q[i]
        rows.append([int(row.get(d, 0)) for d in dims] if isinstance(row, Mapping) else [int(v) for v in row])
    return within_items(item_ids, dims, np.array(rows).reshape(len(rows), len(dims)))
