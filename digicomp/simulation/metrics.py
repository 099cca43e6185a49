"""Summary statistics of a simulation study, as pure functions of per-person arrays and exposure counts."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

DEFAULT_EDGES = np.array([-np.inf, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, np.inf])
"""Bins of true θ for conditional statistics (half-logit wide, open at both ends)."""


def recovery(theta_true: NDArray, theta: NDArray, se: NDArray) -> dict[str, float]:
    """Bias, RMSE, MAE, correlation, mean SE and empirical reliability of θ̂.

    Empirical reliability = Var(θ̂) / (Var(θ̂) + mean SE²), from each person's own θ̂ and SE of the test they took
    (mirt's ``empirical_rxx``); not the marginal reliability, which integrates the whole bank's information.
    """
    err = theta - theta_true
    var_hat = float(np.var(theta))
    mse = float(np.mean(se**2))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = float(np.corrcoef(theta_true, theta)[0, 1]) if theta.size > 1 else float("nan")
    return {
        "bias": float(np.mean(err)),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "correlation": corr,
        "mean_se": float(np.mean(se)),
        "empirical_reliability": var_hat / (var_hat + mse) if var_hat + mse > 0 else float("nan"),
    }


def lengths(n_items: NDArray, max_items: int) -> dict[str, float]:
    """Mean, SD, min, max test length and the share of tests that ran to ``max_items``."""
    return {
        "mean_length": float(np.mean(n_items)),
        "sd_length": float(np.std(n_items)),
        "min_length": int(np.min(n_items)),
        "max_length": int(np.max(n_items)),
        "share_at_max_items": float(np.mean(n_items >= max_items)),
    }


def exposure(exposed: NDArray[np.int64], n_persons: int, mean_length: float) -> dict[str, float]:
    """Exposure-rate summary, overlap rate and unused items from per-item administration counts.

    The overlap rate is the expected number of items two random persons share, over the mean test length:
    Σ_j n_j(n_j − 1) / (N(N − 1) L̄) (Chen, Ankenmann & Spray 2003, exact for any N). The χ² index is
    Σ_j (r_j − L̄/J)² / (L̄/J) (Chang & Ying 1999).
    """
    counts = exposed.astype(float)
    rates = counts / n_persons
    J = counts.size
    pairs = n_persons * (n_persons - 1)
    expected = mean_length / J
    return {
        "max_exposure": float(rates.max()),
        "mean_exposure": float(rates.mean()),
        "items_over_0.2": int(np.sum(rates > 0.2)),
        "unused_items": int(np.sum(counts == 0)),
        "unused_share": float(np.mean(counts == 0)),
        "overlap_rate": float(np.sum(counts * (counts - 1)) / (pairs * mean_length))
        if pairs and mean_length
        else float("nan"),
        "exposure_chi2": float(np.sum((rates - expected) ** 2) / expected) if expected else float("nan"),
    }


def exposure_limit(r_max: float, n_persons: int, n_items: int, level: float = 0.05) -> float:
    """The largest exposure rate consistent with a true rate of ``r_max`` in N persons: r_max + z·√(r_max(1 − r_max)/N).

    z is the one-sided normal quantile at ``level`` / J (Bonferroni over the J items), so an exposure control that
    holds every item at r_max exceeds this limit somewhere with probability at most ``level``.
    """
    from statistics import NormalDist  # only after a ledger-controlled study; keeps `digicomp simulate` startup lean

    z = NormalDist().inv_cdf(1 - level / max(n_items, 1))
    return r_max + z * math.sqrt(r_max * (1 - r_max) / max(n_persons, 1))


def confusion(true_level: NDArray[np.intp], level: NDArray[np.intp], n_levels: int) -> NDArray[np.int64]:
    """Counts (n_levels, n_levels): rows true level, columns assigned level."""
    return np.bincount(true_level * n_levels + level, minlength=n_levels * n_levels).reshape(n_levels, n_levels)


def classification(true_level: NDArray[np.intp], level: NDArray[np.intp], probabilities: NDArray) -> dict:
    """Accuracy, the accuracy the posterior level probabilities expect, and the confusion matrix.

    ``expected_accuracy`` = mean P(assigned level | answers): for a well-calibrated model and a population
    that matches the prior it equals the observed accuracy up to sampling error (reported as ``accuracy_se``).
    """
    hit = true_level == level
    p_assigned = probabilities[np.arange(level.size), level]
    d = hit - p_assigned
    return {
        "classification_accuracy": float(np.mean(hit)),
        "expected_accuracy": float(np.mean(p_assigned)),
        "accuracy_gap_se": float(np.std(d) / np.sqrt(d.size)),
        "confusion": confusion(true_level, level, probabilities.shape[1]).tolist(),
    }


def conditional(
    theta_true: NDArray,
    theta: NDArray,
    se: NDArray,
    n_items: NDArray,
    hit: NDArray | None,
    edges: NDArray = DEFAULT_EDGES,
) -> list[dict[str, float]]:
    """Per bin of true θ: persons, bias, RMSE, SD of θ̂, mean SE, mean length (and classification accuracy)."""
    edges = np.asarray(edges, dtype=float)
    which = np.searchsorted(edges, theta_true, side="right") - 1
    rows = []
    for b in range(edges.size - 1):  # one pass per bin (a dozen), vectorized over persons
        m = which == b
        n = int(m.sum())
        row = {"low": float(edges[b]), "high": float(edges[b + 1]), "n": n}
        if n:
            err = theta[m] - theta_true[m]
            row.update(
                {
                    "mean_theta": float(np.mean(theta_true[m])),
                    "bias": float(np.mean(err)),
                    "rmse": float(np.sqrt(np.mean(err**2))),
                    "sd_estimate": float(np.std(err)),
                    "mean_se": float(np.mean(se[m])),
                    "mean_length": float(np.mean(n_items[m])),
                }
            )
            if hit is not None:
                row["classification_accuracy"] = float(np.mean(hit[m]))
        rows.append(row)
    return rows


def stop_reasons(reasons: NDArray) -> dict[str, int]:
    """How many tests ended for each reason."""
    names, counts = np.unique(reasons, return_counts=True)
    return {str(k): int(v) for k, v in zip(names, counts)}
