"""One design over one chunk of simulated persons: the engine's lock-step core, then per-person outcomes.

A chunk is a batch of persons with global indices ``persons``; person i's draws are keyed by (seed, i), so a
chunk's outcome does not depend on how the study was cut into chunks or spread over processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.engine import AdaptiveTest
from digicomp.cat.state import BatchState
from digicomp.cat.tables import Tables
from digicomp.errors import DigicompError
from digicomp.levels import level_probabilities
from digicomp.models import ItemParameters
from digicomp.simulation.responder import Responder

Outcome = dict[str, NDArray]
"""Per-person arrays (rows = persons of the chunk) plus item totals ``exposed`` / ``selected`` (J,)."""


@dataclass(frozen=True)
class Truth:
    """What generates the answers: the true model and, when it is a second bank, the item position map."""

    params: ItemParameters
    items_to_true: NDArray[np.intp] | None = None


def area_groups(engine: AdaptiveTest) -> tuple[NDArray[np.intp], list[str]] | None:
    """Per item its area position and the area codes, or None for a bank without a framework."""
    bank = engine.bank
    if bank.spec.framework is None:
        return None
    try:
        return bank.area_index, list(bank.areas)
    except DigicompError:
        return None


def information_at_estimate(params: ItemParameters, theta: NDArray, sequence: NDArray[np.intp]) -> NDArray[np.float64]:
    """Σ_j I_j(θ̂) over each person's administered items (n,): the test information at the final estimate."""
    given = sequence >= 0
    r, pos = np.nonzero(given)
    lp, dl, _ = params.derivatives(theta[r], sequence[r, pos])
    out = np.zeros(sequence.shape[0])
    np.add.at(out, r, (np.exp(lp) * dl**2).sum(axis=1))
    return out


def area_scores(
    tables: Tables,
    sequence: NDArray[np.intp],
    responses: NDArray[np.int64],
    group: NDArray[np.intp],
    n_groups: int,
    log_likelihood: bool = False,
) -> tuple[NDArray, ...]:
    """EAP θ, posterior SD and item count per person and area (n, G), from each area's items only.

    The batch form of :func:`digicomp.levels.group_scores` (what a live report shows per area); the loop runs
    over test positions, each step vectorized over persons. With ``log_likelihood`` a fourth array (n, G, Q):
    each area's own-items log-likelihood at the quadrature points ``tables.points`` (the posterior without the
    prior; 0 for an area with no items).
    """
    n, length = sequence.shape
    log_post = np.broadcast_to(tables.log_prior, (n, n_groups, tables.n_points)).copy()
    counts = np.zeros((n, n_groups), np.int64)
    rows = np.arange(n)
    for pos in range(length):
        j = sequence[:, pos]
        g = np.where(j >= 0, group[np.maximum(j, 0)], -1)
        ok = g >= 0
        log_post[rows[ok], g[ok]] += tables.log_prob_jkq[j[ok], responses[ok, pos]]
        counts[rows[ok], g[ok]] += 1
    w = np.exp(log_post - log_post.max(axis=2, keepdims=True))
    w /= w.sum(axis=2, keepdims=True)
    mean = (w * tables.points).sum(axis=2)  # row-wise sums: the same bits for a person in any chunk
    sd = np.sqrt(np.maximum((w * tables.points_squared).sum(axis=2) - mean**2, 0.0))
    if log_likelihood:
        return mean, sd, counts, log_post - tables.log_prior
    return mean, sd, counts


def run_chunk(
    engine: AdaptiveTest,
    seed: int,
    persons: NDArray[np.intp],
    theta: NDArray[np.float64],
    truth: Truth,
    cuts: NDArray[np.float64],
) -> Outcome:
    """Simulate ``persons`` (global indices, true abilities ``theta``) through ``engine`` in lock-step."""
    core = engine.core
    state = engine.new_batch(persons.size, seed, persons=persons)
    core.run(state, Responder(truth.params, theta, truth.items_to_true))
    core.finish(state)
    return outcome_of(engine, state, persons, theta, cuts)


def outcome_of(
    engine: AdaptiveTest, state: BatchState, persons: NDArray[np.intp], theta: NDArray[np.float64], cuts: NDArray
) -> Outcome:
    """The per-person outcome of a finished batch whose rows are ``persons`` (true abilities ``theta``)."""
    core = engine.core
    n_given = state.n_given
    sequence = state.sequence.astype(np.int32)
    out: Outcome = {
        "person": persons.astype(np.int64),
        "theta_true": theta,
        "theta": state.theta.copy(),
        "se": state.se.copy(),
        "n_items": n_given.astype(np.int32),
        "stop_reason": state.stop_reason.astype(str),
        "extreme": state.extreme.copy(),
        "sequence": sequence,
        "responses": state.responses.astype(np.int16),
        "information": information_at_estimate(core.tables.params, state.theta, state.sequence),
        "exposed": state.exposed.copy(),
        "selected": state.selected.copy(),
    }
    if cuts.size:
        out["level_probabilities"] = level_probabilities(
            state.weights(np.arange(persons.size)), core.tables.points, cuts
        )
    groups = area_groups(engine)
    if groups is not None:
        out["area_theta"], out["area_se"], out["area_items"] = area_scores(
            core.tables, state.sequence, state.responses, groups[0], len(groups[1])
        )
    return out


def merge(outcomes: list[Outcome]) -> Outcome:
    """Chunks in person order as one outcome: per-person arrays concatenated, item totals summed."""
    totals = ("exposed", "selected")
    return {
        key: (
            np.sum([o[key] for o in outcomes], axis=0) if key in totals else np.concatenate([o[key] for o in outcomes])
        )
        for key in outcomes[0]
    }
