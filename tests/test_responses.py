"""The log-likelihood kernel: the sparse design (one CSR column per item and category) computes what the dense
design computes, in any row order and precision."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from digicomp.models import ItemParameters
from digicomp.responses import Responses


def _mixed_bank(rng: np.random.Generator, observed: float = 0.15) -> tuple[ItemParameters, np.ndarray]:
    """Six 2PL items and four 4-category GRM items; responses of 300 persons, ``observed`` of the cells."""
    models = ["2PL"] * 6 + ["GRM"] * 4
    slope = rng.lognormal(0, 0.3, 10)
    icpt = np.full((10, 3), np.nan)
    icpt[:6, 0] = rng.normal(0, 1, 6)
    icpt[6:] = np.sort(rng.normal(0, 1, (4, 3)), axis=1)[:, ::-1]
    params = ItemParameters(models, slope, icpt, np.zeros(10), np.ones(10))
    K = params.n_categories
    x = (rng.random((300, 10)) * K).astype(np.int64)
    x[rng.random((300, 10)) > observed] = -1
    return params, x


def _sparse_responses(x: np.ndarray, order: np.ndarray | None = None) -> Responses:
    person, item = np.nonzero(x >= 0)
    if order is not None:
        person, item = person[order[: person.size] % person.size], item[order[: person.size] % person.size]
    return Responses(person, item, x[person, item], x.shape[0], x.shape[1])


@pytest.mark.parametrize("observed", [0.15, 0.6], ids=["sparse-kernel", "dense-kernel"])
def test_design_computes_the_definition(observed):
    """log L[p, q] = Σ_(observed j) log P_j(x_pj | θ_q) and r[j, k, q] = Σ_p [x_pj = k] w_pq, by brute force."""
    rng = np.random.default_rng(3)
    params, x = _mixed_bank(rng, observed)
    points = np.linspace(-4, 4, 21)
    log_p = params.log_prob(points)  # (Q, J, K)
    seen = x >= 0
    picked = np.take_along_axis(log_p[None], np.maximum(x, 0)[:, None, :, None], axis=3)[..., 0]  # (N, Q, J)
    ref_ll = np.where(seen[:, None, :], picked, 0.0).sum(axis=2)
    onehot = (x[:, :, None] == np.arange(log_p.shape[2])) & seen[:, :, None]  # (N, J, K)
    w = rng.random((300, 21))
    ref_counts = np.einsum("pjk,pq->jkq", onehot.astype(float), w)
    table = rng.random((10, 21))
    ref_sum = seen.astype(float) @ table
    for resp in (Responses.from_dense(x), _sparse_responses(x)):
        design = resp.design(params.n_categories)
        assert (design.observed is not None) == (observed < 0.25)  # the kernel follows the density
        np.testing.assert_allclose(design.log_likelihood(log_p), ref_ll, rtol=1e-12, atol=1e-12)
        diff, base = design.split_log_prob(log_p)
        rows = slice(40, 170)
        np.testing.assert_allclose(design.log_likelihood_rows(diff, base, rows), ref_ll[rows], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(design.expected_counts(w), ref_counts, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(design.observed_sum(table), ref_sum, rtol=1e-12)
        # the indicator matrices other modules read (cross-product SEs): cat per (item, category ≥ 1), mask
        cat = design.cat.toarray() if sparse.issparse(design.cat) else design.cat
        mask = design.mask.toarray() if sparse.issparse(design.mask) else design.mask
        exists = params.n_categories[:, None] > np.arange(1, 4)  # (J, 3): item j has category 1, 2, 3
        np.testing.assert_array_equal(cat, onehot[:, :, 1:][:, exists])
        np.testing.assert_array_equal(mask, seen)


def test_sparse_design_does_not_depend_on_triplet_order():
    rng = np.random.default_rng(4)
    params, x = _mixed_bank(rng)
    log_p = params.log_prob(np.linspace(-4, 4, 21))
    ordered = _sparse_responses(x).design(params.n_categories)
    shuffled = _sparse_responses(x, rng.permutation(int((x >= 0).sum()))).design(params.n_categories)
    np.testing.assert_allclose(shuffled.log_likelihood(log_p), ordered.log_likelihood(log_p), rtol=1e-13)
    w = rng.random((300, 21))
    np.testing.assert_allclose(shuffled.expected_counts(w), ordered.expected_counts(w), rtol=1e-13)


@pytest.mark.parametrize("scale", [1.0, 1e-40, 1e-300], ids=["ordinary", "below-float32-normal", "tiny"])
def test_float32_counts_agree_with_float64_and_keep_weights_normal(scale):
    """Weights below float32's smallest normal number are raised to it (subnormal arithmetic is slow); every
    count stays within float32 rounding of the float64 count plus that floor."""
    rng = np.random.default_rng(5)
    params, x = _mixed_bank(rng)
    design = _sparse_responses(x).design(params.n_categories)
    w = rng.random((300, 21))
    w[:, :5] *= scale
    single = design.expected_counts(w, np.float32)
    double = design.expected_counts(w, np.float64)
    assert single.dtype == np.float64
    n_obs = design.observed.sum(axis=0).A1  # responses per (item, category) column
    floor = np.zeros_like(double)
    floor[design.full_item, design.full_category] = n_obs[:, None] * np.finfo(np.float32).tiny
    assert np.all(np.abs(single - double) <= 1e-6 * double + floor)
    assert np.all(single >= floor)  # no weight was flushed to zero or left subnormal


def test_a_dense_view_of_triplets_does_not_switch_them_to_the_dense_path():
    """Calling ``dense()`` (a peer tool, a report) caches the matrix; the data stay triplets for every path that
    chooses by ``has_dense`` (the calibration's preparation and chunking) and the design stays sparse."""
    rng = np.random.default_rng(6)
    params, x = _mixed_bank(rng)
    resp = _sparse_responses(x)
    np.testing.assert_array_equal(resp.dense(), x)
    assert not resp.has_dense
    assert resp.design(params.n_categories).observed is not None


def test_design_follows_density_not_the_form_the_data_came_in():
    """A matrix with 15% of its cells observed (CAT logs as a wide file) gets the sparse kernel; a complete one
    the dense kernel."""
    rng = np.random.default_rng(7)
    params, x = _mixed_bank(rng)
    assert Responses.from_dense(x).design(params.n_categories).observed is not None
    full = (rng.random((50, 10)) * params.n_categories).astype(np.int64)
    assert Responses.from_dense(full).design(params.n_categories).observed is None


def test_subnormal_weights_count_as_zero_in_the_dense_design():
    """A dense-coded design (over a quarter of cells observed, not complete) flushes subnormal posterior weights to
    zero before its sparse product (subnormal arithmetic made it ~200x slower): counts equal those of zeroed weights,
    and equal the exact ones to 1e-300."""
    rng = np.random.default_rng(7)
    x = (rng.random((400, 12)) < 0.5).astype(float)
    x[rng.random(x.shape) < 0.3] = np.nan
    design = Responses.from_dense(x).design(np.full(12, 2))
    assert design.observed is None  # the dense path is the one under test
    w = rng.random((400, 21))
    w[:, :4] = 1e-310
    zeroed = w.copy()
    zeroed[:, :4] = 0.0
    got = design.expected_counts(w)
    np.testing.assert_array_equal(got, design.expected_counts(zeroed))
    exact = np.einsum("pjk,pq->jkq", np.nan_to_num(np.stack([x == 0, x == 1], axis=2) * 1.0), w)
    np.testing.assert_allclose(got, exact, rtol=1e-12, atol=1e-300)
