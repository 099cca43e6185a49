"""Tail probabilities and quantiles of the χ², F and normal distributions, from ``scipy.special``.

``scipy.stats`` costs about a second to import (its docstring machinery builds every distribution); the pilot
analysis needs three functions of it, which ``scipy.special`` computes with the same routines (cdflib / Cephes)
in ~0.1 s of import. Conventions follow ``scipy.stats``: χ² survival of a negative statistic is 1, with df ≤ 0 NaN.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def chi2_sf(x: ArrayLike, df: ArrayLike) -> NDArray[np.float64]:
    """P(χ²_df > x), as ``scipy.stats.chi2.sf`` (NaN stays NaN)."""
    from scipy.special import chdtrc

    x, df = np.asarray(x, dtype=float), np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(df > 0, chdtrc(np.where(df > 0, df, 1.0), np.where(x < 0, 0.0, x)), np.nan)


def f_ppf(q: ArrayLike, dfn: ArrayLike, dfd: ArrayLike) -> NDArray[np.float64]:
    """The q quantile of F(dfn, dfd), as ``scipy.stats.f.ppf``."""
    from scipy.special import fdtri

    return fdtri(dfn, dfd, q)


def norm_ppf(q: ArrayLike) -> NDArray[np.float64]:
    """The q quantile of N(0, 1), as ``scipy.stats.norm.ppf``."""
    from scipy.special import ndtri

    return ndtri(q)
