"""The log-likelihood kernel: the sparse design (one CSR column per item and category) computes what the dense
design computes, in any row order and precision."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from digicomp.models import ItemParameters
from digicomp.responses import Responses


def _mixed_bank(rng: np.random.Generator) -> tuple[ItemParameters, np.ndarray]:
    """Six 2PL items and four 4-category GRM items; responses of 300 persons with 15% of cells observed."""
    models = ["2PL"] * 6 + ["GRM"] * 4
    slope = rng.lognormal(0, 0.3, 10)
    icpt = np.full((10, 3), np.nan)
    icpt[:6, 0] = rng.normal(0, 1, 6)
    icpt[6:] = np.sort(rng.normal(0, 1, (4, 3)), axis=1)[:, ::-1]
    params = ItemParameters(models, slope, icpt, np.zeros(10), np.ones(10))
    K = params.n_categories
    x = (rng.random((300, 10)) * K).astype(np.int64)
    x[rng.random((300, 10)) > 0.15] = -1
    return params, x


def _sparse_responses(x: np.ndarray, order: np.ndarray | None = None) -> Responses:
    person, item = np.nonzero(x >= 0)
    if order is not None:
        person, item = person[order[: person.size] % person.size], item[order[: person.size] % person.size]
    return Responses(person, item, x[person, item], x.shape[0], x.shape[1])


def test_sparse_design_equals_dense_design():
    rng = np.random.default_rng(3)
    params, x = _mixed_bank(rng)
    points = np.linspace(-4, 4, 21)
    log_p = params.log_prob(points)
    dense = Responses.from_dense(x).design(params.n_categories)
    sp = _sparse_responses(x).design(params.n_categories)
    assert dense.observed is None and sp.observed is not None  # the two code paths
    np.testing.assert_allclose(sp.log_likelihood(log_p), dense.log_likelihood(log_p), rtol=1e-12, atol=1e-12)
    diff, base = sp.split_log_prob(log_p)
    rows = slice(40, 170)
    np.testing.assert_allclose(
        sp.log_likelihood_rows(diff, base, rows), dense.log_likelihood(log_p)[rows], rtol=1e-12, atol=1e-12
    )
    w = rng.random((300, 21))
    np.testing.assert_allclose(sp.expected_counts(w), dense.expected_counts(w), rtol=1e-12, atol=1e-12)
    table = rng.random((10, 21))
    np.testing.assert_allclose(sp.observed_sum(table), dense.observed_sum(table), rtol=1e-12)
    # the indicator matrices other modules read (cross-product SEs) match the dense ones cell for cell
    assert sparse.issparse(sp.cat) and sparse.issparse(sp.mask)
    np.testing.assert_array_equal(sp.cat.toarray(), dense.cat)
    np.testing.assert_array_equal(sp.mask.toarray(), dense.mask)


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
