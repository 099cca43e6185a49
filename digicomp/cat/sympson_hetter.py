"""Sympson–Hetter exposure parameters by iterated simulation for a target maximum exposure rate.

Sympson & Hetter (1985): simulate the test on a sample from the target population with the current K and
lower K where the exposure rate P(A_j) exceeds r_max. The classic update K_j = r_max / P(S_j) oscillates
(an item set back to K = 1 is over-exposed in the next round); here K_j ← K_j · r_max / P(A_j) for items over
the target and K is never raised, so the maximum rate approaches r_max from above. Each round runs the
lock-step core on the whole sample at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.core import CatCore
from digicomp.cat.draws import STREAM_RESPONSE, person_keys, uniforms
from digicomp.cat.exposure import SympsonHetter
from digicomp.cat.state import BatchState
from digicomp.errors import ParameterError


@dataclass(frozen=True)
class SympsonHetterResult:
    """Final K per item, and per round the largest exposure rate observed with the K used in that round."""

    k: NDArray[np.float64]
    max_exposure: list[float]
    ids: list[str]

    def as_mapping(self) -> dict[str, float]:
        """{item id: K} for items with K < 1 (what a design's ``exposure.parameters`` takes)."""
        return {i: round(float(v), 6) for i, v in zip(self.ids, self.k) if v < 1}


def simulate_answers(core: CatCore, theta: NDArray[np.float64]):
    """A respond callback for ``core.run``: answers of persons with true θ, drawn with their keyed uniforms."""
    params = core.tables.params

    def respond(state: BatchState, rows: NDArray[np.intp], items: NDArray[np.intp]) -> NDArray[np.int64]:
        p = np.exp(params.derivatives(theta[rows], items)[0])  # (n, K): each person with their item
        u = uniforms(state.keys[rows], state.n_given[rows], STREAM_RESPONSE)
        return np.minimum((np.cumsum(p, axis=1) < u[:, None]).sum(axis=1), params.n_categories[items] - 1)

    return respond


def calibrate_sympson_hetter(
    core: CatCore,
    r_max: float,
    n_persons: int = 2000,
    rounds: int = 20,
    seed: int = 0,
    theta: NDArray[np.float64] | None = None,
) -> SympsonHetterResult:
    """K per item so that no item's exposure exceeds ``r_max`` in the simulated population (N(0, 1) by default)."""
    if not 0 < r_max <= 1:
        raise ParameterError(f"r_max = {r_max}: the target maximum exposure rate must lie in (0, 1]")
    if n_persons < 1 or rounds < 1:
        raise ParameterError(f"n_persons = {n_persons}, rounds = {rounds}: both must be at least 1")
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n_persons) if theta is None else np.asarray(theta, dtype=float)
    k = np.ones(core.tables.n_items)
    history: list[float] = []
    for r in range(rounds):
        trial = dataclasses.replace(core, exposure=SympsonHetter(k.copy()))
        state = trial.new_batch(person_keys(seed, np.arange(theta.size) + r * theta.size))
        trial.run(state, simulate_answers(trial, theta))
        history.append(float(state.exposed.max() / theta.size))
        rate = state.exposed / theta.size
        k = np.where(rate > r_max, k * r_max / np.maximum(rate, 1e-12), k)
    return SympsonHetterResult(k, history, list(core.tables.params.ids))
