"""Multidimensional calibration: the public entry point and its result (parameters, SEs, latent correlations, fit).

Standard errors: the observed information of the marginal log-likelihood, by central differences of its score
(the score itself analytic by Fisher's identity: the M-step gradient at the E-step counts of the same parameters,
Louis 1982), i.e. the numerical Hessian of the observed log-likelihood; it costs 2·P E-steps for P parameters, so
``se="auto"`` uses it when P ≤ :data:`SE_MAX_PARAMETERS` and P × (integration points) ≤ :data:`SE_MAX_WORK`, and
otherwise the cross-product (XPD) information of the
persons' scores (:mod:`digicomp.calibration.multidim_xpd`, one pass over the persons).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.families import expit
from digicomp.calibration.multidim_em import MultidimFit, fit
from digicomp.calibration.multidim_xpd import crossprod_information
from digicomp.calibration.mvn import ReducedLatent
from digicomp.errors import CalibrationError, ConvergenceWarning, DataWarning
from digicomp.models.names import DICHOTOMOUS_MODELS
from digicomp.scoring.posterior import empirical_reliability

Array = NDArray[np.float64]
SE_MAX_PARAMETERS = 300
SE_MAX_WORK = 250_000  # parameters × integration points: above it 2·P E-steps cost more than one XPD pass is worth
STEP = 1e-4
TO_MIRT = {"2PL": "2PL", "3PL": "3PL", "4PL": "4PL", "GRM": "graded", "GPCM": "gpcm"}


class MultidimCalibrationResult:
    """Parameters in mirt's slope–intercept form over named dimensions, their SEs, the latent normal and fit."""

    def __init__(self, f: MultidimFit) -> None:
        s, eng = f.structure, f.engine
        J, K = s.pattern.shape
        self.structure = s.kind
        self.dims = list(s.dims)
        self.areas = list(s.areas) if s.areas else [None] * J
        self.item_ids = list(f.item_ids)
        self.models = list(f.models)
        self.n_categories = np.asarray(f.n_categories)
        width = max(int(self.n_categories.max()) - 1, 1)
        self.a = np.zeros((J, K))
        self.intercepts = np.full((J, width), np.nan)
        self.c, self.u = np.zeros(J), np.ones(J)
        self.fixed = np.zeros(J, dtype=bool)
        self.fixed[f.fixed_rows] = True
        self._index = {}  # item j -> (block, row)
        for b in eng.blocks:
            L = b.n_slopes
            for r, j in enumerate(b.index):
                self._index[int(j)] = (b, r)
                for loc, k in enumerate(f.local_dims[j]):
                    if k >= 0:
                        self.a[j, k] = b.eta[r, loc]
                if b.family == "dichotomous":
                    self.intercepts[j, 0] = b.eta[r, L]
                    self.c[j], self.u[j] = expit(b.eta[r, L + 1]), expit(b.eta[r, L + 2])
                else:
                    d = b.eta[r, L:]
                    self.intercepts[j, : d.size] = d
        if f.fixed is not None and f.fixed_rows.size:
            pos = {i: k for k, i in enumerate(f.fixed.ids)}
            for j in f.fixed_rows:
                r = pos[self.item_ids[j]]
                self.a[j] = f.fixed.a[r]
                w = f.fixed.intercepts.shape[1]
                self.intercepts[j, : min(w, width)] = f.fixed.intercepts[r, :width]
                self.c[j], self.u[j] = f.fixed.c[r], f.fixed.u[r]
        lat = eng.latent.primary if isinstance(eng.latent, ReducedLatent) else eng.latent
        self.latent_cor = np.eye(K)
        self.latent_cov = np.eye(K)
        self.latent_mean = np.zeros(K)
        prim = s.primary
        self.latent_cor[np.ix_(prim, prim)] = lat.correlation
        self.latent_cov[np.ix_(prim, prim)] = lat.cov
        self.latent_mean[prim] = lat.mean
        self._orient(f)
        self.loglik = float(f.outcome.loglik)
        self.iterations = int(f.outcome.iterations)
        self.converged = bool(f.outcome.converged)
        self.n_parameters = int(sum(b.n_free for b in eng.blocks) + eng.latent.n_free)
        resp = f.prep.responses
        self.n_persons = float(resp.n_persons if resp.weights is None else resp.weights.sum())
        self.quadpts = f.quadpts
        self.method = f.method
        self.seed = f.seed
        self.excluded_items = dict(f.prep.excluded_items)
        self.excluded_persons = list(f.prep.excluded_persons)
        self.eap, self.psd = f.outcome.estep.eap, f.outcome.estep.psd
        w = resp.weights
        self.reliability = {
            d: empirical_reliability(self.eap[:, k], self.psd[:, k], w) for k, d in enumerate(self.dims)
        }
        self.se_a = np.full((J, K), np.nan)
        self.se_intercepts = np.full_like(self.intercepts, np.nan)
        self.se_c, self.se_u = np.full(J, np.nan), np.full(J, np.nan)
        self.se_cor = np.full((K, K), np.nan)
        self.se_method = "none"
        self._fit = f
        if not self.converged:
            warnings.warn(
                f"EM stopped after {self.iterations} cycles without converging (largest change "
                f"{f.outcome.last_change:.2e}); estimates may be inaccurate",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _orient(self, f: MultidimFit) -> None:
        """Flip any dimension whose free slopes sum below 0 (with its correlations): the same likelihood."""
        free = ~self.fixed
        for k in range(self.a.shape[1]):
            if self.a[free, k].sum() < 0:
                self.a[free, k] *= -1
                self.latent_cor[k, :] *= -1
                self.latent_cor[:, k] *= -1
                self.latent_cov[k, :] *= -1
                self.latent_cov[:, k] *= -1

    # ----------------------------------------------------------------- fit statistics
    @property
    def aic(self) -> float:
        """Akaike information criterion, -2 logLik + 2 P."""
        return -2 * self.loglik + 2 * self.n_parameters

    @property
    def bic(self) -> float:
        """Bayesian information criterion, -2 logLik + P log N."""
        return -2 * self.loglik + self.n_parameters * np.log(self.n_persons)

    # ----------------------------------------------------------------- standard errors
    def compute_se(self, progress: Callable[[str, int, int], None] | None = None, method: str = "numerical") -> None:
        """SEs from the numerical Hessian of the observed log-likelihood (2·P E-steps) or the XPD information."""
        eng = self._fit.engine
        x = eng.pack()
        P = x.size
        if method == "xpd":
            info = crossprod_information(eng, self._fit.prep.responses, progress)
        else:
            H = np.empty((P, P))
            if progress is not None:
                progress("numerical", 0, 2 * P)
            for i in range(P):
                h = STEP * max(1.0, abs(x[i]))
                up, down = x.copy(), x.copy()
                up[i] += h
                down[i] -= h
                H[:, i] = (eng.score(up) - eng.score(down)) / (2 * h)
                if progress is not None:
                    progress("numerical", 2 * (i + 1), 2 * P)
            eng.unpack(x)
            info = -(H + H.T) / 2
        try:
            cov = np.linalg.inv(info)
            ok = bool(np.all(np.diag(cov) > 0)) and np.all(np.isfinite(cov))
        except np.linalg.LinAlgError:
            ok = False
        if not ok:
            warnings.warn(
                "standard errors not available: the observed information is not positive definite "
                "(a parameter is not identified by these data, or a slope sits at its bound 0)",
                DataWarning,
                stacklevel=2,
            )
            self.se_method = "failed"
            return
        self.se_method = method
        f = self._fit
        pos = 0
        for b in eng.blocks:
            L = b.n_slopes
            idx = np.full(b.eta.shape, -1)
            idx[b.free] = pos + np.arange(int(b.free.sum()))
            pos += int(b.free.sum())
            for r, j in enumerate(b.index):
                se_row = np.where(idx[r] >= 0, np.sqrt(np.abs(np.diag(cov)[np.maximum(idx[r], 0)])), np.nan)
                for loc, k in enumerate(f.local_dims[j]):
                    if k >= 0:
                        self.se_a[j, k] = se_row[loc]
                if b.family == "dichotomous":
                    self.se_intercepts[j, 0] = se_row[L]
                    g, u = self.c[j], self.u[j]
                    self.se_c[j] = se_row[L + 1] * g * (1 - g)
                    self.se_u[j] = se_row[L + 2] * u * (1 - u)
                else:
                    n = b.eta.shape[1] - L
                    self.se_intercepts[j, :n] = se_row[L:]
        lat = eng.latent
        psi = x[pos:] if info.shape[0] == x.size else x[:0]
        if psi.size:
            sub = cov[pos:, pos:]
            jac = np.empty((lat.natural(psi).size, psi.size))
            for i in range(psi.size):
                e = np.zeros(psi.size)
                e[i] = 1e-6
                jac[:, i] = (lat.natural(psi + e) - lat.natural(psi - e)) / 2e-6
            nat_se = np.sqrt(np.abs(np.diag(jac @ sub @ jac.T)))
            primary = lat.primary if isinstance(lat, ReducedLatent) else lat
            off = len(primary.mean) if primary.estimate_mean else 0
            prim = f.structure.primary
            for n, (i, j) in enumerate(primary.free_l):
                gi, gj = prim[i], prim[j]
                self.se_cor[gi, gj] = self.se_cor[gj, gi] = nat_se[off + n]

    # ----------------------------------------------------------------- tables
    def table(self) -> tuple[list[str], list[list[str]]]:
        """mirt's parameter table (``coef(mod, simplify=TRUE)$items``): a1..aK, d, g, u (when some item is
        dichotomous), d1..dm (when some item is polytomous), then each with ``_se``; empty where a parameter does
        not apply, is fixed or was not estimated."""
        K = len(self.dims)
        dich = np.array([m in DICHOTOMOUS_MODELS for m in self.models])
        width = self.intercepts.shape[1] if not dich.all() else 0
        cols = [f"a{k + 1}" for k in range(K)] + (["d", "g", "u"] if dich.any() else [])
        cols += [f"d{k + 1}" for k in range(width)]
        header = ["item", "itemtype", *cols, *[f"{c}_se" for c in cols]]
        rows = []
        for j, i in enumerate(self.item_ids):
            vals = {f"a{k + 1}": (self.a[j, k], self.se_a[j, k]) for k in range(K)}
            if dich[j]:
                vals.update(
                    d=(self.intercepts[j, 0], self.se_intercepts[j, 0]),
                    g=(self.c[j], self.se_c[j]),
                    u=(self.u[j], self.se_u[j]),
                )
            else:
                n = int(self.n_categories[j]) - 1
                vals.update({f"d{k + 1}": (self.intercepts[j, k], self.se_intercepts[j, k]) for k in range(n)})
            est = [_num(vals[c][0]) if c in vals else "" for c in cols]
            ses = [_num(vals[c][1]) if c in vals else "" for c in cols]
            rows.append([i, TO_MIRT.get(self.models[j], self.models[j]), *est, *ses])
        return header, rows

    def report(self) -> dict[str, Any]:
        """Plain data: fit statistics, latent correlations, reliabilities and parameters (JSON-ready)."""
        return {
            "structure": self.structure,
            "dimensions": self.dims,
            "logLik": self.loglik,
            "AIC": self.aic,
            "BIC": self.bic,
            "n_parameters": self.n_parameters,
            "n_persons": self.n_persons,
            "iterations": self.iterations,
            "converged": self.converged,
            "quadpts": self.quadpts,
            "integration": self.method,
            "seed": self.seed,
            "latent_cor": self.latent_cor.tolist(),
            "latent_cor_se": [[None if not np.isfinite(v) else float(v) for v in row] for row in self.se_cor],
            "latent_mean": self.latent_mean.tolist(),
            "latent_cov": self.latent_cov.tolist(),
            "reliability": {d: float(r) for d, r in self.reliability.items()},
            "se_method": self.se_method,
            "excluded_items": self.excluded_items,
            "n_excluded_persons": len(self.excluded_persons),
        }

    def summary(self) -> str:
        """A readable summary: fit, latent correlations, reliabilities."""
        lines = [
            f"{self.structure} model, {len(self.dims)} dimension(s) ({', '.join(self.dims)}); "
            f"{len(self.item_ids)} items, {self.n_persons:g} persons, "
            + (
                f"{self.quadpts} quasi-Monte-Carlo points (seed {self.seed})"
                if self.method == "qmc"
                else f"{self.quadpts} points per dimension"
            ),
            f"logLik {self.loglik:.3f}  AIC {self.aic:.2f}  BIC {self.bic:.2f}  parameters {self.n_parameters}  "
            f"EM cycles {self.iterations}{'' if self.converged else ' (NOT converged)'}",
        ]
        if len(self.dims) > 1:
            lines.append("latent correlations:")
            w = max(len(d) for d in self.dims)
            for k, d in enumerate(self.dims):
                lines.append(f"  {d:<{w}} " + " ".join(f"{v:6.3f}" for v in self.latent_cor[k]))
        lines.append("empirical reliability: " + ", ".join(f"{d} {r:.3f}" for d, r in self.reliability.items()))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"MultidimCalibrationResult({self.structure}, {len(self.item_ids)} items × {len(self.dims)} dims, "
            f"logLik={self.loglik:.3f})"
        )


