"""The multivariate normal latent distribution on a tensor-product quadrature grid, and its EM update.

Parameters ψ (only the free ones move): the means μ, and a lower-triangular L whose product L Lᵀ is the covariance;
with variances fixed at 1 (the identification of a free calibration) the correlation matrix is
R = diag(L Lᵀ)^(-1/2) L Lᵀ diag(L Lᵀ)^(-1/2) with L's diagonal at 1, so every ψ gives a positive definite R with a
unit diagonal and the optimiser needs no constraints. Correlations are free within blocks of correlated dimensions
(listed first, so L's zero pattern is Σ's). The M-step maximises Σ_q n_q log w_q(ψ) with w_q(ψ) ∝ φ(θ_q; μ, Σ)
normalised over the grid: the exact M-step of the quadrature approximation, so EM stays monotone.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from digicomp.errors import CalibrationError
from digicomp.scoring.quadrature import make_grid

Array = NDArray[np.float64]


def tensor_grid(n_points: int, n_dims: int, theta_range: tuple[float, float] = (-6.0, 6.0)) -> Array:
    """All combinations of ``n_points`` equally spaced points per dimension, (n_points**n_dims, n_dims)."""
    axis = make_grid(n_points, theta_range)
    return np.array(list(itertools.product(axis, repeat=n_dims)), dtype=float).reshape(-1, n_dims)


def default_quadpts(n_dims: int) -> int:
    """R mirt's default points per dimension for ``n_dims`` integrated dimensions (61, 31, 15, 9, 7, then 3)."""
    return {1: 61, 2: 31, 3: 15, 4: 9, 5: 7}.get(n_dims, 3)


class MVNLatent:
    """N(μ, Σ) over the dimensions of ``points`` (Q, K), with the free parameters named by the flags."""

    def __init__(
        self,
        points: Array,
        correlated: NDArray[np.bool_],
        estimate_mean: bool = False,
        estimate_var: bool = False,
        mean: Array | None = None,
        cov: Array | None = None,
    ) -> None:
        self.points = points
        K = points.shape[1]
        self.K = K
        self.estimate_mean = estimate_mean
        self.estimate_var = estimate_var
        self.mean = np.zeros(K) if mean is None else np.asarray(mean, dtype=float).copy()
        low = np.tril(np.asarray(correlated, dtype=bool), -1)
        self.free_l = np.argwhere(low)  # (i, j) entries of L that move
        cov = np.eye(K) if cov is None else np.asarray(cov, dtype=float)
        self.L = _cholesky(cov, "starting covariance")
        if not estimate_var:
            self.L = self.L / np.diag(self.L)[:, None]

    # ----------------------------------------------------------------- parameters
    @property
    def n_free(self) -> int:
        """Number of estimated latent parameters."""
        return len(self.free_l) + self.K * (int(self.estimate_mean) + int(self.estimate_var))

    def pack(self) -> Array:
        """Free ψ as a vector: means, then free L entries, then log diag(L)."""
        parts = [self.mean] if self.estimate_mean else []
        parts.append(self.L[self.free_l[:, 0], self.free_l[:, 1]] if len(self.free_l) else np.zeros(0))
        if self.estimate_var:
            parts.append(np.log(np.diag(self.L)))
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, x: Array) -> None:
        """Write ψ back."""
        pos = 0
        if self.estimate_mean:
            self.mean = np.array(x[: self.K], dtype=float)
            pos = self.K
        L = self.L.copy()
        n = len(self.free_l)
        if n:
            L[self.free_l[:, 0], self.free_l[:, 1]] = x[pos : pos + n]
        pos += n
        if self.estimate_var:
            L[np.diag_indices(self.K)] = np.exp(x[pos : pos + self.K])
        self.L = L

    def natural(self, x: Array) -> Array:
        """ψ mapped to means, correlations (or covariances) and SDs: the scale the convergence rule measures."""
        saved = self.pack()
        self.unpack(x)
        cov = self.cov
        parts = [self.mean] if self.estimate_mean else []
        if len(self.free_l):
            parts.append(cov[self.free_l[:, 0], self.free_l[:, 1]])
        if self.estimate_var:
            parts.append(np.sqrt(np.diag(cov)))
        self.unpack(saved)
        return np.concatenate(parts) if parts else np.zeros(0)

    @property
    def cov(self) -> Array:
        """The covariance matrix (the correlation matrix when variances are fixed at 1)."""
        S = self.L @ self.L.T
        if not self.estimate_var:
            s = np.sqrt(np.diag(S))
            S = S / np.outer(s, s)
        return S

    @property
    def correlation(self) -> Array:
        """The correlation matrix."""
        S = self.cov
        s = np.sqrt(np.diag(S))
        return S / np.outer(s, s)

    # ----------------------------------------------------------------- the grid
    def log_weights(self, points: Array | None = None) -> Array:
        """log w_q: the normal density on the grid, normalised to sum 1, (Q,)."""
        return _log_weights(self.points if points is None else points, self.mean, self.cov)

    def update(self, latent_counts: Array, points: Array | None = None) -> None:
        """M-step: maximise Σ_q n_q log w_q(ψ) over the free ψ (BFGS from the current values)."""
        if self.n_free == 0:
            return
        pts = self.points if points is None else points
        n = np.asarray(latent_counts, dtype=float)
        total = n.sum()
        if not total > 0:
            return
        saved = self.pack()

        def objective(x: Array) -> float:
            self.unpack(x)
            value = -float(n @ self.log_weights(pts)) / total
            return value if np.isfinite(value) else 1e300

        res = minimize(objective, saved, method="BFGS", options={"gtol": 1e-10, "maxiter": 200})
        best = res.x if res.fun <= objective(saved) else saved
        self.unpack(best)

    def score(self, latent_counts: Array, h: float = 1e-5) -> Array:
        """∂/∂ψ Σ_q n_q log w_q(ψ) by central differences (the latent part of the observed-data score)."""
        x = self.pack()
        out = np.empty(x.size)
        for i in range(x.size):
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            self.unpack(up)
            fu = float(latent_counts @ self.log_weights())
            self.unpack(down)
            fd = float(latent_counts @ self.log_weights())
            out[i] = (fu - fd) / (2 * h)
        self.unpack(x)
        return out


