"""Multidimensional adaptive testing (MCAT): the batch core on a bank whose items carry slope vectors.

The same core as a unidimensional test (:class:`~digicomp.cat.core.CatCore`: eligibility, content balancing,
enemies, exposure control, stopping, audit, resumable sessions, lock-step simulation); what changes is the state
of knowledge about a person — a K-dimensional posterior, kept as its mode and covariance (the Laplace
approximation, updated by Newton steps after each answer, :func:`digicomp.scoring.multidim.map_estimate`) — and
the rules that use it:

* ``d_optimality``: maximise det(I(θ̂) + I_j(θ̂)), the test information after item j (Segall 1996 without the
  prior; a ridge of 1e-4 keeps the first steps defined, so each dimension is reached before it is refined);
* ``bayesian_d_optimality``: maximise det(Σ⁻¹ + I(θ̂) + I_j(θ̂)) (Segall 1996, eq. 19);
* ``a_optimality``: minimise trace((Σ⁻¹ + I(θ̂) + I_j(θ̂))⁻¹), the summed posterior variances (Mulder & van der
  Linden 2009);
* ``klp``: posterior-expected Kullback–Leibler information ∫ KL_j(θ̂ ‖ θ) p(θ | x) dθ (Veldkamp & van der Linden
  2002; Wang & Chang 2011), the integral over fixed quasi-random points of the Laplace posterior.

By the matrix determinant lemma and Sherman–Morrison, with M the current information and I_j = i_j a_j a_jᵀ:
det(M + I_j) = det M (1 + i_j a_jᵀ M⁻¹ a_j) and trace((M + I_j)⁻¹) = trace(M⁻¹) − i_j ‖M⁻¹a_j‖² / (1 + i_j a_jᵀM⁻¹a_j),
so each criterion costs one K × K solve per person and a (J, K) product.

Stopping adds per-area rules to the overall ones: ``area_se`` (every area's SE below a value) and
``area_classification`` (every area's most probable level at least this probable); the overall ``se``, ``ci`` and
``classification`` rules read the overall composite (the general factor or the bank's weighted composite).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.cat.context import StepContext
from digicomp.cat.core import CatCore
from digicomp.cat.state import BatchState
from digicomp.cat.tables import Tables
from digicomp.errors import DesignError
from digicomp.models import multidim
from digicomp.scoring.multidim import (
    LatentNormal,
    MultidimItems,
    answered_components,
    latent,
    map_estimate,
    weighted_gram,
)

RULES = ("d_optimality", "bayesian_d_optimality", "a_optimality", "klp", "random")
"""Selection rules of a multidimensional test (``random`` as for any bank)."""
MULTIDIM_ONLY = ("d_optimality", "bayesian_d_optimality", "a_optimality")
RIDGE = 1e-4
KL_POINTS = 16
ESTIMATE_TOL = 1e-4
"""Newton stops within 1e-4 of the mode during a test (far below any SE); final scores use the scoring default."""


@dataclass
class MultidimState(BatchState):
    """A batch's state plus each person's posterior mode ``mtheta`` (N, K) and covariance ``mcov`` (N, K, K);
    ``theta``/``se`` hold the overall composite w·θ̂ and its SD."""

    mtheta: NDArray[np.float64] | None = None
    mcov: NDArray[np.float64] | None = None


@dataclass(frozen=True)
class Model:
    """What the MCAT parts share: the items' arrays, the latent normal, the composite weights, the area dims."""

    items: MultidimItems
    prior: LatentNormal
    weights: NDArray[np.float64]
    areas: NDArray[np.intp]
    """Positions of the dimensions that stand for framework areas (all but a general factor)."""
    cuts: NDArray[np.float64]
    outer: NDArray[np.float64] = field(init=False, repr=False)
    """Each item's a aᵀ flattened, (K², J)."""

    def __post_init__(self) -> None:
        """The items' outer products, once."""
        a = self.items.a
        object.__setattr__(self, "outer", np.ascontiguousarray((a[:, :, None] * a[:, None, :]).reshape(len(a), -1).T))

    @classmethod
    def of_bank(cls, bank: Any) -> Model:
        """The MCAT model of a multidimensional bank."""
        dims = bank.dims
        areas = np.array([k for k in range(dims.n) if k != dims.general], dtype=np.intp)
        return cls(bank.mparams, latent(dims.mean, dims.covariance), dims.weights, areas, bank.cut_scores)

    def composite(self, theta: NDArray, cov: NDArray) -> tuple[NDArray, NDArray]:
        """The overall composite's estimate and SE (n,)."""
        w = self.weights
        return theta @ w, np.sqrt(np.einsum("k,pkm,m->p", w, cov, w))

    def scalar_information(self, theta: NDArray[np.float64], cols: NDArray[np.bool_] | None = None) -> NDArray:
        """i_j(a_j·θ̂) of every item for each person (n, J); 0 outside ``cols`` (items nobody may be given)."""
        it = self.items
        out = np.zeros((theta.shape[0], it.n_items))
        for f in np.unique(it.family):
            keep = it.family == f if cols is None else (it.family == f) & cols
            idx = np.flatnonzero(keep)
            if idx.size == 0:
                continue
            t = theta @ it.a[idx].T
            if f == "dichotomous":
                out[:, idx] = multidim.predictor_information(t, it.intercepts[idx, 0], it.c[idx], it.u[idx])
            else:
                width = max(int(it.n_categories[idx].max()) - 1, 1)
                out[:, idx] = multidim.predictor_information(t, it.intercepts[idx, :width], family=str(f))
        return out

    def answered_information(self, state: BatchState, rows: NDArray[np.intp], theta: NDArray) -> NDArray:
        """Σ over answered items of i_l a_l a_lᵀ at θ̂ (n, K, K)."""
        seq = state.sequence[rows]
        width = max(int(state.n_given[rows].max(initial=0)), 1)
        seq, resp = seq[:, :width], state.responses[rows, :width]
        _, _, _, info = answered_components(self.items, theta, seq, resp)
        return weighted_gram(info, self.items.a[np.where(seq >= 0, seq, 0)])

    def quadratic(self, Minv: NDArray[np.float64]) -> NDArray[np.float64]:
        """a_jᵀ B a_j for every item and person, (n, J), from matrices B (n, K, K): one matrix product with the
        items' outer products a_j a_jᵀ flattened (n, K²) @ (K², J)."""
        n, K, _ = Minv.shape
        return Minv.reshape(n, K * K) @ self.outer


