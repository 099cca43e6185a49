"""Simulation against a multidimensional truth: per-area bias, RMSE and level accuracy of any design.

The truth is a multidimensional bank (correlated areas, or a general factor plus areas) and true θ drawn from its
latent normal (or another correlation matrix). Every design runs through its own engine core in lock-step, with
answers drawn from the true items (matched by item id) by the same counter-based uniforms as a live session:

* a multidimensional design (:mod:`digicomp.cat.multidim`) is scored from the joint posterior by its
  ``scoring.method`` (EAP: tensor grid up to 3 dimensions, QMC above; or MAP);
* a unidimensional design is scored as its report does: each area's EAP from that area's items only
  (:func:`digicomp.simulation.runner.area_scores`) — what it can say per area.

The true value of an area is its dimension's θ; under a bifactor truth it is what the area's items measure on
the θ scale, (ā_g θ_g + ā_s θ_s) / (ā_g + ā_s) with ā the mean slopes of the area's items.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.cat.draws import STREAM_RESPONSE, uniforms
from digicomp.cat.engine import AdaptiveTest
from digicomp.cat.state import BatchState
from digicomp.errors import BankError, ParameterError
from digicomp.levels import level_index
from digicomp.models import multidim
from digicomp.scoring.multidim import MultidimItems, latent
from digicomp.scoring.multidim_score import score_answers
from digicomp.simulation.responder import category_from_uniform
from digicomp.simulation.runner import area_scores


def draw_multidim_thetas(correlation: ArrayLike, n: int, seed: int, mean: ArrayLike | None = None) -> NDArray:
    """``n`` true θ (n, K) from N(mean, correlation), reproducible from ``seed``."""
    R = np.asarray(correlation, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1]:
        raise ParameterError(f"correlation: expected a square matrix, got shape {R.shape}")
    try:
        L = np.linalg.cholesky(R)
    except np.linalg.LinAlgError:
        raise ParameterError("correlation: the matrix is not positive definite") from None
    m = np.zeros(R.shape[0]) if mean is None else np.asarray(mean, dtype=float)
    return m + np.random.default_rng(seed).standard_normal((n, R.shape[0])) @ L.T


@dataclass(frozen=True)
class MultidimResponder:
    """Answers of a batch whose row r has true θ ``theta[r]`` (K,), from the true ``items``.

    ``items_to_true`` maps the design bank's positions to the true items (by id)."""

    items: MultidimItems
    theta: NDArray[np.float64]
    items_to_true: NDArray[np.intp]

    def __call__(self, state: BatchState, rows: NDArray[np.intp], items: NDArray[np.intp]) -> NDArray[np.int64]:
        """Scored categories of ``rows``' answers to ``items`` (the engine's Responder protocol)."""
        it = self.items
        j = self.items_to_true[items]
        t = np.einsum("pk,pk->p", self.theta[rows], it.a[j])
        u = uniforms(state.keys[rows], state.n_given[rows], STREAM_RESPONSE)
        out = np.empty(rows.size, np.int64)
        for f in np.unique(it.family[j]):
            sel = it.family[j] == f
            js = j[sel]
            if f == "dichotomous":
                lp, _, _ = multidim.predictor_components(
                    t[sel], it.intercepts[js, 0], it.c[js], it.u[js], "dichotomous"
                )
            else:
                width = max(int(it.n_categories[js].max()) - 1, 1)
                lp, _, _ = multidim.predictor_components(t[sel], it.intercepts[js, :width], family=str(f))
            out[sel] = category_from_uniform(u[sel], np.exp(lp))
        return out


def _item_map(design_ids: list[str], true_ids: list[str], allowed: NDArray[np.bool_]) -> NDArray[np.intp]:
    """Position in the truth of each design-bank item; every item the design may give must be there."""
    where = {i: k for k, i in enumerate(true_ids)}
    missing = [i for i, ok in zip(design_ids, allowed) if ok and i not in where]
    if missing:
        raise BankError(
            f"truth: has no items {missing[:5]} ({len(missing)} of the items the design may give); exclude them "
            "in the design's content.exclude.ids or add them to the truth"
        )
    return np.array([where.get(i, -1) for i in design_ids], dtype=np.intp)


