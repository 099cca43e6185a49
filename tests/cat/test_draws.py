"""Counter-based draws: the one-person fast path gives the same bits as the array path."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.cat.draws import STREAM_RANDOMESQUE, STREAM_RESPONSE, person_keys, uniforms


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**40),
    person=st.integers(0, 10**6),
    step=st.integers(0, 200),
    slot=st.integers(0, 5000),
    stream=st.sampled_from([STREAM_RANDOMESQUE, STREAM_RESPONSE]),
)
def test_single_person_fast_path_equals_the_array_path(seed, person, step, slot, stream):
    keys = person_keys(seed, [person, person + 1])
    single = uniforms(keys[:1], [step], stream, slot)  # takes the plain-integer path
    batch = uniforms(keys, [step, step], stream, np.array([slot]))  # takes the numpy path, shape (2, 1)
    assert single.shape == (1,)
    assert single[0] == batch[0, 0]


def test_draws_are_uniform_and_independent_of_batch_composition():
    keys = person_keys(7, np.arange(20_000))
    u = uniforms(keys, np.zeros(20_000, int), STREAM_RESPONSE)
    # mean and variance of U(0, 1) within 5 standard errors of 20,000 draws
    assert abs(u.mean() - 0.5) < 5 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / u.size)
    again = uniforms(keys[5000:5010], np.zeros(10, int), STREAM_RESPONSE)
    np.testing.assert_array_equal(again, u[5000:5010])


def test_every_draw_stream_is_distinct():
    """Two parts drawing on one stream would draw the same uniforms (the tie order once shared the seeding's)."""
    from digicomp.cat import draws, seeding

    streams = {name: value for name, value in vars(draws).items() if name.startswith("STREAM_")}
    streams["STREAM_SEEDING"] = seeding.STREAM_SEEDING
    assert len(set(streams.values())) == len(streams), streams
