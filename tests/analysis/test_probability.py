"""digicomp.analysis.probability: the χ², F and normal functions agree with scipy.stats (the reference)."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from digicomp.analysis.probability import chi2_sf, f_ppf, norm_ppf


@given(st.lists(st.floats(-5, 200), min_size=1, max_size=20), st.integers(-1, 30))
def test_chi2_sf_is_scipy_stats(x, df):
    want = stats.chi2.sf(np.array(x), df)
    assert np.allclose(chi2_sf(x, df), want, rtol=1e-10, atol=1e-300, equal_nan=True)


def test_chi2_sf_keeps_nan_and_broadcasts_df():
    x = np.array([np.nan, 0.0, 3.84, np.inf])
    df = np.array([1, 2, 1, 3])
    assert np.allclose(chi2_sf(x, df), stats.chi2.sf(x, df), rtol=1e-12, equal_nan=True)


@given(st.floats(1e-6, 1 - 1e-6), st.integers(1, 50), st.integers(1, 5000))
def test_f_and_normal_quantiles_are_scipy_stats(q, d1, d2):
    assert np.isclose(f_ppf(q, d1, d2), stats.f.ppf(q, d1, d2), rtol=1e-9)
    assert np.isclose(norm_ppf(q), stats.norm.ppf(q), rtol=1e-12, atol=1e-12)
