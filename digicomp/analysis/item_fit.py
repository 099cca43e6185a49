"""Item fit and local dependence: Zh, S-X2 and Yen's Q3, on item parameters and responses.

* ``zh``: the standardised log-likelihood of each item's column (Drasgow, Levine & Williams 1985, the item version
  of lz): Zh_j = Σ_p (log P_j(x_pj | θ_p) - E) / sqrt(Σ_p Var), at each person's θ (EAP by default, as mirt's
  ``itemfit(fit_stats = "Zh")``); large negative values mean misfit. Frequency weights count persons.
* ``s_x2``: Orlando & Thissen's S-X2 per item (:func:`digicomp.calibration.fit.s_x2`; pattern tables count persons).
* ``q3``: Yen's (1984) Q3, the correlation between two items' residuals x - E[x | θ] over the persons who answered
  both, at each person's θ (EAP by default, as mirt's ``residuals(type = "Q3")``); pairs above ``q3_flag`` (0.2
  above the mean Q3, Christensen, Makransky & Horton 2017) are flagged as locally dependent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.analysis.tables import Table
from digicomp.errors import DigicompError
from digicomp.models import ItemParameters
from digicomp.responses import Responses

Array = NDArray[np.float64]


def _theta(params: ItemParameters, responses: Responses, theta: Array | None) -> Array:
    if responses.n_items != params.n_items:
        raise DigicompError(f"responses cover {responses.n_items} items, the item parameters {params.n_items}")
    if responses.item_ids is not None and list(responses.item_ids) != list(params.ids):
        raise DigicompError("responses and item parameters list different items (align them by id first)")
    responses.check_categories(params.n_categories)
    if theta is None:
        from digicomp.scoring.api import score

        return score(params, responses, "EAP").theta
    th = np.asarray(theta, dtype=float)
    if th.shape != (responses.n_persons,):
        raise DigicompError(f"theta has shape {th.shape}; expected ({responses.n_persons},), one per person")
    return th


def _observed(params: ItemParameters, responses: Responses, theta: Array) -> tuple[Array, ...]:
    pp, jj, x = responses.person, responses.item, responses.value.astype(np.intp)
    lp = params.derivatives(theta[pp], jj)[0]
    valid = np.arange(lp.shape[1])[None, :] < params.n_categories[jj][:, None]
    P = np.where(valid, np.exp(lp), 0.0)
    lpz = np.where(valid, lp, 0.0)
    w = np.ones(responses.n_persons) if responses.weights is None else np.asarray(responses.weights, float)
    return pp, jj, x, P, lpz, w[pp]


@dataclass
class ItemFit(Table):
    """Per-item Zh (and the persons it is computed over)."""

    item: list[str]
    n: Array
    Zh: Array


def zh(params: ItemParameters, responses: Responses, theta: Array | None = None) -> ItemFit:
    """Zh item-fit statistics at ``theta`` (default: each person's EAP)."""
    th = _theta(params, responses, theta)
    pp, jj, x, P, lpz, w = _observed(params, responses, th)
    J = params.n_items
    l_obs = np.take_along_axis(lpz, x[:, None], axis=1)[:, 0]
    e = (P * lpz).sum(axis=1)
    v = (P * lpz**2).sum(axis=1) - e**2
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.bincount(jj, w * (l_obs - e), J) / np.sqrt(np.bincount(jj, w * v, J))
    return ItemFit(list(params.ids), np.bincount(jj, w, J), z)


@dataclass
class Q3Result:
    """Yen's Q3 matrix (items × items, NaN on the diagonal and where no person answered both items), its mean over
    the pairs, and the flagged pairs (item, item, Q3) with Q3 - mean above ``threshold``."""

    item: list[str]
    Q3: Array
    mean: float
    threshold: float
    flagged: list[tuple[str, str, float]]

    def to_frame(self) -> Any:
        """The matrix as a pandas DataFrame indexed by item."""
        import pandas as pd

        return pd.DataFrame(self.Q3, index=self.item, columns=self.item)


def q3(params: ItemParameters, responses: Responses, theta: Array | None = None, *, threshold: float = 0.2) -> Q3Result:
    """Yen's Q3 for every pair of items; pairs answered together by fewer than 3 persons are NaN."""
    th = _theta(params, responses, theta)
    from scipy import sparse

    pp, jj, x, P, _, w = _observed(params, responses, th)
    n, J = responses.n_persons, params.n_items
    r = x - P @ np.arange(P.shape[1])

    def mat(values: Array) -> Any:
        return sparse.csr_matrix((values, (pp, jj)), shape=(n, J))

    # pairwise-complete weighted correlations, as sums over the persons who answered both items (sparse products:
    # a pilot's persons answer a few of the items)
    seen, wseen = mat(np.ones_like(r)), mat(w)
    n_pair = (wseen.T @ seen).toarray()
    s1 = (mat(w * r).T @ seen).toarray()  # Σ r_j over persons with both
    s2 = (mat(w * r**2).T @ seen).toarray()
    sxy = (mat(w * r).T @ mat(r)).toarray()
    with np.errstate(invalid="ignore", divide="ignore"):
        mx, my = s1 / n_pair, s1.T / n_pair
        cov = sxy / n_pair - mx * my
        vx, vy = s2 / n_pair - mx**2, s2.T / n_pair - my**2
        r = cov / np.sqrt(vx * vy)
    r = np.where(n_pair >= 3, r, np.nan)
    np.fill_diagonal(r, np.nan)
    low = np.tril_indices(J, -1)
    mean = float(np.nanmean(r[low])) if np.any(~np.isnan(r[low])) else float("nan")
    flagged = [
        (params.ids[j], params.ids[k], float(r[j, k]))
        for j, k in zip(*np.triu_indices(J, 1))
        if np.isfinite(r[j, k]) and r[j, k] - mean > threshold
    ]
    return Q3Result(list(params.ids), r, mean, threshold, flagged)


def s_x2(
    params: ItemParameters,
    responses: Responses,
    *,
    latent_mean: float = 0.0,
    latent_sd: float = 1.0,
    n_points: int = 61,
    n_free: NDArray[np.intp] | None = None,
) -> dict[str, Any]:
    """Orlando & Thissen's S-X2 per item on the complete response vectors (frequency weights count persons).

    ``n_free``: free parameters per item, subtracted from the df (default: by model, 2PL 2, 3PL 3, GRM K, ...).
    Returns the dict of :func:`digicomp.calibration.fit.s_x2` (``available``, ``S_X2``, ``df``, ``p``, ...).
    """
    from digicomp.calibration.fit import s_x2 as _sx2

    _theta(params, responses, np.zeros(responses.n_persons))
    z = np.linspace(-6, 6, n_points)
    log_prior = -0.5 * z**2
    log_prior -= np.log(np.exp(log_prior).sum())
    P = params.prob(latent_mean + latent_sd * z)
    if n_free is None:
        per = {"Rasch": 0, "PCM": 0, "1PL": 0, "2PL": 1, "3PL": 2, "4PL": 3, "GRM": 1, "GPCM": 1}
        n_free = np.array([per[m] + int(k) - 1 for m, k in zip(params.models, params.n_categories)], dtype=np.intp)
    return _sx2(responses, P, params.n_categories, log_prior, n_free)
