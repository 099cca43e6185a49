"""Multidimensional scores as reported: per dimension and overall θ, SE and level probabilities from the joint
posterior, by the method asked (:mod:`digicomp.scoring.multidim` holds the estimators; this module picks one per
call and turns its posterior into :class:`MultidimScore`). Arrays in, arrays out, as there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.errors import DigicompError
from digicomp.scoring.multidim import (
    MAX_TENSOR_DIMS,
    QMC_POINTS,
    LatentNormal,
    MultidimItems,
    eap_bifactor,
    eap_qmc,
    eap_tensor,
    latent,
    map_estimate,
    padded,
)

if TYPE_CHECKING:
    from digicomp.responses import Responses


@dataclass
class MultidimScore:
    """Per person and dimension θ (P, K), SE (P, K) and covariance (P, K, K); the overall composite's θ and SE;
    level probabilities per dimension (P, K, L) and overall (P, L) when cut scores were given."""

    dims: list[str]
    theta: NDArray[np.float64]
    se: NDArray[np.float64]
    cov: NDArray[np.float64]
    overall: NDArray[np.float64]
    overall_se: NDArray[np.float64]
    method: str
    level_probabilities: NDArray[np.float64] | None = None
    overall_level_probabilities: NDArray[np.float64] | None = None
    ess: NDArray[np.float64] | None = None
    person_ids: list[str] | None = None

    def __len__(self) -> int:
        return self.theta.shape[0]

    def to_csv(self, path: Any) -> None:
        """Write ``person, theta_<dim>, se_<dim> ..., theta_overall, se_overall`` to a path or open file."""
        import csv
        from pathlib import Path

        def write(fh: Any) -> None:
            w = csv.writer(fh)
            w.writerow(
                ["person"] + [f"{k}_{d}" for d in self.dims for k in ("theta", "se")] + ["theta_overall", "se_overall"]
            )
            ids = self.person_ids or [str(p + 1) for p in range(len(self))]
            for p, pid in enumerate(ids):
                cells = [v for k in range(len(self.dims)) for v in (self.theta[p, k], self.se[p, k])]
                w.writerow([pid] + [f"{v:.6f}" for v in cells + [self.overall[p], self.overall_se[p]]])

        if hasattr(path, "write"):
            write(path)
        else:
            with Path(path).open("w", newline="", encoding="utf-8") as fh:
                write(fh)

    def levels(self, cuts: ArrayLike) -> NDArray[np.intp]:
        """Reported level index per person and dimension (P, K): the level holding θ̂."""
        return np.searchsorted(np.asarray(cuts, dtype=float), self.theta, side="right")


def score_answers(
    items: MultidimItems,
    seq: NDArray[np.intp],
    resp: NDArray[np.int64],
    prior: LatentNormal,
    dims: list[str],
    weights: NDArray[np.float64],
    cuts: ArrayLike | None = None,
    method: str = "EAP",
    *,
    responses: Responses | None = None,
    n_points: int | None = None,
    seed: int = 0,
    mode: tuple[NDArray, NDArray] | None = None,
    general: int | None = None,
) -> MultidimScore:
    """Score padded answers (P, L) by ``method``: EAP (tensor ≤ 3 dimensions; above, the bifactor reduction when
    ``general`` names the general factor of uncorrelated dimensions, else QMC) or MAP.

    ``weights`` (K,) define the overall composite; ``cuts`` (the bank's cut scores) give level probabilities per
    dimension and overall. ``responses`` (the same answers as Responses) lets tensor EAP use the sparse kernel.
    """
    method = method.upper()
    cuts_arr = None if cuts is None else np.asarray(cuts, dtype=float)
    w = np.asarray(weights, dtype=float)
    ess = None
    if method == "MAP":
        theta, cov, _ = map_estimate(items, seq, resp, prior) if mode is None else (*mode, None)
        se = np.sqrt(np.einsum("pkk->pk", cov))
        overall = theta @ w
        overall_se = np.sqrt(np.einsum("k,pkm,m->p", w, cov, w))
        lp = olp = None
        if cuts_arr is not None:
            from scipy.special import ndtr

            edges = np.concatenate([[-np.inf], cuts_arr, [np.inf]])
            cdf = ndtr((edges[None, None, :] - theta[..., None]) / se[..., None])
            lp = np.diff(cdf, axis=-1)
            olp = np.diff(ndtr((edges[None, :] - overall[:, None]) / overall_se[:, None]), axis=-1)
        return MultidimScore(dims, theta, se, cov, overall, overall_se, "MAP", lp, olp)
    if method != "EAP":
        raise DigicompError(f"multidimensional scoring method {method!r}; expected EAP or MAP")
    if general is not None and items.n_dims > MAX_TENSOR_DIMS and np.allclose(prior.cov, np.eye(items.n_dims)):
        if responses is None:
            responses = _as_responses(seq, resp, items.n_items)
        bif = eap_bifactor(items, responses, prior, general, cuts_arr, n_points)
        se = np.sqrt(np.maximum(np.einsum("pkk->pk", bif.cov), 0.0))
        overall = bif.mean @ w
        overall_se = np.sqrt(np.maximum(np.einsum("k,pkm,m->p", w, bif.cov, w), 0.0))
        olp = None
        if cuts_arr is not None:
            one = np.flatnonzero(w)
            if one.size == 1 and w[one[0]] == 1.0:  # the overall is one dimension (the general factor)
                olp = bif.level_probabilities[:, one[0]]
            else:  # a weighted composite: normal with the exact posterior mean and SD
                from scipy.special import ndtr

                edges = np.concatenate([[-np.inf], cuts_arr, [np.inf]])
                olp = np.diff(ndtr((edges[None, :] - overall[:, None]) / overall_se[:, None]), axis=-1)
        return MultidimScore(dims, bif.mean, se, bif.cov, overall, overall_se, "EAP", bif.level_probabilities, olp)
    if items.n_dims <= MAX_TENSOR_DIMS:
        if responses is None:
            responses = _as_responses(seq, resp, items.n_items)
        post = eap_tensor(items, responses, prior, n_points)
    else:
        post, ess = eap_qmc(items, seq, resp, prior, n_points or QMC_POINTS, seed, mode=mode)
    theta, cov = post.moments()
    se = np.sqrt(np.maximum(np.einsum("pkk->pk", cov), 0.0))
    lp = olp = None
    c = cuts_arr if cuts_arr is not None else np.zeros(0)
    overall, overall_se, olp_all = post.composite(w, c)
    if cuts_arr is not None:
        lp = post.level_probabilities(cuts_arr)
        olp = olp_all
    return MultidimScore(dims, theta, se, cov, overall, overall_se, "EAP", lp, olp, ess)


def _as_responses(seq: NDArray[np.intp], resp: NDArray[np.int64], n_items: int) -> Responses:
    from digicomp.responses import Responses

    person, pos = np.nonzero(seq >= 0)
    return Responses(person, seq[person, pos], resp[person, pos], seq.shape[0], n_items)


def score_bank(
    bank: Any,
    responses: Any,
    method: str = "EAP",
    *,
    n_points: int | None = None,
    seed: int = 0,
) -> MultidimScore:
    """Score response data with a multidimensional bank (``bank.mparams``, ``bank.dims``, ``bank.cut_scores``):
    θ and SE per dimension, the overall composite and the level probabilities of each."""
    from digicomp.scoring.api import as_responses

    method = method.upper()
    if method not in ("EAP", "MAP"):
        raise DigicompError(f"a multidimensional bank is scored by EAP or MAP, not {method!r}")
    resp = as_responses(responses, bank.params)
    seq, values = padded(resp)
    dims = bank.dims
    cuts = bank.cut_scores if bank.cut_scores.size else None
    prior = latent(dims.mean, dims.covariance)
    out = score_answers(
        bank.mparams,
        seq,
        values,
        prior,
        dims.ids,
        dims.weights,
        cuts,
        method,
        responses=resp,
        n_points=n_points,
        seed=seed,
        general=dims.general,
    )
    out.person_ids = resp.person_ids
    return out
