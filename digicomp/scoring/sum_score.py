"""Sum scores: the Lord–Wingersky recursion and the EAP-for-sum-score table of a paper form.

The probability of each total score given θ (Lord & Wingersky 1984; Thissen, Pommerich, Billeaud & Williams 1995
for polytomous items) is built one item at a time: adding item j with category probabilities P_jk(θ) turns the
score distribution f(s | θ) into Σ_k f(s - k | θ) P_jk(θ). With it a paper form gets a scoring table: for every
sum score s, the posterior mean and SD of θ given that score (EAP[θ | s], mirt's ``fscores(method = "EAPsum")``),
and the marginal probability of each score under the prior.

Category k of an item counts k points (dichotomous items 0/1, polytomous 0..K-1), the package's convention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.errors import DigicompError, ParameterError
from digicomp.models import ItemParameters
from digicomp.scoring.quadrature import DEFAULT_RANGE, GridPrior, NormalPrior, Prior

SUM_SCORE_POINTS = 121
"""Quadrature points of the sum-score table: mirt's ``fscores`` default for one factor (121 on [-6, 6])."""


def lord_wingersky(probs: ArrayLike) -> NDArray[np.float64]:
    """P(sum score = s | θ) for every θ: the Lord–Wingersky recursion.

    ``probs``: category probabilities shaped S + (n_items, K) (what :meth:`ItemParameters.prob` returns for θ of
    shape S; an item with fewer than K categories has probability 0 (or NaN) in the categories it lacks).
    Returns S + (max_score + 1,), where max_score = Σ_j (K_j - 1); each row sums to 1 when each item's row does.
    The loop runs over items (the recursion is sequential in them), each step vectorised over θ and scores.
    """
    p = np.nan_to_num(np.asarray(probs, dtype=float), nan=0.0)
    if p.ndim < 2 or p.shape[-1] < 1 or p.shape[-2] < 1:
        raise DigicompError(f"lord_wingersky needs probabilities shaped (..., items, categories), got {p.shape}")
    if np.any(p < 0):
        raise DigicompError("lord_wingersky: category probabilities must be ≥ 0")
    n_items, n_cat = p.shape[-2], p.shape[-1]
    # the top category of each item: the last category with a positive probability anywhere on the grid
    used = p.reshape(-1, n_items, n_cat).max(axis=0) > 0
    top = np.where(used.any(axis=1), n_cat - 1 - np.argmax(used[:, ::-1], axis=1), 0)
    total = int(top.sum())
    batch = p.shape[:-2]
    f = np.zeros(batch + (total + 1,))
    f[..., 0] = 1.0
    reach = 0
    for j in range(n_items):
        kj = int(top[j])
        new = np.zeros_like(f)
        for k in range(kj + 1):
            new[..., k : reach + k + 1] += f[..., : reach + 1] * p[..., j, k, None]
        f = new
        reach += kj
    return f


