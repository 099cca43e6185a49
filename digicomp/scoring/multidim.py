"""Multidimensional scoring: the joint posterior of θ (K dimensions) per person, and what is reported from it.

* EAP by tensor quadrature for up to 3 dimensions (a rectangular grid on the θ scale, as R mirt's ``fscores``);
* MAP by Newton steps on the log posterior with the posterior covariance from its Hessian (observed information
  plus the prior precision; the expected information where the observed one is not positive definite);
* EAP for more dimensions by quasi-Monte-Carlo importance sampling: scrambled Sobol points (seeded) mapped to the
  Laplace approximation of each person's posterior (MAP and covariance, widened by ``QMC_SCALE``), weighted by
  likelihood × prior / proposal (Genz & Kass 1997's adaptive importance sampling; Owen 2013 ch. 17 for QMC).

Per-area results come from the joint posterior: each dimension's marginal mean, SD and level probabilities, and
the overall composite w·θ (the general factor, or declared weights) with its own mean, SD and level
probabilities. The latent distribution is N(mean, covariance) as the bank declares it. Arrays in, arrays out:
items are a :class:`MultidimItems` (slope-intercept arrays), answers a padded (persons, L) table of item
positions and categories (-1 = none) or :class:`~digicomp.responses.Responses`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.errors import DigicompError, ParameterError
from digicomp.levels import level_cell_fractions
from digicomp.models import multidim

if TYPE_CHECKING:
    from digicomp.responses import Responses

GRID_POINTS = {1: 61, 2: 31, 3: 21}
"""Default points per dimension of the EAP tensor grid on [-6, 6] (61 as mirt's fscores in one dimension)."""
MAX_TENSOR_DIMS = 3
QMC_POINTS = 2048
QMC_SCALE = 1.5
"""The QMC proposal's covariance is QMC_SCALE² × the Laplace covariance: wider than the posterior, so the
importance weights stay bounded in the tails."""
NEWTON_ITER = 50
NEWTON_TOL = 1e-6
"""Newton stops when every step is shorter than this (θ units)."""
MAX_STEP = 2.0
"""Largest Newton step (θ units): keeps early steps from overshooting on flat likelihoods."""


@dataclass(frozen=True)
class MultidimItems:
    """A multidimensional bank's items as arrays: slopes ``a`` (J, K), ``intercepts`` (J, W) NaN-padded (mirt's d,
    d1..), lower and upper asymptotes ``c``/``u`` (J,), and the model name of each item."""

    ids: list[str]
    models: list[str]
    a: NDArray[np.float64]
    intercepts: NDArray[np.float64]
    c: NDArray[np.float64]
    u: NDArray[np.float64]
    family: NDArray[np.str_] = field(init=False, repr=False)
    family_code: NDArray[np.int8] = field(init=False, repr=False)
    """Position of each item's family in ``multidim.FAMILIES``."""
    n_categories: NDArray[np.intp] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Families and category counts, derived once."""
        J = len(self.ids)
        if self.a.ndim != 2 or self.a.shape[0] != J or self.intercepts.shape[0] != J:
            raise ParameterError(
                f"{J} items need slopes (J, K) and intercepts (J, ·); got {self.a.shape}, {self.intercepts.shape}"
            )
        fam = multidim.families(list(self.models), J)
        steps = (~np.isnan(self.intercepts)).sum(axis=1)
        object.__setattr__(self, "family", fam)
        object.__setattr__(self, "family_code", np.array([multidim.FAMILIES.index(f) for f in fam], np.int8))
        object.__setattr__(self, "n_categories", np.where(fam == "dichotomous", 2, steps + 1).astype(np.intp))

    @property
    def n_items(self) -> int:
        """Number of items J."""
        return len(self.ids)

    @property
    def n_dims(self) -> int:
        """Number of dimensions K."""
        return int(self.a.shape[1])

    def log_prob(self, theta: ArrayLike) -> NDArray[np.float64]:
        """log P(x = k | θ) at points θ (Q, K), shaped (Q, J, C)."""
        return multidim.log_prob(theta, self.a, self.intercepts, self.c, self.u, list(self.models))

    def information(self, theta: ArrayLike) -> NDArray[np.float64]:
        """Fisher information matrices (Q, J, K, K)."""
        return multidim.information(theta, self.a, self.intercepts, self.c, self.u, list(self.models))

    def subset(self, index: ArrayLike) -> MultidimItems:
        """The items at ``index``, in that order."""
        idx = np.arange(self.n_items)[np.asarray(index)]
        return MultidimItems(
            [self.ids[j] for j in idx],
            [self.models[j] for j in idx],
            self.a[idx],
            self.intercepts[idx],
            self.c[idx],
            self.u[idx],
        )


# ---------------------------------------------------------------------------------------------- paired kernel
def answered_components(
    items: MultidimItems,
    theta: NDArray[np.float64],
    seq: NDArray[np.intp],
    resp: NDArray[np.int64],
    information: bool = True,
    derivatives: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None]:
    """Per answered item: (log P(x), ∂_t log P(x), ∂²_t log P(x), scalar information i(t)) at the predictor
    t = a·θ, with ``theta`` (P, K) or (P, M, K) and ``seq``/``resp`` (P, L), -1 padded; pads give zeros.

    Results are (P, L) or (P, M, L); each family is evaluated on its own cells only. Without ``derivatives``
    only log P(x) is computed (the others are zeros, the information None)."""
    given = seq >= 0
    j = np.where(given, seq, 0)
    A = items.a[j]  # (P, L, K)
    t = np.einsum("pk,plk->pl", theta, A) if theta.ndim == 2 else np.einsum("pmk,plk->pml", theta, A)
    outs = [np.zeros(t.shape) for _ in range(4 if information else 3)]
    fam = items.family_code[j]
    present = np.bincount(fam[given], minlength=len(multidim.FAMILIES)) > 0
    for code in np.flatnonzero(present):
        f = multidim.FAMILIES[code]
        p_idx, l_idx = np.nonzero((fam == code) & given) if present.sum() > 1 else np.nonzero(given)
        jj, xx = j[p_idx, l_idx], resp[p_idx, l_idx]
        tt = t[p_idx, :, l_idx].T if theta.ndim == 3 else t[p_idx, l_idx]  # (M, n) or (n,)
        if f == "dichotomous":
            args = (items.intercepts[jj, 0], items.c[jj], items.u[jj])
        else:
            width = max(int(items.n_categories.max()) - 1, 1)
            args = (np.broadcast_to(items.intercepts[jj, :width], tt.shape + (width,)), None, None)
        obs = np.broadcast_to(xx[..., None], tt.shape + (1,))
        if not derivatives and f != "dichotomous" and tt.ndim == 2:  # many points: the observed category only
            width = max(int(items.n_categories.max()) - 1, 1)
            lp_x = multidim.predictor_log_prob_observed(tt, xx, items.intercepts[jj, :width], str(f))
            _store(outs[:1], [lp_x], p_idx, l_idx, theta.ndim)
            continue
        if not derivatives:
            lp = multidim.predictor_log_prob(tt, *args, family=str(f))
            _store(outs[:1], [np.take_along_axis(lp, obs, axis=-1)[..., 0]], p_idx, l_idx, theta.ndim)
            continue
        lp, dl, d2l = multidim.predictor_components(tt, *args, family=str(f))
        vals = [np.take_along_axis(v, obs, axis=-1)[..., 0] for v in (lp, dl, d2l)]
        if information:
            with np.errstate(invalid="ignore"):
                vals.append(np.where(np.isneginf(lp), 0.0, np.exp(lp) * dl**2).sum(axis=-1))
        _store(outs, vals, p_idx, l_idx, theta.ndim)
    return outs[0], outs[1], outs[2], (outs[3] if information and derivatives else None)


def _store(outs: list[NDArray], vals: list[NDArray], p_idx: NDArray, l_idx: NDArray, ndim: int) -> None:
    """Scatter one family's values (n,) or (M, n) into the (P, L) or (P, M, L) outputs."""
    for out, v in zip(outs, vals):
        if ndim == 3:
            out[p_idx, :, l_idx] = v.T
        else:
            out[p_idx, l_idx] = v


def padded(resp: Responses) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
    """Responses as (P, L) tables of item positions and categories in answer order, -1 padded."""
    person, item, value = resp.person, resp.item, resp.value
    order = np.argsort(person, kind="stable")
    person, item, value = person[order], item[order], value[order]
    counts = np.bincount(person, minlength=resp.n_persons)
    L = max(int(counts.max(initial=0)), 1)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pos = np.arange(person.size) - start[person]
    seq = np.full((resp.n_persons, L), -1, np.intp)
    out = np.full((resp.n_persons, L), -1, np.int64)
    seq[person, pos] = item
    out[person, pos] = value
    return seq, out


# ---------------------------------------------------------------------------------------------- the prior
@dataclass(frozen=True)
class LatentNormal:
    """The latent distribution N(mean, cov) and its precision."""

    mean: NDArray[np.float64]
    cov: NDArray[np.float64]

    def __post_init__(self) -> None:
        """Check shapes and positive definiteness once."""
        K = self.mean.size
        if self.cov.shape != (K, K):
            raise ParameterError(f"latent covariance has shape {self.cov.shape}, expected ({K}, {K})")
        try:
            np.linalg.cholesky(self.cov)
        except np.linalg.LinAlgError:
            raise ParameterError("the latent covariance matrix is not positive definite") from None

    @property
    def precision(self) -> NDArray[np.float64]:
        """Σ⁻¹."""
        return np.linalg.inv(self.cov)

    def log_density(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """log N(θ; mean, cov) up to a constant, over the last axis."""
        z = theta - self.mean
        return -0.5 * np.einsum("...k,kl,...l->...", z, self.precision, z)


def latent(mean: ArrayLike | None, cov: ArrayLike) -> LatentNormal:
    """A LatentNormal from a covariance (or correlation) matrix and a mean (zeros by default)."""
    c = np.asarray(cov, dtype=float)
    m = np.zeros(c.shape[0]) if mean is None else np.asarray(mean, dtype=float)
    return LatentNormal(m, c)


# ---------------------------------------------------------------------------------------------- MAP
def weighted_gram(w: NDArray[np.float64], A: NDArray[np.float64]) -> NDArray[np.float64]:
    """Σ_l w_pl a_pl a_plᵀ per person, (P, K, K), from weights (P, L) and slopes (P, L, K): a batched matrix
    product (the einsum of three operands loops in C without BLAS)."""
    return np.swapaxes(A * w[..., None], 1, 2) @ A


def map_estimate(
    items: MultidimItems,
    seq: NDArray[np.intp],
    resp: NDArray[np.int64],
    prior: LatentNormal,
    start: NDArray[np.float64] | None = None,
    max_iter: int = NEWTON_ITER,
    tol: float = NEWTON_TOL,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Posterior modes θ̂ (P, K), posterior covariances (P, K, K) and a converged flag (P,).

    Newton steps with the expected Hessian −(Σ i(t) a aᵀ + Σ⁻¹) (Fisher scoring: always negative definite, the
    same fixed point as Newton's method), shortened beyond MAX_STEP, until every step is below ``tol``. The
    covariance is the inverse of the negative observed Hessian Σ −∂²_t log P a aᵀ + Σ⁻¹ at the mode (the
    expected one where the observed is not positive definite, as can happen with guessing).
    """
    P, K = seq.shape[0], items.n_dims
    prec = prior.precision
    theta = np.broadcast_to(prior.mean, (P, K)).copy() if start is None else np.array(start, dtype=float)
    A = items.a[np.where(seq >= 0, seq, 0)]  # (P, L, K)
    done = np.zeros(P, bool)
    for _ in range(max_iter):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        sub = act if act.size < P else slice(None)
        _, dl, _, info = answered_components(items, theta[sub], seq[sub], resp[sub])
        Aa = A[sub]
        grad = (dl[:, None, :] @ Aa)[:, 0] - (theta[sub] - prior.mean) @ prec
        neg_h = weighted_gram(info, Aa) + prec
        step = np.linalg.solve(neg_h, grad[..., None])[..., 0]
        size = np.sqrt((step**2).sum(axis=1))
        step *= np.minimum(1.0, MAX_STEP / np.maximum(size, 1e-300))[:, None]
        theta[sub] += step
        done[act] = size < tol
    _, _, d2l, info = answered_components(items, theta, seq, resp)
    observed = prec - weighted_gram(d2l, A)
    expected = weighted_gram(info, A) + prec
    ok = np.linalg.eigvalsh(observed)[:, 0] > 1e-10
    return theta, np.linalg.inv(np.where(ok[:, None, None], observed, expected)), done


# ---------------------------------------------------------------------------------------------- EAP
@dataclass
class Posterior:
    """Weighted points of each person's posterior: ``points`` (Q, K) shared or (P, M, K) per person, ``weights``
    (P, Q or M) summing to 1; ``grid`` (K, n) the 1-D grid of each dimension when the points are a tensor grid."""

    points: NDArray[np.float64]
    weights: NDArray[np.float64]
    grid: NDArray[np.float64] | None = None

    def moments(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Posterior means (P, K) and covariances (P, K, K)."""
        w = self.weights
        if self.points.ndim == 2:
            mean = w @ self.points
            second = np.einsum("pq,qk,qm->pkm", w, self.points, self.points)
        else:
            mean = np.einsum("pm,pmk->pk", w, self.points)
            second = np.einsum("pm,pmk,pmj->pkj", w, self.points, self.points)
        return mean, second - mean[:, :, None] * mean[:, None, :]

    def level_probabilities(self, cuts: NDArray[np.float64]) -> NDArray[np.float64]:
        """P(level of dimension k = l) per person, (P, K, len(cuts) + 1).

        On a tensor grid each point stands for its cell and a cut crossing a cell shares its mass (as
        :func:`digicomp.levels.level_probabilities`); sampled points count where they fall."""
        cuts = np.asarray(cuts, dtype=float)
        if self.grid is not None:
            K, n = self.grid.shape
            idx = np.indices((n,) * K).reshape(K, -1)  # grid index of each point per dimension
            return np.stack([self.weights @ level_cell_fractions(self.grid[k], cuts)[idx[k]] for k in range(K)], axis=1)
        lev = np.searchsorted(cuts, self.points, side="right")  # (P, M, K)
        onehot = lev[..., None] == np.arange(cuts.size + 1)
        return np.einsum("pm,pmkl->pkl", self.weights, onehot)

    def composite(self, weights: NDArray[np.float64], cuts: NDArray[np.float64]) -> tuple[NDArray, NDArray, NDArray]:
        """Mean, SD and level probabilities (P, len(cuts) + 1) of the composite w·θ."""
        values = self.points @ weights  # (Q,) or (P, M)
        w = self.weights
        if values.ndim == 1:
            mean = w @ values
            var = w @ values**2 - mean**2
            # a grid point's cell, projected on w, spans ± h Σ|w_k| / 2: cut crossings share its mass (as the
            # per-dimension cells do; exact for one-hot weights)
            h = np.diff(self.grid, axis=1)[:, 0] if self.grid is not None else np.zeros(weights.size)
            r = max(float(np.abs(weights) @ h) / 2, 1e-12)
            bounds = np.concatenate([[-np.inf], cuts, [np.inf]])
            overlap = np.minimum(values[:, None] + r, bounds[None, 1:]) - np.maximum(values[:, None] - r, bounds[:-1])
            probs = w @ (np.clip(overlap, 0.0, None) / (2 * r))
        else:
            mean = (w * values).sum(axis=1)
            var = (w * values**2).sum(axis=1) - mean**2
            lev = np.searchsorted(cuts, values, side="right")
            probs = np.einsum("pm,pml->pl", w, (lev[..., None] == np.arange(cuts.size + 1)).astype(float))
        return mean, np.sqrt(np.maximum(var, 0.0)), probs


def tensor_grid(K: int, n_points: int | None = None, lim: float = 6.0) -> tuple[NDArray, NDArray]:
    """(points (n^K, K), the 1-D grid (n,)) of a rectangular grid on [-lim, lim]^K."""
    if K > MAX_TENSOR_DIMS:
        raise DigicompError(f"a tensor grid in {K} dimensions is too large; use QMC EAP or MAP (≤ {MAX_TENSOR_DIMS})")
    n = n_points or GRID_POINTS[K]
    g = np.linspace(-lim, lim, n)
    pts = np.stack(np.meshgrid(*([g] * K), indexing="ij"), axis=-1).reshape(-1, K)
    return pts, g


def eap_tensor(
    items: MultidimItems,
    resp: Responses,
    prior: LatentNormal,
    n_points: int | None = None,
    chunk: int = 512,
) -> Posterior:
    """The posterior of every person on a tensor grid (K ≤ 3): one sparse product per chunk of persons."""
    K = items.n_dims
    pts, g = tensor_grid(K, n_points)
    pts = pts + prior.mean
    design = resp.design(items.n_categories)
    diff, base = design.split_log_prob(items.log_prob(pts))
    log_prior = prior.log_density(pts)
    w = np.empty((resp.n_persons, pts.shape[0]))
    for lo in range(0, resp.n_persons, chunk):
        rows = slice(lo, min(lo + chunk, resp.n_persons))
        ll = design.log_likelihood_rows(diff, base, rows) + log_prior
        ll -= ll.max(axis=1, keepdims=True)
        np.exp(ll, out=ll)
        w[rows] = ll / ll.sum(axis=1, keepdims=True)
    return Posterior(pts, w, g[None, :] + prior.mean[:, None])


BIFACTOR_POINTS = 41
"""Points per dimension of the bifactor reduction's grids (the general factor's and each area's), on mean ± 6."""


@dataclass
class BifactorPosterior:
    """Posterior moments and level probabilities of a bifactor model computed by dimension reduction."""

    mean: NDArray[np.float64]
    cov: NDArray[np.float64]
    level_probabilities: NDArray[np.float64] | None


def bifactor_groups(items: MultidimItems, general: int) -> NDArray[np.intp]:
    """Per item its specific dimension (-1 for items on the general factor only); ParameterError for an item on
    two specific dimensions (no bifactor structure)."""
    loads = items.a > 0
    loads[:, general] = False
    if np.any(loads.sum(axis=1) > 1):
        j = int(np.flatnonzero(loads.sum(axis=1) > 1)[0])
        raise ParameterError(f"item {items.ids[j]!r} loads on more than one specific dimension: not a bifactor model")
    return np.where(loads.any(axis=1), loads.argmax(axis=1), -1)


def eap_bifactor(
    items: MultidimItems,
    responses: Responses,
    prior: LatentNormal,
    general: int,
    cuts: NDArray[np.float64] | None = None,
    n_points: int | None = None,
    chunk: int = 500,
) -> BifactorPosterior:
    """EAP of a bifactor model by dimension reduction (Gibbons & Hedeker 1992): given the general factor the areas
    are independent, so the K-dimensional integral is one over the general factor of a product of two-dimensional
    ones, each (general, area) pair on a Q × Q grid. The latent dimensions must be uncorrelated. Exactly the
    tensor-grid EAP on the same points, at a cost linear in the number of areas."""
    K = items.n_dims
    if np.any(np.abs(prior.cov - np.eye(K)) > 1e-12):
        raise ParameterError("the bifactor reduction needs uncorrelated unit-variance dimensions (latent identity)")
    group = bifactor_groups(items, general)
    Q = n_points or BIFACTOR_POINTS
    base = np.linspace(-6.0, 6.0, Q)
    log_phi = -0.5 * base**2  # every dimension N(mean_k, 1): the same weights on its shifted grid
    grids = base[None, :] + prior.mean[:, None]  # (K, Q)
    specifics = [k for k in range(K) if k != general]
    P = responses.n_persons
    person, item, value = responses.person, responses.item, responses.value
    n_lev = 0 if cuts is None else cuts.size + 1
    mean = np.zeros((P, K))
    second = np.zeros((P, K, K))
    levels = np.zeros((P, K, n_lev)) if cuts is not None else None
    # per specific: log-likelihood of its items on the (general, specific) grid; general-only items on the general grid
    tables = {}
    for k in [-1, *specifics]:
        idx = np.flatnonzero(group == k)
        if idx.size == 0:
            continue
        sub = items.subset(idx)
        if k < 0:
            pts = np.zeros((Q, K))
            pts[:, general] = grids[general]
        else:
            pts = np.zeros((Q * Q, K))
            pts[:, general] = np.repeat(grids[general], Q)
            pts[:, k] = np.tile(grids[k], Q)
        local = np.full(items.n_items, -1)
        local[idx] = np.arange(idx.size)
        keep = local[item] >= 0
        sub_resp = _subset_responses(person[keep], local[item[keep]], value[keep], P, idx.size)
        design = sub_resp.design(sub.n_categories)
        tables[k] = (design, *design.split_log_prob(sub.log_prob(pts)))
    for lo in range(0, P, chunk):
        rows = slice(lo, min(lo + chunk, P))
        n = rows.stop - rows.start
        log_g = np.broadcast_to(log_phi, (n, Q)).copy()
        if -1 in tables:
            design, diff, base_t = tables[-1]
            log_g += design.log_likelihood_rows(diff, base_t, rows)
        cond = {}
        for k in specifics:
            if k in tables:
                design, diff, base_t = tables[k]
                ll = design.log_likelihood_rows(diff, base_t, rows).reshape(n, Q, Q) + log_phi
            else:
                ll = np.broadcast_to(log_phi, (n, Q, Q)).copy()
            peak = ll.max(axis=2, keepdims=True)
            e = np.exp(ll - peak)
            total = e.sum(axis=2, keepdims=True)
            log_g += (np.log(total) + peak)[..., 0]
            cond[k] = e / total  # p(s | g, x) on the s grid, (n, Q, Q)
        w = np.exp(log_g - log_g.max(axis=1, keepdims=True))
        w /= w.sum(axis=1, keepdims=True)
        g = grids[general]
        m = {general: np.broadcast_to(g, (n, Q))}
        v = {general: np.broadcast_to(g * g, (n, Q))}
        for k in specifics:
            m[k] = cond[k] @ grids[k]
            v[k] = cond[k] @ grids[k] ** 2
        for a in range(K):
            mean[rows, a] = (w * m[a]).sum(axis=1)
            second[rows, a, a] = (w * v[a]).sum(axis=1)
            for b in range(a):
                second[rows, a, b] = second[rows, b, a] = (w * m[a] * m[b]).sum(axis=1)  # independent given g
        if levels is not None:
            levels[rows, general] = w @ level_cell_fractions(g, cuts)
            for k in specifics:
                levels[rows, k] = np.einsum("pq,pqr,rl->pl", w, cond[k], level_cell_fractions(grids[k], cuts))
    cov = second - mean[:, :, None] * mean[:, None, :]
    return BifactorPosterior(mean, cov, levels)


def sobol_normal(K: int, n_points: int = QMC_POINTS, seed: int = 0) -> NDArray[np.float64]:
    """Scrambled Sobol points (n, K) mapped to standard normal scores (seeded: the same points on every machine)."""
    from scipy.special import ndtri
    from scipy.stats import qmc

    m = int(np.ceil(np.log2(max(n_points, 2))))
    u = qmc.Sobol(K, scramble=True, seed=np.random.default_rng(seed)).random_base2(m)
    return ndtri(np.clip(u, 1e-12, 1 - 1e-12))


def eap_qmc(
    items: MultidimItems,
    seq: NDArray[np.intp],
    resp: NDArray[np.int64],
    prior: LatentNormal,
    n_points: int = QMC_POINTS,
    seed: int = 0,
    chunk: int = 64,
    mode: tuple[NDArray, NDArray] | None = None,
) -> tuple[Posterior, NDArray[np.float64]]:
    """The posterior of every person by QMC importance sampling around its Laplace approximation.

    Returns the weighted points and each person's effective sample size (Kish) of the weights. ``mode``: the
    MAP and covariance when already known."""
    P, K = seq.shape[0], items.n_dims
    theta_map, cov = mode if mode is not None else map_estimate(items, seq, resp, prior)[:2]
    z = sobol_normal(K, n_points, seed)
    L = np.linalg.cholesky(cov) * QMC_SCALE  # (P, K, K)
    M = z.shape[0]
    points = np.empty((P, M, K))
    weights = np.empty((P, M))
    half_z2 = 0.5 * (z**2).sum(axis=1)
    for lo in range(0, P, chunk):
        r = slice(lo, min(lo + chunk, P))
        th = theta_map[r, None, :] + np.einsum("pkj,mj->pmk", L[r], z)
        lp, _, _, _ = answered_components(items, th, seq[r], resp[r], derivatives=False)
        logw = lp.sum(axis=2) + prior.log_density(th) + half_z2  # − log q up to a per-person constant
        logw -= logw.max(axis=1, keepdims=True)
        w = np.exp(logw)
        weights[r] = w / w.sum(axis=1, keepdims=True)
        points[r] = th
    ess = 1.0 / (weights**2).sum(axis=1)
    return Posterior(points, weights), ess


def _subset_responses(person: NDArray, item: NDArray, value: NDArray, n_persons: int, n_items: int) -> Responses:
    """Responses of some items (renumbered 0..n_items-1) for all persons."""
    from digicomp.responses import Responses

    return Responses(person, item, value, n_persons, n_items)
