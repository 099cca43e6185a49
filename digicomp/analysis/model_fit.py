"""Limited-information model fit: M2, M2* and C2 with RMSEA, SRMSR, CFI and TLI.

M2 (Maydeu-Olivares & Joe 2006) compares the observed univariate and bivariate margins p of the response table
with the model's π: M2 = N eᵀ C e, e = p - π, C = Δc (Δcᵀ Γ Δc)⁻¹ Δcᵀ, where Γ is the multinomial covariance of the
margins under the model, Δ = ∂π/∂γ the Jacobian of the margins in the free item parameters γ and Δc an orthogonal
complement of Δ's columns; df = (number of margins) - (number of free parameters). Margins, as R mirt's ``M2``:

* ``"M2"``: every category c ≥ 1 of every item, every pair of categories of every pair of items;
* ``"M2*"`` (Cai & Hansen 2013; mirt's default): item means E[x_j] and cross products E[x_j x_k];
* ``"C2"`` (Cai & Monro 2014): category margins of each item, cross products for the pairs.

For 0/1 items the three are the same statistic. Fit indices as mirt: RMSEA = sqrt(max(M2 - df, 0) / (df (N - 1)))
with its 90% interval from the noncentral χ²; SRMSR from the residual correlations of the item scores; CFI and TLI
against the independence (null) model, whose margins are the items' own. Every moment is an integral over the
N(mean, sd²) latent density on ``n_points`` quadrature points (mirt: 61 on [-6, 6] for one factor); Γ and π are
computed exactly by local independence, Δ by central differences (the statistic is invariant to the
parameterisation of Δ's columns).

Needs complete response vectors: the persons who answered every item are used (as mirt's ``na.rm = TRUE``) and
their number is reported; the number of margins is limited (``MAX_MARGINS``) because Γ is margins × margins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import DigicompError
from digicomp.models import ItemParameters
from digicomp.responses import Responses

Array = NDArray[np.float64]
MAX_MARGINS = 3000
TYPES = ("M2", "M2*", "C2")


@dataclass
class M2Result:
    """The statistic, its df and p, RMSEA with its interval, SRMSR, and TLI/CFI against the null model."""

    type: str
    M2: float
    df: int
    p: float
    RMSEA: float
    RMSEA_low: float
    RMSEA_high: float
    SRMSR: float
    TLI: float
    CFI: float
    M2_null: float
    df_null: int
    n_persons: float
    n_parameters: int

    def as_dict(self) -> dict[str, float | int | str]:
        """The fields as a plain dict (JSON-ready)."""
        return dict(self.__dict__)


# ----------------------------------------------------------------------------------------------- margins
def _functions(kmax: int) -> Array:
    """Rows: 0 = the constant 1, 1..kmax-1 = indicator of category c, kmax = the score c itself."""
    g = np.zeros((kmax + 1, kmax))
    g[0] = 1.0
    g[np.arange(1, kmax), np.arange(1, kmax)] = 1.0
    g[kmax] = np.arange(kmax)
    return g


def _margins(n_cat: NDArray[np.intp], kind: str) -> NDArray[np.intp]:
    """(s, 4) table of margins as (item1, function1, item2, function2); item2 = J (a dummy) for univariate ones."""
    J, kmax = n_cat.size, int(n_cat.max())
    score = kmax
    rows: list[tuple[int, int, int, int]] = []
    for j in range(J):
        if kind == "M2*" and n_cat[j] > 2:
            rows.append((j, score, J, 0))
        else:
            rows += [(j, c, J, 0) for c in range(1, int(n_cat[j]))]
    for j in range(J):
        for k in range(j + 1, J):
            if kind == "M2":
                rows += [(j, c, k, d) for c in range(1, int(n_cat[j])) for d in range(1, int(n_cat[k]))]
            else:
                rows.append((j, score, k, score))
    return np.array(rows, dtype=np.intp)


def _item_moments(P: Array, G: Array) -> Array:
    """E[g_h1(x_j) g_h2(x_j) | θ_q] for every item (plus a dummy item of ones), shaped (J + 1, H, H, Q)."""
    Q, J, K = P.shape
    e = np.einsum("qjc,hc,gc->jhgq", P, G, G)
    return np.concatenate([e, np.ones((1,) + e.shape[1:])], axis=0)


def _pi(E2: Array, spec: NDArray[np.intp], w: Array) -> Array:
    j1, h1, j2, h2 = spec.T
    return (E2[j1, h1, 0] * E2[j2, h2, 0]) @ w


def _xi(E2: Array, spec: NDArray[np.intp], w: Array, dummy: int) -> Array:
    """E[m_a m_b] for every pair of margins: by local independence, a product over the items involved, the two
    functions of an item the margins share multiplied inside its expectation."""
    s = spec.shape[0]
    j1, h1, j2, h2 = (spec[:, i] for i in range(4))
    out = np.empty((s, s))
    step = max(1, 2_000_000 // max(s * w.size, 1))
    for start in range(0, s, step):
        a = slice(start, start + step)
        A1, HA1, A2, HA2 = j1[a, None], h1[a, None], j2[a, None], h2[a, None]
        B1, HB1, B2, HB2 = j1[None, :], h1[None, :], j2[None, :], h2[None, :]
        # partner function on a's items from b (0 = constant) and b's slots left over (moved to the dummy)
        p1 = np.where(B1 == A1, HB1, np.where(B2 == A1, HB2, 0))
        p2 = np.where((B1 == A2) & (A2 != dummy), HB1, np.where((B2 == A2) & (A2 != dummy), HB2, 0))
        used1 = (B1 == A1) | ((B1 == A2) & (A2 != dummy))
        used2 = (B2 == A1) | ((B2 == A2) & (A2 != dummy))
        r1 = np.where(used1, dummy, B1)
        r2 = np.where(used2, dummy, B2)
        val = E2[A1, HA1, p1] * E2[A2, HA2, p2] * E2[r1, HB1, 0] * E2[r2, HB2, 0]
        out[a] = val @ w
    return out


# ----------------------------------------------------------------------------------------------- parameters
def _free_vector(params: ItemParameters, free_variance: bool) -> tuple[Array, list[tuple[str, int, int]]]:
    """The free parameters γ and where each lives: ('slope', j, -1), ('icpt', j, k), ('lower'/'upper', j, -1),
    ('shared', -1, -1) for the common slope of 1PL items or the latent scale of Rasch/PCM items."""
    vec: list[float] = []
    where: list[tuple[str, int, int]] = []
    models = params.models
    scaled = ("1PL", "Rasch", "PCM") if free_variance else ("1PL",)
    shared = [j for j in range(params.n_items) if models[j] in scaled]
    for j in range(params.n_items):
        m = models[j]
        if m in ("2PL", "3PL", "4PL", "GRM", "GPCM"):
            vec.append(params.slope[j])
            where.append(("slope", j, -1))
        for k in range(int(params.n_categories[j]) - 1):
            vec.append(params.intercepts[j, k])
            where.append(("icpt", j, k))
        if m in ("3PL", "4PL"):
            vec.append(params.lower[j])
            where.append(("lower", j, -1))
        if m == "4PL":
            vec.append(params.upper[j])
            where.append(("upper", j, -1))
    if shared:
        vec.append(1.0)
        where.append(("shared", -1, -1))
    return np.array(vec), where


def _rebuild(params: ItemParameters, gamma: Array, where: list[tuple[str, int, int]], free_variance: bool):
    slope, icpt = params.slope.copy(), params.intercepts.copy()
    lower, upper = params.lower.copy(), params.upper.copy()
    scale = 1.0
    for value, (what, j, k) in zip(gamma, where):
        if what == "slope":
            slope[j] = value
        elif what == "icpt":
            icpt[j, k] = value
        elif what == "lower":
            lower[j] = value
        elif what == "upper":
            upper[j] = value
        else:
            scale = value
    models = params.models.tolist()
    for j, m in enumerate(models):
        if m == "1PL" or (free_variance and m in ("Rasch", "PCM")):
            slope[j] *= scale
            models[j] = {"Rasch": "1PL", "PCM": "GPCM"}.get(m, m)
    return ItemParameters(models, slope, icpt, lower, upper, D=params.D, ids=params.ids)


# ----------------------------------------------------------------------------------------------- statistic
def _statistic(e: Array, Gamma: Array, Delta: Array, N: float) -> tuple[float, int]:
    s, q = Delta.shape
    if q >= s:
        raise DigicompError(
            f"M2 has {s} margins for {q} free parameters: no degrees of freedom (try type='C2' for polytomous items)"
        )
    Qm, _ = np.linalg.qr(Delta, mode="complete")
    Dc = Qm[:, q:]
    mid = Dc.T @ Gamma @ Dc
    C = Dc @ np.linalg.solve(mid, Dc.T)
    return float(N * e @ C @ e), s - q


def _rmsea_interval(stat: float, df: int, N: float, level: float) -> tuple[float, float]:
    """mirt's RMSEA interval: noncentrality λ with P(χ²(df, λ) ≤ M2) = 1 - α/2 and α/2, as sqrt(λ / (df (N - 1)))."""
    from scipy.optimize import brentq
    from scipy.stats import ncx2

    def bound(prob: float) -> float:
        f = lambda lam: ncx2.cdf(stat, df, lam) - prob  # noqa: E731
        if f(1e-12) < 0:
            return 0.0
        hi = max(stat, 1.0)
        while f(hi) > 0:
            hi *= 2
        return brentq(f, 1e-12, hi)

    alpha = 1 - level
    lo, hi = bound(1 - alpha / 2), bound(alpha / 2)
    return float(np.sqrt(lo / (df * (N - 1)))), float(np.sqrt(hi / (df * (N - 1))))


