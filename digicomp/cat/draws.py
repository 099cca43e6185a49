"""Counter-based random draws: a person's uniforms depend only on (person key, step, stream, slot).

A draw is a hash (splitmix64, Steele, Lea & Flood 2014) of its coordinates, never the next value of a shared
generator, so a person's test is identical whether run alone or inside a lock-step batch of any size, and a
resumed session needs only its key and how many items it has answered. Vectorized over any array shape.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)

STREAM_RANDOMESQUE = 1
STREAM_SYMPSON_HETTER = 2
STREAM_RANDOM_RULE = 3
STREAM_ELIGIBILITY = 4
STREAM_PROGRESSIVE = 5
STREAM_CONTENT = 6
STREAM_RESPONSE = 7
STREAM_TIES = 9
"""Streams keep the draws of different parts independent; simulations draw responses on STREAM_RESPONSE.
(Stream 8 is the seeding plan's, :data:`digicomp.cat.seeding.STREAM_SEEDING`.)"""


_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


def _mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64 finaliser, in place on ``x`` (a fresh array): a bijective avalanche hash of 64-bit words.

    uint64 array arithmetic wraps modulo 2**64 without warnings (only numpy scalar arithmetic warns, and ``x``
    is always an array here), so no ``np.errstate`` is needed.
    """
    x ^= x >> _S30
    x *= _M1
    x ^= x >> _S27
    x *= _M2
    x ^= x >> _S31
    return x


_MASK = 2**64 - 1
_GOLDEN_INT, _M1_INT, _M2_INT = int(_GOLDEN), int(_M1), int(_M2)


def _combine_int(h: int, value: int) -> int:
    """:func:`_combine` on Python ints (the batch-of-one fast path: the same bits, without array overhead)."""
    x = (h + _GOLDEN_INT + value) & _MASK
    x = ((x ^ (x >> 30)) * _M1_INT) & _MASK
    x = ((x ^ (x >> 27)) * _M2_INT) & _MASK
    return x ^ (x >> 31)


def _u64(values: ArrayLike) -> NDArray[np.uint64]:
    return np.asarray(values).astype(np.uint64, copy=False) if np.ndim(values) else np.array([values], np.uint64)


def _combine(h: NDArray[np.uint64], value: ArrayLike) -> NDArray[np.uint64]:
    """mix(h + golden + value) as a fresh (at least 1-d) array; ``h`` is not modified."""
    return _mix(h + _GOLDEN + _u64(value))


def person_keys(seed: int, persons: ArrayLike) -> NDArray[np.uint64]:
    """64-bit keys of persons ``0..N-1`` (or any non-negative indices) in a study with ``seed``."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    base = _combine(np.array([int(seed) % 2**64], np.uint64), 0)
    return _combine(base, np.asarray(persons, dtype=np.int64).astype(np.uint64))


def session_key(seed: int | Sequence[int] | None) -> int:
    """The key of one session: ``seed`` alone is person 0 of that seed; ``(seed, i)`` is person i of a study."""
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)
    if isinstance(seed, (tuple, list)):
        if len(seed) != 2:
            raise ValueError(f"seed must be an integer or (seed, person index), got {seed!r}")
        base, index = int(seed[0]), int(seed[1])
    else:
        base, index = int(seed), 0
    return int(person_keys(base, [index])[0])


def uniforms(keys: NDArray[np.uint64], step: ArrayLike, stream: int, slot: ArrayLike = 0) -> NDArray[np.float64]:
    """U(0, 1) draws at (key, step, stream, slot), broadcast over the shapes of the arguments.

    ``keys`` and ``step`` are per person (n,); ``slot`` may be (n, m) or (m,) (e.g. item indices), in which
    case the result is (n, m).
    """
    keys = np.asarray(keys, dtype=np.uint64)
    if keys.shape == (1,) and np.ndim(step) <= 1 and np.size(step) == 1 and isinstance(slot, (int, np.integer)):
        h = _combine_int(_combine_int(int(keys[0]), int(np.ravel(step)[0]) & _MASK), stream)
        h = _combine_int(h, int(slot) & _MASK)
        return np.array([(h >> 11) * 2.0**-53])
    h = _combine(_combine(keys, np.asarray(step, dtype=np.int64)), stream)
    slot = np.asarray(slot, dtype=np.int64)
    if slot.ndim:
        h = h.reshape(h.shape + (1,) * (slot.ndim if slot.ndim == 1 else slot.ndim - 1))
    out = _combine(h, slot.astype(np.uint64))
    out >>= _S11
    return out.astype(np.float64) * 2.0**-53
