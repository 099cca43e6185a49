"""Linking two calibrations through common items: θ_to = A·θ_from + B (Kolen & Brennan 2014, ch. 6).

* mean–sigma (Marco 1977): A = sd(b_to) / sd(b_from), B = mean(b_to) - A·mean(b_from), over every threshold;
* Haebara (1980): minimise Σ_q w_q Σ_j Σ_k (P_jk(θ_q; to) - P*_jk(θ_q; from → to))²;
* Stocking–Lord (1983): minimise Σ_q w_q (T(θ_q; to) - T*(θ_q; from → to))², T the test characteristic curve;
both criteria on 61 points over [-4, 4] weighted by N(0, 1) on the target scale, started from mean–sigma.
The transformation of slope-intercept parameters is exact: a' = a / A and d'_k = d_k - k_j·a·B / A, with
k_j = 1 for 1–4PL and GRM thresholds and k_j = k for GPCM category k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from digicomp.errors import CalibrationError
from digicomp.models import ItemParameters

Array = NDArray[np.float64]
METHODS = ("mean-sigma", "haebara", "stocking-lord")


@dataclass(frozen=True)
class Linking:
    """A linear scale transformation θ_to = A·θ_from + B and how it was found."""

    A: float
    B: float
    method: str
    common: tuple[str, ...]

    def transform(self, params: ItemParameters) -> ItemParameters:
        """Item parameters of the 'from' calibration expressed on the 'to' scale."""
        return transform(params, self.A, self.B)

    def theta(self, theta: Array) -> Array:
        """Abilities from the 'from' scale on the 'to' scale."""
        return self.A * np.asarray(theta, dtype=float) + self.B

    def to_dict(self) -> dict:
        """Plain data for reports."""
        return {"A": self.A, "B": self.B, "method": self.method, "common_items": list(self.common)}


def transform(params: ItemParameters, A: float, B: float) -> ItemParameters:
    """Exact slope-intercept transformation of ``params`` to the scale θ' = A θ + B."""
    if not (np.isfinite(A) and A > 0 and np.isfinite(B)):
        raise CalibrationError(f"linking constants A = {A!r}, B = {B!r}: A must be positive and both finite")
    slope = params.slope / A
    steps = np.arange(1, params.intercepts.shape[1] + 1, dtype=float)
    mult = np.where(np.isin(params.models, ["GPCM", "PCM"])[:, None], steps[None, :], 1.0)
    icpt = params.intercepts - mult * (params.slope * B / A)[:, None]
    models = params.models.tolist()
    if A != 1.0:
        models = ["2PL" if m == "Rasch" else "GPCM" if m == "PCM" else m for m in models]
    return ItemParameters(models, slope, icpt, params.lower, params.upper, D=params.D, ids=params.ids)


def _thresholds(params: ItemParameters) -> Array:
    recs = params.to_file_form()
    out = []
    for r in recs:
        b = r["b"] if isinstance(r["b"], list) else [r["b"]]
        if r["model"] in ("GPCM", "PCM"):
            b = list(np.cumsum(b) / np.arange(1, len(b) + 1))  # mean location of the first k steps
        out.extend(b)
    return np.array(out)


def link(source: ItemParameters, target: ItemParameters, method: str = "stocking-lord") -> Linking:
    """The transformation putting ``source`` (from) on the scale of ``target`` (to), from their common item ids."""
    if method not in METHODS:
        raise CalibrationError(f"linking method {method!r}: expected one of {', '.join(METHODS)}")
    common = [i for i in source.ids if i in set(target.ids)]
    if len(common) < 2:
        raise CalibrationError(f"linking needs at least 2 common items, found {len(common)}")
    pos_s = {i: k for k, i in enumerate(source.ids)}
    pos_t = {i: k for k, i in enumerate(target.ids)}
    src = source.subset([pos_s[i] for i in common])
    tgt = target.subset([pos_t[i] for i in common])
    for i, ms, mt in zip(common, src.models, tgt.models):
        if (ms in ("GRM",)) != (mt in ("GRM",)) or (ms in ("GPCM", "PCM")) != (mt in ("GPCM", "PCM")):
            raise CalibrationError(f"common item {i!r} has model {ms} in one calibration and {mt} in the other")
    bs, bt = _thresholds(src), _thresholds(tgt)
    A0 = float(np.std(bt) / np.std(bs))
    B0 = float(np.mean(bt) - A0 * np.mean(bs))
    if method == "mean-sigma":
        return Linking(A0, B0, method, tuple(common))
    points = np.linspace(-4, 4, 61)
    w = np.exp(-0.5 * points**2)
    w /= w.sum()
    p_t = tgt.prob(points)
    cats = np.arange(p_t.shape[2])

    def loss(x: Array) -> float:
        A = float(np.exp(x[0]))
        p_s = transform(src, A, float(x[1])).prob(points)
        if method == "haebara":
            return float(w @ ((p_t - p_s) ** 2).sum(axis=(1, 2)))
        diff = ((p_t - p_s) @ cats).sum(axis=1)
        return float(w @ diff**2)

    opt = minimize(
        loss, np.array([np.log(A0), B0]), method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-14, "maxiter": 4000}
    )
    if not opt.success:
        raise CalibrationError(f"{method} linking did not converge: {opt.message}")
    return Linking(float(np.exp(opt.x[0])), float(opt.x[1]), method, tuple(common))
