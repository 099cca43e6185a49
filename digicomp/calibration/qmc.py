"""Quasi-Monte-Carlo EM for many correlated dimensions (mirt's ``method = "QMCEM"``).

A tensor grid needs q^K points (15³ = 3,375 for three dimensions, 9⁸ ≈ 43 million for eight), so beyond three
correlated dimensions the integral over θ is taken on Q scrambled Halton points z_q mapped to standard normals
(Caflisch 1998; mirt's default Q = 5,000), fixed by the seed: the same seed gives the same fit on any machine.
Fixed points from N(0, I) would not do for correlated areas (with correlations of 0.8 the importance weights
φ_R/φ_I have infinite variance), so the fit runs in two stages:

1. warm-up: the points follow the current correlation, θ_q = C z_q with C Cᵀ = R, each weighted 1/Q, and R is
   updated to the standardised second moment of the posterior mass (:class:`QMCLatent`); a few plain EM cycles
   bring R near its estimate (until the largest change is below 0.01, at most 30 cycles);
2. the points are frozen at that R₀ and weighted w_q ∝ φ_R(θ_q)/φ_R₀(θ_q) (importance sampling,
   :class:`~digicomp.calibration.mvn.ImportanceLatent`): an exact EM on a fixed support, accelerated by SQUAREM
   and stopped by mirt's rule like the grid fits; the weights stay even because R ends near R₀.

Convergence diagnostics: the largest parameter change per cycle (``progress``), the cycles of both stages and
whether the tolerance was met (the result's ``iterations``, ``converged``), and the point set (``qmc_points``,
``seed``): refit with another seed to see the Monte-Carlo part of the estimates' error. Standard errors are those
of a grid fit (numerical Hessian or cross-product, correlations included) on the frozen points.
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
