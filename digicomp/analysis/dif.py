"""Differential item functioning of dichotomous items: Mantel–Haenszel, logistic regression, multiple testing.

* Mantel–Haenszel (Mantel & Haenszel 1959; Holland & Thayer 1988): per item, the 2×2 tables (group × right/wrong)
  of every stratum of the matching variable give the common odds ratio α_MH (reference odds over focal odds), its
  log's variance (Robins, Breslow & Greenland 1986; the same number as Phillips & Holland's 1987 estimator that
  difR prints as ``varLambda``), the continuity-corrected MH χ² (|Σ A - Σ E(A)| - ½)² / Σ Var(A) (as difR's
  ``difMH`` with ``correct = TRUE``) and the ETS delta Δ_MH = -2.35 ln α_MH (negative: the item is harder for the
  focal group). On difR's ``verbal`` data these agree with difR's recorded output to its 4 printed decimals
  (tests/analysis/test_dif_difr.py).
* ETS classes (Zwick 2012, after Holland & Thayer): A when Δ is not significant at .05 or |Δ| < 1; C when
  |Δ| ≥ 1.5 and |Δ| is significantly above 1 (one-sided .05); B otherwise. ``ets_delta_class`` is difR's
  size-only rule (|Δ| < 1, < 1.5, ≥ 1.5).
* Logistic regression (Swaminathan & Rogers 1990): nested models logit P = β0 + β1 S (M0), + β2 G (M1),
  + β3 S·G (M2); likelihood-ratio tests of uniform (M1 vs M0), non-uniform (M2 vs M1) and any DIF (M2 vs M0, 2 df);
  effect size ΔR² of Nagelkerke's R² between M2 and M0, classified by Zumbo & Thomas (1997: < .13 negligible,
  < .26 moderate, else large) and Jodoin & Gierl (2001: < .035, < .070, else), each only when the 2-df test is
  significant.
* Benjamini–Hochberg (1995) adjusted p-values over the items tested.

All items are fitted at once: the per-item sums are bincounts over the observed responses, no loop over items or
persons. Inputs are arrays (persons × items, NaN or -1 missing) and one group flag per person; the matching
variable is the total score (complete data), a stratum per person (e.g. form × score for booklet designs), or a
continuous ability estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.analysis.tables import Table
from digicomp.errors import DigicompError

Array = NDArray[np.float64]
ETS_SCALE = -2.35
Z_95_ONE_SIDED = 1.6448536269514722


class DIFError(DigicompError, ValueError):
    """DIF input that cannot be analysed: group flags, matching variable or responses that do not fit."""


# --------------------------------------------------------------------------------------------------- inputs
def observations(responses: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.int64], int, int]:
    """(person, item, value, n_persons, n_items) of the observed responses of an array (NaN or < 0 missing) or of a
    :class:`~digicomp.responses.Responses`."""
    if hasattr(responses, "person") and hasattr(responses, "n_items"):
        r = responses
        return r.person, r.item, r.value.astype(np.int64), r.n_persons, r.n_items  # type: ignore[union-attr]
    x = np.asarray(responses, dtype=float)
    if x.ndim != 2:
        raise DIFError(f"responses must be a 2-D array (persons × items), got shape {x.shape}")
    seen = np.isfinite(x) & (x >= 0)
    person, item = np.nonzero(seen)
    value = x[person, item]
    if np.any(value != np.round(value)):
        k = int(np.flatnonzero(value != np.round(value))[0])
        raise DIFError(f"person row {person[k] + 1}, item column {item[k] + 1}: response {value[k]!r} is not 0 or 1")
    return person, item, value.astype(np.int64), x.shape[0], x.shape[1]


def _focal_flags(focal: ArrayLike, n_persons: int) -> NDArray[np.bool_]:
    f = np.asarray(focal)
    if f.shape != (n_persons,):
        raise DIFError(f"focal: {f.size} group flags for {n_persons} persons (one per person)")
    if f.dtype != bool:
        uniq = np.unique(f)
        if not np.all(np.isin(uniq, [0, 1])):
            raise DIFError(f"focal: flags must be 0/1 or booleans, got values {uniq[:5].tolist()}")
        f = f.astype(bool)
    if f.all() or not f.any():
        raise DIFError("focal: both the reference (0) and the focal (1) group need persons")
    return f


def _check_dichotomous(value: NDArray[np.int64], item: NDArray[np.intp], n_items: int) -> NDArray[np.bool_]:
    """Items with a response above 1 (polytomous): not analysed by MH / logistic DIF here."""
    poly = np.zeros(n_items, dtype=bool)
    poly[np.unique(item[value > 1])] = True
    return poly


def total_score_strata(responses: ArrayLike, items: NDArray[np.bool_] | None = None) -> NDArray[np.intp]:
    """Matching strata for complete (or booklet) data: each person's administered-item pattern × number right.

    On complete data this is the total score (Holland & Thayer's matching variable). On booklet designs it is the
    score within each form (the set of items a person was given), the exact MH matching of a form; persons who took
    unique item sets each form a stratum of one and carry no information (use ability strata instead).
    ``items``: the items that count in the score (purification), default all.
    """
    person, item, value, n, J = observations(responses)
    use = np.ones(J, dtype=bool) if items is None else np.asarray(items, dtype=bool)
    sel = use[item]
    score = np.bincount(person[sel], weights=value[sel], minlength=n).astype(np.int64)
    # the form: a hash of the administered items (all of them, whether scored or not)
    h = np.random.default_rng(0).integers(1, 2**61, J, dtype=np.int64)
    form = np.zeros(n, dtype=np.int64)
    np.add.at(form, person, h[item])
    key = form * 4099 + score
    return np.unique(key, return_inverse=True)[1].astype(np.intp)


def ability_strata(theta: ArrayLike, width: float = 0.1) -> NDArray[np.intp]:
    """Strata of an ability estimate in bins of ``width`` logits (for designs without a common score)."""
    t = np.asarray(theta, dtype=float)
    if not np.all(np.isfinite(t)):
        raise DIFError("ability strata: every person needs a finite ability estimate")
    return np.unique(np.floor(t / width).astype(np.int64), return_inverse=True)[1].astype(np.intp)


# --------------------------------------------------------------------------------------------------- MH
@dataclass
class MHTable(Table):
    """Mantel–Haenszel DIF per item (reference vs focal group)."""

    item: list[str]
    n_reference: Array
    n_focal: Array
    alpha_mh: Array
    log_alpha_se: Array
    chi2: Array
    p: Array
    delta: Array
    delta_se: Array
    ets_class: list[str]
    ets_delta_class: list[str]
    q: Array
    flagged: NDArray[np.bool_]
    excluded: dict[str, str] = field(default_factory=dict)
    anchors: list[str] = field(default_factory=list)
    iterations: int = 1


def mantel_haenszel(
    responses: ArrayLike,
    focal: ArrayLike,
    strata: ArrayLike | None = None,
    *,
    item_ids: list[str] | None = None,
    correct: bool = True,
    alpha: float = 0.05,
    purify: bool = False,
    max_rounds: int = 10,
    adjust: str = "BH",
) -> MHTable:
    """Mantel–Haenszel DIF of every dichotomous item.

    ``focal``: True / 1 for the focal group's persons. ``strata``: one integer stratum per person; default the
    total score within each form (:func:`total_score_strata`), which includes the studied item (Holland & Thayer
    1988). ``purify`` (only with the default strata): recompute the score without the items flagged (see ``adjust``),
    keeping the studied item, until the flagged set repeats (Holland & Thayer's two-step, iterated as difR does);
    ``max_rounds`` counts every run, the first included (difR's ``nrIter`` + 1). ``adjust``: "BH" (default) flags
    items by the Benjamini–Hochberg q, also inside purification (difR's ``p.adjust.method = "BH"`` with
    ``puriadjType = "combined"``); "none" flags by the raw p (difR's default, and its ``puriadjType = "simple"``,
    whose adjusted p-values are the ``q`` column). Items with responses above 1, or with nobody right or wrong in
    either group, are listed in ``excluded``.
    """
    person, item, value, n, J = observations(responses)
    f = _focal_flags(focal, n)
    ids = item_ids or [f"item{j + 1}" for j in range(J)]
    poly = _check_dichotomous(value, item, J)
    if strata is not None and purify:
        raise DIFError("purify needs the default (score) strata; with given strata the matching is fixed")
    if adjust not in ("BH", "none"):
        raise DIFError(f"adjust must be 'BH' or 'none', got {adjust!r}")
    anchors = ~poly
    rounds = 0
    while True:
        rounds += 1
        if strata is None and purify:
            # each studied item counts in its own score even when it is not an anchor
            s_plus = _strata_with_item(responses, anchors, person, item, value, n, J)
            out = _mh_core(person, item, value, f, None, J, correct, s_plus)
        else:
            s = total_score_strata(responses, anchors) if strata is None else np.asarray(strata)
            if s.shape != (n,):
                raise DIFError(f"strata: {s.size} values for {n} persons (one per person)")
            out = _mh_core(person, item, value, f, s.astype(np.intp), J, correct)
        table = _mh_table(out, ids, poly, alpha, adjust)
        if not purify:
            break
        new_anchors = ~poly & ~table.flagged
        if np.array_equal(new_anchors, anchors) or rounds >= max_rounds:
            break
        anchors = new_anchors
    table.anchors = [ids[j] for j in np.flatnonzero(anchors)]
    table.iterations = rounds
    return table


def _strata_with_item(
    responses: ArrayLike, anchors: NDArray[np.bool_], person, item, value, n: int, J: int
) -> NDArray[np.intp]:
    """Per observation: the stratum of (form, anchor score + the studied item's score when it is no anchor)."""
    sel = anchors[item]
    score = np.bincount(person[sel], weights=value[sel], minlength=n).astype(np.int64)
    h = np.random.default_rng(0).integers(1, 2**61, J, dtype=np.int64)
    form = np.zeros(n, dtype=np.int64)
    np.add.at(form, person, h[item])
    obs_score = score[person] + np.where(anchors[item], 0, value)
    key = form[person] * 4099 + obs_score
    return np.unique(key, return_inverse=True)[1].astype(np.intp)


def _mh_core(person, item, value, f, strata, J: int, correct: bool, obs_strata=None) -> dict[str, Array]:
    """Per-item MH sums from per-observation cells (item, stratum): α_MH, RBG variance, χ²."""
    s_obs = strata[person] if obs_strata is None else obs_strata
    S = int(s_obs.max()) + 1 if s_obs.size else 1
    cell = item.astype(np.int64) * S + s_obs
    size = J * S
    focal_obs = f[person]
    right = value == 1

    def count(mask: NDArray[np.bool_]) -> Array:
        return np.bincount(cell[mask], minlength=size).astype(float)

    A = count(~focal_obs & right)  # reference right
    B = count(~focal_obs & ~right)  # reference wrong
    C = count(focal_obs & right)  # focal right
    D = count(focal_obs & ~right)  # focal wrong
    T = A + B + C + D
    nR, nF, m1, m0 = A + B, C + D, A + C, B + D
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_t = np.where(T > 0, 1.0 / T, 0.0)
        R, Sx = A * D * inv_t, B * C * inv_t
        P, Qx = (A + D) * inv_t, (B + C) * inv_t
        expected = nR * m1 * inv_t
        var_a = np.where(T > 1, nR * nF * m1 * m0 / (T**2 * (T - 1)), 0.0)

    def per_item(x: Array) -> Array:
        return x.reshape(J, S).sum(axis=1)

    Rs, Ss = per_item(R), per_item(Sx)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = Rs / Ss
        var_log = (
            per_item(P * R) / (2 * Rs**2) + per_item(P * Sx + Qx * R) / (2 * Rs * Ss) + per_item(Qx * Sx) / (2 * Ss**2)
        )
        dev = np.abs(per_item(A) - per_item(expected))
        if correct:
            # Holland & Thayer's (|Σ A - Σ E(A)| - ½)² as written, also when the deviation is below ½ (difR's difMH
            # does the same; R's mantelhaen.test drops the correction there instead)
            dev = dev - 0.5
        chi2 = dev**2 / per_item(var_a)
    return {
        "alpha": alpha,
        "var_log": var_log,
        "chi2": chi2,
        "n_ref": np.bincount(item[~focal_obs], minlength=J).astype(float),
        "n_focal": np.bincount(item[focal_obs], minlength=J).astype(float),
        "right_ref": np.bincount(item[~focal_obs & right], minlength=J).astype(float),
        "right_focal": np.bincount(item[focal_obs & right], minlength=J).astype(float),
    }


def _mh_table(
    out: dict[str, Array], ids: list[str], poly: NDArray[np.bool_], alpha: float, adjust: str = "BH"
) -> MHTable:
    from digicomp.analysis.probability import chi2_sf

    J = len(ids)
    excluded: dict[str, str] = {}
    for j in range(J):
        if poly[j]:
            excluded[ids[j]] = "polytomous (responses above 1): Mantel–Haenszel DIF here is for 0/1 items"
        elif out["n_ref"][j] == 0 or out["n_focal"][j] == 0:
            excluded[ids[j]] = "answered by only one of the two groups"
        elif not np.isfinite(out["alpha"][j]) or out["alpha"][j] <= 0 or not np.isfinite(out["chi2"][j]):
            excluded[ids[j]] = "no stratum with both groups and both outcomes (odds ratio undefined)"
    bad = np.array([i in excluded for i in ids], dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(bad, np.nan, out["alpha"])
        log_se = np.where(bad, np.nan, np.sqrt(out["var_log"]))
        chi2 = np.where(bad, np.nan, out["chi2"])
        delta = ETS_SCALE * np.log(a)
    p = np.where(bad, np.nan, chi2_sf(chi2, 1))
    delta_se = 2.35 * log_se
    q = benjamini_hochberg(p)
    ets = ets_classes(delta, delta_se, p)
    size_only = np.where(np.abs(delta) < 1.0, "A", np.where(np.abs(delta) < 1.5, "B", "C"))
    return MHTable(
        item=list(ids),
        n_reference=out["n_ref"],
        n_focal=out["n_focal"],
        alpha_mh=a,
        log_alpha_se=log_se,
        chi2=chi2,
        p=p,
        delta=delta,
        delta_se=delta_se,
        ets_class=["" if bad[j] else ets[j] for j in range(J)],
        ets_delta_class=["" if bad[j] else str(size_only[j]) for j in range(J)],
        q=q,
        flagged=np.nan_to_num(q if adjust == "BH" else p, nan=1.0) < alpha,
        excluded=excluded,
    )


def ets_classes(delta: ArrayLike, delta_se: ArrayLike, p: ArrayLike, level: float = 0.05) -> list[str]:
    """ETS A/B/C by Zwick's rules: A if p ≥ level or |Δ| < 1; C if |Δ| ≥ 1.5 and (|Δ| - 1)/SE > z_.95; else B."""
    d, se, pv = (np.asarray(x, dtype=float) for x in (delta, delta_se, p))
    absd = np.abs(d)
    with np.errstate(invalid="ignore", divide="ignore"):
        above_one = (absd - 1.0) / se > Z_95_ONE_SIDED
    is_a = ~(pv < level) | (absd < 1.0)
    is_c = ~is_a & (absd >= 1.5) & above_one
    return ["" if not np.isfinite(x) else ("A" if a_ else "C" if c_ else "B") for x, a_, c_ in zip(d, is_a, is_c)]


# --------------------------------------------------------------------------------------------------- multiple tests
def benjamini_hochberg(p: ArrayLike) -> Array:
    """BH-adjusted p-values (q) of the finite entries of ``p`` (NaN stay NaN): reject at FDR α where q < α."""
    pv = np.asarray(p, dtype=float)
    q = np.full(pv.shape, np.nan)
    ok = np.isfinite(pv)
    m = int(ok.sum())
    if m == 0:
        return q
    x = pv[ok]
    order = np.argsort(x)
    ranked = x[order] * m / np.arange(1, m + 1)
    adj = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adj
    q[ok] = out
    return q


# --------------------------------------------------------------------------------------------------- logistic
@dataclass
class LogisticTable(Table):
    """Logistic-regression DIF per item."""

    item: list[str]
    n: Array
    chi2_uniform: Array
    p_uniform: Array
    chi2_nonuniform: Array
    p_nonuniform: Array
    chi2_dif: Array
    p_dif: Array
    delta_r2: Array
    zumbo_thomas: list[str]
    jodoin_gierl: list[str]
    q: Array
    flagged: NDArray[np.bool_]
    beta_group: Array
    beta_interaction: Array
    excluded: dict[str, str] = field(default_factory=dict)


def logistic_dif(
    responses: ArrayLike,
    focal: ArrayLike,
    matching: ArrayLike | None = None,
    *,
    item_ids: list[str] | None = None,
    alpha: float = 0.05,
    max_iter: int = 50,
) -> LogisticTable:
    """Logistic-regression DIF (Swaminathan & Rogers 1990) of every dichotomous item, all items fitted at once.

    ``matching``: one value per person (an ability estimate, or a score); default the total score (complete data).
    The matching variable is standardised; fits are Newton–Raphson on every item together (per-item sums by
    bincount). Flags: BH q of the 2-df test < ``alpha``; classes A/B/C only for flagged items (A otherwise).
    """
    from digicomp.analysis.probability import chi2_sf

    person, item, value, n, J = observations(responses)
    f = _focal_flags(focal, n)
    ids = item_ids or [f"item{j + 1}" for j in range(J)]
    poly = _check_dichotomous(value, item, J)
    if matching is None:
        matching = np.bincount(person, weights=value, minlength=n)
    m = np.asarray(matching, dtype=float)
    if m.shape != (n,) or not np.all(np.isfinite(m)):
        raise DIFError(f"matching: need one finite value per person ({n}), got shape {m.shape}")
    sd = m.std()
    z = (m - m.mean()) / (sd if sd > 0 else 1.0)
    use = ~poly[item]
    o_item, y = item[use], value[use].astype(float)
    s, gi = z[person[use]], f[person[use]].astype(np.intp)
    g = gi.astype(float)
    n_obs = np.bincount(o_item, minlength=J).astype(float)
    ll = {}
    beta = np.zeros((J, 0))
    for k in range(4):  # nested models, each started from the previous one's estimates
        start = np.column_stack([beta, np.zeros(J)])
        ll[k], beta = _batched_logit(s, gi, y, o_item, J, k + 1, max_iter, start)
    beta2 = beta
    excluded: dict[str, str] = {}
    n_focal = np.bincount(o_item, weights=g, minlength=J)
    n_right = np.bincount(o_item, weights=y, minlength=J)
    for j in range(J):
        if poly[j]:
            excluded[ids[j]] = "polytomous (responses above 1): logistic DIF here is for 0/1 items"
        elif n_obs[j] == 0 or n_focal[j] in (0, n_obs[j]):
            excluded[ids[j]] = "answered by only one of the two groups"
        elif n_right[j] in (0, n_obs[j]):
            excluded[ids[j]] = "everyone right (or everyone wrong): no regression to fit"
    bad = np.array([i in excluded for i in ids], dtype=bool)
    null, m0, m1, m2 = ll[0], ll[1], ll[2], ll[3]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        u = np.maximum(2 * (m1 - m0), 0.0)
        nu = np.maximum(2 * (m2 - m1), 0.0)
        both = np.maximum(2 * (m2 - m0), 0.0)
        nn = np.maximum(n_obs, 1.0)

        def nagelkerke(lm: Array) -> Array:
            cs = 1.0 - np.exp(2 * (null - lm) / nn)
            return cs / (1.0 - np.exp(2 * null / nn))

        dr2 = nagelkerke(m2) - nagelkerke(m0)
    nan = np.where(bad, np.nan, 1.0)
    p_dif = chi2_sf(both, 2) * nan
    q = benjamini_hochberg(p_dif)
    flagged = np.nan_to_num(q, nan=1.0) < alpha
    zt = np.where(dr2 < 0.13, "A", np.where(dr2 < 0.26, "B", "C"))
    jg = np.where(dr2 < 0.035, "A", np.where(dr2 < 0.070, "B", "C"))
    return LogisticTable(
        item=list(ids),
        n=n_obs,
        chi2_uniform=u * nan,
        p_uniform=chi2_sf(u, 1) * nan,
        chi2_nonuniform=nu * nan,
        p_nonuniform=chi2_sf(nu, 1) * nan,
        chi2_dif=both * nan,
        p_dif=p_dif,
        delta_r2=dr2 * nan,
        zumbo_thomas=["" if bad[j] else (str(zt[j]) if flagged[j] else "A") for j in range(J)],
        jodoin_gierl=["" if bad[j] else (str(jg[j]) if flagged[j] else "A") for j in range(J)],
        q=q,
        flagged=flagged,
        beta_group=beta2[:, 2] * nan,
        beta_interaction=beta2[:, 3] * nan,
        excluded=excluded,
    )


def _batched_logit(
    s: Array, g: NDArray[np.intp], y: Array, item: NDArray[np.intp], J: int, m: int, max_iter: int, start: Array
) -> tuple[Array, Array]:
    """Maximum-likelihood logistic regressions logit P = X β on the first ``m`` columns of X = (1, s, g, s·g), one
    per item, by Newton steps on all items together.

    Every entry of the gradient Σ X_a r and of the Hessian Σ w X_a X_b is a sum of w·s^d (d ≤ 2) or r·s^d (d ≤ 1)
    over one item's observations, all of them or the focal group's (g ∈ {0, 1}): five bincounts over the
    (item, group) cells per step instead of one per matrix entry. Returns (log-likelihood per item, coefficients
    (J, m)). Stops when no coefficient moves by 1e-8; a tiny ridge keeps separated items finite and steps are
    capped at 5 logits.
    """
    beta = start.copy()
    cell = item * 2 + g
    s2 = s * s
    power = (0, 1, 0, 1)[:m]  # the power of s in each column
    focal = (False, False, True, True)[:m]  # does the column carry g
    for _ in range(max_iter):
        eta = _logit_eta(beta, s, g, item, cell, J, m)
        p = 1.0 / (1.0 + np.exp(-eta))
        w = p * (1.0 - p)
        resid = y - p
        W = [np.bincount(cell, v, 2 * J).reshape(J, 2) for v in (w, w * s, w * s2)]
        R = [np.bincount(cell, v, 2 * J).reshape(J, 2) for v in (resid, resid * s)]
        grad = np.column_stack([R[power[a]][:, 1] if focal[a] else R[power[a]].sum(1) for a in range(m)])
        H = np.empty((J, m, m))
        for a in range(m):
            for b in range(a, m):
                sums = W[power[a] + power[b]]
                H[:, a, b] = H[:, b, a] = sums[:, 1] if focal[a] or focal[b] else sums.sum(1)
        H += 1e-9 * np.eye(m)
        step = np.linalg.solve(H, grad[..., None])[..., 0]
        big = np.abs(step).max(axis=1, keepdims=True)
        step = np.where(big > 5.0, step * 5.0 / np.maximum(big, 1e-300), step)
        beta += step
        if not np.abs(step).max(initial=0.0) > 1e-8:
            break
    eta = _logit_eta(beta, s, g, item, cell, J, m)
    # log σ(η) for y = 1 and log σ(-η) for y = 0, stably
    term = -np.logaddexp(0.0, np.where(y == 1, -eta, eta))
    return np.bincount(item, weights=term, minlength=J), beta


def _logit_eta(
    beta: Array, s: Array, g: NDArray[np.intp], item: NDArray[np.intp], cell: NDArray[np.intp], J: int, m: int
) -> Array:
    """η = X β per observation, from each (item, group) cell's intercept and slope on s."""
    full = np.zeros((J, 4))
    full[:, :m] = beta
    c0 = np.column_stack([full[:, 0], full[:, 0] + full[:, 2]]).ravel()  # cell 2j + g
    c1 = np.column_stack([full[:, 1], full[:, 1] + full[:, 3]]).ravel()
    return c0[cell] + s * c1[cell]