def area_truth(truth: Any, theta: NDArray[np.float64]) -> tuple[list[str], NDArray[np.float64]]:
    """(area codes, true value of each area per person (n, G)) of a multidimensional truth bank."""
    dims = truth.dims
    codes = [a for a in dims.area if a is not None]
    cols = [dims.area.index(c) for c in codes]
    if dims.general is None:
        return codes, theta[:, cols]
    a = truth.mparams.a
    out = np.empty((theta.shape[0], len(codes)))
    for g, k in enumerate(cols):
        own = a[:, k] > 0
        ag, as_ = a[own, dims.general].mean(), a[own, k].mean()
        out[:, g] = (ag * theta[:, dims.general] + as_ * theta[:, k]) / (ag + as_)
    return codes, out


@dataclass
class AreaResult:
    """One design's per-person area estimates against the truth, and its per-area table."""

    name: str
    areas: list[str]
    truth: NDArray[np.float64]
    estimate: NDArray[np.float64]
    se: NDArray[np.float64]
    n_items: NDArray[np.intp]
    cuts: NDArray[np.float64]
    area_items: NDArray[np.intp] | None = None
    """Items of each area each person answered (n, G), when known."""
    log_likelihood: NDArray[np.float64] | None = None
    """Each area's own-items log-likelihood (n, G, Q) at ``nodes``: a unidimensional design's sub-scores, or a
    multidimensional design's own items of each dimension when its bank has simple structure (None otherwise)."""
    nodes: NDArray[np.float64] | None = None

    def table(self) -> list[dict[str, float]]:
        """Per area: bias, RMSE, mean SE, level accuracy (share of persons whose level is right) and the mean number
        of the area's items answered (NaN when not known)."""
        err = self.estimate - self.truth
        right = level_index(self.estimate, self.cuts) == level_index(self.truth, self.cuts)
        counts = self.area_items if self.area_items is not None else np.full(self.truth.shape, np.nan)
        return [
            {
                "area": code,
                "bias": float(err[:, g].mean()),
                "rmse": float(np.sqrt((err[:, g] ** 2).mean())),
                "mean_se": float(self.se[:, g].mean()),
                "level_accuracy": float(right[:, g].mean()),
                "mean_items": float(counts[:, g].mean()),
            }
            for g, code in enumerate(self.areas)
        ]

    @property
    def mean_length(self) -> float:
        """Mean number of items."""
        return float(self.n_items.mean())


def simulate_areas(
    engine: AdaptiveTest,
    truth: Any,
    theta: NDArray[np.float64],
    seed: int = 0,
    name: str | None = None,
    chunk_size: int = 1000,
) -> AreaResult:
    """Run ``engine``'s design for persons with true θ ``theta`` (n, K) under the multidimensional ``truth`` bank."""
    if truth.dims is None:
        raise BankError(f"truth: bank {truth.id!r} is not multidimensional (it has no dimensions block)")
    codes, true_area = area_truth(truth, theta)
    cuts = truth.cut_scores
    mapping = _item_map(engine.bank.ids, truth.ids, engine.core.content.allowed)
    parts = []
    for lo in range(0, theta.shape[0], chunk_size):
        persons = np.arange(lo, min(lo + chunk_size, theta.shape[0]))
        parts.append(_run(engine, truth, theta, persons, mapping, codes, seed))
    est, se, n_items, counts = (np.concatenate([p[i] for p in parts]) for i in range(4))
    loglik = np.concatenate([p[4] for p in parts]) if parts and parts[0][4] is not None else None
    nodes = None if loglik is None else np.asarray(engine.core.tables.points, float)
    return AreaResult(name or engine.design.id, codes, true_area, est, se, n_items, cuts, counts, loglik, nodes)


def _area_counts(bank: Any, sequence: NDArray[np.intp], codes: list[str]) -> NDArray[np.intp]:
    """Items of each area in ``codes`` answered per person (n, G), from the design bank's area tags."""
    group = np.array([codes.index(bank.areas[g]) if bank.areas[g] in codes else -1 for g in bank.area_index])
    g = np.where(sequence >= 0, group[np.maximum(sequence, 0)], -1)
    return (g[:, :, None] == np.arange(len(codes))[None, None, :]).sum(axis=1)


