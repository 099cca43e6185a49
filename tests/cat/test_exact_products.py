"""Weighted sums over the θ grid (posterior-weighted information, expected posterior variance, KL) are exact
for the rounded inputs, so a person's selection criterion does not depend on the batch or on the BLAS."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.cat import AdaptiveTest
from digicomp.cat.context import StepContext
from digicomp.cat.tables import ExactTable, low_bits


def random_table(rng: np.random.Generator, q: int = 61, m: int = 300) -> np.ndarray:
    """Columns of very different sizes and signs, and clones (identical columns)."""
    table = rng.normal(size=(q, m)) * np.exp(rng.uniform(-20, 20, m))
    table[:, 1::7] = table[:, :1]  # clones of column 0
    table[:, 2] = 0.0
    return table


def dirichlet_rows(rng: np.random.Generator, n: int, q: int) -> np.ndarray:
    """Posterior-like weight rows (Σ = 1), some peaked (late in a test)."""
    return rng.dirichlet(np.full(q, 0.05), size=n)


def test_a_row_is_the_same_in_a_batch_of_any_size_and_clones_tie_exactly():
    rng = np.random.default_rng(2)
    table = ExactTable.of(random_table(rng))
    w = dirichlet_rows(rng, 257, table.high.shape[0])
    w[::5] *= rng.normal(size=(52, 1)) * 40  # rows not normalised, of either sign (KL and EPV weights)
    whole = table.weigh(w)
    single = np.vstack([table.weigh(w[i : i + 1]) for i in range(w.shape[0])])
    pieces = np.vstack([table.weigh(w[a : a + 17]) for a in range(0, w.shape[0], 17)])
    assert np.array_equal(whole, single)
    assert np.array_equal(whole, pieces)
    assert np.array_equal(whole[:, 1::7], np.broadcast_to(whole[:, :1], whole[:, 1::7].shape))


def test_a_weighted_sum_is_as_accurate_as_a_plain_floating_point_product():
    rng = np.random.default_rng(3)
    raw = random_table(rng)
    table = ExactTable.of(raw)
    w = dirichlet_rows(rng, 6, raw.shape[0])
    w[1] *= -3.7
    got = table.weigh(w)
    q = raw.shape[0]
    low = low_bits(q)
    # left out: weight bits below 2**-(27 + L) and table bits below 2**-(26 + L) of their power-of-two bounds,
    # the low·low part (≤ Q 2**-27 · 2**-26), and three element-wise roundings
    bound = 2 * np.abs(w).sum(axis=1)[:, None] * 2.0 * np.abs(raw).max(axis=0)[None, :]
    limit = bound * (q * 2.0 ** -(27 + low) + 2.0 ** -(26 + low) + q * 2.0**-53 + 4 * 2.0**-53)
    for i in range(w.shape[0]):
        for m in range(0, raw.shape[1], 11):
            exact = sum(Fraction(float(x)) * Fraction(float(y)) for x, y in zip(w[i], raw[:, m]))
            assert abs(Fraction(float(got[i, m])) - exact) <= Fraction(float(limit[i, m])), (i, m)


@pytest.mark.parametrize("rule", ["mlwi", "mpwi", "mepv", "kl", "klp"])
def test_a_grid_rule_gives_each_person_the_criterion_it_gives_that_person_alone(rule):
    bank = load_bank("civil-service")
    engine = AdaptiveTest(bank, {"id": rule, "selection": {"rule": rule}, "report": {"audit": False}})
    core = engine.core
    state = engine.new_batch(64, seed=4)
    rng = np.random.default_rng(4)
    for _ in range(6):  # answers, so posteriors differ between persons
        rows = np.arange(64)
        items = rng.integers(0, bank.n_items, 64)
        items = np.where(state.administered[rows, items], (items + 1) % bank.n_items, items)
        core.record(state, rows, items, (rng.random(64) < 0.6).astype(np.int64) % bank.params.n_categories[items])
    rows = np.arange(64)
    batch = core.rule(StepContext(core.tables, state, rows, core.max_length)).copy()
    alone = np.vstack(
        [core.rule(StepContext(core.tables, state, rows[i : i + 1], core.max_length)).copy() for i in rows]
    )
    assert np.array_equal(batch, alone)
    # items with the same parameters tie exactly, so the tie rule (each person's order) decides, not rounding;
    # clones share every parameter (polytomous items of one slope and first threshold may differ in the others)
    p = bank.params
    model = np.unique(p.models, return_inverse=True)[1].ravel()
    params = np.column_stack([p.slope, np.nan_to_num(p.intercepts, nan=np.inf), p.lower, p.upper, model])
    _, first = np.unique(params, axis=0, return_inverse=True)
    first = first.ravel()
    clones = np.flatnonzero(np.bincount(first)[first] > 1)
    assert clones.size > bank.n_items // 2
    for j in clones[:40]:
        twin = clones[(first[clones] == first[j]) & (clones != j)][0]
        assert np.array_equal(batch[:, j], batch[:, twin])
