"""Stopping rules: each says, for the active persons after an answer, whether its condition holds (n,) bool.

The :class:`Stopper` combines them (any / all), never stops before ``min_items`` or before the content
minimums are met, and always stops at ``max_items``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.content import ContentControl
from digicomp.cat.context import StepContext
from digicomp.levels import level_probabilities


@dataclass(frozen=True)
class StandardError:
    """SE(θ̂) below ``threshold``."""

    threshold: float
    name = "se"

    def check(self, ctx: StepContext) -> NDArray[np.bool_]:
        """SE < threshold."""
        return ctx.se < self.threshold


@dataclass(frozen=True)
class MinInformation:
    """No item left whose information at θ̂ reaches ``threshold`` (catR ``minInfo``)."""

    threshold: float
    name = "min_info"

    def check(self, ctx: StepContext) -> NDArray[np.bool_]:
        """max over items not given (nor blocked) of I_j(θ̂) < threshold."""
        open_ = ~(ctx.state.administered[ctx.rows] | ctx.state.blocked[ctx.rows])
        return np.where(open_, ctx.information, 0.0).max(axis=1) < self.threshold


@dataclass(frozen=True)
class PosteriorClassification:
    """The posterior probability of one level reaches ``bound``."""

    cuts: NDArray[np.float64]
    bound: float
    name = "classification"

    def check(self, ctx: StepContext) -> NDArray[np.bool_]:
        """max_l P(level l | x) ≥ bound."""
        return level_probabilities(ctx.weights, ctx.tables.points, self.cuts).max(axis=1) >= self.bound


@dataclass(frozen=True)
class ConfidenceClassification:
    """No cut score inside θ̂ ± z·SE (Kingsbury & Weiss 1983; catR ``classification``)."""

    cuts: NDArray[np.float64]
    z: float
    name = "ci"

    def check(self, ctx: StepContext) -> NDArray[np.bool_]:
        """Every cut outside the interval."""
        lo = (ctx.theta - self.z * ctx.se)[:, None]
        hi = (ctx.theta + self.z * ctx.se)[:, None]
        return ~np.any((self.cuts[None, :] > lo) & (self.cuts[None, :] < hi), axis=1)


@dataclass(frozen=True)
class SPRT:
    """Wald's SPRT at each cut c: log L(c+δ)/L(c−δ) beyond log((1−β)/α) or below log(β/(1−α)) (Reckase 1983;
    Eggen 1999); stops when every cut is decided."""

    cuts: NDArray[np.float64]
    log_prob_hi: NDArray[np.float64]
    log_prob_lo: NDArray[np.float64]
    alpha: float
    beta: float
    name = "sprt"

    @classmethod
    def build(cls, params, cuts: NDArray, delta: float, alpha: float, beta: float) -> SPRT:
        """Tables of log P (C, J, K) at c ± δ for every cut."""
        return cls(cuts, params.log_prob(cuts + delta), params.log_prob(cuts - delta), alpha, beta)

    def check(self, ctx: StepContext) -> NDArray[np.bool_]:
        """Every cut's log likelihood ratio outside Wald's bounds."""
        seq = ctx.state.sequence[ctx.rows]
        resp = ctx.state.responses[ctx.rows]
        given = seq >= 0
        j, k = np.where(given, seq, 0), np.where(given, resp, 0)
        llr = np.where(given[None], self.log_prob_hi[:, j, k] - self.log_prob_lo[:, j, k], 0.0).sum(axis=2)  # (C, n)
        upper, lower = np.log((1 - self.beta) / self.alpha), np.log(self.beta / (1 - self.alpha))
        return np.all((llr >= upper) | (llr <= lower), axis=0)


@dataclass(frozen=True)
class Stopper:
    """Combine rules with ``combine`` (any / all) between ``min_items`` and ``max_items``."""

    rules: tuple
    combine: str
    min_items: int
    max_items: int
    content: ContentControl

    _names: NDArray[np.object_] = field(init=False, repr=False)
    _joined: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Precompute the reason names."""
        object.__setattr__(self, "_names", np.array([rule.name for rule in self.rules], dtype=object))
        object.__setattr__(self, "_joined", "+".join(rule.name for rule in self.rules))

    def reasons(self, ctx: StepContext) -> NDArray[np.object_]:
        """Stop reason per active person ("" = go on).

        The first rule that fired (``any``), all names joined by '+' (``all``), or 'max_items'.
        """
        out = np.full(ctx.n, "", dtype=object)
        stop, why = self.decide(ctx)
        if stop is not None:
            out[stop] = why
        return out

    def decide(self, ctx: StepContext) -> tuple[NDArray[np.bool_] | None, NDArray[np.object_] | str]:
        """(who stops (n,) bool, their reasons) as in :meth:`reasons`; (None, "") when nobody stops."""
        given = ctx.n_given
        at_max = given >= self.max_items
        if not self.rules:
            return (at_max, "max_items") if at_max.any() else (None, "")
        fired = [rule.check(ctx) for rule in self.rules]  # R × (n,)
        if len(fired) == 1:
            met = fired[0]
        else:
            met = np.logical_or.reduce(fired) if self.combine == "any" else np.logical_and.reduce(fired)
        allowed = met & (given >= self.min_items) & self.content.minimums_met(ctx.state, ctx.rows)
        stop = allowed | at_max
        if not stop.any():
            return None, ""
        why = np.full(ctx.n, "", dtype=object)
        if self.combine == "any" and len(fired) > 1:
            why[allowed] = self._names[np.argmax(np.stack(fired)[:, allowed], axis=0)]
        else:
            why[allowed] = self._names[0] if self.combine == "any" else self._joined
        why[at_max] = "max_items"
        return stop, why[stop]
