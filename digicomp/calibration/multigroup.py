"""Multiple-group IRT: one set of item parameters, a latent N(μ_g, σ_g²) per group (Bock & Zimowski 1997).

The reference group is N(0, 1), which fixes the scale; the other groups' means and SDs are estimated. Items are
equal across groups (the anchors) unless freed: a freed item is split into one pseudo-item per group ("id@group"),
each answered only by that group's persons, so the single-group machinery (blocks, M-step, SQUAREM) runs
unchanged on the expanded item set. The E-step runs group by group with each group's own prior and the expected
counts add up; the latent M-step updates each non-reference group's moments from its own posterior mass.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.api import assemble
from digicomp.calibration.data import as_responses, prepare
from digicomp.calibration.em import EMEngine
from digicomp.calibration.estep import ChunkedData, EStepResult
from digicomp.calibration.information import covariance
from digicomp.calibration.mstep import Block, score_and_information
from digicomp.calibration.priors import Priors
from digicomp.calibration.start import build_blocks
from digicomp.errors import CalibrationError, ConvergenceWarning, DataWarning
from digicomp.models import ItemParameters
from digicomp.models.names import model_names
from digicomp.responses import Responses
from digicomp.scoring.quadrature import make_grid

Array = NDArray[np.float64]
SEP = "@"
NUMERICAL_STEP = 1e-4


@dataclass
class GroupLatents:
    """N(mean_g, sd_g²) per group on the fixed grid; group 0 (the reference) stays N(0, 1)."""

    mean: Array
    sd: Array
    estimate_mean: bool = True
    estimate_sd: bool = True

    @property
    def n_free(self) -> int:
        """Estimated latent moments: a mean and an SD per non-reference group."""
        return 2 * (self.mean.size - 1)

    def log_weights(self, points: Array) -> Array:
        """Normalised log weights of the grid points per group, (G, Q)."""
        z = -0.5 * ((points[None, :] - self.mean[:, None]) / self.sd[:, None]) ** 2
        return z - np.logaddexp.reduce(z, axis=1, keepdims=True)

    def update(self, latent_counts: Array, points: Array) -> None:
        """M-step of the non-reference groups' moments from their posterior mass on the grid (G, Q)."""
        total = latent_counts[1:].sum(axis=1)
        mean = latent_counts[1:] @ points / total
        var = (latent_counts[1:] * (points[None, :] - mean[:, None]) ** 2).sum(axis=1) / total
        self.mean[1:], self.sd[1:] = mean, np.sqrt(var)


class GroupedData:
    """Person chunks per group; :meth:`e_step` takes log prior weights per group (G, Q) and sums the counts."""

    def __init__(self, parts: list[Responses], n_categories: NDArray[np.intp], n_points: int) -> None:
        self.groups = [ChunkedData(p, n_categories, n_points) for p in parts]
        self.n_items = parts[0].n_items
        self.n_persons = sum(p.n_persons for p in parts)
        self.n_categories = np.asarray(n_categories, dtype=np.intp)

    @property
    def chunks(self) -> list:
        """Every group's chunks, in group order (for code that counts observed cells)."""
        return [c for g in self.groups for c in g.chunks]

    def e_step(
        self, log_p: Array, log_prior: Array, count_dtype: type = np.float64, moments_at: Array | None = None
    ) -> EStepResult:
        """Counts summed over groups; latent counts (G, Q); EAP/PSD in group-sorted person order."""
        parts = [g.e_step(log_p, log_prior[k], count_dtype, moments_at) for k, g in enumerate(self.groups)]
        counts = sum(p.counts for p in parts[1:]) + parts[0].counts
        out = EStepResult(counts, np.vstack([p.latent for p in parts]), float(sum(p.loglik for p in parts)))
        if moments_at is not None:
            out.eap = np.concatenate([p.eap for p in parts])
            out.psd = np.concatenate([p.psd for p in parts])
        return out

    def posterior(self, log_p: Array, log_prior: Array) -> tuple[Array, Array]:
        """Posterior weights (N, Q) and log marginals (N,) in group-sorted person order."""
        parts = [g.posterior(log_p, log_prior[k]) for k, g in enumerate(self.groups)]
        return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


