"""M2 / C2 with RMSEA, SRMSR, TLI, CFI; Zh; Q3; S-X2 on pattern tables.

References (R mirt):
* LSAT7 2PL, ``M2(mod1)``: M2 11.93769, df 5, p 0.03565165, RMSEA 0.0372683 (90% CI 0.008950922, 0.06496573),
  SRMSR 0.03195919, TLI 0.9369332, CFI 0.9684666: mirt's M2 reference page (docs/reference/M2.html, example).
* Science GRM, ``M2(pmod, type = 'C2')``: 19.17929, df 2, p 6.84337e-05, RMSEA 0.1482174 (0.09234204,
  0.2116368), SRMSR 0.07257313, TLI 0.7300952, CFI 0.9100317: same page; also tests/testthat/test-02-mirtTwo.R.
* LSAT6 Rasch (latent variance free), ``M2``: 5.291576, df 9: tests/testthat/test-01-mirtOne.R.
* LSAT7 2PL Zh: 1.431838, 6.354917, 5.310844, 5.804449, 0.696139: test-01-mirtOne.R (``itemfit(modm1, 'Zh')``).
LSAT7's 2PL estimates are mirt's (tests/calibration/test_mirt_agreement.py); Science and LSAT6 are calibrated here
(their agreement with mirt is checked in that module).
"""

from pathlib import Path

import numpy as np
import pytest

from digicomp.analysis.item_fit import q3, s_x2, zh
from digicomp.analysis.model_fit import m2
from digicomp.calibration import calibrate
from digicomp.errors import DigicompError
from digicomp.models import ItemParameters
from digicomp.responses import Responses

DATA = Path(__file__).parents[1] / "data"
A7 = [0.9879254, 1.0808847, 1.7058006, 0.7651853, 0.7357980]
D7 = [1.8560605, 0.8079786, 1.8042187, 0.4859966, 1.8545127]


def _lsat(name):
    d = np.loadtxt(DATA / name, delimiter=",", skiprows=1)
    return Responses.from_dense(d[:, :5].astype(int), weights=d[:, 5])


def _lsat7_params():
    return ItemParameters(["2PL"] * 5, A7, np.array(D7)[:, None])


def test_lsat7_m2_and_indices_match_mirt():
    res = m2(_lsat7_params(), _lsat("lsat7_patterns.csv"))
    assert res.M2 == pytest.approx(11.93769, abs=1e-2) and res.df == 5
    assert res.p == pytest.approx(0.03565165, abs=1e-4)
    assert res.RMSEA == pytest.approx(0.0372683, abs=1e-4)
    assert res.RMSEA_low == pytest.approx(0.008950922, abs=1e-4)
    assert res.RMSEA_high == pytest.approx(0.06496573, abs=1e-4)
    assert res.SRMSR == pytest.approx(0.03195919, abs=1e-4)
    assert res.TLI == pytest.approx(0.9369332, abs=1e-4)
    assert res.CFI == pytest.approx(0.9684666, abs=1e-4)
    assert res.n_persons == 1000 and res.type == "M2"


def test_science_grm_c2_matches_mirt():
    x = np.loadtxt(DATA / "science_mirt.csv", delimiter=",", skiprows=1).astype(int) - 1
    cal = calibrate(x, "GRM", tol=1e-6, se=False, fit=False)
    res = m2(cal.params, Responses.from_dense(x), type="C2")
    assert res.M2 == pytest.approx(19.17929, abs=1e-2) and res.df == 2
    assert res.RMSEA == pytest.approx(0.1482174, abs=1e-4)
    assert res.SRMSR == pytest.approx(0.07257313, abs=1e-4)
    assert res.TLI == pytest.approx(0.7300952, abs=1e-3)
    assert res.CFI == pytest.approx(0.9100317, abs=1e-3)
    with pytest.raises(DigicompError, match="no degrees of freedom"):
        m2(cal.params, Responses.from_dense(x), type="M2*")  # as mirt: M2* has too few df for Science