# ---------------------------------------------------------------------------------------------- estimation
@dataclass(frozen=True)
class MultidimEstimator:
    """After each answer: the posterior mode and covariance of the answering rows (Newton from the last mode)."""

    model: Model
    name = "MAP"

    def update(self, state: MultidimState, rows: NDArray[np.intp], tables: Tables) -> None:
        """Set the mode, covariance and composite of ``rows``."""
        width = max(int(state.n_given[rows].max(initial=0)), 1)
        seq, resp = state.sequence[rows, :width], state.responses[rows, :width]
        theta, cov, _ = map_estimate(
            self.model.items, seq, resp, self.model.prior, start=state.mtheta[rows], tol=ESTIMATE_TOL
        )
        state.mtheta[rows], state.mcov[rows] = theta, cov
        state.theta[rows], state.se[rows] = self.model.composite(theta, cov)


# ---------------------------------------------------------------------------------------------- selection
def _mtheta(ctx: StepContext) -> NDArray[np.float64]:
    return ctx.state.mtheta[ctx.rows]


def _open(ctx: StepContext) -> NDArray[np.bool_] | None:
    """Items someone in this step may be given (their criterion is needed; the others are masked anyway)."""
    return None if ctx.eligible is None else ctx.eligible.any(axis=0)


@dataclass(frozen=True)
class DOptimality:
    """log det(M + I_j) − log det M = log(1 + i_j a_jᵀ M⁻¹ a_j), M the (Bayesian or ridged) information."""

    model: Model
    bayesian: bool

    def __call__(self, ctx: StepContext) -> NDArray[np.float64]:
        """Criterion (n, J)."""
        theta = _mtheta(ctx)
        M = self.model.answered_information(ctx.state, ctx.rows, theta)
        M += self.model.prior.precision if self.bayesian else RIDGE * np.eye(M.shape[-1])
        quad = self.model.quadratic(np.linalg.inv(M))
        return np.log1p(self.model.scalar_information(theta, _open(ctx)) * quad)


@dataclass(frozen=True)
class AOptimality:
    """Reduction of trace((Σ⁻¹ + I(θ̂))⁻¹) by item j: i_j ‖M⁻¹a_j‖² / (1 + i_j a_jᵀ M⁻¹ a_j)."""

    model: Model

    def __call__(self, ctx: StepContext) -> NDArray[np.float64]:
        """Criterion (n, J)."""
        theta = _mtheta(ctx)
        M = self.model.answered_information(ctx.state, ctx.rows, theta) + self.model.prior.precision
        Minv = np.linalg.inv(M)
        quad = self.model.quadratic(Minv)
        info = self.model.scalar_information(theta, _open(ctx))
        return info * self.model.quadratic(Minv @ Minv) / (1.0 + info * quad)  # ‖M⁻¹a‖² = aᵀM⁻²a


