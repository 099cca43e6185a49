"""Priors on item parameters for Bayes-modal (MAP) calibration, with analytic first and second derivatives.

Priors act on mirt's internal parameters: the slope ``a1`` (= D·a), intercepts ``d``, and the asymptotes ``g``
and ``u`` on their natural [0, 1] scale (the M-step moves them as logits; the prior is the density of g, so
the estimate is the posterior mode in g itself). The default is no prior, i.e. maximum likelihood exactly as
R mirt does for 2PL/3PL/4PL/GRM/GPCM; :data:`BAYES_DEFAULTS` are BILOG-MG-style choices for short tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import CalibrationError

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Normal:
    """N(mean, sd²) on an unbounded parameter (slope or intercept)."""

    mean: float = 0.0
    sd: float = 1.0

    def terms(self, x: Array) -> tuple[Array, Array, Array]:
        """(log density, first derivative, second derivative) at x."""
        z = (x - self.mean) / self.sd
        return -0.5 * z**2 - np.log(self.sd * np.sqrt(2 * np.pi)), -z / self.sd, np.full_like(x, -1.0 / self.sd**2)


@dataclass(frozen=True)
class LogNormal:
    """log a ~ N(meanlog, sdlog²) on a slope; mirt's ``lnorm`` prior."""

    meanlog: float = 0.0
    sdlog: float = 0.5

    def terms(self, x: Array) -> tuple[Array, Array, Array]:
        """(log density, first derivative, second derivative) in x (the slope itself)."""
        s2 = self.sdlog**2
        with np.errstate(divide="ignore", invalid="ignore"):
            L = np.log(x)
            dev = L - self.meanlog
            logf = -L - 0.5 * dev**2 / s2 - np.log(self.sdlog * np.sqrt(2 * np.pi))
            d1 = -(1.0 + dev / s2) / x
            d2 = (1.0 + (dev - 1.0) / s2) / x**2
        bad = ~(x > 0)
        return np.where(bad, -np.inf, logf), np.where(bad, 0.0, d1), np.where(bad, 0.0, d2)


@dataclass(frozen=True)
class Beta:
    """g (or u) ~ Beta(alpha, beta) on [0, 1]; derivatives are taken in logit(g), the M-step's coordinate."""

    alpha: float = 5.0
    beta: float = 17.0

    def terms(self, x: Array) -> tuple[Array, Array, Array]:
        """(log density at g = expit(x), d/dx, d²/dx²) for x = logit(g)."""
        from scipy.special import betaln, expit, log_expit

        g = expit(x)
        logf = (self.alpha - 1) * log_expit(x) + (self.beta - 1) * log_expit(-x) - betaln(self.alpha, self.beta)
        d1 = (self.alpha - 1) * (1 - g) - (self.beta - 1) * g
        d2 = -(self.alpha + self.beta - 2) * g * (1 - g)
        return logf, d1, d2


Prior = Normal | LogNormal | Beta


@dataclass(frozen=True)
class Priors:
    """Which prior goes on which parameter; ``None`` means none (maximum likelihood for that parameter)."""

    slope: Normal | LogNormal | None = None
    intercept: Normal | None = None
    lower: Beta | None = None
    upper: Beta | None = None

    def column_priors(self, family: str) -> list[Prior | None]:
        """The prior of each internal column of a family's parameter matrix."""
        if family == "dichotomous":
            return [self.slope, self.intercept, self.lower, self.upper]
        return [self.slope, self.intercept]

    @property
    def empty(self) -> bool:
        """True when no parameter has a prior."""
        return all(p is None for p in (self.slope, self.intercept, self.lower, self.upper))


NO_PRIORS = Priors()
BAYES_DEFAULTS = Priors(slope=LogNormal(0.0, 0.5), lower=Beta(5.0, 17.0), upper=Beta(17.0, 5.0))


def as_priors(spec: Priors | str | None) -> Priors:
    """Accept a :class:`Priors`, ``None``/``"none"`` (ML) or ``"bayes"`` (:data:`BAYES_DEFAULTS`)."""
    if spec is None or spec == "none":
        return NO_PRIORS
    if spec == "bayes":
        return BAYES_DEFAULTS
    if isinstance(spec, Priors):
        return spec
    raise CalibrationError(f"priors = {spec!r}: expected None, 'none', 'bayes' or a digicomp.calibration.Priors")


def prior_terms(priors: Priors, family: str, eta: Array, free: NDArray[np.bool_]) -> tuple[Array, Array, Array]:
    """Per-item log prior (n,), gradient (n, m) and diagonal Hessian (n, m) over the free parameters.

    GRM/GPCM intercept priors apply to every threshold column.
    """
    n, m = eta.shape
    logp, grad, hess = np.zeros(n), np.zeros((n, m)), np.zeros((n, m))
    cols = priors.column_priors(family)
    for c in range(m):
        prior = cols[min(c, len(cols) - 1)] if family == "dichotomous" else cols[0 if c == 0 else 1]
        on = free[:, c]
        if prior is None or not np.any(on):
            continue
        lf, d1, d2 = prior.terms(eta[on, c])
        logp[on] += lf
        grad[on, c] = d1
        hess[on, c] = d2
    return logp, grad, hess
