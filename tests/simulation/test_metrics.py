"""Summary statistics against direct computation on small cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.errors import ParameterError
from digicomp.simulation import metrics
from digicomp.simulation.population import describe, draw_thetas, parse_population
from digicomp.simulation.responder import category_from_uniform


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 8), st.integers(3, 12), st.integers(0, 2**31))
def test_overlap_rate_equals_the_mean_pairwise_share_of_items(n_persons, n_items, seed):
    rng = np.random.default_rng(seed)
    length = int(rng.integers(1, n_items + 1))
    tests = [rng.choice(n_items, length, replace=False) for _ in range(n_persons)]
    counts = np.bincount(np.concatenate(tests), minlength=n_items)
    shared = [len(set(a) & set(b)) / length for a, b in itertools.permutations(tests, 2)]
    assert metrics.exposure(counts, n_persons, length)["overlap_rate"] == pytest.approx(np.mean(shared))


def test_exposure_summary_counts_unused_and_overexposed_items():
    m = metrics.exposure(np.array([10, 3, 0, 0, 1]), 10, 1.4)
    assert m["max_exposure"] == 1.0 and m["unused_items"] == 2 and m["items_over_0.2"] == 2
    assert m["unused_share"] == pytest.approx(0.4)


def test_recovery_statistics_by_hand():
    t, e, se = np.array([0.0, 1.0, -1.0, 2.0]), np.array([0.5, 1.0, -1.5, 2.0]), np.full(4, 0.5)
    m = metrics.recovery(t, e, se)
    assert m["bias"] == pytest.approx(0.0) and m["rmse"] == pytest.approx(np.sqrt(0.5 / 4))
    assert m["empirical_reliability"] == pytest.approx(np.var(e) / (np.var(e) + 0.25))


def test_confusion_rows_are_true_levels_and_columns_assigned():
    c = metrics.confusion(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    assert c.tolist() == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]


def test_conditional_bins_partition_the_persons():
    rng = np.random.default_rng(0)
    t = rng.normal(size=500)
    rows = metrics.conditional(t, t + 0.1, np.full(500, 0.3), np.full(500, 20), None)
    assert sum(r["n"] for r in rows) == 500
    assert all(r["bias"] == pytest.approx(0.1) for r in rows if r["n"])


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 5), st.integers(0, 2**31))
def test_category_draws_follow_the_category_probabilities(k, seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k))
    u = (np.arange(4000) + 0.5) / 4000  # a uniform grid: frequencies are exact up to 1/4000
    x = category_from_uniform(u, np.tile(p, (u.size, 1)))
    assert np.abs(np.bincount(x, minlength=k) / u.size - p).max() <= 1 / 4000 + 1e-12


def test_a_correct_answer_is_drawn_iff_u_is_below_p_correct():
    u = np.array([0.1, 0.69, 0.7, 0.9])
    assert category_from_uniform(u, np.tile([0.3, 0.7], (4, 1))).tolist() == [1, 1, 0, 0]


def test_populations_parse_describe_and_draw_reproducibly():
    assert parse_population("uniform:-2,2") == {"dist": "uniform", "low": -2.0, "high": 2.0}
    assert describe("normal") == "normal(0, 1)" and describe({"dist": "normal", "mean": 1, "sd": 2}) == "normal(1, 2)"
    a, b = draw_thetas("normal:0.5,2", 1000, 3), draw_thetas("normal:0.5,2", 1000, 3)
    assert np.array_equal(a, b) and abs(a.mean() - 0.5) < 3 * 2 / np.sqrt(1000)
    u = draw_thetas({"dist": "uniform", "low": -1, "high": 1}, 200, 1)
    assert u.min() >= -1 and u.max() <= 1


@pytest.mark.parametrize(
    "bad", ["gamma", "normal:1", "normal:a,b", {"dist": "normal", "sd": -1}, {"dist": "normal", "mu": 0}]
)
def test_bad_populations_are_refused_with_the_reason(bad):
    with pytest.raises(ParameterError, match="population"):
        draw_thetas(bad, 10, 1)
