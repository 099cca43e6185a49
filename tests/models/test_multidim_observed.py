"""models.multidim.predictor_log_prob_observed: the observed category's log P without the category tables."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.errors import ParameterError
from digicomp.models import multidim


def _items(rng: np.random.Generator, n: int, width: int, family: str) -> np.ndarray:
    """Intercepts (n, width), NaN-padded to 1..width steps; GRM's decreasing as the model requires."""
    d = rng.normal(0, 2, size=(n, width))
    if family == "graded":
        d = -np.sort(-d, axis=1)
    for i, m in enumerate(rng.integers(1, width + 1, size=n)):
        d[i, m:] = np.nan
    return d


def _reference(t: np.ndarray, x: np.ndarray, d: np.ndarray, family: str) -> np.ndarray:
    """predictor_log_prob's category table, then the observed column."""
    lp = multidim.predictor_log_prob(t, np.broadcast_to(d, t.shape + d.shape[1:]), family=family)
    return np.take_along_axis(lp, np.broadcast_to(x[None, :, None], t.shape + (1,)), axis=-1)[..., 0]


@pytest.mark.parametrize("family", ["gpcm", "graded"])
def test_equals_the_category_table_including_the_tails(family):
    rng = np.random.default_rng(11)
    n, width = 300, 6
    d = _items(rng, n, width, family)
    n_cat = (~np.isnan(d)).sum(axis=1) + 1
    x = rng.integers(0, n_cat)
    t = np.concatenate([rng.normal(0, 3, size=(40, n)), np.full((1, n), 60.0), np.full((1, n), -60.0)])
    ours = multidim.predictor_log_prob_observed(t, x, d, family)
    ref = _reference(t, x, d, family)
    finite = np.isfinite(ref)
    assert np.array_equal(finite, np.isfinite(ours))
    assert np.allclose(ours[finite], ref[finite], rtol=1e-12, atol=1e-11)
    # the probabilities of all categories of an item still sum to 1 (each computed alone)
    j = int(np.argmax(n_cat))
    cats = np.arange(n_cat[j])
    tt = np.repeat(t[:, [j]], cats.size, axis=1)
    total = np.exp(multidim.predictor_log_prob_observed(tt, cats, np.repeat(d[[j]], cats.size, axis=0), family))
    assert np.allclose(total.sum(axis=1), 1.0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    t=st.floats(-40, 40, allow_nan=False),
    steps=st.lists(st.floats(-8, 8, allow_nan=False), min_size=1, max_size=6),
    family=st.sampled_from(["gpcm", "graded"]),
    data=st.data(),
)
def test_property_matches_the_table_for_any_item(t, steps, family, data):
    d = np.array(sorted(steps, reverse=True) if family == "graded" else steps)[None, :]
    if family == "graded" and np.any(np.diff(d[0]) == 0):
        d = d + np.linspace(0, -1e-3, d.shape[1])[None, :]  # GRM intercepts must strictly decrease
    x = np.array([data.draw(st.integers(0, d.shape[1]))])
    tt = np.array([[t]])
    ref = _reference(tt, x, d, family)
    ours = multidim.predictor_log_prob_observed(tt, x, d, family)
    if np.isfinite(ref[0, 0]):
        assert ours[0, 0] == pytest.approx(ref[0, 0], rel=1e-10, abs=1e-10)
    else:
        assert not np.isfinite(ours[0, 0]) or ours[0, 0] < -700


def test_refuses_dichotomous():
    with pytest.raises(ParameterError, match="graded"):
        multidim.predictor_log_prob_observed(np.zeros((1, 1)), np.zeros(1), np.zeros((1, 1)), "dichotomous")