def test_lsat6_rasch_m2_with_free_latent_variance_matches_mirt():
    resp = _lsat("lsat6_patterns.csv")
    cal = calibrate(resp, "Rasch", tol=1e-6, se=False, fit=False)
    res = m2(cal.params, resp, latent_sd=cal.latent_sd)
    assert res.M2 == pytest.approx(5.291576, abs=1e-2) and res.df == 9


def test_m2_is_chi_square_under_the_model():
    """At the true parameters M2 ~ χ²(df) asymptotically: its mean over replications is df within 4 SE."""
    rng = np.random.default_rng(3)
    params = ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, 6), b=rng.normal(0, 1, 6))
    stats = []
    for _ in range(40):
        x = params.simulate(rng.normal(size=1500), rng)
        cal = calibrate(x, "2PL", se=False, fit=False)
        stats.append(m2(cal.params, Responses.from_dense(x)).M2)
    df = 6 * 7 // 2 - 12
    assert abs(np.mean(stats) - df) < 4 * np.sqrt(2 * df / len(stats))


def test_lsat7_zh_matches_mirt():
    fit = zh(_lsat7_params(), _lsat("lsat7_patterns.csv"))
    ref = [1.431838, 6.354917, 5.310844, 5.804449, 0.696139]
    # mirt's estimates are published to 7 digits and its EAPs differ in the last digits: agreement to 2e-3
    assert np.max(np.abs(fit.Zh - ref)) < 2e-3
    assert list(fit.n) == [1000] * 5


def test_s_x2_on_a_pattern_table_matches_mirt():
    sx = s_x2(_lsat7_params(), _lsat("lsat7_patterns.csv"))
    np.testing.assert_allclose(sx["S_X2"], [4.749440, 14.451071, 1.270381, 5.237400, 0.941125], atol=0.05)
    assert sx["n_complete"] == 1000 and list(sx["df"]) == [2] * 5


def test_q3_finds_a_planted_local_dependence():
    rng = np.random.default_rng(4)
    params = ItemParameters.dichotomous(a=rng.lognormal(0, 0.2, 12), b=rng.normal(0, 1, 12))
    theta = rng.normal(size=3000)
    x = params.simulate(theta, rng).astype(float)
    copy = rng.random(3000) < 0.5
    x[copy, 7] = x[copy, 6]  # item 8 copies item 7 for half the persons
    res = q3(params, Responses.from_dense(x), theta)
    assert [(a, b) for a, b, _ in res.flagged] == [("item7", "item8")]
    # Q3 by its definition: the correlation of the two residual columns
    e = params.expected_score(theta)
    assert res.Q3[6, 7] == pytest.approx(np.corrcoef(x[:, 6] - e[:, 6], x[:, 7] - e[:, 7])[0, 1], abs=1e-12)
    assert np.isnan(res.Q3[3, 3])


def test_m2_equals_pypi_mirts_on_the_same_parameters():
    """An independent implementation: PyPI ``mirt`` (the ``test`` extra pins 1.2.0) computes M2 of a 2PL test at
    the same parameters and 61 quadrature points; the two agree to 1e-6."""
    pymirt = pytest.importorskip("mirt")
    rng = np.random.default_rng(8)
    a, b = rng.lognormal(0, 0.3, 10), rng.normal(0, 1, 10)
    params = ItemParameters.dichotomous(a=a, b=b)
    x = params.simulate(rng.normal(size=2000), rng)
    model = pymirt.TwoParameterLogistic(n_items=10)
    model.set_parameters(discrimination=a, difficulty=b)
    model._is_fitted = True  # parameters set by hand
    theirs = pymirt.compute_m2(model, x, n_quadpts=61)
    ours = m2(params, Responses.from_dense(x))
    assert ours.M2 == pytest.approx(theirs["M2"], rel=1e-6) and ours.df == theirs["df"]
