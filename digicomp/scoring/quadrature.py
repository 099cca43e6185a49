"""Quadrature grids and priors for θ: the grid every posterior is computed on.

Defaults: 61 equally spaced points on [-6, 6] with a N(0, 1) prior, the grid of R mirt's EM calibration (mirt's
``fscores`` uses 121 points for one factor; pass ``n_points=121`` to match it: EAPs move by under 1e-4 on tests of up
to 60 items, see docs/analysis.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.errors import DigicompError

DEFAULT_POINTS = 61
DEFAULT_RANGE = (-6.0, 6.0)


def make_grid(n_points: int = DEFAULT_POINTS, theta_range: tuple[float, float] = DEFAULT_RANGE) -> NDArray[np.float64]:
    """Equally spaced quadrature points on ``theta_range`` (inclusive)."""
    lo, hi = theta_range
    if not (n_points >= 3 and np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise DigicompError(
            f"quadrature needs at least 3 points on a finite range lo < hi, got {n_points} on {theta_range}"
        )
    return np.linspace(float(lo), float(hi), int(n_points))


@dataclass(frozen=True)
class NormalPrior:
    """N(mean, sd²) prior on θ."""

    mean: float = 0.0
    sd: float = 1.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.mean) and np.isfinite(self.sd) and self.sd > 0):
            raise DigicompError(f"normal prior needs a finite mean and sd > 0, got mean={self.mean}, sd={self.sd}")

    def log_density(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Log density up to a constant at ``theta``."""
        z = (np.asarray(theta, dtype=float) - self.mean) / self.sd
        return -0.5 * z**2

    def grid(self, n_points: int, theta_range: tuple[float, float] | None = None) -> tuple[NDArray, NDArray]:
        """(points, log weights normalised to sum 1) on a grid; default range mean ± 6 sd."""
        rng = theta_range or (self.mean - 6 * self.sd, self.mean + 6 * self.sd)
        pts = make_grid(n_points, rng)
        logw = self.log_density(pts)
        return pts, logw - np.logaddexp.reduce(logw)


@dataclass(frozen=True)
class GridPrior:
    """Any prior given as weights on quadrature points (e.g. an empirical histogram)."""

    points: tuple[float, ...]
    weights: tuple[float, ...]

    @classmethod
    def from_arrays(cls, points: ArrayLike, weights: ArrayLike) -> GridPrior:
        """Build from arrays; weights need not be normalised but must be ≥ 0 and not all 0."""
        pts = np.asarray(points, dtype=float).ravel()
        w = np.asarray(weights, dtype=float).ravel()
        if pts.shape != w.shape or pts.size < 3:
            raise DigicompError(f"grid prior needs matching points and weights (≥ 3), got {pts.size} and {w.size}")
        if np.any(~np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0 or np.any(np.diff(pts) <= 0):
            raise DigicompError("grid prior weights must be finite, ≥ 0 and not all zero, on increasing points")
        return cls(tuple(pts.tolist()), tuple(w.tolist()))

    def grid(
        self, n_points: int | None = None, theta_range: tuple[float, float] | None = None
    ) -> tuple[NDArray, NDArray]:
        """(points, log weights summing to 1); the prior's own points are the grid."""
        pts = np.array(self.points)
        w = np.array(self.weights)
        with np.errstate(divide="ignore"):
            return pts, np.log(w / w.sum())


Prior = NormalPrior | GridPrior
