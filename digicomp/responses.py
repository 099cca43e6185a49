"""Response data, dense or sparse, with missing (not administered) responses masked.

A :class:`Responses` holds scored responses (0/1, or categories 0..K-1) of persons to items. Dense data
are an (n_persons, n_items) integer array with -1 for missing; sparse data (CAT logs, where each person
answered a few of many items) are (person, item, value) triplets, and everything downstream scales with
the number of observed responses.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.errors import ResponseError

if TYPE_CHECKING:
    from scipy import sparse

MISSING = -1

MAX_CODE = 99
"""Largest response code (an item has at most 100 categories): a larger code in a file is a typo, and calibration
would otherwise size its tables by it."""


def _sparse() -> ModuleType:
    """scipy.sparse, imported on first use: dense data never need it, and it is ~0.1 s of a ``digicomp score``
    start on a dense file (about a third of the process)."""
    from scipy import sparse

    return sparse


class Responses:
    """Scored responses of persons to items; ``values`` dense (-1 = missing) or sparse triplets."""

    def __init__(
        self,
        person: NDArray[np.intp] | None,
        item: NDArray[np.intp] | None,
        value: NDArray[np.int64] | None,
        n_persons: int,
        n_items: int,
        person_ids: Sequence[str] | None = None,
        item_ids: Sequence[str] | None = None,
        weights: ArrayLike | None = None,
        dense: NDArray[np.int64] | None = None,
    ) -> None:
        if person is None and dense is None:
            raise ResponseError("responses need either (person, item, value) triplets or a dense matrix")
        self._triplets = (
            None
            if person is None
            else (np.asarray(person, dtype=np.intp), np.asarray(item, dtype=np.intp), np.asarray(value, dtype=np.int64))
        )
        self.n_persons = int(n_persons)
        self.n_items = int(n_items)
        self.person_ids = [str(p) for p in person_ids] if person_ids is not None else None
        self.item_ids = [str(i) for i in item_ids] if item_ids is not None else None
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        self._dense = dense
        self._held_dense = dense is not None  # the form given; dense() of triplets caches, it does not switch
        if self.weights is not None and self.weights.shape != (self.n_persons,):
            raise ResponseError(f"weights have shape {self.weights.shape}, expected ({self.n_persons},)")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dense(
        cls,
        data: ArrayLike,
        person_ids: Sequence[str] | None = None,
        item_ids: Sequence[str] | None = None,
        weights: ArrayLike | None = None,
    ) -> Responses:
        """From an (n_persons, n_items) array; NaN or negative values mean not administered."""
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise ResponseError(f"responses must be a 2-D array (persons × items), got shape {arr.shape}")
        if arr.dtype.kind == "f":
            missing = np.isnan(arr) | (arr < 0)
            whole = np.where(missing, 0.0, arr)
            if np.any(whole != np.round(whole)):
                p, i = np.argwhere(whole != np.round(whole))[0]
                raise ResponseError(f"{_who(person_ids, item_ids, p, i)}: response {arr[p, i]!r} is not a whole number")
            values = np.where(missing, MISSING, whole).astype(np.int64)
        elif arr.dtype.kind in "iub":
            values = arr if arr.min(initial=0) >= MISSING else np.where(arr < 0, MISSING, arr)
        else:
            raise ResponseError(f"responses must be numeric, got dtype {arr.dtype}")
        return cls(None, None, None, arr.shape[0], arr.shape[1], person_ids, item_ids, weights, dense=values)

    @classmethod
    def from_long(
        cls,
        person: ArrayLike,
        item: ArrayLike,
        value: ArrayLike,
        person_ids: Sequence[str] | None = None,
        item_ids: Sequence[str] | None = None,
        weights: ArrayLike | None = None,
    ) -> Responses:
        """From (person, item, value) triplets of ids or indices; ids are mapped to sorted-unique order
        unless ``person_ids`` / ``item_ids`` fix the order. Duplicated (person, item) pairs are an error."""
        p_idx, p_ids = _codes(person, person_ids, "person")
        i_idx, i_ids = _codes(item, item_ids, "item")
        val = np.asarray(value)
        if val.dtype.kind == "f":
            if np.any(~np.isfinite(val)) or np.any(val != np.round(val)):
                k = int(np.flatnonzero(~np.isfinite(val) | (val != np.round(val)))[0])
                raise ResponseError(
                    f"person {p_ids[p_idx[k]]!r}, item {i_ids[i_idx[k]]!r}: response {val[k]!r} is not a whole number"
                )
        val = val.astype(np.int64)
        keep = val >= 0
        p_idx, i_idx, val = p_idx[keep], i_idx[keep], val[keep]
        key = p_idx.astype(np.int64) * len(i_ids) + i_idx
        order = np.argsort(key, kind="stable")
        dup = np.flatnonzero(np.diff(key[order]) == 0)
        if dup.size:
            k = order[dup[0]]
            raise ResponseError(
                f"person {p_ids[p_idx[k]]!r} answered item {i_ids[i_idx[k]]!r} more than once "
                f"({dup.size} duplicated (person, item) rows in all); keep one response per pair"
            )
        return cls(p_idx[order], i_idx[order], val[order], len(p_ids), len(i_ids), p_ids, i_ids, weights)

    # ------------------------------------------------------------------ views
    def _get_triplets(self) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.int64]]:
        if self._triplets is None:
            person, item = np.nonzero(self._dense >= 0)
            self._triplets = (person, item, self._dense[person, item].astype(np.int64))
        return self._triplets

    @property
    def person(self) -> NDArray[np.intp]:
        """Person index of each observed response (sorted by person, then item)."""
        return self._get_triplets()[0]

    @property
    def item(self) -> NDArray[np.intp]:
        """Item index of each observed response."""
        return self._get_triplets()[1]

    @property
    def value(self) -> NDArray[np.int64]:
        """Category of each observed response."""
        return self._get_triplets()[2]

    @property
    def n_observed(self) -> int:
        """Number of observed responses."""
        if self._triplets is None:
            if self._complete_dense():
                return self.n_persons * self.n_items
            return int(np.count_nonzero(self._dense >= 0))
        return int(self._triplets[2].size)

    def _complete_dense(self) -> bool:
        if not hasattr(self, "_complete"):
            self._complete = bool(self._dense.min(initial=0) >= 0)
        return self._complete

    @property
    def is_complete(self) -> bool:
        """True when every person answered every item."""
        if self._held_dense:
            return self._complete_dense()
        return self.n_observed == self.n_persons * self.n_items

    @property
    def has_dense(self) -> bool:
        """True when the data were given as a dense matrix (a later :meth:`dense` view of triplets does not
        change it, so code that chooses a path by it chooses the same path before and after)."""
        return self._held_dense

    def dense(self) -> NDArray[np.int64]:
        """The (n_persons, n_items) matrix with -1 for missing."""
        if self._dense is None:
            out = np.full((self.n_persons, self.n_items), MISSING, dtype=np.int64)
            out[self.person, self.item] = self.value
            self._dense = out
        return self._dense

    def counts_per_person(self) -> NDArray[np.int64]:
        """Number of observed responses of each person."""
        if self._held_dense:
            return (self._dense >= 0).sum(axis=1)
        return np.bincount(self.person, minlength=self.n_persons)

    def counts_per_item(self) -> NDArray[np.int64]:
        """Number of observed responses to each item."""
        if self._held_dense:
            return (self._dense >= 0).sum(axis=0)
        return np.bincount(self.item, minlength=self.n_items)

    def check_categories(self, n_categories: NDArray[np.intp]) -> None:
        """Raise ResponseError naming the first response outside its item's categories 0..K-1."""
        n_categories = np.asarray(n_categories)
        if n_categories.shape != (self.n_items,):
            raise ResponseError(
                f"responses cover {self.n_items} items but the item parameters have {n_categories.shape[0]}"
            )
        if self._held_dense:
            bad_cells = self._dense >= n_categories
            if not bad_cells.any():
                return
            p, i = np.argwhere(bad_cells)[0]
            value, count = self._dense[p, i], int(bad_cells.sum())
        else:
            bad = self.value >= n_categories[self.item]
            if not bad.any():
                return
            k = int(np.flatnonzero(bad)[0])
            p, i, value, count = self.person[k], self.item[k], self.value[k], int(bad.sum())
        raise ResponseError(
            f"{_who(self.person_ids, self.item_ids, p, i)}: response {value} is outside the item's "
            f"categories 0..{n_categories[i] - 1} ({count} such responses in all)"
        )

    def design(self, n_categories: NDArray[np.intp]) -> ResponseDesign:
        """The indicator matrices that turn item log-probabilities into per-person log-likelihoods."""
        self.check_categories(n_categories)
        return ResponseDesign(self, np.asarray(n_categories, dtype=np.intp))


