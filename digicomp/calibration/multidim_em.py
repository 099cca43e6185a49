"""Multidimensional MML-EM: tensor-product quadrature up to 3 dimensions, dimension reduction for bifactor/two-tier.

The EM map, SQUAREM acceleration and convergence rule are :class:`~digicomp.calibration.em.EMEngine`'s; this engine
changes what a parameter vector holds (slope vectors, the latent correlations) and where the items live:

* correlated structures (unidimensional, between-item, within-item): every item on the full grid of
  ``quadpts``^K points, the E-step being :class:`~digicomp.calibration.estep.ChunkedData`'s (sparse or dense);
* bifactor / two-tier: every item on the (G + 1)-dimensional grid of the primary dimensions and its own specific
  one, the E-step :class:`~digicomp.calibration.bifactor.ReducedData` (Gibbons & Hedeker 1992).

Identification: latent means 0, variances 1, correlations among correlated dimensions estimated; specific
dimensions orthogonal. With fixed (anchor) items, the means, variances and correlations are estimated instead:
the anchors set the scale. Slopes are bounded below at 0 (an item whose success falls as proficiency rises is an
item to review, not to score); at the end every dimension is oriented so its slopes sum to a positive number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration import structure as st
from digicomp.calibration.bifactor import ReducedData
from digicomp.calibration.data import as_responses, prepare
from digicomp.calibration.em import EMEngine, EMOutcome
from digicomp.calibration.estep import ChunkedData, EStepResult
from digicomp.calibration.families import expit
from digicomp.calibration.multidim_mstep import MBlock, m_step, score_and_information
from digicomp.calibration.mvn import ImportanceLatent, MVNLatent, ReducedLatent, default_quadpts, tensor_grid
from digicomp.calibration.priors import NO_PRIORS
from digicomp.calibration.qmc import QMCLatent
from digicomp.calibration.start import build_blocks
from digicomp.errors import CalibrationError
from digicomp.models import ItemParameters
from digicomp.models import multidim as md
from digicomp.models.names import model_names
from digicomp.scoring.quadrature import make_grid

Array = NDArray[np.float64]
MAX_TENSOR_DIMS = 3
WARMUP_TOL, WARMUP_CYCLES = 1e-2, 30
START_SLOPE, START_SPECIFIC = 1.0, 0.5


class MultidimEngine(EMEngine):
    """The EM map over packed parameters: item blocks with slope vectors over L local dimensions, and the latent."""

    def __init__(
        self, data: Any, blocks: list[MBlock], base_log_p: Array, points: Array, latent: Any, nonnegative: bool = True
    ) -> None:
        super().__init__(data, blocks, base_log_p, points, latent, NO_PRIORS)  # type: ignore[arg-type]
        self.nonnegative = nonnegative

    def pack(self) -> Array:
        """Free item parameters, then the latent ones."""
        parts = [b.eta[b.free] for b in self.blocks] + [self.latent.pack()]
        return np.concatenate(parts)

    def unpack(self, x: Array) -> None:
        """Write a packed vector back."""
        pos = 0
        for b in self.blocks:
            k = int(b.free.sum())
            b.eta[b.free] = x[pos : pos + k]
            pos += k
        self.latent.unpack(x[pos:])

    def _slices(self) -> tuple[list[tuple[MBlock, slice]], slice]:
        pos, out = 0, []
        for b in self.blocks:
            k = int(b.free.sum())
            out.append((b, slice(pos, pos + k)))
            pos += k
        return out, slice(pos, None)

    def natural(self, x: Array) -> Array:
        """Asymptote logits as probabilities, latent parameters as correlations/SDs: the convergence scale."""
        out = np.array(x, dtype=float)
        parts, lat = self._slices()
        for b, sl in parts:
            if b.family == "dichotomous":
                cols = np.zeros(b.eta.shape, dtype=bool)
                cols[:, b.n_slopes + 1 :] = True
                m = cols[b.free]
                seg = out[sl]  # a view of out
                seg[m] = expit(seg[m])
        out[lat] = self.latent.natural(x[lat])
        return out

    def valid(self, x: Array) -> bool:
        """Finite values, ordered graded intercepts, slopes not below 0 (when bounded), a PD latent covariance."""
        if not np.all(np.isfinite(x)):
            return False
        saved = self.pack()
        self.unpack(x)
        ok = True
        for b in self.blocks:
            if self.nonnegative and np.any(b.slopes()[b.free[:, : b.n_slopes]] < 0):
                ok = False
            if b.family == "graded" and b.eta.shape[1] - b.n_slopes > 1:
                d = b.eta[:, b.n_slopes :]
                with np.errstate(invalid="ignore"):
                    ok &= bool(np.all((np.diff(d, axis=1) < 0) | np.isnan(d[:, 1:])))
        cov = self.latent.primary.cov if isinstance(self.latent, ReducedLatent) else self.latent.cov
        ok &= bool(np.all(np.linalg.eigvalsh(cov) > 1e-8))
        self.unpack(saved)
        return ok

    def log_p(self) -> Array:
        """Item log-probabilities on the grid (Q, J, C) at the current parameters."""
        out = self.base_log_p.copy()
        for b in self.blocks:
            lp = b.log_prob(self.points)
            out[:, b.index, : lp.shape[2]] = lp
        return out

    def e_step(self, count_dtype: type = np.float64) -> EStepResult:
        """E-step at the current parameters."""
        return self.data.e_step(self.log_p(), self.latent.log_weights(self.points), count_dtype)

    def em_map(self, x: Array, count_dtype: type = np.float64) -> tuple[Array, EStepResult]:
        """F(x): E-step at x, M-step of every block and of the latent distribution."""
        self.unpack(x)
        stats = self.e_step(count_dtype)
        for b in self.blocks:
            eta = m_step(b, stats.counts[b.index], self.points)
            if self.nonnegative:
                L = b.n_slopes
                eta[:, :L] = np.where(b.free[:, :L], np.maximum(eta[:, :L], 0.0), eta[:, :L])
            b.eta = eta
        self.latent.update(stats.latent)
        return self.pack(), stats

    def score(self, x: Array) -> Array:
        """∂ log L / ∂x by Fisher's identity: the M-step gradients at x's own E-step counts, and the latent score."""
        self.unpack(x)
        stats = self.e_step()
        parts = []
        for b in self.blocks:
            grad, _ = score_and_information(b, b.eta, stats.counts[b.index], self.points)
            parts.append(grad[b.free])
        parts.append(self.latent.score(stats.latent))
        return np.concatenate(parts)


class QMCEngine(MultidimEngine):
    """The engine on quasi-Monte-Carlo points that follow the latent correlation (:mod:`digicomp.calibration.qmc`)."""

    def log_p(self) -> Array:
        """Item log-probabilities on the points of the current correlation (which become ``self.points``)."""
        self.points = self.latent.points
        return super().log_p()


@dataclass
class MultidimFit:
    """Everything a finished multidimensional calibration hands to its result object."""

    engine: MultidimEngine
    outcome: EMOutcome
    structure: st.Structure
    item_ids: list[str]
    models: list[str]
    n_categories: NDArray[np.intp]
    fixed_rows: NDArray[np.intp]
    fixed: Any
    prep: Any
    quadpts: int
    theta_range: tuple[float, float]
    local_dims: list[NDArray[np.intp]]  # per item: global dimension of each local slope (-1 = none)
    method: str = "quadrature"
    seed: int | None = None


def resolve_structure(
    structure: Any, item_ids: Sequence[str], areas: Mapping[str, str] | None, dims: Sequence[str] | None = None
) -> st.Structure:
    """A Structure from a Structure, 'unidimensional', 'areas' / 'between', 'bifactor', or a Q mapping."""
    if isinstance(structure, st.Structure):
        return structure
    if isinstance(structure, str):
        key = structure.strip().lower()
        if key in ("unidimensional", "uni", "1"):
            return st.unidimensional(item_ids)
        if key in ("areas", "between", "correlated", "bifactor"):
            if areas is None:
                raise CalibrationError(f"structure {structure!r} needs the items' areas (areas=..., or a bank)")
            if key == "bifactor":
                return st.bifactor(item_ids, areas, dims)
            return st.between_items(item_ids, areas, dims)
        raise CalibrationError(
            f"structure = {structure!r}: expected 'unidimensional', 'areas', 'bifactor', a Q-matrix mapping "
            "{item: {dimension: 0/1}} or a digicomp.calibration.structure.Structure (two-tier: structure.two_tier)"
        )
    if isinstance(structure, Mapping):
        first = next(iter(structure.values()), None)
        order = list(dims) if dims is not None else (list(first) if isinstance(first, Mapping) else None)
        if order is None:
            raise CalibrationError("a Q-matrix given as {item: [0/1, ...]} needs the dimension names (dims=...)")
        return st.from_mapping(item_ids, structure, order)
    raise CalibrationError(f"structure of type {type(structure).__name__} is not understood")


def _fixed_view(fixed: Any) -> tuple[Any, ItemParameters | None]:
    """(the multidimensional fixed items, a unidimensional stand-in naming their ids, models and categories)."""
    if fixed is None:
        return None, None
    items = getattr(fixed, "mparams", None) or fixed
    if not all(hasattr(items, f) for f in ("ids", "a", "intercepts", "c", "u", "models")):
        raise CalibrationError(
            "fixed = {type(fixed).__name__}: expected a multidimensional bank or its items (ids, a, intercepts, c, u)"
        )
    width = items.intercepts.shape[1]
    view = ItemParameters(
        list(items.models),
        np.maximum(np.linalg.norm(items.a, axis=1), 1e-6),
        items.intercepts if width > 0 else np.zeros((len(items.ids), 1)),
        np.where(np.isfinite(items.c), items.c, 0.0),
        np.where(np.isfinite(items.u), items.u, 1.0),
        ids=list(items.ids),
    )
    return items, view


def _with_fixed_items(s: st.Structure, fixed: Any, fixed_dims: Sequence[str] | None) -> st.Structure:
    """The structure extended with the fixed items not in it (pattern: their non-zero slopes)."""
    dims = list(fixed_dims) if fixed_dims is not None else list(s.dims)
    if len(dims) != fixed.a.shape[1]:
        raise CalibrationError(
            f"the fixed items have {fixed.a.shape[1]} slopes, the structure has {len(s.dims)} dimensions"
        )
    if dims != list(s.dims):
        raise CalibrationError(
            f"the fixed items' dimensions ({', '.join(dims)}) differ from the structure's ({', '.join(s.dims)})"
        )
    extra = [i for i in fixed.ids if i not in s.item_ids]
    if not extra:
        return s
    pos = {i: k for k, i in enumerate(fixed.ids)}
    rows = np.array([fixed.a[pos[i]] != 0 for i in extra], dtype=bool)
    return st.Structure(
        s.kind,
        s.item_ids + extra,
        s.dims,
        np.vstack([s.pattern, rows]),
        s.primary,
        np.concatenate([s.specific, np.full(len(extra), -1)]),
        s.correlated,
        (s.areas + [None] * len(extra)) if s.areas else [],
    )


def fit(
    responses: Any,
    model: str | Sequence[str] | Mapping[str, str] = "2PL",
    *,
    structure: Any = "unidimensional",
    areas: Mapping[str, str] | None = None,
    dims: Sequence[str] | None = None,
    fixed: Any = None,
    n_categories: int | Mapping[str, int] | None = None,
    weights: Any = None,
    quadpts: int | None = None,
    theta_range: tuple[float, float] = (-6.0, 6.0),
    tol: float = 1e-4,
    max_iter: int = 500,
    accelerate: bool = True,
    nonnegative: bool = True,
    method: str = "auto",
    qmc_points: int = 5000,
    seed: int = 0,
    progress: Callable[[int, float, float], None] | None = None,
) -> MultidimFit:
    """Run the multidimensional EM; see :func:`digicomp.calibration.multidim.calibrate` for the arguments."""
    resp = as_responses(responses, weights)
    ids_all = resp.item_ids or [f"item{j + 1}" for j in range(resp.n_items)]
    fixed_items, fixed_view = _fixed_view(fixed)
    free_ids = [i for i in ids_all if fixed_items is None or i not in fixed_items.ids]
    s_all = resolve_structure(structure, free_ids, areas, dims)
    if fixed_items is not None:
        if s_all.reduced:
            raise CalibrationError("fixed-parameter calibration is supported for correlated structures, not bifactor")
        s_all = _with_fixed_items(s_all, fixed_items, dims)
    prep = prepare(resp, model_names(model), fixed_view, n_categories)
    fixed_set = set(prep.fixed_rows.tolist())
    unit = [prep.item_ids[j] for j, m in enumerate(prep.models) if m in ("Rasch", "1PL", "PCM") and j not in fixed_set]
    if unit:
        raise CalibrationError(
            f"item {unit[0]!r}: model {prep.models[prep.item_ids.index(unit[0])]} fixes the slopes, which needs the "
            "latent variances free; multidimensional calibration fixes them at 1 and estimates slopes (use 2PL, "
            "GRM or GPCM)"
        )
    s = s_all.subset(prep.item_ids)
    J, K = s.pattern.shape
    _check_responses_per_dimension(s, prep.responses)
    Kmax = int(prep.n_categories.max())
    free_rows = np.setdiff1d(np.arange(J), prep.fixed_rows)
    G = len(s.primary)
    if method not in ("auto", "quadrature", "qmc"):
        raise CalibrationError(f"method = {method!r}: expected 'auto', 'quadrature' or 'qmc'")
    if s.reduced:
        n_int = G + 1
        if method == "qmc":
            raise CalibrationError("method='qmc' is for correlated structures; bifactor models use dimension reduction")
        method = "quadrature"
    else:
        n_int = K
        if method == "auto":
            method = "qmc" if K > MAX_TENSOR_DIMS else "quadrature"
        if method == "quadrature" and K > MAX_TENSOR_DIMS:
            raise CalibrationError(
                f"{K} correlated dimensions: tensor-product quadrature is limited to {MAX_TENSOR_DIMS} (it would "
                f"need {default_quadpts(K)}^{K} points); use method='qmc' (quasi-Monte-Carlo EM), or fit the areas "
                "as a bifactor model (structure='bifactor')"
            )
        if method == "qmc" and has_fixed_items(prep):
            raise CalibrationError("fixed-parameter calibration uses quadrature (at most 3 correlated dimensions)")
    q = default_quadpts(n_int) if quadpts is None else int(quadpts)
    if q < 3:
        raise CalibrationError(f"quadpts = {q}: at least 3 points per dimension")
    axis = make_grid(q, theta_range)
    has_fixed = prep.fixed_rows.size > 0
    if s.reduced:
        prim_pts = tensor_grid(q, G, theta_range)
        corr = s.correlated[np.ix_(s.primary, s.primary)]
        latent: Any = ReducedLatent(MVNLatent(prim_pts, corr), axis)
        points = np.column_stack([np.repeat(prim_pts, q, axis=0), np.tile(axis, prim_pts.shape[0])])
        local = []
        for j in range(J):
            sp = s.specific[j]
            local.append(np.concatenate([s.primary, [sp if sp >= 0 else -1]]).astype(np.intp))
        data: Any = ReducedData(
            prep.responses,
            prep.n_categories,
            np.array([_group(s, j) for j in range(J)]),
            prim_pts.shape[0],
            q,
            prim_pts,
            axis,
            s.primary,
            s.specific_dims,
        )
    elif method == "qmc":
        if qmc_points < 100:
            raise CalibrationError(f"qmc_points = {qmc_points}: at least 100 points")
        latent = QMCLatent(K, s.correlated, qmc_points, seed)
        points = latent.points
        local = [np.arange(K, dtype=np.intp) for _ in range(J)]
        data = ChunkedData(prep.responses, prep.n_categories, points.shape[0])
        q = qmc_points
    else:
        points = tensor_grid(q, K, theta_range)
        latent = MVNLatent(points, s.correlated, estimate_mean=has_fixed, estimate_var=has_fixed)
        local = [np.arange(K, dtype=np.intp) for _ in range(J)]
        data = ChunkedData(prep.responses, prep.n_categories, points.shape[0])
    L = points.shape[1]
    uni_blocks = build_blocks(prep.models, free_rows, prep.n_categories, prep.counts, 1.0)
    blocks = [_multidim_block(b, s, local, L) for b in uni_blocks]
    base = np.full((points.shape[0], J, Kmax), -np.inf)
    if has_fixed:
        pos = {i: k for k, i in enumerate(fixed_items.ids)}
        rows = [pos[prep.item_ids[r]] for r in prep.fixed_rows]
        lp = md.log_prob(
            points,
            fixed_items.a[rows],
            fixed_items.intercepts[rows],
            fixed_items.c[rows],
            fixed_items.u[rows],
            [fixed_items.models[r] for r in rows],
        )
        base[:, prep.fixed_rows, : lp.shape[2]] = lp
    if method == "qmc":
        # stage 1: points that follow R (moment updates) bring R near its estimate in a few cycles; stage 2: the
        # points frozen at that R, importance weights φ_R/φ_R₀, an exact EM to convergence (qmc module docstring)
        warm = QMCEngine(data, blocks, base, points, latent, nonnegative)
        first = warm.run(tol=WARMUP_TOL, max_iter=min(WARMUP_CYCLES, max_iter), accelerate=False, progress=progress)
        proposal = latent.cov
        points = latent.z @ np.linalg.cholesky(proposal).T
        latent = ImportanceLatent(points, s.correlated, proposal)
        engine = MultidimEngine(data, blocks, base, points, latent, nonnegative)
        outcome = engine.run(
            tol=tol, max_iter=max(max_iter - first.iterations, 1), accelerate=accelerate, progress=progress
        )
        outcome.iterations += first.iterations
    else:
        engine = MultidimEngine(data, blocks, base, points, latent, nonnegative)
        outcome = engine.run(tol=tol, max_iter=max_iter, accelerate=accelerate, progress=progress)
    return MultidimFit(
        engine,
        outcome,
        s,
        prep.item_ids,
        prep.models,
        prep.n_categories,
        prep.fixed_rows,
        fixed_items,
        prep,
        q,
        theta_range,
        local,
        method,
        seed if method == "qmc" else None,
    )


def has_fixed_items(prep: Any) -> bool:
    """True when the prepared data hold fixed (anchor) items."""
    return bool(prep.fixed_rows.size)


def _group(s: st.Structure, j: int) -> int:
    """Item j's group under dimension reduction: -1 for general-only items, else its specific's position."""
    sp = int(s.specific[j])
    return -1 if sp < 0 else int(np.searchsorted(s.specific_dims, sp))


def _multidim_block(b: Any, s: st.Structure, local: list[NDArray[np.intp]], L: int) -> MBlock:
    """A unidimensional start block expanded to slope vectors over each item's local dimensions."""
    n = b.index.size
    slopes = np.zeros((n, L))
    free_slopes = np.zeros((n, L), dtype=bool)
    for r, j in enumerate(b.index):
        for loc, k in enumerate(local[j]):
            if k >= 0 and s.pattern[j, k]:
                free_slopes[r, loc] = True
                specific = k in set(s.specific_dims.tolist())
                n_prim = int(s.pattern[j, s.primary].sum())
                slopes[r, loc] = START_SPECIFIC if specific else START_SLOPE / np.sqrt(max(n_prim, 1))
    rest = b.eta[:, 1:].copy()
    rest_free = b.free[:, 1:].copy()
    if b.family != "dichotomous":
        rest = np.where(np.isneginf(rest), np.nan, rest)
    eta = np.concatenate([slopes, rest], axis=1)
    free = np.concatenate([free_slopes, rest_free], axis=1)
    return MBlock(b.family, b.index.copy(), eta, free, L)


