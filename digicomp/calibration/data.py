"""Calibration input: any response source to :class:`Responses`, models per item, and the bad-data rules.

Outcomes (documented in docs/calibration.md): an item nobody answered, or a free item with a response category
nobody chose (e.g. everyone right), is excluded with a :class:`DataWarning` naming it; a person left with no
responses is excluded with a warning naming the first few; persons with one response are kept (they inform
the marginal likelihood correctly); codes outside an item's categories and duplicated (person, item) rows are
a :class:`ResponseError`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import CalibrationError, DataWarning, ResponseError
from digicomp.models import MODELS, ItemParameters
from digicomp.models.names import model_name
from digicomp.models.parameters import DICHOTOMOUS_MODELS
from digicomp.responses import MAX_CODE, Responses


def as_responses(source: Any, weights: Any = None) -> Responses:
    """Responses from a Responses or an array (NaN/-1 missing); files and DataFrames are read by
    :func:`digicomp.calibrate` (:mod:`digicomp.face`)."""
    if isinstance(source, Responses):
        resp = source
    elif isinstance(source, (str, PathLike)) or hasattr(source, "columns"):
        raise CalibrationError(
            f"responses = {type(source).__name__}: digicomp.calibration.calibrate takes Responses or an array; "
            "digicomp.calibrate also reads CSV files and DataFrames"
        )
    else:
        resp = Responses.from_dense(np.asarray(source, dtype=float))
    if weights is not None:
        if resp.has_dense:
            resp = Responses(
                None,
                None,
                None,
                resp.n_persons,
                resp.n_items,
                resp.person_ids,
                resp.item_ids,
                weights,
                dense=resp.dense(),
            )
        else:
            resp = Responses(
                resp.person,
                resp.item,
                resp.value,
                resp.n_persons,
                resp.n_items,
                resp.person_ids,
                resp.item_ids,
                weights,
            )
    if resp.weights is not None and (np.any(~np.isfinite(resp.weights)) or np.any(resp.weights < 0)):
        raise ResponseError("frequency weights must be finite and non-negative")
    _check_codes(resp)
    return resp


def _check_codes(resp: Responses) -> None:
    """Refuse a code above MAX_CODE (the categories of an item are counted up to the largest code seen)."""
    values = resp.dense() if resp.has_dense else resp.value
    if values.size == 0 or int(values.max()) <= MAX_CODE:
        return
    if resp.has_dense:
        p, j = (int(x) for x in np.argwhere(values > MAX_CODE)[0])
        code = int(values[p, j])
    else:
        k = int(np.argmax(values > MAX_CODE))
        p, j, code = int(resp.person[k]), int(resp.item[k]), int(values[k])
    person = resp.person_ids[p] if resp.person_ids else f"row{p + 1}"
    item = resp.item_ids[j] if resp.item_ids else f"item{j + 1}"
    raise ResponseError(
        f"person {person!r}, item {item!r}: response {code} is above {MAX_CODE}, the largest code calibration "
        f"accepts (items have at most {MAX_CODE + 1} categories)"
    )


def as_fixed(fixed: Any) -> ItemParameters | None:
    """Fixed (anchor) item parameters from ItemParameters or an ItemBank (a bank path: :func:`digicomp.calibrate`)."""
    if fixed is None or isinstance(fixed, ItemParameters):
        return fixed
    if isinstance(getattr(fixed, "params", None), ItemParameters):
        return fixed.params
    raise CalibrationError(
        f"fixed = {type(fixed).__name__}: expected ItemParameters or an ItemBank (digicomp.calibrate also loads a "
        "bank path or id)"
    )


def item_models(model: str | Sequence[str] | Mapping[str, str], ids: list[str]) -> list[str]:
    """One model name per item from a name, a list in item order, or a mapping id → model."""
    if isinstance(model, str):
        models = [model] * len(ids)
    elif isinstance(model, Mapping):
        missing = [i for i in ids if i not in model]
        if missing:
            raise CalibrationError(f"model mapping has no entry for item(s) {', '.join(missing[:5])}")
        models = [model[i] for i in ids]
    else:
        models = list(model)
        if len(models) != len(ids):
            raise CalibrationError(f"{len(models)} models given for {len(ids)} items")
    for i, m in zip(ids, models):
        if m not in MODELS:
            raise CalibrationError(f"item {i!r}: model {m!r} is not one of {', '.join(MODELS)}")
    return models


@dataclass
class Prepared:
    """Clean data for the EM: responses over kept items/persons, their models, categories and fixed rows."""

    responses: Responses
    item_ids: list[str]
    models: list[str]
    n_categories: NDArray[np.intp]
    fixed_rows: NDArray[np.intp]  # positions (in kept items) of fixed items
    fixed_params: ItemParameters | None  # parameters of those items, same order
    excluded_items: dict[str, str]
    excluded_persons: list[str]
    counts: NDArray[np.float64]  # weighted category counts of the kept items (J, K)


def prepare(resp: Responses, model: Any, fixed: ItemParameters | None, n_categories: Any) -> Prepared:
    """Apply the bad-data rules and line up models, categories and fixed items with the data's items."""
    if fixed is not None and resp.item_ids is None:
        raise CalibrationError(
            f"fixed = {fixed.n_items} item(s) ({', '.join(fixed.ids[:3])}{', ...' if fixed.n_items > 3 else ''}) "
            "cannot be matched to the responses: the data carry no item ids, and fixed items are matched by id, "
            "never by position; give the data item ids (a CSV or DataFrame with item names, or "
            "Responses(..., item_ids=...))"
        )
    ids = resp.item_ids or [f"item{j + 1}" for j in range(resp.n_items)]
    pids = resp.person_ids or [f"row{p + 1}" for p in range(resp.n_persons)]
    fixed_pos = {i: k for k, i in enumerate(fixed.ids)} if fixed is not None else {}
    if fixed is not None and not any(i in fixed_pos for i in ids):
        raise CalibrationError(
            f"fixed: none of the {fixed.n_items} fixed item id(s) ({', '.join(fixed.ids[:3])}"
            f"{', ...' if fixed.n_items > 3 else ''}) is among the responses' items ({', '.join(ids[:3])}"
            f"{', ...' if len(ids) > 3 else ''}); nothing would be anchored"
        )
    is_fixed = np.array([i in fixed_pos for i in ids], dtype=bool)
    if isinstance(model, Mapping):
        model = {**{i: "2PL" for i in ids if i in fixed_pos}, **model}  # fixed items take the bank's model
    models = item_models(model, ids)
    for j in np.flatnonzero(is_fixed):
        models[j] = str(fixed.models[fixed_pos[ids[j]]])
    weights = np.ones(resp.n_persons) if resp.weights is None else resp.weights
    counts = category_counts(resp, weights)
    seen = counts > 0
    observed_max = np.where(seen.any(axis=1), seen.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1), -1)
    K = np.empty(resp.n_items, dtype=np.intp)
    for j, m in enumerate(models):
        if m == "Rasch" and not is_fixed[j] and observed_max[j] > 1:  # R mirt's Rasch on a polytomous item
            models[j] = m = model_name(m, polytomous=True)
        if is_fixed[j]:
            K[j] = fixed.n_categories[fixed_pos[ids[j]]]
        elif m in DICHOTOMOUS_MODELS:
            K[j] = 2
        elif isinstance(n_categories, Mapping):
            K[j] = int(n_categories.get(ids[j], observed_max[j] + 1))
        elif n_categories is not None:
            K[j] = int(n_categories)
        else:
            K[j] = max(observed_max[j] + 1, 2)
    named = _relabel(resp, pids, ids)
    named.check_categories(K)
    counts = np.pad(counts, ((0, 0), (0, max(int(K.max()) - counts.shape[1], 0))))
    excluded: dict[str, str] = {}
    for j in range(resp.n_items):
        if counts[j].sum() == 0:
            excluded[ids[j]] = "nobody answered it"
        elif not is_fixed[j]:
            empty = np.flatnonzero(counts[j, : K[j]] == 0)
            if empty.size:
                cats = ", ".join(str(c) for c in empty)
                excluded[ids[j]] = f"no response in category {cats} of 0..{K[j] - 1} (its parameters would be infinite)"
    for i, why in excluded.items():
        warnings.warn(f"item {i!r} excluded from calibration: {why}", DataWarning, stacklevel=3)
    keep_items = np.array([i not in excluded for i in ids], dtype=bool)
    if not np.any(keep_items & ~is_fixed):
        if not np.any(~is_fixed):
            raise CalibrationError(
                f"every item of the responses ({len(ids)}) is fixed: there is nothing to calibrate (to estimate "
                "persons' θ with fixed item parameters, use digicomp.score)"
            )
        raise CalibrationError("no item left to calibrate after the exclusions above")
    if resp.has_dense:
        n_per_person = (resp.dense()[:, keep_items] >= 0).sum(axis=1)
    else:
        n_per_person = np.bincount(resp.person[keep_items[resp.item]], minlength=resp.n_persons)
    keep_persons = n_per_person > 0
    dropped = [pids[p] for p in np.flatnonzero(~keep_persons)]
    if dropped:
        head = ", ".join(repr(p) for p in dropped[:5])
        warnings.warn(
            f"{len(dropped)} person(s) excluded: no response to a calibrated item ({head}"
            f"{', ...' if len(dropped) > 5 else ''})",
            DataWarning,
            stacklevel=3,
        )
    kept_ids = [i for i, k in zip(ids, keep_items) if k]
    kept_pids = [p for p, k in zip(pids, keep_persons) if k]
    kept_w = None if resp.weights is None else resp.weights[keep_persons]
    all_kept = bool(keep_items.all() and keep_persons.all())
    if resp.has_dense:
        dense = resp.dense() if all_kept else resp.dense()[np.ix_(keep_persons, keep_items)]
        clean = Responses(None, None, None, dense.shape[0], dense.shape[1], kept_pids, kept_ids, kept_w, dense=dense)
    elif all_kept:
        clean = _relabel(resp, kept_pids, kept_ids)
    else:
        item_map = np.cumsum(keep_items) - 1
        person_map = np.cumsum(keep_persons) - 1
        sel = keep_items[resp.item] & keep_persons[resp.person]
        clean = Responses(
            person_map[resp.person[sel]],
            item_map[resp.item[sel]],
            resp.value[sel],
            int(keep_persons.sum()),
            int(keep_items.sum()),
            kept_pids,
            kept_ids,
            kept_w,
        )
    kept_models = [m for m, k in zip(models, keep_items) if k]
    fixed_rows = np.flatnonzero(is_fixed[keep_items])
    fixed_params = fixed.subset([fixed_pos[kept_ids[r]] for r in fixed_rows]) if fixed_rows.size else None
    kept_counts = category_counts(clean, np.ones(clean.n_persons) if kept_w is None else kept_w)
    kept_counts = np.pad(kept_counts, ((0, 0), (0, max(int(K.max()) - kept_counts.shape[1], 0))))
    return Prepared(
        clean, kept_ids, kept_models, K[keep_items], fixed_rows, fixed_params, excluded, dropped, kept_counts
    )


def category_counts(resp: Responses, weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Weighted number of responses in each category of each item, (n_items, max code + 1)."""
    if resp.has_dense:
        dense = resp.dense()
        top = int(dense.max(initial=0))
        return np.column_stack([weights @ (dense == c) for c in range(top + 1)]).astype(float)
    top = int(resp.value.max(initial=0))
    flat = np.bincount(
        resp.item * (top + 1) + resp.value, weights=weights[resp.person], minlength=resp.n_items * (top + 1)
    )
    return flat.reshape(resp.n_items, top + 1)


def _relabel(resp: Responses, person_ids: list[str], item_ids: list[str]) -> Responses:
    """The same responses with ids attached (no copy of the data)."""
    if resp.has_dense:
        return Responses(
            None, None, None, resp.n_persons, resp.n_items, person_ids, item_ids, resp.weights, dense=resp.dense()
        )
    return Responses(
        resp.person, resp.item, resp.value, resp.n_persons, resp.n_items, person_ids, item_ids, resp.weights
    )
