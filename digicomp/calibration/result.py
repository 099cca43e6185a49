"""The result of a calibration: parameters with standard errors, likelihood, convergence, fit, exports."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration import fit as fitstats
from digicomp.calibration.families import expit
from digicomp.calibration.information import covariance, observed_information
from digicomp.calibration.xpd import crossprod_information, observed_cells
from digicomp.errors import ConvergenceWarning, DataWarning
from digicomp.models import ItemParameters
from digicomp.models.names import TO_MIRT
from digicomp.models.parameters import DICHOTOMOUS_MODELS
from digicomp.scoring.posterior import empirical_reliability

Array = NDArray[np.float64]
NUMERICAL_SE_BUDGET = 4e9
BOUND_TOL = 1e-3
"""An estimated lower asymptote below this (or an upper one above 1 - this) is flagged as at its bound."""
"""Largest cost, in (observed response × quadrature point) evaluations, of numerical SEs under "auto" (≈ 2 s at
0.5 ns per evaluation on the development machine); a dearer fit gets XPD SEs, whose cost is a few E-steps."""


def choose_se_method(n_parameters: int, n_observed: int, n_points: int) -> str:
    """The SE method for "auto": numerical while its 2·P E-steps fit NUMERICAL_SE_BUDGET, else XPD."""
    return "numerical" if 2 * n_parameters * n_observed * n_points <= NUMERICAL_SE_BUDGET else "xpd"


def _internal_names(model: str, k: int) -> list[str]:
    if model in DICHOTOMOUS_MODELS:
        return ["a1", "d", "g", "u"]
    return ["a1"] + [f"d{i}" for i in range(1, k)]


@dataclass
class CalibrationResult:
    """Everything a calibration produced; ``params`` holds every fitted item (estimated and fixed)."""

    params: ItemParameters
    fixed: NDArray[np.bool_]
    loglik: float
    n_parameters: int
    n_persons: float
    iterations: int
    converged: bool
    tol: float
    latent_mean: float
    latent_sd: float
    n_responses: NDArray[np.float64]
    se_internal: dict[str, dict[str, float]] = field(default_factory=dict)
    se: dict[str, dict[str, Any]] = field(default_factory=dict)
    se_method: str = "none"
    latent_se: dict[str, float] = field(default_factory=dict)
    marginal_reliability: float = float("nan")
    empirical_reliability: float = float("nan")
    complete_data: bool = True
    item_fit: dict[str, Any] = field(default_factory=dict)
    excluded_items: dict[str, str] = field(default_factory=dict)
    excluded_persons: list[str] = field(default_factory=list)
    priors: str = "none"
    boundary: dict[str, str] = field(default_factory=dict)

    # ----------------------------------------------------------------- derived
    @property
    def aic(self) -> float:
        """Akaike information criterion, -2 logL + 2 P."""
        return -2 * self.loglik + 2 * self.n_parameters

    @property
    def bic(self) -> float:
        """Bayesian information criterion, -2 logL + P log N."""
        return -2 * self.loglik + self.n_parameters * np.log(self.n_persons)

    @property
    def ids(self) -> list[str]:
        """Item ids in fit order."""
        return list(self.params.ids)

    @property
    def reliability(self) -> tuple[str, float]:
        """The reliability that describes these data: ("marginal", …) for complete tests, else ("empirical", …).

        Marginal reliability integrates the information of every calibrated item, so on sparse data (adaptive or
        booklet designs) it describes a test nobody took; empirical reliability uses each person's own posterior.
        """
        if self.complete_data:
            return "marginal", self.marginal_reliability
        return "empirical", self.empirical_reliability

    # ----------------------------------------------------------------- building
    @classmethod
    def build(
        cls,
        engine: Any,
        outcome: Any,
        prep: Any,
        params: ItemParameters,
        priors: Any,
        points: Array,
        tol: float,
        compute_se: bool,
        compute_fit: bool,
        se_method: str = "auto",
        se_progress: Any = None,
    ) -> CalibrationResult:
        """Assemble the result from the finished EM engine (SEs and fit computed here when asked)."""
        resp = prep.responses
        fixed = np.zeros(params.n_items, dtype=bool)
        fixed[prep.fixed_rows] = True
        n_par = sum(b.n_free for b in engine.blocks) + int(engine.latent.estimate_mean) + int(engine.latent.estimate_sd)
        n_persons = float(resp.n_persons if resp.weights is None else resp.weights.sum())
        out = cls(
            params=params,
            fixed=fixed,
            loglik=outcome.loglik,
            n_parameters=n_par,
            n_persons=n_persons,
            iterations=outcome.iterations,
            converged=outcome.converged,
            tol=tol,
            latent_mean=engine.latent.mean,
            latent_sd=engine.latent.sd,
            n_responses=prep.counts.sum(axis=1),
            excluded_items=dict(prep.excluded_items),
            excluded_persons=list(prep.excluded_persons),
            priors=repr(priors) if not priors.empty else "none",
        )
        if not outcome.converged:
            warnings.warn(
                f"EM stopped after {outcome.iterations} cycles without converging (largest change "
                f"{outcome.last_change:.2e} > tol {tol:g}); estimates may be inaccurate",
                ConvergenceWarning,
                stacklevel=3,
            )
        log_prior = engine.latent.log_weights(points)
        P = np.exp(params.log_prob(points))
        info = params.subset(np.flatnonzero(~fixed)).information(points).sum(axis=1)
        out.marginal_reliability = fitstats.marginal_reliability(info, log_prior, engine.latent.sd)
        out.complete_data = observed_cells(engine.data) == resp.n_persons * resp.n_items
        eap, psd = outcome.estep.eap, outcome.estep.psd  # the final E-step's posterior moments
        out.empirical_reliability = empirical_reliability(eap, psd, resp.weights)
        if compute_se:
            out._standard_errors(engine, se_method, se_progress)
        if compute_fit:
            out._item_fit(engine, resp, P, log_prior, points)
        out._flag_boundaries()
        return out

    def _flag_boundaries(self) -> None:
        """Flag estimated asymptotes at their bounds (c ≈ 0, u ≈ 1): there the likelihood's maximum is on the
        edge of the parameter space, the usual SE does not apply, and it is left out of ``se`` (so of reports and
        bank files) instead of being reported as a tiny number; a DataWarning names the items."""
        for j, rec in enumerate(self.params.to_file_form()):
            if self.fixed[j] or rec["model"] not in ("3PL", "4PL"):
                continue
            at = {}
            if rec["c"] < BOUND_TOL:
                at["c"] = f"c = {rec['c']:.2g} at its lower bound 0"
            if rec["model"] == "4PL" and rec["d"] > 1 - BOUND_TOL:
                at["d"] = f"d = {rec['d']:.6g} at its upper bound 1"
            if at:
                self.boundary[rec["id"]] = "; ".join(at.values())
                for key in at:
                    self.se.get(rec["id"], {}).pop(key, None)
        if self.boundary:
            head = "; ".join(f"{i}: {why}" for i, why in list(self.boundary.items())[:5])
            warnings.warn(
                f"{len(self.boundary)} item(s) have an asymptote at its bound ({head}"
                f"{'; ...' if len(self.boundary) > 5 else ''}); its SE is not defined there and is left out "
                "(consider the 2PL for these items, or a prior on c)",
                DataWarning,
                stacklevel=4,
            )

    def _standard_errors(self, engine: Any, method: str, progress: Any = None) -> None:
        """SEs from the numerical observed information or the XPD one ("auto": :func:`choose_se_method`).

        ``progress(method, done, total)`` is called before the work starts and as it advances (E-steps for
        "numerical", chunks of persons for "xpd").
        """
        x = engine.pack()
        if method == "auto":
            method = choose_se_method(x.size, observed_cells(engine.data), engine.points.size)
        if method == "numerical":
            info = observed_information(engine, progress=progress)
        else:
            info = crossprod_information(engine, progress=progress)
        cov = covariance(info)
        if cov is None:
            warnings.warn(
                f"standard errors not available: the {method} information is not positive definite "
                "(a parameter is not identified by these data)",
                DataWarning,
                stacklevel=4,
            )
            self.se_method = "failed"
            return
        self.se_method = method
        pos = 0
        D = self.params.D
        for b in engine.blocks:
            index = np.full(b.eta.shape, -1)
            index[b.free] = pos + np.arange(int(b.free.sum()))
            pos += int(b.free.sum())
            if b.shared.any():
                index[b.shared, 0] = pos
                pos += 1
            for r in range(b.eta.shape[0]):
                j = int(b.index[r])
                item = self.params.ids[j]
                model = str(self.params.models[j])
                names = _internal_names(model, int(self.params.n_categories[j]))
                cols = [c for c in range(len(names)) if index[r, c] >= 0]
                sub = cov[np.ix_(index[r, cols], index[r, cols])]
                se_int = {}
                for ci, c in enumerate(cols):
                    s = float(np.sqrt(sub[ci, ci]))
                    if b.family == "dichotomous" and c >= 2:
                        p = float(expit(b.eta[r, c]))
                        s *= p * (1 - p)
                    se_int[names[c]] = s
                self.se_internal[item] = se_int
                self.se[item] = _file_form_se(model, b.eta[r], cols, sub, se_int, D)
        lat = engine.latent
        if lat.estimate_mean:
            self.latent_se["mean"] = float(np.sqrt(cov[pos, pos]))
            pos += 1
        if lat.estimate_sd:
            self.latent_se["sd"] = float(np.sqrt(cov[pos, pos]) * lat.sd)

    def _item_fit(self, engine: Any, resp: Any, P: Array, log_prior: Array, points: Array) -> None:
        n_free = np.zeros(self.params.n_items, dtype=int)
        for b in engine.blocks:
            n_free[b.index] = b.free.sum(axis=1)
        self.item_fit = {"S_X2": fitstats.s_x2(resp, P, self.params.n_categories, log_prior, n_free)}
        rasch = np.flatnonzero(np.isin(self.params.models, ["Rasch", "PCM"]) & ~self.fixed)
        if rasch.size:
            log_p = engine.log_p()
            eap = np.concatenate([post @ points for post, _ in _posteriors(engine.data, log_p, log_prior)])
            infit, outfit = fitstats.infit_outfit(resp, P, rasch, points, eap)
            self.item_fit["infit"] = dict(zip([self.params.ids[j] for j in rasch], infit.tolist()))
            self.item_fit["outfit"] = dict(zip([self.params.ids[j] for j in rasch], outfit.tolist()))

    # ----------------------------------------------------------------- tables
    def mirt_table(self) -> tuple[list[str], list[list[str]]]:
        """(header, rows) in mirt's columns (a1, d, g, u, d1..dk) with a ``_se`` column beside each parameter."""
        width = max(self.params.max_categories - 1, 1)
        names = ["a1", "d", "g", "u"] + (
            [f"d{k}" for k in range(1, width + 1)] if not self.params.is_dichotomous else []
        )
        header = ["item", "itemtype", "status"]
        for n in names:
            header += [n, f"{n}_se"]
        rows = []
        for j, item in enumerate(self.params.ids):
            model = str(self.params.models[j])
            vals = {"a1": self.params.slope[j]}
            if model in DICHOTOMOUS_MODELS:
                vals.update(d=self.params.intercepts[j, 0], g=self.params.lower[j], u=self.params.upper[j])
            else:
                k = int(self.params.n_categories[j]) - 1
                vals.update({f"d{i + 1}": self.params.intercepts[j, i] for i in range(k)})
            se = self.se_internal.get(item, {})
            row = [item, TO_MIRT[model], "fixed" if self.fixed[j] else "estimated"]
            for n in names:
                row += [_fmt(vals.get(n)), _fmt(se.get(n))]
            rows.append(row)
        return header, rows

    def report(self) -> dict[str, Any]:
        """Plain-data report: likelihood, information criteria, convergence, latent moments, exclusions, item fit."""
        fit = {}
        sx = self.item_fit.get("S_X2", {})
        if sx.get("available"):
            fit["S_X2"] = {
                i: {"S_X2": float(sx["S_X2"][j]), "df": int(sx["df"][j]), "p": float(sx["p"][j])}
                for j, i in enumerate(self.params.ids)
                if not self.fixed[j]
            }
        elif sx:
            fit["S_X2"] = {"available": False, "reason": sx["reason"]}
        for key in ("infit", "outfit"):
            if key in self.item_fit:
                fit[key] = self.item_fit[key]
        return {
            "loglik": self.loglik,
            "aic": self.aic,
            "bic": self.bic,
            "n_parameters": self.n_parameters,
            "n_persons": self.n_persons,
            "iterations": self.iterations,
            "converged": self.converged,
            "tol": self.tol,
            "latent": {"mean": self.latent_mean, "sd": self.latent_sd, "se": self.latent_se},
            "reliability": {"kind": self.reliability[0], "value": self.reliability[1]},
            "marginal_reliability": self.marginal_reliability,
            "empirical_reliability": self.empirical_reliability,
            "se_method": self.se_method,
            "priors": self.priors,
            "excluded_items": self.excluded_items,
            "boundary": self.boundary,
            "excluded_persons": len(self.excluded_persons),
            "items": [
                {
                    **rec,
                    "status": "fixed" if self.fixed[j] else "estimated",
                    "n": int(self.n_responses[j]),
                    "se": self.se.get(rec["id"], {}),
                }
                for j, rec in enumerate(self.params.to_file_form())
            ],
            "item_fit": fit,
        }

    def write_report(self, path: str | Path) -> Path:
        """Write :meth:`report` as JSON."""
        path = Path(path)
        path.write_text(json.dumps(self.report(), indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    def summary(self) -> str:
        """A readable table: item, model, file-form parameters with SEs, n, and S-X2 p-value."""
        sx = self.item_fit.get("S_X2", {})
        lines = [
            f"Calibration: {self.params.n_items} items, {self.n_persons:g} persons; logLik = {self.loglik:.3f}, "
            f"AIC = {self.aic:.3f}, BIC = {self.bic:.3f}",
            f"EM cycles: {self.iterations} ({'converged' if self.converged else 'NOT converged'}, tol {self.tol:g}); "
            f"latent N({self.latent_mean:.3f}, {self.latent_sd:.3f}²); {self._reliability_line()}",
            f"{'item':<14} {'model':<6} {'a':>13} {'b':>24} {'c':>13} {'n':>7} {'S-X2 p':>7}",
        ]
        for j, rec in enumerate(self.params.to_file_form()):
            se = self.se.get(rec["id"], {})
            a = _pm(rec["a"], se.get("a"))
            bs = rec["b"] if isinstance(rec["b"], list) else [rec["b"]]
            bse = se.get("b") if isinstance(se.get("b"), list) else [se.get("b")] * len(bs)
            b = " ".join(_pm(v, s) for v, s in zip(bs, bse))
            c = _pm(rec.get("c", 0.0), se.get("c")) if rec["model"] in ("3PL", "4PL") else ""
            p = f"{sx['p'][j]:.3f}" if sx.get("available") and not self.fixed[j] else ""
            tag = "*" if self.fixed[j] else ""
            lines.append(
                f"{rec['id'] + tag:<14} {rec['model']:<6} {a:>13} {b:>24} {c:>13} {int(self.n_responses[j]):>7} {p:>7}"
            )
        if self.fixed.any():
            lines.append("* fixed (anchor) item")
        if self.excluded_items:
            lines.append("excluded: " + "; ".join(f"{i} ({why})" for i, why in self.excluded_items.items()))
        if self.boundary:
            lines.append("at a bound (SE not defined): " + "; ".join(f"{i} ({w})" for i, w in self.boundary.items()))
        return "\n".join(lines)

    def _reliability_line(self) -> str:
        kind, value = self.reliability
        if kind == "marginal":
            return f"marginal reliability {value:.3f} (every item answered)"
        return (
            f"empirical reliability {value:.3f} (persons' own posteriors; marginal over all items "
            f"{self.marginal_reliability:.3f} assumes every item answered)"
        )

    def __repr__(self) -> str:
        return (
            f"CalibrationResult({self.params.n_items} items, logLik={self.loglik:.3f}, "
            f"iterations={self.iterations}, converged={self.converged})"
        )


def _posteriors(data: Any, log_p: Array, log_prior: Array):
    """Posterior weights chunk by chunk (keeps memory at one chunk)."""
    for design, _ in data.chunks:
        from digicomp.scoring.posterior import normalise_log_posterior

        post = design.log_likelihood(log_p)
        post += log_prior
        yield normalise_log_posterior(post)


def _file_form_se(model: str, eta: Array, cols: list[int], cov: Array, se_int: dict, D: float) -> dict:
    """Delta-method SEs of a, b (b_k), c, d from the covariance of one item's free internal parameters.

    a = a1 / D; b = -d / a1 (1-4PL), b_k = -d_k / a1 (GRM), b_v = -(d_v - d_{v-1}) / a1 (GPCM steps).
    """
    a1 = eta[0]
    m = eta.size
    out: dict[str, Any] = {}
    if 0 in cols:
        out["a"] = float(np.sqrt(cov[cols.index(0), cols.index(0)]) / D)
    if model in DICHOTOMOUS_MODELS:
        grads = np.zeros((1, m))
        grads[0, 0], grads[0, 1] = eta[1] / a1**2, -1.0 / a1
    else:
        d = eta[1:]
        k = int(np.sum(np.isfinite(d)))
        grads = np.zeros((k, m))
        rows = np.arange(k)
        if model == "GRM":
            grads[:, 0] = d[:k] / a1**2
        else:
            step = np.diff(np.concatenate([[0.0], d[:k]]))
            grads[:, 0] = step / a1**2
            grads[rows[1:], rows[1:]] = 1.0 / a1  # ∂b_v/∂d_{v-1}: column v (d_{v-1} is column v of eta)
        grads[rows, rows + 1] = -1.0 / a1
    g = grads[:, cols]
    se_b = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", g, cov, g), 0.0))
    out["b"] = float(se_b[0]) if model in DICHOTOMOUS_MODELS else [float(v) for v in se_b]
    if "g" in se_int:
        out["c"] = se_int["g"]
    if "u" in se_int:
        out["d"] = se_int["u"]
    return out


def _fmt(x: Any) -> str:
    return "" if x is None or not np.isfinite(x) else repr(float(x))


def _pm(value: float, se: float | None) -> str:
    return f"{value:.3f}" if se is None else f"{value:.3f}({se:.3f})"