MIN_PERSONS_WARN = 100


def _check_responses_per_dimension(s: st.Structure, resp: Any) -> None:
    """Every dimension needs persons who answered at least two of its items (else its slopes are not identified:
    CalibrationError); fewer than :data:`MIN_PERSONS_WARN` such persons gives a DataWarning."""
    import warnings

    from digicomp.errors import DataWarning

    if resp.has_dense:
        observed = resp.dense() >= 0  # (N, J)
        per_dim = observed.astype(np.int32) @ s.pattern.astype(np.int32)  # (N, K) answered items per dimension
    else:
        per_dim = np.zeros((resp.n_persons, s.n_dims), dtype=np.int32)
        for k in range(s.n_dims):
            on = s.pattern[resp.item, k]
            per_dim[:, k] = np.bincount(resp.person[on], minlength=resp.n_persons)
    enough = (per_dim >= 2).sum(axis=0)
    for k in np.argsort(enough, kind="stable"):
        if enough[k] == 0:
            raise CalibrationError(
                f"dimension {s.dims[k]!r}: no person answered two or more of its items, so its slopes are not "
                "identified by these data (collect more responses to its items, or merge it with another dimension)"
            )
        if enough[k] < MIN_PERSONS_WARN:
            warnings.warn(
                f"dimension {s.dims[k]!r}: only {int(enough[k])} persons answered two or more of its items; its "
                "slopes and correlations will be imprecise",
                DataWarning,
                stacklevel=4,
            )
