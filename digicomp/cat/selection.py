"""Item selection rules: each maps the active persons of a step to a criterion per item (n, J), larger = better.

The core masks ineligible items and applies exposure control; a rule only scores. Every rule works for
dichotomous and polytomous items alike (it uses the category probabilities and information on the grid).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.context import StepContext
from digicomp.cat.draws import STREAM_RANDOM_RULE, uniforms
from digicomp.cat.tables import Tables
from digicomp.errors import DesignError

Rule = Callable[[StepContext], NDArray[np.float64]]
"""A selection rule: (step context) -> criterion (n, J), larger is better; ineligible items are masked later."""

_CUSTOM: dict[str, Rule] = {}


def register_rule(name: str, rule: Rule) -> None:
    """Make ``rule`` available to designs as ``selection: {rule: custom, name: <name>}`` (the documented hook)."""
    if not callable(rule):
        raise DesignError(f"custom selection rule {name!r} must be callable (StepContext -> (n, J) criterion)")
    _CUSTOM[name] = rule


def custom_rule(name: str) -> Rule:
    """The registered custom rule ``name``."""
    try:
        return _CUSTOM[name]
    except KeyError:
        known = ", ".join(sorted(_CUSTOM)) or "none registered"
        raise DesignError(
            f"selection.name: no custom rule {name!r} (registered: {known}); call digicomp.cat.register_rule first"
        ) from None


def max_information(ctx: StepContext) -> NDArray[np.float64]:
    """Maximum Fisher information at θ̂ (Lord 1980): I_j(θ̂), in the batch's criterion work array (the caller
    owns it until the next step; see :func:`owns_output`)."""
    return ctx.tables.information_at(ctx.theta, _work(ctx))


def _work(
    ctx: StepContext, width: int | None = None, rows: int | None = None, name: str = "criterion"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two (rows, width) work arrays of the batch (n × J by default: the criterion; see :func:`owns_output`)."""
    width = ctx.tables.n_items if width is None else width
    rows = ctx.n if rows is None else rows
    return ctx.state.scratch(name, rows, width), ctx.state.scratch(name + "_work", rows, width)


def likelihood_weighted_information(ctx: StepContext) -> NDArray[np.float64]:
    """∫ I_j(θ) L(θ | x) dθ (Veerkamp & Berger 1997), the likelihood normalised on the grid."""
    return ctx.tables.exact_information.weigh(ctx.likelihood_weights, _work(ctx))


def posterior_weighted_information(ctx: StepContext) -> NDArray[np.float64]:
    """∫ I_j(θ) π(θ | x) dθ (van der Linden 1998)."""
    return ctx.tables.exact_information.weigh(ctx.weights, _work(ctx))


def min_expected_posterior_variance(ctx: StepContext) -> NDArray[np.float64]:
    """−Σ_k P(x_j = k | x) Var(θ | x, x_j = k) (Owen 1975; van der Linden 1998), all items at once.

    The moments are taken about the person's θ̂ (clipped to the grid): the same variance, without the
    cancellation of E[θ²] − E[θ]² far from θ = 0.
    """
    t = ctx.tables
    Q, J, K = t.prob.shape
    w = ctx.weights
    d = t.points[None, :] - np.clip(ctx.theta, t.points[0], t.points[-1])[:, None]
    n = ctx.n
    moments = np.empty((3 * n, Q))  # the weights of the 0th, 1st and 2nd moment: one product for all three
    moments[:n] = w
    np.multiply(w, d, out=moments[n : 2 * n])
    np.multiply(moments[n : 2 * n], d, out=moments[2 * n :])
    m = t.exact_prob.weigh(moments, _work(ctx, J * K, rows=3 * n, name="moments"))
    m0, m1, m2 = m[:n], m[n : 2 * n], m[2 * n :]
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(m0 > 0, m0, 1.0)
        var = np.where(m0 > 0, m2 / safe - (m1 / safe) ** 2, 0.0)
    epv = (m0 * np.maximum(var, 0.0)).reshape(ctx.n, J, K).sum(axis=2)
    return -epv


