"""Item parameters of a whole bank as contiguous arrays, one block per model family.

Parameters are held in slope-intercept form (the form the math uses); the file form that
psychometricians read (a, b, c, d with a scaling constant D) converts exactly both ways.
Every probability, information and derivative method broadcasts over any θ shape S and returns
arrays shaped S + (n_items, K) or S + (n_items,), where K is the largest number of categories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.errors import ParameterError
from digicomp.models import dichotomous, graded, partial_credit
from digicomp.models.logistic import sigmoid
from digicomp.models.names import DICHOTOMOUS_MODELS, MODELS, model_name

_FAMILY = {**{m: "dichotomous" for m in DICHOTOMOUS_MODELS}, "GRM": "graded", "GPCM": "gpcm", "PCM": "gpcm"}


_FAMILY_CODE = {"dichotomous": 0, "gpcm": 1, "graded": 2}


@dataclass(frozen=True)
class _Block:
    """Items of one model family: their positions in the bank and their slope-intercept parameters."""

    family: str
    index: NDArray[np.intp]
    n_categories: int


def _as_1d(values: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ParameterError(f"parameter {name!r} has shape {arr.shape}, expected ({n},)")
    return arr.copy()


def _thresholds(values: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1 and n == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ParameterError(f"parameter {name!r} has shape {arr.shape}, expected ({n}, categories - 1)")
    return arr.copy()


class ItemParameters:
    """A bank's item parameters: slope, intercepts, lower and upper asymptotes as arrays.

    Build with :meth:`dichotomous`, :meth:`graded`, :meth:`partial_credit`, :meth:`from_file_form`
    or :meth:`concat`; the constructor takes slope-intercept arrays directly.
    """

    def __init__(
        self,
        models: Sequence[str],
        slope: ArrayLike,
        intercepts: ArrayLike,
        lower: ArrayLike | None = None,
        upper: ArrayLike | None = None,
        D: float = 1.0,
        ids: Sequence[str] | None = None,
    ) -> None:
        models = list(models)
        n = len(models)
        self.ids: list[str] = [f"item{j + 1}" for j in range(n)] if ids is None else [str(i) for i in ids]
        if len(self.ids) != n:
            raise ParameterError(f"{len(self.ids)} item ids given for {n} items")
        if len(set(self.ids)) != n:
            dup = sorted({i for i in self.ids if self.ids.count(i) > 1})
            raise ParameterError(f"duplicate item ids: {', '.join(dup)}")
        for j, m in enumerate(models):
            if m not in _FAMILY:
                models[j] = model_name(m, where=f"item {self.ids[j]!r}: field 'model'")
        if not (np.isfinite(D) and D > 0):
            raise ParameterError(f"scaling constant D = {D!r} must be a positive number (1.0 or 1.702)")
        self.D = float(D)
        self.models = np.array(models, dtype=object)
        self.slope = _as_1d(slope, n, "slope")
        icpt = np.asarray(intercepts, dtype=float)
        if icpt.ndim == 1:
            icpt = icpt[:, None]
        if icpt.shape[0] != n:
            raise ParameterError(f"intercepts have {icpt.shape[0]} rows for {n} items")
        self.intercepts = np.ascontiguousarray(icpt)
        self.lower = np.zeros(n) if lower is None else _as_1d(lower, n, "lower")
        self.upper = np.ones(n) if upper is None else _as_1d(upper, n, "upper")
        family = np.array([_FAMILY[m] for m in models], dtype=object)
        n_steps = (~np.isnan(self.intercepts)).sum(axis=1) if self.intercepts.size else np.zeros(n, int)
        self.n_categories = np.where(family == "dichotomous", 2, n_steps + 1).astype(np.intp)
        self._family = family
        self._family_code = np.searchsorted(np.array(["dichotomous", "gpcm", "graded"]), family.astype(str)).astype(
            np.int8
        )
        self._blocks = [
            _Block(fam, np.flatnonzero(family == fam), int(self.n_categories[family == fam].max()))
            for fam in ("dichotomous", "graded", "gpcm")
            if np.any(family == fam)
        ]
        self._check()

    # ----------------------------------------------------------------- construction
    @classmethod
    def dichotomous(
        cls,
        a: ArrayLike,
        b: ArrayLike,
        c: ArrayLike = 0.0,
        d: ArrayLike = 1.0,
        D: float = 1.0,
        ids: Sequence[str] | None = None,
        model: str | Sequence[str] | None = None,
    ) -> ItemParameters:
        """1–4PL items from file-form a, b, c, d; the model name per item defaults to the simplest that fits."""
        b = np.atleast_1d(np.asarray(b, dtype=float))
        n = b.shape[0]
        a, c, d = _as_1d(a, n, "a"), _as_1d(c, n, "c"), _as_1d(d, n, "d")
        if model is None:
            models = np.where(d < 1, "4PL", np.where(c > 0, "3PL", "2PL")).tolist()
        elif isinstance(model, str):
            models = [model] * n
        else:
            models = list(model)
        cls._check_file_values(ids, n, a=a, b=b)
        slope, icpt = dichotomous.to_intercept(a, b, D)
        return cls(models, slope, icpt[:, None], c, d, D=D, ids=ids)

    @classmethod
    def graded(cls, a: ArrayLike, b: ArrayLike, D: float = 1.0, ids: Sequence[str] | None = None) -> ItemParameters:
        """Graded response items from slopes and increasing thresholds b (n, K-1), NaN-padded."""
        a_arr = np.atleast_1d(np.asarray(a, dtype=float))
        n = a_arr.shape[0]
        b_arr = _thresholds(b, n, "b")
        cls._check_file_values(ids, n, a=a_arr)
        slope = D * a_arr
        return cls(["GRM"] * n, slope, -slope[:, None] * b_arr, D=D, ids=ids)

    @classmethod
    def partial_credit(
        cls,
        a: ArrayLike,
        b: ArrayLike,
        D: float = 1.0,
        ids: Sequence[str] | None = None,
        model: str = "GPCM",
    ) -> ItemParameters:
        """(Generalized) partial credit items from slopes and step parameters b (n, K-1), NaN-padded."""
        b_arr = np.asarray(b, dtype=float)
        n = b_arr.shape[0] if b_arr.ndim == 2 else 1
        a_arr = _as_1d(a, n, "a")
        b_arr = _thresholds(b_arr, n, "b")
        cls._check_file_values(ids, n, a=a_arr)
        slope = D * a_arr
        model = model_name(model, polytomous=True, where="partial_credit(model=...)")
        return cls([model] * n, slope, -slope[:, None] * partial_credit.cumulative_steps(b_arr), D=D, ids=ids)

    @classmethod
    def from_file_form(cls, records: Sequence[dict[str, Any]], D: float = 1.0) -> ItemParameters:
        """Items from dicts {"id", "model", "a", "b", "c", "d"} (b a list for polytomous models)."""
        if not records:
            raise ParameterError("no items given")
        width = max(np.size(r.get("b", 0.0)) for r in records)
        n = len(records)
        slope, lower, upper = np.empty(n), np.zeros(n), np.ones(n)
        icpt = np.full((n, max(width, 1)), np.nan)
        models, ids = [], []
        for j, rec in enumerate(records):
            ident = str(rec.get("id", f"item{j + 1}"))
            if "b" not in rec:
                raise ParameterError(f"item {ident!r}: field 'b' is missing")
            polytomous = np.size(rec["b"]) > 1 or isinstance(rec["b"], (list, tuple))
            model = model_name(rec.get("model", "2PL"), polytomous=polytomous, where=f"item {ident!r}: field 'model'")
            a = float(rec.get("a", 1.0))
            b = np.atleast_1d(np.asarray(rec["b"], dtype=float))
            cls._check_file_values([ident], 1, a=np.array([a]), b=b)
            slope[j] = D * a
            if _FAMILY[model] == "dichotomous":
                if b.size != 1:
                    raise ParameterError(f"item {ident!r}: field 'b' must be one number for model {model}")
                icpt[j, 0] = -D * a * b[0]
                lower[j] = float(rec.get("c", 0.0))
                upper[j] = float(rec.get("d", 1.0))
            elif model == "GRM":
                icpt[j, : b.size] = -D * a * b
            else:
                icpt[j, : b.size] = -D * a * np.cumsum(b)
            models.append(model)
            ids.append(ident)
        return cls(models, slope, icpt, lower, upper, D=D, ids=ids)

    @classmethod
    def concat(cls, parts: Sequence[ItemParameters]) -> ItemParameters:
        """Join banks (same D) into one, keeping item order."""
        if not parts:
            raise ParameterError("nothing to concatenate")
        D = parts[0].D
        if any(p.D != D for p in parts):
            raise ParameterError("cannot concatenate item parameters with different scaling constants D")
        width = max(p.intercepts.shape[1] for p in parts)
        icpt = np.vstack(
            [np.pad(p.intercepts, ((0, 0), (0, width - p.intercepts.shape[1])), constant_values=np.nan) for p in parts]
        )
        return cls(
            np.concatenate([p.models for p in parts]).tolist(),
            np.concatenate([p.slope for p in parts]),
            icpt,
            np.concatenate([p.lower for p in parts]),
            np.concatenate([p.upper for p in parts]),
            D=D,
            ids=[i for p in parts for i in p.ids],
        )

    def subset(self, index: ArrayLike) -> ItemParameters:
        """The items at ``index`` (integer positions or a boolean mask), in that order."""
        idx = np.arange(self.n_items)[np.asarray(index)]
        width = max(int(self.n_categories[idx].max()) - 1, 1) if idx.size else 1
        return ItemParameters(
            self.models[idx].tolist(),
            self.slope[idx],
            self.intercepts[idx, :width],
            self.lower[idx],
            self.upper[idx],
            D=self.D,
            ids=[self.ids[j] for j in idx],
        )

    # ----------------------------------------------------------------- file form
    def to_file_form(self) -> list[dict[str, Any]]:
        """Per-item dicts {"id", "model", "a", "b", "c", "d"}: the inverse of :meth:`from_file_form`."""
        out = []
        for j in range(self.n_items):
            a = self.slope[j] / self.D
            model = str(self.models[j])
            k = int(self.n_categories[j]) - 1
            rec: dict[str, Any] = {"id": self.ids[j], "model": model, "a": float(a)}
            if _FAMILY[model] == "dichotomous":
                rec["b"] = float(-self.intercepts[j, 0] / self.slope[j])
                rec["c"] = float(self.lower[j])
                rec["d"] = float(self.upper[j])
            elif model == "GRM":
                rec["b"] = (-self.intercepts[j, :k] / self.slope[j]).tolist()
            else:
                cum = -self.intercepts[j, :k] / self.slope[j]
                rec["b"] = partial_credit.steps_from_cumulative(cum).tolist()
            out.append(rec)
        return out

    # ----------------------------------------------------------------- validation
    @staticmethod
    def _check_file_values(ids: Sequence[str] | None, n: int, **fields: NDArray[np.float64]) -> None:
        for name, values in fields.items():
            bad = ~np.isfinite(values)
            if name == "a":
                bad |= values <= 0
            if np.any(bad):
                rows = np.flatnonzero(bad.reshape(n, -1).any(axis=1)) if values.size % max(n, 1) == 0 else [0]
                j = int(rows[0])
                who = ids[j] if ids is not None else f"item{j + 1}"
                expected = "a positive finite number" if name == "a" else "finite numbers"
                raise ParameterError(
                    f"item {who!r}: field {name!r} = {values.reshape(n, -1)[j].tolist()} must be {expected}"
                )

    def _fail(self, j: int, field: str, message: str) -> None:
        raise ParameterError(f"item {self.ids[j]!r} ({self.models[j]}): field {field!r} {message}")

    def _check(self) -> None:
        """Raise ParameterError naming the first item whose parameters do not fit its model."""
        fam = self._family
        for j in np.flatnonzero(~np.isfinite(self.slope) | (self.slope <= 0)):
            self._fail(int(j), "a", f"= {self.slope[j] / self.D:g} must be a positive finite number")
        for model in ("Rasch", "PCM"):
            rows = np.flatnonzero((self.models == model) & ~np.isclose(self.slope / self.D, 1.0))
            if rows.size:
                self._fail(int(rows[0]), "a", f"= {self.slope[rows[0]] / self.D:g} must be 1 for the {model} model")
        dich = fam == "dichotomous"
        for j in np.flatnonzero(dich & ~np.isfinite(self.intercepts[:, 0])):
            self._fail(int(j), "b", "must be a finite number")
        for j in np.flatnonzero(dich & ~((self.lower >= 0) & (self.lower < 1))):
            self._fail(int(j), "c", f"= {self.lower[j]:g} must lie in [0, 1)")
        for j in np.flatnonzero(dich & ~((self.upper > self.lower) & (self.upper <= 1))):
            self._fail(int(j), "d", f"= {self.upper[j]:g} must lie in (c, 1] (c = {self.lower[j]:g})")
        for j in np.flatnonzero(~dich & ((self.lower != 0) | (self.upper != 1))):
            self._fail(int(j), "c", "is only defined for dichotomous models")
        for j in np.flatnonzero(~dich):
            k = int(self.n_categories[j]) - 1
            row = self.intercepts[j]
            if k < 1 or not np.all(np.isfinite(row[:k])) or np.any(~np.isnan(row[k:])):
                self._fail(int(j), "b", "must be finite thresholds, one fewer than the categories, padded at the end")
            if fam[j] == "graded" and np.any(np.diff(row[:k]) >= 0):
                b = (-row[:k] / self.slope[j]).round(4).tolist()
                self._fail(int(j), "b", f"= {b} must be strictly increasing for the graded response model")

    # ----------------------------------------------------------------- basic facts
    @property
    def n_items(self) -> int:
        """Number of items."""
        return len(self.ids)

    @property
    def max_categories(self) -> int:
        """Largest number of response categories among the items."""
        return int(self.n_categories.max()) if self.n_items else 0

    @property
    def is_dichotomous(self) -> bool:
        """True when every item scores 0/1."""
        return bool(np.all(self._family == "dichotomous"))

    def __len__(self) -> int:
        return self.n_items

    def __repr__(self) -> str:
        kinds = ", ".join(f"{m}: {int((self.models == m).sum())}" for m in MODELS if np.any(self.models == m))
        return f"ItemParameters({self.n_items} items; {kinds}; D={self.D:g})"

    # ----------------------------------------------------------------- the math
    def _apply(self, theta: ArrayLike, which: str, items: NDArray[np.intp] | None = None) -> list[NDArray[np.float64]]:
        """Evaluate each family block and scatter into (log P, d log P, d² log P) arrays.

        Without ``items`` the result is S + (n_items, K) for θ of shape S (every θ with every item);
        with ``items`` θ and items pair up elementwise and the result is θ.shape + (K,).
        """
        th = np.asarray(theta, dtype=float)
        K = self.max_categories
        if items is None:
            shape = th.shape + (self.n_items, K)
        else:
            items = np.asarray(items, dtype=np.intp)
            th = np.broadcast_to(th, items.shape)
            shape = items.shape + (K,)
        n_out = 1 if which == "log_prob" else 3
        if items is not None and len(self._blocks) == 1 and self._blocks[0].n_categories == K:
            # one family with one number of categories (a 2PL bank): its arrays are the result, with no scatter
            # into prefilled (observations × K) arrays
            return list(self._block_values(self._blocks[0], items, th, n_out))
        outs = [np.full(shape, -np.inf)] + [np.zeros(shape) for _ in range(n_out - 1)]
        for blk in self._blocks:
            k = blk.n_categories
            if items is None:
                i, where, t = blk.index, (Ellipsis, blk.index, slice(0, k)), th[..., None]
            else:
                sel = self._family_code[items] == _FAMILY_CODE[blk.family]
                i, where, t = items[sel], (sel, slice(0, k)), th[sel]
            for out, val in zip(outs, self._block_values(blk, i, t, n_out)):
                out[where] = val
        return outs

    def _block_values(self, blk: Any, i: NDArray[np.intp], t: NDArray[np.float64], n_out: int) -> tuple:
        """(log P,) or (log P, ∂, ∂²) of one family block's items ``i`` at θ ``t``."""
        k = blk.n_categories
        if blk.family == "dichotomous":
            args = (t, self.slope[i], self.intercepts[i, 0], self.lower[i], self.upper[i])
            mod = dichotomous
        else:
            args = (t, self.slope[i], self.intercepts[i, : k - 1])
            mod = graded if blk.family == "graded" else partial_credit
        return (mod.log_prob(*args),) if n_out == 1 else mod.components(*args)

    def log_prob(self, theta: ArrayLike) -> NDArray[np.float64]:
        """log P(x = k | θ) shaped S + (n_items, K); -inf for categories an item does not have."""
        return self._apply(theta, "log_prob")[0]

    def prob(self, theta: ArrayLike) -> NDArray[np.float64]:
        """P(x = k | θ) shaped S + (n_items, K); rows sum to 1."""
        return np.exp(self.log_prob(theta))

    def derivatives(
        self, theta: ArrayLike, items: ArrayLike | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(log P, ∂ log P/∂θ, ∂² log P/∂θ²), what ML/MAP/WLE Newton steps need.

        Shaped S + (n_items, K); with ``items`` (same shape as θ) each θ is paired with one item: θ.shape + (K,).
        """
        idx = None if items is None else np.asarray(items, dtype=np.intp)
        lp, dl, d2l = self._apply(theta, "components", idx)
        return lp, dl, d2l

    def information(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Fisher information of each item, I_j(θ) = Σ_k P_k (∂ log P_k/∂θ)², shaped S + (n_items,)."""
        lp, dl, _ = self._apply(theta, "components")
        return (np.exp(lp) * dl**2).sum(axis=-1)

    def prob_at(self, theta: ArrayLike, items: ArrayLike) -> NDArray[np.float64]:
        """P(x = k | θ_i) of item ``items[i]`` for paired θ and items, shaped items.shape + (K,).

        One θ per item: what answering or scoring one response per person needs, never the (persons × items)
        table. All-dichotomous banks take the closed form directly.
        """
        idx = np.asarray(items, dtype=np.intp)
        th = np.asarray(theta, dtype=float)
        if self.is_dichotomous:
            z = self.slope[idx] * th + self.intercepts[idx, 0]
            p1 = self.lower[idx] + (self.upper[idx] - self.lower[idx]) * sigmoid(z)
            return np.stack([1.0 - p1, p1], axis=-1)
        return np.exp(self._apply(th, "log_prob", idx)[0])

    def expected_score(self, theta: ArrayLike) -> NDArray[np.float64]:
        """E[x | θ] per item (the probability of a correct answer for 0/1 items), S + (n_items,)."""
        p = self.prob(theta)
        return (p * np.arange(p.shape[-1])).sum(axis=-1)

    def simulate(self, theta: ArrayLike, rng: np.random.Generator | int | None = None) -> NDArray[np.int64]:
        """Draw responses (categories 0..K_j-1) for every θ and item, shaped S + (n_items,)."""
        rng = np.random.default_rng(rng)
        cum = np.cumsum(self.prob(theta), axis=-1)
        u = rng.random(cum.shape[:-1] + (1,))
        draws = (cum < u).sum(axis=-1)
        return np.minimum(draws, self.n_categories - 1).astype(np.int64)
