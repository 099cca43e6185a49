"""Bock–Aitkin EM with SQUAREM acceleration over all item blocks and the latent distribution.

One EM map F(x) = M-step(E-step(x)) on the packed vector x of free parameters (item η entries, a shared 1PL
slope, and the latent mean / log SD when they are estimated). SQUAREM (Varadhan & Roland 2008, scheme S3)
extrapolates two EM steps and stabilises with a third; a step that lowers the log-likelihood falls back to
plain EM, so the fit stays monotone. Convergence is mirt's rule: the largest change of a plain EM step is below
``tol`` (on the internal scale: slopes, intercepts, logits of asymptotes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.estep import ChunkedData, EStepResult
from digicomp.calibration.families import log_prob
from digicomp.calibration.mstep import Block, m_step
from digicomp.calibration.priors import Priors

Array = NDArray[np.float64]
Progress = Callable[[int, float, float], None]


@dataclass
class Latent:
    """The N(mean, sd²) population distribution on the fixed quadrature grid; which moments are estimated."""

    mean: float = 0.0
    sd: float = 1.0
    estimate_mean: bool = False
    estimate_sd: bool = False

    def log_weights(self, points: Array) -> Array:
        """Normalised log weights of the grid points."""
        z = -0.5 * ((points - self.mean) / self.sd) ** 2
        return z - np.logaddexp.reduce(z)

    def update(self, latent_counts: Array, points: Array) -> None:
        """M-step of the latent moments: the weighted mean and SD of the posterior mass on the grid."""
        total = latent_counts.sum()
        mean = float(latent_counts @ points / total) if self.estimate_mean else self.mean
        if self.estimate_sd:
            self.sd = float(np.sqrt(latent_counts @ (points - mean) ** 2 / total))
        self.mean = mean


@dataclass
class EMOutcome:
    """What the EM loop reports: cycles run, convergence, final log-likelihood and E-step statistics."""

    iterations: int
    converged: bool
    loglik: float
    last_change: float
    estep: EStepResult


class EMEngine:
    """The EM map over packed parameters; holds the data chunks, blocks, fixed items and latent distribution."""

    def __init__(
        self, data: ChunkedData, blocks: list[Block], fixed_log_p: Array, points: Array, latent: Latent, priors: Priors
    ) -> None:
        self.data = data
        self.blocks = blocks
        self.points = points
        self.latent = latent
        self.priors = priors
        self.base_log_p = fixed_log_p

    # ----------------------------------------------------------------- packing
    def _item_pack(self) -> Array:
        """The items' free parameters, block by block (a shared parameter once)."""
        parts = []
        for b in self.blocks:
            parts.append(b.eta[b.free])
            if b.shared.any():
                parts.append(b.eta[b.shared, 0][:1])
        return np.concatenate(parts) if parts else np.zeros(0)

    def _item_unpack(self, x: Array) -> int:
        """Write the items' part of x back into the blocks; returns where the latent part starts."""
        pos = 0
        for b in self.blocks:
            k = int(b.free.sum())
            b.eta[b.free] = x[pos : pos + k]
            pos += k
            if b.shared.any():
                b.eta[b.shared, 0] = x[pos]
                pos += 1
        return pos

    def _n_latent(self) -> int:
        """How many latent-distribution parameters end the packed vector."""
        return int(self.latent.estimate_mean) + int(self.latent.estimate_sd)

    def pack(self) -> Array:
        """Free parameters as one vector."""
        parts = [self._item_pack()]
        if self.latent.estimate_mean:
            parts.append(np.array([self.latent.mean]))
        if self.latent.estimate_sd:
            parts.append(np.array([np.log(self.latent.sd)]))
        return np.concatenate(parts)

    def unpack(self, x: Array) -> None:
        """Write a packed vector back into the blocks and the latent distribution."""
        pos = self._item_unpack(x)
        if self.latent.estimate_mean:
            self.latent.mean = float(x[pos])
            pos += 1
        if self.latent.estimate_sd:
            self.latent.sd = float(np.exp(x[pos]))

    def natural(self, x: Array) -> Array:
        """x with asymptote logits mapped back to probabilities: the scale the convergence rule measures."""
        mask = []
        for b in self.blocks:
            cols = np.zeros(b.eta.shape, dtype=bool)
            if b.family == "dichotomous":
                cols[:, 2:] = True
            mask.append(cols[b.free])
            if b.shared.any():
                mask.append(np.zeros(1, dtype=bool))
        mask.append(np.zeros(self._n_latent(), dtype=bool))
        m = np.concatenate(mask)
        out = x.copy()
        out[m] = 1.0 / (1.0 + np.exp(-x[m]))
        return out

    def valid(self, x: Array) -> bool:
        """True when x is inside every model: positive slopes, ordered graded thresholds, finite values."""
        if not np.all(np.isfinite(x)):
            return False
        saved = self.pack()
        self.unpack(x)
        ok = all(np.all(b.eta[:, 0] > 0) for b in self.blocks)
        for b in self.blocks:
            if b.family == "graded" and b.eta.shape[1] > 2:
                d = b.eta[:, 1:]
                with np.errstate(invalid="ignore"):
                    ok &= bool(np.all((np.diff(d, axis=1) < 0) | np.isneginf(d[:, 1:])))
        self.unpack(saved)
        return ok

    # ----------------------------------------------------------------- the map
    def log_p(self) -> Array:
        """Item log-probabilities on the grid (Q, J, K) at the current parameters."""
        out = self.base_log_p.copy()
        for b in self.blocks:
            lp = log_prob(b.family, b.eta, self.points)
            out[:, b.index, : lp.shape[2]] = lp
        return out

    def e_step(self, count_dtype: type = np.float64) -> EStepResult:
        """E-step at the current parameters (sparse counts accumulated in ``count_dtype``)."""
        return self.data.e_step(self.log_p(), self.latent.log_weights(self.points), count_dtype)

    def em_map(self, x: Array, count_dtype: type = np.float64) -> tuple[Array, EStepResult]:
        """F(x): E-step at x, then the M-step of every block and of the latent moments; returns (F(x), E-step)."""
        self.unpack(x)
        stats = self.e_step(count_dtype)
        for b in self.blocks:
            b.eta = m_step(
                b, stats.counts[b.index, : b.eta.shape[1] if b.family != "dichotomous" else 2], self.points, self.priors
            )
        self.latent.update(stats.latent, self.points)
        return self.pack(), stats

    # ----------------------------------------------------------------- the loop
    def run(
        self,
        tol: float = 1e-4,
        max_iter: int = 500,
        accelerate: bool = True,
        progress: Progress | None = None,
        count_dtype: type = np.float32,
    ) -> EMOutcome:
        """Iterate to convergence (or ``max_iter`` EM cycles); leaves the engine at the final parameters.

        The cycles accumulate the sparse E-step counts in ``count_dtype``: float32 halves the memory traffic of
        that product, and its relative error (about 1e-6 of a count) moves the M-step far less than ``tol``. The
        log-likelihoods that steer SQUAREM stay float64, and so does the final E-step, whose counts,
        log-likelihood and per-person posterior moments (EAP, PSD) are reported and used for standard errors.
        """
        x0 = self.pack()
        it, change = 0, np.inf
        stats: EStepResult | None = None

        def step(x: Array) -> tuple[Array, EStepResult, float]:
            nonlocal it
            new, st = self.em_map(x, count_dtype)
            it += 1
            delta = float(np.max(np.abs(self.natural(new) - self.natural(x)), initial=0.0))
            if progress is not None:
                progress(it, st.loglik, delta)
            return new, st, delta

        while it < max_iter:
            x1, stats, change = step(x0)
            if change < tol or it >= max_iter:
                x0 = x1
                break
            x2, stats1, change = step(x1)
            if change < tol or not accelerate or it >= max_iter:
                x0 = x2
                if change < tol:
                    break
                continue
            r, v = x1 - x0, x2 - 2 * x1 + x0
            alpha = -np.sqrt(r @ r) / max(np.sqrt(v @ v), 1e-300)
            alpha = min(alpha, -1.0)
            xp = x0 - 2 * alpha * r + alpha**2 * v
            while alpha < -1.0 and not self.valid(xp):
                alpha = (alpha - 1.0) / 2.0
                xp = x0 - 2 * alpha * r + alpha**2 * v
            if alpha == -1.0:
                x0 = x2
                continue
            x3, stats3, _ = step(xp)
            if np.isfinite(stats3.loglik) and stats3.loglik >= stats1.loglik and self.valid(x3):
                x0 = x3
            else:
                x0 = x2
        self.unpack(x0)
        final = self.data.e_step(self.log_p(), self.latent.log_weights(self.points), moments_at=self.points)
        converged = bool(change < tol)
        return EMOutcome(it, converged, final.loglik, float(change), final)
