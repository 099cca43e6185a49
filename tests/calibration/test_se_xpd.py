"""Cross-product (XPD) standard errors against the numerical observed information and against Monte Carlo.

Both methods estimate the same Fisher information; they differ by sampling noise. A diagonal entry of
I_XPD = Σ_p s_p s_pᵀ is a mean of N squared scores, so its relative SD is sqrt((κ - 1) / N) with κ the
kurtosis of the score (about 3 to 5 here), i.e. 2-3 % at N = 5,000, and the SE (a square root) moves half as much.
The observed information has noise of the same order. The tolerance of 10 % on every SE is therefore several
SDs of the difference (measured: at most 2.4 % for the 2PL and 1.7 % for the GRM below).
"""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.calibration import calibrate
from digicomp.models import ItemParameters
from digicomp.responses import Responses

N = 5000


def _internal(res) -> np.ndarray:
    return np.array([v for i in res.ids for v in res.se_internal[i].values()])


def _sparse(x: np.ndarray, per_person: int, rng: np.random.Generator) -> Responses:
    n, J = x.shape
    keep = np.argsort(rng.random((n, J)), axis=1)[:, :per_person]
    person = np.repeat(np.arange(n), per_person)
    item = keep.ravel()
    ids = [f"i{j:03d}" for j in range(J)]
    return Responses.from_long(person, np.array(ids)[item], x[person, item], item_ids=ids)


def _relative_difference(x, model: str) -> float:
    num = calibrate(x, model, se_method="numerical", fit=False)
    xpd = calibrate(x, model, se_method="xpd", fit=False)
    assert (num.se_method, xpd.se_method) == ("numerical", "xpd")
    assert xpd.report()["se_method"] == "xpd"
    a, b = _internal(num), _internal(xpd)
    assert a.size == b.size and np.all(np.isfinite(b)) and np.all(b > 0)
    return float(np.max(np.abs(b / a - 1)))


def test_xpd_agrees_with_numerical_2pl():
    rng = np.random.default_rng(3)
    truth = ItemParameters.dichotomous(rng.lognormal(0, 0.3, 10), rng.normal(0, 1, 10))
    x = truth.simulate(rng.normal(0, 1, N), rng)
    assert _relative_difference(x, "2PL") < 0.10


def test_xpd_agrees_with_numerical_grm():
    rng = np.random.default_rng(4)
    b = np.sort(rng.normal(0, 1, (8, 3)), axis=1)
    truth = ItemParameters.graded(rng.lognormal(0, 0.3, 8), b)
    x = truth.simulate(rng.normal(0, 1, N), rng)
    assert _relative_difference(x, "GRM") < 0.10


def test_auto_uses_xpd_above_400_parameters():
    rng = np.random.default_rng(5)
    J = 210  # 420 free 2PL parameters
    truth = ItemParameters.dichotomous(rng.lognormal(0, 0.3, J), rng.normal(0, 1, J))
    x = truth.simulate(rng.normal(0, 1, 6000), rng)
    res = calibrate(_sparse(x, 40, rng), "2PL", fit=False)
    assert res.n_parameters == 420
    assert res.se_method == "xpd" and res.report()["se_method"] == "xpd"
    se = _internal(res)
    assert se.size == 420 and np.all(np.isfinite(se)) and np.all(se > 0)


def test_xpd_latent_moments_get_standard_errors():
    rng = np.random.default_rng(6)
    truth = ItemParameters.dichotomous(np.ones(12), rng.normal(0, 1, 12))
    x = truth.simulate(rng.normal(0, 1.3, N), rng)
    num = calibrate(x, "Rasch", se_method="numerical", fit=False)
    xpd = calibrate(x, "Rasch", se_method="xpd", fit=False)
    assert num.latent_se.keys() == xpd.latent_se.keys() == {"sd"}
    assert abs(xpd.latent_se["sd"] / num.latent_se["sd"] - 1) < 0.10
    assert np.max(np.abs(_internal(xpd) / _internal(num) - 1)) < 0.10


def test_unknown_se_method_is_refused():
    from digicomp.errors import CalibrationError

    with pytest.raises(CalibrationError, match="se_method = 'hessian'"):
        calibrate(np.zeros((5, 2)), "2PL", se_method="hessian")


@pytest.mark.slow
def test_xpd_matches_monte_carlo_spread_sparse():
    """R replications: SD of the estimates vs the mean XPD SE. The sample SD of R draws has relative SD
    1/sqrt(2(R-1)); pooled over items the ratio's mean is tight, so we check the rms ratio within 15 %."""
    rng = np.random.default_rng(7)
    J, R = 40, 30
    truth = ItemParameters.dichotomous(rng.lognormal(0, 0.3, J), rng.normal(0, 1, J))
    est, ses = [], []
    for _ in range(R):
        x = truth.simulate(rng.normal(0, 1, 3000), rng)
        res = calibrate(_sparse(x, 15, rng), "2PL", se_method="xpd", fit=False)
        order = np.argsort(res.ids)
        est.append(np.column_stack([res.params.slope, res.params.intercepts[:, 0]])[order])
        ses.append(np.array([[res.se_internal[i]["a1"], res.se_internal[i]["d"]] for i in res.ids])[order])
    sd = np.std(np.array(est), axis=0, ddof=1)
    se = np.mean(np.array(ses), axis=0)
    ratio = np.sqrt(np.mean((sd / se) ** 2, axis=0))
    np.testing.assert_allclose(ratio, 1.0, atol=0.15)
