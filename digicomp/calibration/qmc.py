"""Quasi-Monte-Carlo EM for many correlated dimensions (mirt's ``method = "QMCEM"``).

A tensor grid needs q^K points (15³ = 3,375 for three dimensions, 9⁸ ≈ 43 million for eight), so beyond three
correlated dimensions the integral over θ is taken on Q scrambled Halton points z_q mapped to standard normals and
then to the current latent distribution, θ_q = C z_q with C C' = R (Cholesky), each with weight 1/Q (Caflisch 1998;
mirt's default Q = 5,000). The point set is fixed by the seed, so the approximate likelihood is a smooth
deterministic function of the parameters and the same seed gives the same fit on any machine. EM as for a grid:
the E-step gives the posterior mass of every point, the M-step fits the items on the points and the latent
correlation as the standardised second moment of that mass (variances fixed at 1, means 0). The points move with
R, so between cycles the engine recomputes them.

Convergence diagnostics: the largest parameter change per cycle (``progress``), the number of cycles and whether the
tolerance was met (the result's ``iterations``, ``converged``), and the point set (``qmc_points``, ``seed``): refit
with another seed to see the Monte-Carlo part of the estimates' error. Standard errors: the cross-product (XPD)
information of the item parameters at the estimated correlations (conditional on R: the correlations' own
uncertainty is not propagated, so item SEs are slightly too small); the correlations get no SEs here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm, qmc

from digicomp.calibration.mvn import MVNLatent

Array = NDArray[np.float64]
DEFAULT_POINTS = 5000


class QMCLatent:
    """N(0, R) represented by fixed quasi-random normal draws z (Q, K) mapped through R's Cholesky factor."""

    def __init__(self, n_dims: int, correlated: NDArray[np.bool_], n_points: int = DEFAULT_POINTS, seed: int = 0):
        u = qmc.Halton(d=n_dims, scramble=True, seed=seed).random(n_points)
        self.z = norm.ppf(np.clip(u, 1e-12, 1 - 1e-12))
        self.seed = seed
        self.mvn = MVNLatent(np.zeros((1, n_dims)), correlated)
        self.estimate_mean = False

    # delegated parameter handling (the unit-diagonal correlation parameterisation of MVNLatent)
    @property
    def n_free(self) -> int:
        """Estimated correlations."""
        return self.mvn.n_free

    @property
    def free_l(self) -> NDArray[np.intp]:
        """Free entries of the Cholesky-type factor (as MVNLatent)."""
        return self.mvn.free_l

    @property
    def mean(self) -> Array:
        """Latent means (0)."""
        return self.mvn.mean

    def pack(self) -> Array:
        """Free parameters."""
        return self.mvn.pack()

    def unpack(self, x: Array) -> None:
        """Write them back."""
        self.mvn.unpack(x)

    def natural(self, x: Array) -> Array:
        """Correlations."""
        return self.mvn.natural(x)

    @property
    def cov(self) -> Array:
        """The correlation matrix R."""
        return self.mvn.cov

    @property
    def correlation(self) -> Array:
        """The correlation matrix R."""
        return self.mvn.correlation

    @property
    def points(self) -> Array:
        """θ_q = C z_q for the current R, (Q, K)."""
        return self.z @ np.linalg.cholesky(self.cov).T

    def log_weights(self, points: Array | None = None) -> Array:
        """Equal weights 1/Q."""
        return np.full(self.z.shape[0], -np.log(self.z.shape[0]))

    def update(self, latent_counts: Array, points: Array | None = None) -> None:
        """R ← the standardised second moment of the posterior mass on the current points."""
        if self.n_free == 0:
            return
        n = np.asarray(latent_counts, dtype=float)
        pts = self.points
        S = (pts * n[:, None]).T @ pts / n.sum()
        s = np.sqrt(np.diag(S))
        R = S / np.outer(s, s)
        mask = np.zeros_like(R, dtype=bool)
        mask[self.mvn.free_l[:, 0], self.mvn.free_l[:, 1]] = True
        mask |= mask.T
        R = np.where(mask | np.eye(R.shape[0], dtype=bool), R, 0.0)
        C = np.linalg.cholesky(R)
        self.mvn.L = C / np.diag(C)[:, None]

    def score(self, latent_counts: Array) -> Array:
        """Not available for moving points (see the module docstring): zeros."""
        return np.zeros(self.n_free)