def _own_dimension_loglik(
    bank: Any, points: NDArray[np.float64], sequence: NDArray[np.intp], responses: NDArray[np.int64], cols: list[int]
) -> NDArray[np.float64] | None:
    """Each person's own-items log-likelihood of each dimension in ``cols`` (n, G, Q) at ``points``, from the
    answered items (``sequence`` −1 where none) and their categories; None when the bank's likelihood does not
    factor by dimension (a general dimension or items loading on several): then an area has no such curve."""
    dims, m = bank.dims, bank.mparams
    if dims.general is not None:
        return None
    try:
        lp = multidim.own_dimension_log_prob(points, m.a, m.intercepts, m.c, m.u, m.models)  # (Q, J, C)
    except ParameterError:
        return None
    table = np.moveaxis(lp, 0, -1)  # (J, C, Q)
    given = sequence >= 0
    j = np.where(given, sequence, 0)
    ll = table[j, np.where(given, responses, 0)] * given[..., None]  # (n, L, Q); category 0 exists for every item
    dim = np.argmax(np.asarray(m.a) != 0, axis=1)
    member = (dim[j][..., None] == np.asarray(cols)) & given[..., None]  # (n, L, G)
    return np.einsum("nlg,nlq->ngq", member.astype(float), ll)


def _run(engine, truth, theta, persons, mapping, codes, seed):
    core = engine.core
    state = engine.new_batch(persons.size, seed, persons=persons)
    core.run(state, MultidimResponder(truth.mparams, theta[persons], mapping))
    core.finish(state)
    model = getattr(core, "model", None)
    if model is not None:
        dims = engine.bank.dims
        width = max(int(state.n_given.max()), 1)
        method = "MAP" if engine.design.scoring.method == "MAP" else "EAP"
        res = score_answers(
            model.items,
            state.sequence[:, :width],
            state.responses[:, :width],
            model.prior,
            dims.ids,
            dims.weights,
            method=method,
            seed=seed,
            mode=(state.mtheta, state.mcov),
            general=dims.general,
        )
        cols = [dims.area.index(c) for c in codes]
        counts = _area_counts(engine.bank, state.sequence, codes)
        loglik = _own_dimension_loglik(
            engine.bank, core.tables.points, state.sequence[:, :width], state.responses[:, :width], cols
        )
        return res.theta[:, cols], res.se[:, cols], state.n_given.copy(), counts, loglik
    bank = engine.bank
    mean, sd, _, loglik = area_scores(
        core.tables, state.sequence, state.responses, bank.area_index, len(bank.areas), log_likelihood=True
    )
    cols = [bank.areas.index(c) if c in bank.areas else -1 for c in codes]
    if min(cols) < 0:
        raise BankError(f"design bank {bank.id!r} has no items in areas {[c for c, k in zip(codes, cols) if k < 0]}")
    counts = _area_counts(bank, state.sequence, codes)
    return mean[:, cols], sd[:, cols], state.n_given.copy(), counts, loglik[:, cols]


def compare_table(results: list[AreaResult]) -> str:
    """The per-area table of several designs side by side (RMSE and level accuracy), as text."""
    head = f"{'area':>6} " + " ".join(f"{r.name[:26]:>28}" for r in results)
    sub = f"{'':>6} " + " ".join(f"{'RMSE':>13} {'level acc.':>14}" for _ in results)
    lines = [head, sub]
    tables = [r.table() for r in results]
    for g, code in enumerate(results[0].areas):
        cells = " ".join(f"{t[g]['rmse']:>13.3f} {100 * t[g]['level_accuracy']:>13.1f}%" for t in tables)
        lines.append(f"{code:>6} {cells}")
    lines.append(f"{'length':>6} " + " ".join(f"{r.mean_length:>28.1f}" for r in results))
    return "\n".join(lines)


def latent_of(truth: Any) -> Any:
    """The truth bank's latent normal (for drawing θ)."""
    return latent(truth.dims.mean, truth.dims.covariance)