class MultiGroupEngine(EMEngine):
    """:class:`EMEngine` whose packed vector ends with (mean_g, log sd_g) of every non-reference group."""

    latent: GroupLatents  # type: ignore[assignment]

    def _n_latent(self) -> int:
        return self.latent.n_free

    def pack(self) -> Array:
        lat = self.latent
        return np.concatenate([self._item_pack(), lat.mean[1:], np.log(lat.sd[1:])])

    def unpack(self, x: Array) -> None:
        pos = self._item_unpack(x)
        G1 = self.latent.mean.size - 1
        self.latent.mean[1:] = x[pos : pos + G1]
        self.latent.sd[1:] = np.exp(x[pos + G1 : pos + 2 * G1])

    def score(self, x: Array) -> Array:
        """∂ log L / ∂x at x by Fisher's identity (item M-step gradients plus the latent moments' scores)."""
        self.unpack(x)
        stats = self.e_step()
        parts = []
        for b in self.blocks:
            K = 2 if b.family == "dichotomous" else b.eta.shape[1]
            grad, _ = score_and_information(b, b.eta, stats.counts[b.index, :K], self.points, self.priors)
            parts.append(grad[b.free])
            if b.shared.any():
                parts.append(np.array([grad[b.shared, 0].sum()]))
        lat = self.latent
        w = np.exp(lat.log_weights(self.points))
        d_mean, d_logsd = [], []
        for g in range(1, lat.mean.size):
            z = (self.points - lat.mean[g]) / lat.sd[g]
            n = stats.latent[g]
            d_mean.append(n @ (z - w[g] @ z) / lat.sd[g])
            d_logsd.append(n @ (z**2 - w[g] @ z**2))
        return np.concatenate(parts + [np.array(d_mean), np.array(d_logsd)])

    def observed_information(self) -> Array:
        """-∂²ℓ/∂x∂x' by central differences of :meth:`score` (2 E-steps per free parameter)."""
        x = self.pack()
        H = np.empty((x.size, x.size))
        for i in range(x.size):
            h = NUMERICAL_STEP * max(1.0, abs(x[i]))
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            H[:, i] = (self.score(up) - self.score(down)) / (2 * h)
        self.unpack(x)
        return -(H + H.T) / 2


