"""The closed-form 1–4PL information table the engine builds (a simulation speed fix) equals the generic path."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.cat.tables import information_table
from digicomp.models import ItemParameters


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.booleans())
def test_closed_form_information_equals_the_generic_information(seed, four_pl):
    rng = np.random.default_rng(seed)
    n = 30
    params = ItemParameters.dichotomous(
        a=rng.lognormal(0, 0.5, n),
        b=rng.normal(0, 1.5, n),
        c=rng.uniform(0, 0.3, n),
        d=rng.uniform(0.85, 1.0, n) if four_pl else 1.0,
    )
    theta = np.linspace(-8, 8, 161)
    np.testing.assert_allclose(information_table(params, theta), params.information(theta), rtol=1e-7, atol=1e-15)