@dataclass
class SumScoreTable:
    """EAP[θ | sum score] table of a form.

    ``score``: 0..max_score; ``eap`` and ``sd``: posterior mean and SD of θ given the score; ``prob``: the
    model-implied marginal probability of each score under the prior; ``reliability``: var(EAP) / (var(EAP) +
    E[SD²]) over the score distribution ``prob``, the reliability of the sum-score EAP (which equals
    var(EAP) / var(θ) under the model, by the law of total variance); ``points`` and ``likelihood``
    (Q, max_score + 1): the grid and P(s | θ_q) it came from.
    """

    score: NDArray[np.int64]
    eap: NDArray[np.float64]
    sd: NDArray[np.float64]
    prob: NDArray[np.float64]
    reliability: float
    points: NDArray[np.float64]
    likelihood: NDArray[np.float64]

    def as_dict(self) -> dict[str, NDArray[Any]]:
        """The per-score columns as a dict of arrays (score, eap, sd, prob)."""
        return {"score": self.score, "eap": self.eap, "sd": self.sd, "prob": self.prob}

    def to_frame(self) -> Any:
        """The per-score columns as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.as_dict())

    def empirical_reliability(self, counts: ArrayLike) -> float:
        """mirt's ``rxx`` of ``fscores(method = "EAPsum")``: var(EAP) / (var(EAP) + mean(SD²)) over observed persons.

        ``counts``: how many persons obtained each sum score 0..max_score (``numpy.bincount`` of their totals);
        the variance is the sample variance (n - 1), as R's ``var``.
        """
        n = np.asarray(counts, dtype=float)
        if n.shape != self.score.shape or np.any(n < 0) or n.sum() < 2:
            raise DigicompError(f"counts must be {self.score.size} numbers ≥ 0 (persons per sum score), at least 2")
        total = n.sum()
        mean = float(n @ self.eap) / total
        var = float(n @ (self.eap - mean) ** 2) / (total - 1)
        err = float(n @ self.sd**2) / total
        return var / (var + err)

    def lookup(self, sum_scores: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(EAP, SD) for each given sum score; a score outside 0..max_score is a DigicompError."""
        s = np.asarray(sum_scores)
        if s.size and (not np.all(np.equal(np.mod(s, 1), 0)) or s.min() < 0 or s.max() > self.score[-1]):
            raise DigicompError(f"sum scores must be whole numbers in 0..{int(self.score[-1])}")
        idx = s.astype(np.intp)
        return self.eap[idx], self.sd[idx]


def _grid(prior: Prior | None, n_points: int, theta_range: tuple[float, float] | None) -> tuple[NDArray, NDArray]:
    prior = prior or NormalPrior()
    if isinstance(prior, NormalPrior):
        pts, logw = prior.grid(n_points, theta_range or DEFAULT_RANGE)
    elif isinstance(prior, GridPrior):
        pts, logw = prior.grid()
    else:
        raise DigicompError(f"prior must be a NormalPrior or GridPrior, got {type(prior).__name__}")
    return pts, np.exp(logw)


def sum_score_table(
    params: Any,
    *,
    items: ArrayLike | None = None,
    prior: Prior | None = None,
    n_points: int = SUM_SCORE_POINTS,
    theta_range: tuple[float, float] | None = None,
) -> SumScoreTable:
    """The EAP-for-sum-score table (Thissen et al. 1995) of a form.

    ``params``: ItemParameters, anything with a ``params`` attribute holding them (an ItemBank), or any object
    with a ``prob(theta)`` method returning (Q, n_items, K) category probabilities (e.g. a nominal model).
    ``items``: positions (or a boolean mask) of the form's items; default all. The prior is N(0, 1) on
    ``n_points`` (default 121, mirt's fscores for one factor) equally spaced points on [-6, 6] unless given.
    """
    model = params.params if isinstance(getattr(params, "params", None), ItemParameters) else params
    if not callable(getattr(model, "prob", None)):
        raise ParameterError(f"sum_score_table needs item parameters, got {type(params).__name__}")
    if items is not None:
        if not hasattr(model, "subset"):
            raise ParameterError(f"{type(model).__name__} cannot select items; pass the form's items only")
        model = model.subset(items)
    pts, w = _grid(prior, n_points, theta_range)
    like = lord_wingersky(model.prob(pts))  # (Q, S)
    joint = like * w[:, None]
    prob = joint.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        post = joint / prob
    eap = pts @ post
    sd = np.sqrt(np.maximum((pts**2) @ post - eap**2, 0.0))
    ok = prob > 0
    mean = float(prob[ok] @ eap[ok])
    var = float(prob[ok] @ (eap[ok] - mean) ** 2)
    err = float(prob[ok] @ sd[ok] ** 2)
    rel = var / (var + err) if var + err > 0 else float("nan")
    return SumScoreTable(np.arange(prob.size), eap, sd, prob, rel, pts, like)
