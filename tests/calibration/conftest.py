"""Calibration tests run BLAS on one thread: the fits are small, and on a shared machine oversubscribed
OpenBLAS threads spin-wait and make the suite many times slower."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield
