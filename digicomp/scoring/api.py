"""``digicomp.score``: θ and SE for one person or a million, from a bank or a parameter table."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import DigicompError, ResponseError
from digicomp.models import ItemParameters
from digicomp.responses import Responses
from digicomp.scoring.estimators import METHODS, Grid, eap, plausible_values, point_estimate
from digicomp.scoring.quadrature import DEFAULT_POINTS, Prior


@dataclass
class ScoreResult:
    """Per-person estimates: ``theta`` and ``se`` (posterior SD for EAP), with ids and flags.

    ``person_ids`` is None when the responses carried no ids (rows are then numbered from 1).
    """

    theta: NDArray[np.float64]
    se: NDArray[np.float64]
    method: str
    person_ids: list[str] | None
    n_responses: NDArray[np.int64]
    extreme: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    draws: NDArray[np.float64] | None = None

    def to_csv(self, path: str | Path | TextIO) -> None:
        """Write ``person, theta, se`` (plus ``pv1..`` for plausible values) as CSV to a path or open file."""
        if hasattr(path, "write"):
            self._write(path)
        else:
            with Path(path).open("w", newline="", encoding="utf-8") as fh:
                self._write(fh)

    def _write(self, fh: TextIO) -> None:
        extra = [] if self.draws is None else [f"pv{k + 1}" for k in range(self.draws.shape[1])]
        w = csv.writer(fh)
        w.writerow(["person", "theta", "se", *extra])
        ids = self.person_ids or [str(k + 1) for k in range(self.theta.size)]
        for k, pid in enumerate(ids):
            row = [pid, _fmt(self.theta[k]), _fmt(self.se[k])]
            if self.draws is not None:
                row += [_fmt(v) for v in self.draws[k]]
            w.writerow(row)

    def __len__(self) -> int:
        return self.theta.size


def _fmt(x: float) -> str:
    return "" if not np.isfinite(x) else f"{x:.6f}"


def as_item_parameters(source: Any) -> ItemParameters:
    """Accept ItemParameters or anything with a ``params`` attribute (an ItemBank); tables: :func:`digicomp.score`."""
    if isinstance(source, ItemParameters):
        return source
    if isinstance(getattr(source, "params", None), ItemParameters):
        return source.params
    raise DigicompError(
        f"bank_or_params = {type(source).__name__}: digicomp.scoring.score takes ItemParameters or an ItemBank; "
        "digicomp.score also reads parameter tables"
    )


def as_responses(data: Any, params: ItemParameters) -> Responses:
    """Accept Responses or an array (persons × items in the parameters' order); columns are aligned to the
    parameters' item ids when the data carry ids. Files and DataFrames: :func:`digicomp.score`."""
    if isinstance(data, Responses):
        resp = data
    elif isinstance(data, (str, PathLike)) or hasattr(data, "columns"):
        raise ResponseError(
            f"responses = {type(data).__name__}: digicomp.scoring.score takes Responses or an array; "
            "digicomp.score also reads CSV files and DataFrames"
        )
    else:
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2 or arr.shape[1] != params.n_items:
            raise ResponseError(
                f"responses have shape {arr.shape}; expected (persons, {params.n_items}) for these items"
            )
        resp = Responses.from_dense(arr, item_ids=params.ids)
    if resp.item_ids is not None and resp.item_ids != params.ids:
        resp = _align(resp, params.ids)
    if resp.n_items != params.n_items:
        raise ResponseError(f"responses cover {resp.n_items} items, the item parameters {params.n_items}")
    return resp


def _align(resp: Responses, ids: list[str]) -> Responses:
    pos = {i: k for k, i in enumerate(ids)}
    unknown = [i for i in resp.item_ids if i not in pos]
    if unknown:
        raise ResponseError(f"unknown item(s) in the responses: {', '.join(unknown[:5])}")
    remap = np.array([pos[i] for i in resp.item_ids], dtype=np.intp)
    items = remap[resp.item]
    order = np.lexsort((items, resp.person))
    return Responses(
        resp.person[order],
        items[order],
        resp.value[order],
        resp.n_persons,
        len(ids),
        resp.person_ids,
        ids,
        resp.weights,
    )


def score(
    bank_or_params: Any,
    responses: Any,
    method: str = "EAP",
    *,
    prior: Prior | None = None,
    n_points: int = DEFAULT_POINTS,
    theta_range: tuple[float, float] | None = None,
    n_draws: int = 5,
    rng: np.random.Generator | int | None = None,
    wle_se: str = "information",
) -> ScoreResult:
    """θ and SE per person by EAP, MAP, ML, WLE, or plausible values (``method="PV"``).

    ``bank_or_params``: an ItemBank or ItemParameters. ``responses``: Responses or an array (NaN / -1 = not
    administered). :func:`digicomp.score` (:mod:`digicomp.face.scoring`) also reads tables and response files.
    EAP uses ``n_points`` quadrature points on ``theta_range`` (default 61 on [-6, 6], mirt's calibration grid;
    mirt's fscores uses 121)
    and a N(0, 1) prior unless ``prior`` is given; ML/WLE estimates are bounded to that range and flagged
    ``extreme`` at the bound. For PV, ``theta``/``se`` are the EAP and posterior SD and ``draws`` holds
    ``n_draws`` plausible values per person. WLE standard errors: ``wle_se="information"`` (default) is
    1/sqrt(I(θ̂)); ``"penalized"`` is the curvature of the penalised objective log L + ½ log I, as mirt reports.
    """
    if getattr(bank_or_params, "mparams", None) is not None:  # a multidimensional bank: one θ per dimension
        from digicomp.scoring.multidim_score import score_bank

        seed = rng if isinstance(rng, (int, np.integer)) else 0
        return score_bank(
            bank_or_params, responses, method, n_points=None if n_points == DEFAULT_POINTS else n_points, seed=seed
        )
    method = method.upper()
    if method not in METHODS:
        raise DigicompError(f"unknown scoring method {method!r}; expected one of {', '.join(METHODS)}")
    params = as_item_parameters(bank_or_params)
    resp = as_responses(responses, params)
    grid = Grid.build(prior, n_points, theta_range)
    n_resp = resp.counts_per_person()
    ids = resp.person_ids
    extreme = np.zeros(resp.n_persons, bool)
    draws = None
    if method in ("EAP", "PV"):
        theta, se = eap(params, resp, grid)
        if method == "PV":
            draws = plausible_values(params, resp, grid, n_draws, np.random.default_rng(rng))
    else:
        theta, se, extreme = point_estimate(method, params, resp, grid, prior, wle_se)
    return ScoreResult(theta, se, method, ids, n_resp, extreme, draws)