@dataclass(frozen=True)
class PosteriorKL:
    """Mean over the Laplace posterior's quasi-random points θ_s of Σ_k P_jk(θ̂) log(P_jk(θ̂) / P_jk(θ_s))."""

    model: Model
    z: NDArray[np.float64] = field(repr=False)

    @classmethod
    def build(cls, model: Model) -> PosteriorKL:
        """Fixed standard-normal QMC points (the same in every session)."""
        from digicomp.scoring.multidim import sobol_normal

        return cls(model, sobol_normal(model.items.n_dims, KL_POINTS, seed=0))

    def __call__(self, ctx: StepContext) -> NDArray[np.float64]:
        """Criterion (n, J)."""
        it = self.model.items
        theta = _mtheta(ctx)
        L = np.linalg.cholesky(ctx.state.mcov[ctx.rows])
        pts = theta[:, None, :] + np.einsum("pkj,sj->psk", L, self.z)  # (n, S, K)
        n, S, K = pts.shape
        lp_hat = it.log_prob(theta)  # (n, J, C)
        lp = it.log_prob(pts.reshape(-1, K)).reshape(n, S, it.n_items, -1)
        p_hat = np.exp(lp_hat)
        with np.errstate(invalid="ignore"):
            kl = np.where(p_hat[:, None] > 0, p_hat[:, None] * (lp_hat[:, None] - lp), 0.0).sum(axis=-1)
        return kl.mean(axis=1)


def build_rule(name: str, model: Model) -> Any:
    """The MCAT selection rule ``name`` (random is the core's own)."""
    if name == "d_optimality":
        return DOptimality(model, bayesian=False)
    if name == "bayesian_d_optimality":
        return DOptimality(model, bayesian=True)
    if name == "a_optimality":
        return AOptimality(model)
    if name == "klp":
        return PosteriorKL.build(model)
    raise DesignError(
        f"selection.rule: {name!r} is a unidimensional rule; a multidimensional bank takes one of {', '.join(RULES)}"
    )


# ---------------------------------------------------------------------------------------------- stopping
def _level_probabilities(mean: NDArray, sd: NDArray, cuts: NDArray) -> NDArray[np.float64]:
    """P(level) (…, L) of normal marginals N(mean, sd²) (the Laplace posterior's)."""
    edges = np.concatenate([[-np.inf], cuts, [np.inf]])
    from scipy.special import ndtr  # lazy: a unidimensional run never loads scipy

    return np.diff(ndtr((edges - mean[..., None]) / sd[..., None]), axis=-1)


@dataclass(frozen=True)
class AreaStandardError:
    """Every area's posterior SD below ``threshold``."""

    model: Model
    threshold: float
    name = "area_se"

    def check(self, ctx: StepContext) -> NDArray[np.bool_]:
        """max over areas of SE(θ̂_k) < threshold."""
        var = np.einsum("pkk->pk", ctx.state.mcov[ctx.rows])[:, self.model.areas]
        return np.sqrt(var.max(axis=1)) < self.threshold


@dataclass(frozen=True)
class AreaClassification:
    """Every area's most probable level has posterior probability ≥ ``bound``."""

    model: Model
    bound: float
    name = "area_classification"

    def check(self, ctx: StepContext) -> NDArray[np.bool_]:
        """min over areas of max_l P(level_k = l | x) ≥ bound."""
        k = self.model.areas
        mean = ctx.state.mtheta[ctx.rows][:, k]
        sd = np.sqrt(np.einsum("pkk->pk", ctx.state.mcov[ctx.rows])[:, k])
        return _level_probabilities(mean, sd, self.model.cuts).max(axis=2).min(axis=1) >= self.bound


@dataclass(frozen=True)
class CompositeClassification:
    """The overall composite's most probable level has probability ≥ ``bound`` (overall ``classification``)."""

    cuts: NDArray[np.float64]
    bound: float
    name = "classification"

    def check(self, ctx: StepContext) -> NDArray[np.bool_]:
        """max_l P(overall level = l | x) ≥ bound."""
        return _level_probabilities(ctx.theta, ctx.se, self.cuts).max(axis=1) >= self.bound


