"""Simulated test takers for the assessment loop: lock-step batches turned into the records live sessions write.

The operational part runs on the engine's batch core; the seeded pretest items follow the plan a live session
draws from its key, so each :class:`SessionRecord` equals the record of a live session answered the same way
(see :func:`simulated_answer`), except timestamps and ``result``, which holds a summary instead of the full report.
Answers are drawn from ``truth``, the parameters the simulated people really respond with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.bank.scoring import answer_for
from digicomp.cat.draws import STREAM_RESPONSE, uniforms
from digicomp.levels import LevelNames, level_index
from digicomp.models import ItemParameters
from digicomp.simulation.responder import category_from_uniform
from digicomp.store.records import ServedItem, SessionRecord

PRETEST_SLOT = 1
"""Draw slot of answers to seeded items at their position; operational answers use slot 0 at items answered."""


def draw_scores(truth: ItemParameters, theta: NDArray, items: NDArray, u: NDArray) -> NDArray[np.int64]:
    """Scored category of person i (θ_i) on item ``items[i]`` from uniform ``u[i]``: the simulation's own rule."""
    return category_from_uniform(u, truth.prob_at(theta, items))


def simulated_answer(
    engine: Any,
    truth: ItemParameters,
    theta: float,
    key: int,
    item_index: int,
    position: int,
    n_given: int,
    pretest: bool,
) -> Any:
    """The answer a simulated person sends in a live session: the same draw as :func:`simulate_records` makes."""
    keys = np.array([key], np.uint64)
    u = (
        uniforms(keys, [position], STREAM_RESPONSE, PRETEST_SLOT)
        if pretest
        else uniforms(keys, [n_given], STREAM_RESPONSE)
    )
    score = int(draw_scores(truth, np.array([theta]), np.array([item_index]), np.asarray(u).reshape(1))[0])
    return answer_of(engine.bank, item_index, score)


def answer_of(bank: Any, j: int, score: int) -> Any:
    """What a client sends to get ``score`` on item j: a raw answer of the item's format scoring exactly ``score``
    (:func:`digicomp.bank.scoring.answer_for`; multiple choice: the key or the first wrong option), else the
    category itself (self-assessment items, parameter-only banks)."""
    item = bank.item(bank.ids[j])
    if item.kind in ("self_assessment", "parameters"):
        return int(score)
    return answer_for(item, int(score))


def simulate_records(
    engine: Any, truth: ItemParameters, theta: NDArray, seed: int, prefix: str = "sim"
) -> list[SessionRecord]:
    """Finished sessions of persons with abilities ``theta`` (person i draws as ``engine.start(seed=(seed, i))``).

    ``truth`` holds the true parameters of every bank item, in bank order.
    """
    theta = np.asarray(theta, dtype=float)
    core, bank = engine.core, engine.bank
    state = engine.new_batch(theta.size, seed)

    def respond(st: Any, rows: NDArray, items: NDArray) -> NDArray[np.int64]:
        return draw_scores(truth, theta[rows], items, uniforms(st.keys[rows], st.n_given[rows], STREAM_RESPONSE))

    core.run(state, respond)
    core.finish(state)
    items, scores, pretest, length = _merge(engine, truth, theta, state)
    level = _levels(engine, state.theta)
    records = []
    for i in range(theta.size):
        served = tuple(
            ServedItem(p + 1, bank.ids[j], s, answer_of(bank, j, s), None, pre)
            for p, (j, s, pre) in enumerate(
                zip(items[i, : length[i]].tolist(), scores[i, : length[i]].tolist(), pretest[i, : length[i]].tolist())
            )
        )
        t, se, reason = round(float(state.theta[i]), 4), round(float(state.se[i]), 4), str(state.stop_reason[i])
        records.append(
            SessionRecord(
                session_id=f"{prefix}-{i}",
                person_id=f"{prefix}-{i}",
                bank_fingerprint=engine.fingerprint,
                design_hash=engine.design_hash,
                items=served,
                status="finished",
                stop_reason=reason,
                theta=t,
                se=se,
                level=None if level is None else level[i],
                result={
                    "theta": t,
                    "se": se,
                    "n_items": int(state.n_given[i]),
                    "stop_reason": reason,
                    "simulated": True,
                },
            )
        )
    return records


def _merge(engine: Any, truth: ItemParameters, theta: NDArray, state: Any) -> tuple[NDArray, ...]:
    """Items, scores, pretest flags (N, L) in served order, and each length: operational and seeded interleaved."""
    n_ops = state.n_given
    if engine.seeding is None:
        return state.sequence, state.responses, np.zeros(state.sequence.shape, bool), n_ops
    s_items, s_pos = engine.seeding.draw(state.keys)
    n_seed = s_pos.shape[1]
    ops_before = s_pos - 1 - np.arange(n_seed)  # operational items answered when the k-th seeded one is due
    ended_on_select = (state.stop_reason == "no_items")[:, None]
    given = (ops_before < n_ops[:, None]) | ((ops_before == n_ops[:, None]) & ended_on_select)
    u = np.column_stack([uniforms(state.keys, s_pos[:, k], STREAM_RESPONSE, PRETEST_SLOT) for k in range(n_seed)])
    s_scores = draw_scores(truth, np.repeat(theta, n_seed), s_items.reshape(-1), u.reshape(-1)).reshape(s_items.shape)
    length = n_ops + given.sum(axis=1)
    width = int(length.max())
    is_seed = np.zeros((theta.size, width + n_seed), bool)
    rows = np.repeat(np.arange(theta.size), n_seed)
    is_seed[rows[given.reshape(-1)], s_pos.reshape(-1)[given.reshape(-1)] - 1] = True
    is_seed = is_seed[:, :width]
    op_index = np.clip(np.cumsum(~is_seed, axis=1) - 1, 0, state.sequence.shape[1] - 1)
    seed_index = np.clip(np.cumsum(is_seed, axis=1) - 1, 0, n_seed - 1)
    r = np.arange(theta.size)[:, None]
    items = np.where(is_seed, s_items[r, seed_index], state.sequence[r, op_index])
    scores = np.where(is_seed, s_scores[r, seed_index], state.responses[r, op_index])
    return items, scores, is_seed, length


def _levels(engine: Any, theta: NDArray) -> list[str] | None:
    """Level ids of θ̂ as the live report names them (None when the design or bank reports no levels)."""
    cuts = engine.bank.cut_scores
    if not (engine.design.report.levels and cuts.size):
        return None
    ids = LevelNames.of_bank(engine.bank, engine.design.report.language).ids
    return [ids[k] for k in level_index(theta, cuts)]