def _kl(ctx: StepContext, grid_weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """Σ_q g_q KL(P_j(θ̂) ‖ P_j(θ_q)) for weights g (n, Q) on the grid."""
    t = ctx.tables
    J, K = t.prob.shape[1:]
    log_hat = t.params.log_prob(ctx.theta)  # (n, J, K)
    p_hat = np.exp(log_hat)
    entropy = (p_hat * np.where(p_hat > 0, log_hat, 0.0)).sum(axis=2)  # Σ_k P log P
    cross = t.exact_log_prob.weigh(grid_weights, _work(ctx, J * K, name="cross")).reshape(ctx.n, J, K)
    return grid_weights.sum(axis=1)[:, None] * entropy - (p_hat * cross).sum(axis=2)


@dataclass(frozen=True)
class KullbackLeibler:
    """Chang & Ying (1996) KL index: ∫ KL(θ̂ ‖ θ) over θ̂ ± radius/√n (n = items answered, at least 1)."""

    radius: float = 3.0

    def __call__(self, ctx: StepContext) -> NDArray[np.float64]:
        pts = ctx.tables.points
        delta = self.radius / np.sqrt(np.maximum(ctx.n_given, 1))
        inside = np.abs(pts[None, :] - ctx.theta[:, None]) <= delta[:, None]
        step = pts[1] - pts[0]
        return _kl(ctx, inside * step)


def posterior_kullback_leibler(ctx: StepContext) -> NDArray[np.float64]:
    """Posterior-weighted KL (Chang & Ying 1996; catR ``KLP``): ∫ KL(θ̂ ‖ θ) π(θ | x) dθ."""
    return _kl(ctx, ctx.weights)


def random_rule(ctx: StepContext) -> NDArray[np.float64]:
    """Uniform random choice among eligible items: a per-person draw for every item."""
    return uniforms(ctx.keys, ctx.n_given, STREAM_RANDOM_RULE, np.arange(ctx.tables.n_items))


def b_blocked_strata(slope: NDArray[np.float64], location: NDArray[np.float64], n_strata: int) -> NDArray[np.intp]:
    """Stratum 0..S-1 of each item, a ascending, after b-blocking (Chang, Qian & Ying 2001).

    Items sorted by b form consecutive blocks of S; within a block the item with the i-th smallest a goes to
    stratum i, so every stratum spans the b range and strata rise in a.
    """
    J = slope.size
    by_b = np.argsort(location, kind="stable")
    block = np.empty(J, np.intp)
    block[by_b] = np.arange(J) // n_strata
    order = np.lexsort((np.arange(J), slope, block))  # by block, then a, then position
    start = np.searchsorted(block[order], block[order], side="left")
    strata = np.empty(J, np.intp)
    strata[order] = np.arange(J) - start
    return strata


@dataclass(frozen=True)
class AStratified:
    """a-stratified selection with b-blocking: stage s of the test draws from stratum s, b closest to θ̂.

    Stages split ``max_length`` items evenly unless ``stage_lengths`` is given; when a stage's stratum has no
    eligible item left, the nearest stratum is used (the criterion penalises stratum distance).
    """

    strata: NDArray[np.intp]
    n_strata: int
    stage_ends: NDArray[np.intp]

    @classmethod
    def build(cls, tables: Tables, n_strata: int, max_length: int, stage_lengths: list[int] | None) -> AStratified:
        """Strata of ``tables``' items and the stage boundaries in items answered."""
        if n_strata < 1 or n_strata > tables.n_items:
            raise DesignError(f"selection.strata = {n_strata} must lie in 1..{tables.n_items} (the bank's items)")
        if stage_lengths is None:
            ends = np.ceil(max_length * np.arange(1, n_strata + 1) / n_strata).astype(np.intp)
        else:
            if len(stage_lengths) != n_strata:
                raise DesignError(f"selection.stage_lengths has {len(stage_lengths)} entries for {n_strata} strata")
            ends = np.cumsum(stage_lengths).astype(np.intp)
        strata = b_blocked_strata(tables.params.slope, tables.location, n_strata)
        return cls(strata, n_strata, ends)

    def stage(self, n_given: NDArray[np.intp]) -> NDArray[np.intp]:
        """The stratum used at each person's next item."""
        return np.minimum(np.searchsorted(self.stage_ends, n_given, side="right"), self.n_strata - 1)

    def __call__(self, ctx: StepContext) -> NDArray[np.float64]:
        loc = ctx.tables.location
        distance = np.abs(self.strata[None, :] - self.stage(ctx.n_given)[:, None])
        return -np.abs(loc[None, :] - ctx.theta[:, None]) - 1e6 * distance


RULES = ("mfi", "mlwi", "mpwi", "mepv", "kl", "klp", "astrat", "random", "custom")

_SIMPLE: dict[str, Rule] = {
    "mfi": max_information,
    "mlwi": likelihood_weighted_information,
    "mpwi": posterior_weighted_information,
    "mepv": min_expected_posterior_variance,
    "klp": posterior_kullback_leibler,
    "random": random_rule,
}


def owns_output(rule: Rule) -> bool:
    """True for the built-in rules, whose criterion array the caller may overwrite (mask in place) and need not
    keep past the step; a custom rule's output may be shared or read-only, so it is copied."""
    return rule in _SIMPLE.values() or isinstance(rule, (KullbackLeibler, AStratified))


def build_rule(rule: str, tables: Tables, max_length: int, **options) -> Rule:
    """The rule ``rule`` (one of RULES) configured from the design's options."""
    if rule in _SIMPLE:
        return _SIMPLE[rule]
    if rule == "kl":
        return KullbackLeibler(options.get("kl_radius") or 3.0)
    if rule == "astrat":
        return AStratified.build(tables, options.get("strata") or 4, max_length, options.get("stage_lengths"))
    if rule == "custom":
        return custom_rule(options.get("name") or "")
    raise DesignError(f"selection.rule = {rule!r}; expected one of {', '.join(RULES)}")