def m2(
    params: ItemParameters,
    responses: Responses,
    *,
    type: str = "M2*",
    latent_mean: float = 0.0,
    latent_sd: float = 1.0,
    free_variance: bool | None = None,
    n_points: int = 61,
    theta_range: tuple[float, float] = (-6.0, 6.0),
    level: float = 0.90,
) -> M2Result:
    """M2-type fit statistic of calibrated ``params`` on ``responses`` (complete rows; frequency weights honoured).

    ``free_variance``: whether the latent variance was estimated (it is for Rasch/PCM calibrations, where slopes are
    fixed at 1); by default True when some item is Rasch or PCM. It adds one free parameter, as in mirt.
    """
    from scipy.stats import chi2

    if type not in TYPES:
        raise DigicompError(f"type = {type!r}; expected one of {', '.join(TYPES)}")
    if responses.n_items != params.n_items:
        raise DigicompError(f"responses cover {responses.n_items} items, the item parameters {params.n_items}")
    if free_variance is None:
        free_variance = bool(np.isin(params.models, ["Rasch", "PCM"]).any())
    responses.check_categories(params.n_categories)
    J = params.n_items
    complete = responses.counts_per_person() == J
    if not complete.any():
        raise DigicompError("M2 needs complete response vectors; no person answered every item")
    x = responses.dense()[complete].astype(float)
    w_p = np.ones(x.shape[0]) if responses.weights is None else responses.weights[complete].astype(float)
    N = float(w_p.sum())
    n_cat = params.n_categories
    kmax = int(n_cat.max())
    kind = "M2" if params.is_dichotomous else type
    spec = _margins(n_cat, kind)
    if spec.shape[0] > MAX_MARGINS:
        raise DigicompError(
            f"M2 with {J} items has {spec.shape[0]} margins (at most {MAX_MARGINS}): use fewer items or type='M2*'"
        )
    G = _functions(kmax)
    # observed margins
    onehot = np.zeros((x.shape[0], J + 1, kmax))
    onehot[:, :J, :] = (x[:, :, None] == np.arange(kmax)).astype(float)
    onehot[:, J, 0] = 1.0  # the dummy item, whose functions are all read at category 0... (its g values are 1)
    gx = np.einsum("pjc,hc->pjh", onehot, G)
    gx[:, J, :] = 1.0
    j1, h1, j2, h2 = spec.T
    obs = (gx[:, j1, h1] * gx[:, j2, h2]).T @ w_p / N

    z = np.linspace(*theta_range, n_points)
    w = np.exp(-0.5 * z**2)
    w /= w.sum()
    pts = latent_mean + latent_sd * z

    def expected(model: ItemParameters, points: Array, weights: Array) -> tuple[Array, Array]:
        E2 = _item_moments(model.prob(points), G)
        return _pi(E2, spec, weights), E2

    pi, E2 = expected(params, pts, w)
    Gamma = _xi(E2, spec, w, J) - np.outer(pi, pi)
    gamma, where = _free_vector(params, free_variance)
    Delta = np.empty((spec.shape[0], gamma.size))
    for i in range(gamma.size):
        h = 1e-5 * max(1.0, abs(gamma[i]))
        up, down = gamma.copy(), gamma.copy()
        up[i] += h
        down[i] -= h
        Delta[:, i] = (
            expected(_rebuild(params, up, where, free_variance), pts, w)[0]
            - expected(_rebuild(params, down, where, free_variance), pts, w)[0]
        ) / (2 * h)
    stat, df = _statistic(obs - pi, Gamma, Delta, N)
    p = float(chi2.sf(stat, df))
    rmsea = float(np.sqrt(max(stat - df, 0.0) / (df * (N - 1))))
    lo, hi = _rmsea_interval(stat, df, N, level)
    srmsr = _srmsr(x, w_p, E2, n_cat, w, G)
    stat0, df0 = _null_statistic(x, w_p, n_cat, spec, G, obs, N)
    tli = (stat0 / df0 - stat / df) / (stat0 / df0 - 1)
    cfi = 1 - max(stat - df, 0.0) / max(stat0 - df0, stat - df, 0.0)
    return M2Result(kind, stat, df, p, rmsea, lo, hi, srmsr, float(tli), float(cfi), stat0, df0, N, gamma.size)