def _num(x: float) -> str:
    return "" if not np.isfinite(x) else repr(float(x))


def unsupported_options(priors: Any = None, D: float = 1.0, latent: str = "auto") -> None:
    """Refuse the unidimensional calibration's options a multidimensional fit does not honour (never ignore them)."""
    if priors not in (None, "none"):
        raise CalibrationError(
            "priors are not available for multidimensional calibration yet (maximum likelihood only); "
            "fit 3PL/4PL items unidimensionally with priors, or use 2PL/GRM/GPCM"
        )
    if D != 1.0:
        raise CalibrationError(f"D = {D!r}: multidimensional models use mirt's logit a·θ + d (D = 1)")
    if latent != "auto":
        raise CalibrationError(
            f"latent = {latent!r}: a multidimensional fit fixes means 0 and variances 1 and estimates the "
            "correlations (with fixed items: means, variances and correlations); there is no other choice"
        )


def calibrate_multidim(
    responses: Any,
    model: str | Sequence[str] | Mapping[str, str] = "2PL",
    *,
    structure: Any = "areas",
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
    se: bool | str = "auto",
    nonnegative: bool = True,
    method: str = "auto",
    qmc_points: int = 5000,
    seed: int = 0,
    progress: Callable[[int, float, float], None] | None = None,
    se_progress: Callable[[str, int, int], None] | None = None,
) -> MultidimCalibrationResult:
    """Multidimensional MML-EM (Bock & Aitkin 1981; bifactor/two-tier by dimension reduction, Gibbons & Hedeker 1992).

    ``structure``: 'unidimensional', 'areas' (each item on its area's dimension; ``areas`` maps item -> area),
    'bifactor' (general + one specific per area), a Q-matrix {item: {dimension: 0/1}}, or a
    :class:`~digicomp.calibration.structure.Structure` (e.g. :func:`~digicomp.calibration.structure.two_tier`).
    ``quadpts``: points per integrated dimension on ``theta_range`` (default mirt's: 61, 31, 15 for 1, 2, 3
    dimensions; a bifactor model integrates 2). ``fixed``: a multidimensional bank (or its items) held at its
    values; the latent means, variances and correlations are then estimated. ``se``: "auto" (True), "numerical",
    "xpd" or False. ``method``: "quadrature" (tensor grid, up to 3 correlated dimensions), "qmc" (quasi-Monte-Carlo
    EM on ``qmc_points`` Halton points drawn with ``seed``: :mod:`digicomp.calibration.qmc`) or "auto" (qmc beyond
    3 correlated dimensions).
    """
    f = fit(
        responses,
        model,
        structure=structure,
        areas=areas,
        dims=dims,
        fixed=fixed,
        n_categories=n_categories,
        weights=weights,
        quadpts=quadpts,
        theta_range=theta_range,
        tol=tol,
        max_iter=max_iter,
        accelerate=accelerate,
        nonnegative=nonnegative,
        method=method,
        qmc_points=qmc_points,
        seed=seed,
        progress=progress,
    )
    res = MultidimCalibrationResult(f)
    if se is False or se == "none":
        return res
    if se in (True, "auto"):
        P, Q = res._fit.engine.pack().size, res._fit.engine.points.shape[0]
        method = "numerical" if P <= SE_MAX_PARAMETERS and P * Q <= SE_MAX_WORK else "xpd"
    elif se in ("numerical", "xpd"):
        method = str(se)
    else:
        raise CalibrationError(f"se = {se!r}: expected True, False, 'auto', 'numerical' or 'xpd'")
    res.compute_se(se_progress, method)
    return res