@dataclass
class MultiGroupResult:
    """A fitted multiple-group model.

    ``params`` holds the expanded item set: anchored items under their own id, freed items as ``id@group``.
    ``groups`` lists the group labels, reference first; ``latent_mean`` / ``latent_sd`` (G,) their moments and
    ``latent_se`` their standard errors when computed (reference entries 0). ``eap`` / ``psd`` are per person in
    the order of the input responses (NaN for excluded persons).
    """

    params: ItemParameters
    groups: list[str]
    group_sizes: dict[str, float]
    free_items: list[str]
    loglik: float
    n_parameters: int
    n_persons: float
    iterations: int
    converged: bool
    latent_mean: Array
    latent_sd: Array
    latent_se: dict[str, Array] = field(default_factory=dict)
    excluded_items: dict[str, str] = field(default_factory=dict)
    excluded_persons: list[str] = field(default_factory=list)
    eap: Array | None = None
    psd: Array | None = None
    engine: Any = None  # the finished EM engine (parameters at the estimates), for DIF statistics
    data: Responses | None = None  # kept persons × expanded items, as fitted
    person_group: NDArray[np.intp] | None = None  # group code of each kept person
    sorted_row: NDArray[np.intp] | None = None  # row of each kept person in the engine's group-sorted order
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def aic(self) -> float:
        """-2 logL + 2 P."""
        return -2 * self.loglik + 2 * self.n_parameters

    @property
    def bic(self) -> float:
        """-2 logL + P log N."""
        return -2 * self.loglik + self.n_parameters * np.log(self.n_persons)

    def latent_table(self) -> list[dict[str, Any]]:
        """One row per group: label, persons, mean, SD and their SEs (empty for the reference group)."""
        rows = []
        for g, label in enumerate(self.groups):
            row: dict[str, Any] = {
                "group": label,
                "n": self.group_sizes[label],
                "mean": float(self.latent_mean[g]),
                "sd": float(self.latent_sd[g]),
                "reference": g == 0,
            }
            if self.latent_se:
                row["mean_se"] = float(self.latent_se["mean"][g]) if g else None
                row["sd_se"] = float(self.latent_se["sd"][g]) if g else None
            rows.append(row)
        return rows

    def parameter_covariance(self) -> Array | None:
        """Covariance of every free parameter (packed order of the engine: items block by block, then the latent
        means and log SDs), the inverse of the numerical observed information (2 E-steps per parameter; cached).
        None when the information is not positive definite."""
        if "covariance" not in self._cache:
            self._cache["covariance"] = covariance(self.engine.observed_information())
        return self._cache["covariance"]

    def parameter_index(self, column: str) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        """Where the free parameters of expanded item ``column`` ("id" or "id@group") sit in the packed vector:
        (positions of its free internal parameters, its free mask over the internal columns)."""
        j = self.params.ids.index(column)
        pos = 0
        for b in self.engine.blocks:
            where = np.full(b.eta.shape, -1, dtype=np.intp)
            where[b.free] = pos + np.arange(int(b.free.sum()))
            pos += int(b.free.sum()) + int(b.shared.any())
            rows = np.flatnonzero(b.index == j)
            if rows.size:
                r = int(rows[0])
                if b.shared[r].any():
                    raise CalibrationError(f"item {column!r} shares its slope with other items: no per-item Wald test")
                return where[r, b.free[r]], b.free[r].copy()
        raise CalibrationError(f"item {column!r} is not in the fitted model")

    def wald_dif(self, item: str) -> tuple[float, int]:
        """Wald test of the group differences of a freed item's parameters: (W, df).

        W = (C η)ᵀ (C Σ Cᵀ)⁻¹ (C η), with η the item's free internal parameters of every group (slope–intercept
        form, reference group first), C the contrasts of each other group with the reference, Σ their block of
        :meth:`parameter_covariance` (so the uncertainty of the anchors and the groups' distributions counts);
        df = (G − 1) × the item's free parameters. Asymptotically the likelihood-ratio statistic of the same
        hypothesis (Wald 1943; for DIF, Lord 1980's χ² generalised, Langer 2008).
        """
        if item not in self.free_items:
            raise CalibrationError(f"item {item!r} is not freed in this model (free: {', '.join(self.free_items)})")
        cov = self.parameter_covariance()
        if cov is None:
            return float("nan"), 0
        idx, etas = [], []
        for g in self.groups:
            where, free = self.parameter_index(f"{item}{SEP}{g}")
            idx.append(where)
            row = self._eta_of(f"{item}{SEP}{g}")
            etas.append(row[free])
        theta = np.array(etas)[None]
        sigma = cov[np.ix_(np.concatenate(idx), np.concatenate(idx))][None]
        w, df = group_difference_wald(theta, sigma)
        return float(w[0]), int(df[0])

    def _eta_of(self, column: str) -> Array:
        j = self.params.ids.index(column)
        for b in self.engine.blocks:
            rows = np.flatnonzero(b.index == j)
            if rows.size:
                return b.eta[int(rows[0])].copy()
        raise CalibrationError(f"item {column!r} is not in the fitted model")

    def group_params(self, group: str) -> ItemParameters:
        """The item parameters as one group sees them (freed items take that group's pseudo-item), original ids."""
        ids = self.params.ids
        rows, names = [], []
        for j, i in enumerate(ids):
            base, _, g = i.partition(SEP)
            if not g or g == group:
                rows.append(j)
                names.append(base)
        sub = self.params.subset(rows)
        return ItemParameters(sub.models, sub.slope, sub.intercepts, sub.lower, sub.upper, D=sub.D, ids=names)