def _srmsr(x: Array, w_p: Array, E2: Array, n_cat: NDArray[np.intp], w: Array, G: Array) -> float:
    """Root mean square of (observed - implied) correlations of the item scores over the item pairs (mirt's)."""
    J = x.shape[1]
    score = G.shape[0] - 1
    N = w_p.sum()
    mean = w_p @ x / N
    cov = ((x - mean) * w_p[:, None]).T @ (x - mean) / N
    obs_r = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    m1 = E2[:J, score, 0] @ w  # E[x_j]
    m2 = E2[:J, score, score] @ w  # E[x_j²]
    cross = (E2[:J, score, 0] * 1.0) @ np.diag(w) @ E2[:J, score, 0].T  # E[x_j x_k] for j != k
    var = m2 - m1**2
    imp_cov = cross - np.outer(m1, m1)
    imp_r = imp_cov / np.sqrt(np.outer(var, var))
    low = np.tril_indices(J, -1)
    return float(np.sqrt(np.mean((obs_r - imp_r)[low] ** 2)))


def _null_statistic(
    x: Array, w_p: Array, n_cat: NDArray[np.intp], spec: NDArray[np.intp], G: Array, obs: Array, N: float
) -> tuple[float, int]:
    """M2 of the independence model (each item its own observed category proportions, no common factor)."""
    J, kmax = x.shape[1], G.shape[1]
    props = np.stack([(w_p @ (x == c)) / N for c in range(kmax)], axis=-1)  # (J, K)
    props = np.where(np.arange(kmax) < n_cat[:, None], props, 0.0)
    one = np.ones(1)

    def expected(pr: Array) -> tuple[Array, Array]:
        E2 = _item_moments(pr[None], G)
        return _pi(E2, spec, one), E2

    pi, E2 = expected(props)
    Gamma = _xi(E2, spec, one, J) - np.outer(pi, pi)
    # free parameters: the category proportions of each item (K_j - 1 of them, the first category as the rest)
    cols = []
    for j in range(J):
        for c in range(1, int(n_cat[j])):
            h = 1e-6
            up, down = props.copy(), props.copy()
            up[j, c] += h
            up[j, 0] -= h
            down[j, c] -= h
            down[j, 0] += h
            cols.append((expected(up)[0] - expected(down)[0]) / (2 * h))
    return _statistic(obs - pi, Gamma, np.stack(cols, axis=1), N)