def design_problems(bank: Any, design: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Every place where ``design`` and the bank's dimensionality do not fit (all at once, with node paths):
    rules of the other kind of bank, scoring a multidimensional test cannot honour, per-area classification
    without cut scores."""
    multi = getattr(bank, "dims", None) is not None
    rule = design.selection.rule
    out: list[tuple[tuple[str | int, ...], str]] = []
    if multi and rule not in RULES and rule != "custom":
        out.append(
            (
                ("selection", "rule"),
                f"{rule!r} is a unidimensional rule; a multidimensional bank takes one of {', '.join(RULES)}",
            )
        )
    if not multi and rule in MULTIDIM_ONLY:
        out.append((("selection", "rule"), f"{rule!r} needs a multidimensional bank; bank {bank.id!r} has none"))
    for i, r in enumerate(design.stop.rules):
        area_rule = r.area_se is not None or r.area_classification is not None
        if not multi and area_rule:
            out.append((("stop", "rules", i), f"per-area rules need a multidimensional bank; {bank.id!r} has none"))
        if multi and (r.sprt is not None or r.min_info is not None):
            key = "sprt" if r.sprt is not None else "min_info"
            out.append(
                (
                    ("stop", "rules", i),
                    f"{key!r} is a unidimensional rule; a multidimensional bank stops by "
                    "se, ci, classification (of the overall composite), area_se or area_classification",
                )
            )
        if multi and r.area_classification is not None and bank.cut_scores.size == 0:
            out.append((("stop", "rules", i), f"classification rules need cut scores; bank {bank.id!r} has none"))
    if multi:
        try:
            check_scoring(design)
        except DesignError as exc:
            where, msg = str(exc).split(": ", 1)
            out.append((tuple(where.split(".")), msg))
    return out


def check_scoring(design: Any) -> None:
    """DesignError for scoring settings a multidimensional test cannot honour (never silently ignored)."""
    sc = design.scoring
    if sc.method not in ("EAP", "MAP"):
        raise DesignError(f"scoring.method: a multidimensional bank is scored by EAP or MAP, not {sc.method!r}")
    if "prior" in sc.model_fields_set:
        raise DesignError(
            "scoring.prior: a multidimensional bank's prior is its latent distribution (the bank's 'latent' block); "
            "remove scoring.prior from the design"
        )


def stop_rules(bank: Any, design: Any, model: Model) -> list:
    """The design's stopping rules for a multidimensional bank (after :func:`check_scoring`)."""
    from digicomp.cat.stopping import ConfidenceClassification, StandardError

    check_scoring(design)
    cuts = bank.cut_scores
    out: list = []
    for i, r in enumerate(design.stop.rules):
        if r.se is not None:
            out.append(StandardError(r.se))
        elif r.ci is not None:
            out.append(ConfidenceClassification(_need_cuts(cuts, i, bank), r.ci))
        elif r.classification is not None:
            out.append(CompositeClassification(_need_cuts(cuts, i, bank), r.classification))
        elif getattr(r, "area_se", None) is not None:
            out.append(AreaStandardError(model, r.area_se))
        elif getattr(r, "area_classification", None) is not None:
            _need_cuts(cuts, i, bank)
            out.append(AreaClassification(model, r.area_classification))
        else:
            key = "sprt" if r.sprt is not None else "min_info"
            raise DesignError(
                f"stop.rules[{i}]: {key!r} is a unidimensional rule; a multidimensional bank stops by se, ci, "
                "classification (of the overall composite), area_se or area_classification"
            )
    return out


def _need_cuts(cuts: NDArray, i: int, bank: Any) -> NDArray:
    if cuts.size == 0:
        raise DesignError(f"stop.rules[{i}]: classification rules need cut scores; bank {bank.id!r} has none")
    return cuts


# ---------------------------------------------------------------------------------------------- the core
@dataclass
class MultidimCore(CatCore):
    """The batch core of a multidimensional test: :class:`CatCore` with a K-dimensional state per person."""

    model: Model | None = None

    def __post_init__(self) -> None:
        """The composite prior's mean and SD are the start values."""
        super().__post_init__()
        m = self.model
        self.theta0, se0 = m.composite(m.prior.mean[None], m.prior.cov[None])
        self.theta0 = float(self.theta0[0])
        self.prior_sd = float(se0[0])

    def new_batch(self, keys: NDArray[np.uint64], audit: bool = False) -> MultidimState:
        """A batch of persons with these keys, the latent prior as their posterior."""
        base = super().new_batch(keys, audit)
        n = base.keys.size
        state = MultidimState(**{f: getattr(base, f) for f in BatchState.__dataclass_fields__ if f != "_scratch"})
        state.mtheta = np.tile(self.model.prior.mean, (n, 1))
        state.mcov = np.tile(self.model.prior.cov, (n, 1, 1))
        return state

    def _audit(self, ctx: StepContext, crit: NDArray, chosen: NDArray, rank: NDArray, rule: str, exposure) -> None:
        """The core's audit entry (θ/SE there are the overall composite's), plus every dimension's θ̂ and SE."""
        super()._audit(ctx, crit, chosen, rank, rule, exposure)
        st = ctx.state
        sd = np.sqrt(np.einsum("pkk->pk", st.mcov[ctx.rows]))
        for i, row in enumerate(ctx.rows):
            st.audit[row][-1]["dimensions"] = [
                {"theta": round(float(t), 4), "se": round(float(e), 4)} for t, e in zip(st.mtheta[row], sd[i])
            ]

    def report(self, outcome: Any, state: MultidimState, row: int, bank: Any, design: Any) -> dict[str, Any]:
        """The multidimensional report of one person (see :func:`digicomp.cat.multidim_report.build_report`)."""
        from digicomp.cat.multidim_report import build_report

        return build_report(outcome, state, row, bank, design, self.model)