class ResponseDesign:
    """Indicators for the log-likelihood kernel of the observed responses.

    Dense data (or sparse data observed in more than a quarter of the cells) use dense ``cat`` (one column per
    (item, category ≥ 1)) and ``mask`` (observed cells): log L = cat @ (log P_k - log P_0) + mask @ log P_0, the
    mask product a column sum for complete data. Sparse data use one CSR matrix ``observed`` with a column per
    (item, category), so log L = observed @ log P and the E-step counts are observedᵀ @ W: one sparse product in
    each direction, costing the number of observed responses. Rows of the counts are the expected category
    counts of the EM algorithm's E-step (Bock & Aitkin 1981).
    """

    def __init__(self, responses: Responses, n_categories: NDArray[np.intp]) -> None:
        self.n_persons = responses.n_persons
        self.n_items = responses.n_items
        self.n_categories = n_categories
        steps = n_categories - 1
        self.offset = np.concatenate([[0], np.cumsum(steps)[:-1]]).astype(np.intp)
        self.n_columns = int(steps.sum())
        self.column_item = np.repeat(np.arange(self.n_items), steps)
        self.column_category = np.arange(self.n_columns) - np.repeat(self.offset, steps) + 1
        self.complete = responses.is_complete
        self.observed: sparse.csr_matrix | None = None
        # by density, not by how the data are held: a matrix of CAT logs is sparse data (5,000 × 300 2PL block,
        # one thread: the sparse products are ~8× faster than the dense ones at 10% observed, ~2× at 25%)
        dense_ok = responses.n_observed > 0.25 * self.n_persons * self.n_items
        if dense_ok and np.all(n_categories == 2):
            data = responses.dense()
            self.cat = np.maximum(data, 0).astype(float)
            self.mask = None if self.complete else (data >= 0).astype(float)
            return
        if dense_ok:
            pos = responses.value > 0
            cols = self.offset[responses.item[pos]] + responses.value[pos] - 1
            self.cat = np.zeros((self.n_persons, self.n_columns))
            self.cat[responses.person[pos], cols] = 1.0
            self.mask = None if self.complete else (responses.dense() >= 0).astype(float)
            return
        # one column per (item, category): item j's categories start at column first[j]
        first = np.concatenate([[0], np.cumsum(n_categories)[:-1]]).astype(np.intp)
        self.full_item = np.repeat(np.arange(self.n_items), n_categories)
        self.full_category = np.arange(self.full_item.size) - np.repeat(first, n_categories)
        person, column = responses.person, first[responses.item] + responses.value
        shape = (self.n_persons, self.full_item.size)
        if person.size and np.all(person[1:] >= person[:-1]):  # rows already in order: no COO → CSR sort
            indptr = np.concatenate([[0], np.cumsum(np.bincount(person, minlength=self.n_persons))])
            self.observed = _sparse().csr_matrix((np.ones(person.size), column, indptr), shape=shape)
        else:
            self.observed = _sparse().csr_matrix((np.ones(person.size), (person, column)), shape=shape)
        self._observed_copies: dict[np.dtype, sparse.csr_matrix] = {}

    def _observed_as(self, dtype: np.dtype) -> sparse.csr_matrix:
        """``observed`` with entries of ``dtype`` (indicators are exact in any float type; products then run in
        the table's precision without casting it)."""
        if dtype == self.observed.dtype:
            return self.observed
        if dtype not in self._observed_copies:
            obs = self.observed
            self._observed_copies[dtype] = _sparse().csr_matrix(
                (obs.data.astype(dtype), obs.indices, obs.indptr), shape=obs.shape
            )
        return self._observed_copies[dtype]

    @functools.cached_property
    def mask(self) -> sparse.csr_matrix:
        """Sparse designs: observed (person, item) cells as a CSR matrix of ones."""
        obs = self.observed  # shares its data (ones) and row pointers
        return _sparse().csr_matrix(
            (obs.data, self.full_item[obs.indices].astype(obs.indices.dtype), obs.indptr),
            shape=(self.n_persons, self.n_items),
        )

    @functools.cached_property
    def cat(self) -> sparse.csr_matrix:
        """Sparse designs: indicators of the responses in a category ≥ 1, one column per (item, category ≥ 1)."""
        obs = self.observed
        upper = self.full_category[obs.indices] > 0
        kept = np.concatenate([[0], np.cumsum(upper)])
        column = np.cumsum(self.full_category > 0) - 1  # full column → column of (item, category ≥ 1)
        return _sparse().csr_matrix(
            (np.ones(int(upper.sum())), column[obs.indices[upper]], kept[obs.indptr]),
            shape=(self.n_persons, self.n_columns),
        )

    def split_log_prob(self, log_p: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """From log P shaped (Q, n_items, K) build (log P_k - log P_0 per column, log P_0 per item), each (·, Q)."""
        base = log_p[:, :, 0].T
        diff = log_p[:, self.column_item, self.column_category].T - base[self.column_item]
        return np.ascontiguousarray(diff), np.ascontiguousarray(base)

    def log_likelihood(self, log_p: NDArray[np.float64]) -> NDArray[np.float64]:
        """Per-person log-likelihood on the grid, (n_persons, Q), from item log-probabilities (Q, n_items, K)."""
        diff, base = self.split_log_prob(log_p)
        return self.log_likelihood_rows(diff, base, slice(None))

    def log_likelihood_rows(
        self, diff: NDArray[np.float64], base: NDArray[np.float64], rows: slice
    ) -> NDArray[np.float64]:
        """Log-likelihood on the grid for the persons in ``rows``, from :meth:`split_log_prob`'s tables."""
        if self.observed is not None:
            table = base[self.full_item]
            table[self.full_category > 0] += diff
            observed = self._observed_as(table.dtype)
            return np.asarray((observed if rows == slice(None) else observed[rows]) @ table)
        out = np.asarray(self.cat[rows] @ diff)
        if self.mask is None:
            out += base.sum(axis=0)
        else:
            out += np.asarray(self.mask[rows] @ base)
        return out

    def observed_sum(self, table: NDArray[np.float64]) -> NDArray[np.float64]:
        """Σ over each person's observed items of a per-item table (n_items, Q), giving (n_persons, Q)."""
        if self.observed is not None:
            return np.asarray(self.observed @ table[self.full_item])
        if self.mask is None:
            return np.broadcast_to(table.sum(axis=0), (self.n_persons, table.shape[1])).copy()
        return np.asarray(self.mask @ table)

    def expected_counts(self, weights: NDArray[np.float64], dtype: type = np.float64) -> NDArray[np.float64]:
        """E-step counts r[j, k, q] = Σ_persons [x_pj = k] w_pq for posterior weights w (n_persons, Q).

        Sparse designs accumulate in ``dtype`` (float32 halves the memory traffic of the product; weights are
        held at or above float32's smallest normal number, as subnormal arithmetic is ~10× slower); dense-coded
        designs flush subnormal weights to zero for the same reason. The counts are returned in float64.
        """
        Q = weights.shape[1]
        K = int(self.n_categories.max())
        counts = np.zeros((self.n_items, K, Q))
        if self.observed is not None:
            if np.dtype(dtype) == np.float32:  # cast and floor in one pass, into a new array
                w = np.maximum(weights, np.finfo(np.float32).tiny, dtype=np.float32)
            else:
                w = weights.astype(dtype, copy=False)
            counts[self.full_item, self.full_category] = self._observed_as(w.dtype).T @ w
            return counts
        # subnormal weights (far-tail posteriors) make the sparse product ~200x slower: flush them to zero, which
        # changes no count by more than 1e-308 of a person
        weights = np.where(weights < np.finfo(np.float64).tiny, 0.0, weights)
        upper = np.asarray(self.cat.T @ weights)
        counts[self.column_item, self.column_category] = upper
        total = (
            np.broadcast_to(weights.sum(axis=0), (self.n_items, Q))
            if self.mask is None
            else np.asarray(self.mask.T @ weights)
        )
        counts[:, 0] = total - counts[:, 1:].sum(axis=1)
        return counts


def _codes(labels: ArrayLike, order: Sequence[str] | None, what: str) -> tuple[NDArray[np.intp], list[str]]:
    """Map labels to 0-based codes, in ``order`` when given (unknown labels are an error)."""
    arr = np.asarray(labels)
    if order is None:
        uniq, idx = np.unique(arr.astype(str), return_inverse=True)
        return idx.astype(np.intp), uniq.tolist()
    order = [str(o) for o in order]
    known = np.array(order)
    sorter = np.argsort(known)
    strs = arr.astype(str)
    pos = np.searchsorted(known, strs, sorter=sorter).clip(max=len(order) - 1)
    idx = sorter[pos] if len(order) else np.zeros(strs.size, np.intp)
    unknown = (known[idx] != strs) if len(order) else np.ones(strs.size, bool)
    if np.any(unknown):
        bad = str(strs[np.flatnonzero(unknown)[0]])
        raise ResponseError(f"unknown {what} {bad!r} (not among the {len(order)} known {what}s)")
    return idx, order


def _who(person_ids: Sequence[str] | None, item_ids: Sequence[str] | None, p: int, i: int) -> str:
    person = person_ids[p] if person_ids is not None else f"row {p + 1}"
    item = item_ids[i] if item_ids is not None else f"item {i + 1}"
    return f"person {person!r}, item {item!r}"