def _cholesky(cov: Array, what: str) -> Array:
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise CalibrationError(f"the {what} is not positive definite") from None


def _log_weights(points: Array, mean: Array, cov: Array) -> Array:
    try:
        L = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return np.full(points.shape[0], -np.inf)
    z = np.linalg.solve(L, (points - mean).T)
    lw = -0.5 * np.sum(z * z, axis=0)
    return lw - np.logaddexp.reduce(lw)


class ImportanceLatent(MVNLatent):
    """N(0, R) on fixed points drawn from N(0, R₀): weights w_q ∝ φ_R(θ_q) / φ_R₀(θ_q) (importance sampling), so EM
    on the fixed support is an exact EM and the weights are even where R is near R₀."""

    def __init__(self, points: Array, correlated: NDArray[np.bool_], proposal: Array) -> None:
        super().__init__(points, correlated, cov=proposal)
        self.offset = _log_weights(points, np.zeros(points.shape[1]), proposal)

    def log_weights(self, points: Array | None = None) -> Array:
        """log w_q ∝ log φ_R(θ_q) - log φ_R₀(θ_q), normalised."""
        lw = _log_weights(self.points, self.mean, self.cov) - self.offset
        return lw - np.logaddexp.reduce(lw)


class ReducedLatent:
    """Bifactor / two-tier latent distribution: N(μ, Σ) on the primary grid, independent N(0, 1) specific factors.

    ``log_weights`` returns both pieces (primary (Qp,), specific (qs,)) for the dimension-reduction E-step.
    """

    def __init__(self, primary: MVNLatent, specific_points: Array) -> None:
        self.primary = primary
        self.specific_points = specific_points
        lw = -0.5 * specific_points**2
        self.specific_log_w = lw - np.logaddexp.reduce(lw)

    @property
    def n_free(self) -> int:
        """Estimated latent parameters (those of the primary dimensions)."""
        return self.primary.n_free

    def pack(self) -> Array:
        """Free parameters of the primary distribution."""
        return self.primary.pack()

    def unpack(self, x: Array) -> None:
        """Write them back."""
        self.primary.unpack(x)

    def natural(self, x: Array) -> Array:
        """Natural scale of the primary parameters."""
        return self.primary.natural(x)

    def log_weights(self, points: Array | None = None) -> tuple[Array, Array]:
        """(primary log weights (Qp,), specific log weights (qs,))."""
        return self.primary.log_weights(), self.specific_log_w

    def update(self, latent_counts: Array, points: Array | None = None) -> None:
        """M-step of the primary distribution from the posterior mass on the primary grid."""
        self.primary.update(latent_counts)

    def score(self, latent_counts: Array) -> Array:
        """Latent part of the score."""
        return self.primary.score(latent_counts)