def group_difference_wald(theta: Array, cov: Array) -> tuple[Array, Array]:
    """Wald statistics of "equal across groups" for a batch of items: (W, df) per item.

    ``theta`` (n, G, p): each item's p parameters in each group, reference group first; ``cov`` (n, G·p, G·p):
    their covariance, group-major (group 0's p parameters, then group 1's, ...). The contrasts d_g = θ_g − θ_0
    (g = 1..G−1) have covariance C Σ Cᵀ; W = dᵀ (C Σ Cᵀ)⁻¹ d on (G − 1) p df. W is NaN where C Σ Cᵀ is not
    positive definite or an input is not finite.
    """
    theta = np.asarray(theta, dtype=float)
    cov = np.asarray(cov, dtype=float)
    n, G, p = theta.shape
    C = np.zeros(((G - 1) * p, G * p))
    for g in range(1, G):  # G is the number of groups: a handful
        C[(g - 1) * p : g * p, g * p : (g + 1) * p] = np.eye(p)
        C[(g - 1) * p : g * p, :p] = -np.eye(p)
    d = (theta[:, 1:] - theta[:, :1]).reshape(n, (G - 1) * p)
    V = C @ cov @ C.T
    w = np.full(n, np.nan)
    ok = np.isfinite(d).all(axis=1) & np.isfinite(V).all(axis=(1, 2))
    if ok.any():
        vals, vecs = np.linalg.eigh(V[ok])
        z = np.einsum("nij,ni->nj", vecs, d[ok])
        positive = vals.min(axis=1) > 1e-12 * np.maximum(vals.max(axis=1), 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            w[ok] = np.where(positive, (z**2 / vals).sum(axis=1), np.nan)
    return w, np.full(n, (G - 1) * p)


def group_codes(groups: Sequence[Any], n_persons: int, reference: Any = None) -> tuple[NDArray[np.intp], list[str]]:
    """Integer codes per person and the labels (reference first, then sorted) from one label per person."""
    labels = np.asarray([str(g) for g in groups])
    if labels.shape != (n_persons,):
        raise CalibrationError(f"groups: {labels.size} labels given for {n_persons} persons (one per person)")
    uniq = sorted(set(labels.tolist()))
    if reference is not None:
        if str(reference) not in uniq:
            raise CalibrationError(f"reference group {reference!r} is not among the groups ({', '.join(uniq)})")
        uniq.remove(str(reference))
        uniq.insert(0, str(reference))
    if len(uniq) < 2:
        raise CalibrationError(f"multiple-group calibration needs at least 2 groups, got {len(uniq)} ({uniq})")
    code = {g: k for k, g in enumerate(uniq)}
    return np.array([code[g] for g in labels], dtype=np.intp), uniq


def calibrate_multigroup(
    responses: Any,
    groups: Sequence[Any],
    model: str | Sequence[str] | Any = "2PL",
    *,
    free: Iterable[str] = (),
    reference: Any = None,
    n_categories: Any = None,
    quadpts: int = 61,
    theta_range: tuple[float, float] = (-6.0, 6.0),
    tol: float = 1e-4,
    max_iter: int = 500,
    se: bool = False,
    start: MultiGroupResult | None = None,
    progress: Callable[[int, float, float], None] | None = None,
) -> MultiGroupResult:
    """Fit a multiple-group model by marginal maximum likelihood (EM with SQUAREM).

    ``groups``: one label per person (in the responses' person order); ``reference``: the label fixed at N(0, 1)
    (default: the first label in sorted order). ``free``: item ids whose parameters are estimated per group (at
    least one item must stay anchored). ``se``: standard errors of the latent moments (and items) from the
    numerical observed information, 2 E-steps per free parameter. ``start``: a previous fit whose parameters
    start this one (warm start for nested models).
    """
    resp = as_responses(responses)
    codes, labels = group_codes(groups, resp.n_persons, reference)
    G = len(labels)
    ids = resp.item_ids or [f"item{j + 1}" for j in range(resp.n_items)]
    pids = resp.person_ids or [f"row{p + 1}" for p in range(resp.n_persons)]
    free_set = set(free)
    unknown = sorted(free_set - set(ids))
    if unknown:
        raise CalibrationError(f"free: item(s) {', '.join(map(repr, unknown[:5]))} are not in the responses")
    if free_set and free_set >= set(ids):
        raise CalibrationError("free: every item is freed; at least one anchor item must be equal across groups")
    named = model_names(model)
    if isinstance(named, str):
        models = [named] * len(ids)
    elif isinstance(named, dict):
        missing = [i for i in ids if i not in named]
        if missing:
            raise CalibrationError(f"model mapping has no entry for item(s) {', '.join(missing[:5])}")
        models = [named[i] for i in ids]
    else:
        models = list(named)
    if len(models) != len(ids):
        raise CalibrationError(f"{len(models)} models given for {len(ids)} items")
    # expanded columns: anchored items keep one column, freed items one per group
    col = np.empty((len(ids), G), dtype=np.intp)
    ex_ids: list[str] = []
    ex_models: list[str] = []
    for j, i in enumerate(ids):
        if i in free_set:
            col[j] = len(ex_ids) + np.arange(G)
            ex_ids += [f"{i}{SEP}{g}" for g in labels]
            ex_models += [models[j]] * G
        else:
            col[j] = len(ex_ids)
            ex_ids.append(i)
            ex_models.append(models[j])
    person, item, value = resp.person, resp.item, resp.value
    expanded = Responses(person, col[item, codes[person]], value, resp.n_persons, len(ex_ids), pids, ex_ids)
    if isinstance(n_categories, dict):
        n_categories = {e: n_categories[e.partition(SEP)[0]] for e in ex_ids if e.partition(SEP)[0] in n_categories}
    prep = prepare(expanded, ex_models, None, n_categories)
    keep = np.ones(resp.n_persons, dtype=bool)
    if prep.excluded_persons:
        pos = {p: k for k, p in enumerate(pids)}
        keep[[pos[p] for p in prep.excluded_persons]] = False
    kcodes = codes[keep]
    sizes = np.bincount(kcodes, minlength=G)
    empty = [labels[g] for g in range(G) if sizes[g] == 0]
    if empty:
        raise CalibrationError(f"group(s) {', '.join(empty)} have no person with a response to a calibrated item")
    clean = prep.responses
    order = np.argsort(kcodes, kind="stable")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    parts = _split_by_group(clean, kcodes, order, inverse, G)
    points = make_grid(quadpts, theta_range)
    J = clean.n_items
    blocks = build_blocks(prep.models, np.arange(J), prep.n_categories, prep.counts, 1.0)
    latents = GroupLatents(np.zeros(G), np.ones(G))
    if start is not None:
        _warm_start(blocks, latents, prep.item_ids, start)
    base = np.full((points.size, J, int(prep.n_categories.max())), -np.inf)
    data = GroupedData(parts, prep.n_categories, points.size)
    engine = MultiGroupEngine(data, blocks, base, points, latents, Priors())  # type: ignore[arg-type]
    outcome = engine.run(tol=tol, max_iter=max_iter, progress=progress)
    if not outcome.converged:
        warnings.warn(
            f"multiple-group EM stopped after {outcome.iterations} cycles without converging (largest change "
            f"{outcome.last_change:.2e} > tol {tol:g})",
            ConvergenceWarning,
            stacklevel=2,
        )
    params = assemble(prep.item_ids, prep.models, prep.n_categories, blocks, np.zeros(0, np.intp), None, 1.0)
    eap = np.full(resp.n_persons, np.nan)
    psd = np.full(resp.n_persons, np.nan)
    eap[np.flatnonzero(keep)] = outcome.estep.eap[inverse]
    psd[np.flatnonzero(keep)] = outcome.estep.psd[inverse]
    n_par = sum(b.n_free for b in blocks) + latents.n_free
    result = MultiGroupResult(
        params=params,
        groups=labels,
        group_sizes={labels[g]: float(sizes[g]) for g in range(G)},
        free_items=[i for i in ids if i in free_set],
        loglik=outcome.loglik,
        n_parameters=n_par,
        n_persons=float(keep.sum()),
        iterations=outcome.iterations,
        converged=outcome.converged,
        latent_mean=latents.mean.copy(),
        latent_sd=latents.sd.copy(),
        excluded_items=dict(prep.excluded_items),
        excluded_persons=list(prep.excluded_persons),
        eap=eap,
        psd=psd,
        engine=engine,
        data=clean,
        person_group=kcodes,
        sorted_row=inverse,
    )
    if se:
        _latent_standard_errors(result, engine)
    return result


def _split_by_group(
    clean: Responses, kcodes: NDArray[np.intp], order: NDArray[np.intp], inverse: NDArray[np.intp], G: int
) -> list[Responses]:
    """One Responses per group, persons renumbered within the group (group-sorted order)."""
    pos_in_group = np.empty(kcodes.size, dtype=np.intp)
    for g in range(G):
        members = np.flatnonzero(kcodes == g)
        pos_in_group[members] = np.arange(members.size)
    person, item, value = clean.person, clean.item, clean.value
    g_of = kcodes[person]
    parts = []
    for g in range(G):
        sel = g_of == g
        n_g = int((kcodes == g).sum())
        p = pos_in_group[person[sel]]
        srt = np.argsort(p, kind="stable")
        parts.append(Responses(p[srt], item[sel][srt], value[sel][srt], n_g, clean.n_items))
    return parts


def _warm_start(blocks: list[Block], latents: GroupLatents, ids: list[str], start: MultiGroupResult) -> None:
    """Start from a previous fit: items by id (a pseudo-item "id@g" takes the anchored "id" when new) and the
    latent moments."""
    prev = {i: j for j, i in enumerate(start.params.ids)}
    eng = start.engine
    prev_eta: dict[int, Array] = {}
    for b in eng.blocks:
        for r, j in enumerate(b.index):
            prev_eta[int(j)] = b.eta[r]
    for b in blocks:
        for r, j in enumerate(b.index):
            i = ids[int(j)]
            k = prev.get(i, prev.get(i.partition(SEP)[0]))
            if k is not None and int(k) in prev_eta and prev_eta[int(k)].shape == b.eta[r].shape:
                b.eta[r] = prev_eta[int(k)]
    if len(start.latent_mean) == latents.mean.size:
        latents.mean[:] = start.latent_mean
        latents.sd[:] = start.latent_sd


def _latent_standard_errors(result: MultiGroupResult, engine: MultiGroupEngine) -> None:
    """SEs of the latent means and SDs from the inverse numerical observed information (all parameters)."""
    info = engine.observed_information()
    cov = covariance(info)
    if cov is None:
        warnings.warn(
            "standard errors not available: the observed information is not positive definite", DataWarning, 3
        )
        return
    G1 = engine.latent.mean.size - 1
    var = np.diag(cov)[-2 * G1 :]
    result.latent_se = {
        "mean": np.concatenate([[0.0], np.sqrt(var[:G1])]),
        "sd": np.concatenate([[0.0], np.sqrt(var[G1:]) * engine.latent.sd[1:]]),
    }
