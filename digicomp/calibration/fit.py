"""Item fit and reliability after calibration: S-X2, infit/outfit, marginal reliability.

* S-X2 (Orlando & Thissen 2000, 2003): observed vs expected category proportions per summed score, expected
  values from the Lord–Wingersky (1984) recursion without the item; extreme scores dropped, adjacent score
  groups merged until every expected count is ≥ 1; df = groups × (K - 1) - free parameters. Needs complete
  response vectors: computed on the persons who answered every calibrated item (CAT logs have none, and the
  statistic is then reported as not available, with the reason).
* Infit/outfit mean squares (Wright & Masters 1982) for Rasch/PCM items, at each person's EAP.
* Marginal reliability as mirt's ``marginal_rxx``: ∫ I(θ) / (I(θ) + σ²) g(θ) dθ over the calibrated items, the
  prior-weighted mean of the conditional reliability (for σ² = 1, the reference scale, I / (I + 1/σ²) is the same
  thing); the reliability of a test of every item. (Before issue 13 this was σ² / (σ² + ∫ I⁻¹ g), Green et al.'s
  form, which differs from mirt's and is dominated by the tails where I is small.) For data where persons answered
  different items (adaptive tests, booklets) the result also reports empirical reliability from each person's own
  posterior (:func:`digicomp.scoring.posterior.empirical_reliability`) and shows that one.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from digicomp.responses import Responses

Array = NDArray[np.float64]
MIN_EXPECTED = 1.0
MAX_SX2_ITEMS = 200


def summed_score_distribution(P: Array, K: NDArray[np.intp]) -> Array:
    """Lord–Wingersky: P(total score = s | θ_q) for items' category probabilities P (Q, J, Kmax) → (S+1, Q)."""
    Q = P.shape[0]
    dist = np.ones((1, Q))
    for j in range(P.shape[1]):
        k = int(K[j])
        new = np.zeros((dist.shape[0] + k - 1, Q))
        for c in range(k):
            new[c : c + dist.shape[0]] += dist * P[:, j, c]
        dist = new
    return dist


def s_x2(resp: Responses, P: Array, K: NDArray[np.intp], log_prior: Array, n_free: NDArray[np.intp]) -> dict:
    """S-X2, df and p per item on the complete response vectors; a dict with ``available`` and a reason if not."""
    J = resp.n_items
    if J > MAX_SX2_ITEMS:
        return {"available": False, "reason": f"S-X2 is computed for at most {MAX_SX2_ITEMS} items"}
    n_obs = resp.counts_per_person()
    complete = n_obs == J
    # a pattern table with frequency weights counts its persons, not its rows
    n_complete = float(complete.sum()) if resp.weights is None else float(resp.weights[complete].sum())
    if n_complete < 2 * J:
        return {
            "available": False,
            "reason": "S-X2 needs complete response vectors; too few persons answered every item",
        }
    data = resp.dense()[complete]
    freq = np.ones(data.shape[0]) if resp.weights is None else resp.weights[complete]
    total = data.sum(axis=1)
    smax = int((K - 1).sum())
    w = np.exp(log_prior)
    full = summed_score_distribution(P, K) @ w  # (S+1,)
    stat, df, p = np.zeros(J), np.zeros(J, dtype=int), np.zeros(J)
    for j in range(J):
        k = int(K[j])
        rest = summed_score_distribution(np.delete(P, j, axis=1), np.delete(K, j))
        expected = np.zeros((smax + 1, k))
        for c in range(k):
            expected[c : c + rest.shape[0], c] = (rest * P[:, j, c]) @ w
        expected /= np.maximum(full, 1e-300)[:, None]
        n_s = np.bincount(total, weights=freq, minlength=smax + 1)
        observed = np.zeros((smax + 1, k))
        np.add.at(observed, (total, data[:, j]), freq)
        groups = _merge(n_s[1:-1], expected[1:-1] * n_s[1:-1, None], observed[1:-1])
        e_cnt, o_cnt = groups
        stat[j] = float(np.sum((o_cnt - e_cnt) ** 2 / e_cnt))
        df[j] = int(e_cnt.shape[0] * (k - 1) - n_free[j])
        p[j] = float(chi2.sf(stat[j], df[j])) if df[j] > 0 else 1.0
    return {"available": True, "S_X2": stat, "df": df, "p": p, "n_complete": int(round(n_complete))}


def _merge(n_s: Array, expected: Array, observed: Array) -> tuple[Array, Array]:
    """Merge adjacent score groups (low to high; the remainder joins the last group) until E ≥ 1 in every cell."""
    keep = n_s > 0
    expected, observed = expected[keep], observed[keep]
    out_e, out_o = [], []
    acc_e, acc_o = np.zeros(expected.shape[1]), np.zeros(expected.shape[1])
    for e, o in zip(expected, observed):
        acc_e, acc_o = acc_e + e, acc_o + o
        if np.all(acc_e >= MIN_EXPECTED):
            out_e.append(acc_e)
            out_o.append(acc_o)
            acc_e, acc_o = np.zeros_like(acc_e), np.zeros_like(acc_o)
    if acc_e.sum() > 0:
        if out_e:
            out_e[-1] = out_e[-1] + acc_e
            out_o[-1] = out_o[-1] + acc_o
        else:
            out_e, out_o = [acc_e], [acc_o]
    return np.array(out_e), np.array(out_o)


def infit_outfit(resp: Responses, P: Array, items: NDArray[np.intp], points: Array, eap: Array) -> tuple[Array, Array]:
    """Infit and outfit mean squares of ``items`` at each person's EAP (responses' own observations)."""
    # probabilities at each person's EAP by linear interpolation on the grid
    Kmax = P.shape[2]
    cats = np.arange(Kmax)
    pos = np.clip(np.interp(eap, points, np.arange(points.size)), 0, points.size - 1)
    lo = np.floor(pos).astype(int).clip(max=points.size - 2)
    frac = (pos - lo)[:, None]
    sel = np.isin(resp.item, items)
    p_idx, i_idx, x = resp.person[sel], resp.item[sel], resp.value[sel]
    probs = (1 - frac[p_idx]) * P[lo[p_idx], i_idx] + frac[p_idx] * P[lo[p_idx] + 1, i_idx]
    mean = probs @ cats
    var = probs @ cats**2 - mean**2
    w = np.ones(resp.n_persons) if resp.weights is None else resp.weights
    fw = w[p_idx]
    sq = (x - mean) ** 2
    J = resp.n_items
    outfit = np.bincount(i_idx, fw * sq / np.maximum(var, 1e-12), J) / np.maximum(np.bincount(i_idx, fw, J), 1e-300)
    infit = np.bincount(i_idx, fw * sq, J) / np.maximum(np.bincount(i_idx, fw * var, J), 1e-300)
    return infit[items], outfit[items]


def marginal_reliability(information: Array, log_prior: Array, sd: float) -> float:
    """mirt's ``marginal_rxx``: Σ_q w_q I(θ_q) / (I(θ_q) + σ²) for test information I on the grid (Q,) and prior
    weights w (mirt integrates the same function against the normal density with ``integrate``)."""
    w = np.exp(log_prior)
    w = w / w.sum()
    return float(w @ (information / (information + sd**2)))
