"""The nominal response model in mirt's parameterisation: probabilities, derivatives, GPCM as a special case,
parameter tables, and its EM calibration.

Reference: mirt's ``anova`` reference page (reference/anova-method.md): ``mirt(Science, 1, 'nominal')`` has logLik
-1608.455, AIC 3264.910, BIC 3360.220 (24 parameters). Data: tests/data/science_mirt.csv (SOURCES.md there).
"""

from pathlib import Path

import numpy as np
import pytest

from digicomp.calibration.nominal import _m_step, calibrate_nominal
from digicomp.errors import CalibrationError, ParameterError
from digicomp.models import ItemParameters
from digicomp.models.nominal import NominalParameters
from digicomp.responses import Responses

DATA = Path(__file__).resolve().parents[1] / "data"


def _items(seed=0, J=6, K=4):
    rng = np.random.default_rng(seed)
    ak = np.concatenate(
        [np.zeros((J, 1)), np.sort(rng.uniform(0.2, K - 1.2, (J, K - 2)), axis=1), np.full((J, 1), K - 1.0)], axis=1
    )
    d = np.concatenate([np.zeros((J, 1)), rng.normal(0.5, 0.8, (J, K - 1))], axis=1)
    return NominalParameters(rng.lognormal(-0.3, 0.2, J), ak, d)


def test_probabilities_are_a_softmax_and_derivatives_are_exact():
    items = _items()
    th = np.linspace(-3, 3, 13)
    P = items.prob(th)
    assert np.allclose(P.sum(-1), 1)
    z = items.category_slopes()[None] * th[:, None, None] + items.d[None]
    assert np.allclose(P, np.exp(z) / np.exp(z).sum(-1, keepdims=True))
    lp, dl, d2l = items.derivatives(th)
    h = 1e-5
    assert np.allclose(dl, (items.log_prob(th + h) - items.log_prob(th - h)) / (2 * h), atol=1e-7)
    assert np.allclose(d2l, (items.log_prob(th + h) - 2 * lp + items.log_prob(th - h)) / h**2, atol=1e-3)
    info = items.information(th)
    assert np.allclose(info, (P * dl**2).sum(-1)) and np.all(info > 0)


def test_gpcm_is_the_nominal_model_with_integer_scoring():
    gpcm = ItemParameters.partial_credit(a=[0.8, 1.4], b=[[-1.0, 0.2, 1.1], [0.5, -0.3, 0.4]])
    nom = NominalParameters.from_gpcm(gpcm.slope, gpcm.intercepts, gpcm.ids)
    th = np.linspace(-4, 4, 9)
    assert np.allclose(nom.prob(th), gpcm.prob(th), atol=1e-13)


def test_parameter_table_round_trips_with_mirt_columns():
    items = _items(1, J=3, K=3).subset([0, 1])
    header, rows = items.table()
    assert header == ["item", "itemtype", "a1", "ak0", "ak1", "ak2", "d0", "d1", "d2"]
    back = NominalParameters.from_table(header, [[str(c) for c in r] for r in rows])
    assert np.allclose(back.prob(0.3), items.prob(0.3))
    with pytest.raises(ParameterError, match="field 'd'"):
        NominalParameters([1.0], [[0, 1]], [[0, np.nan]])


def test_m_step_finds_the_parameters_whose_expected_counts_it_is_given():
    """Counts r_jkq = n_q P_jk(θ_q) of known items: Σ r log P is maximal at those items, so M-steps from a
    perturbed start (each a few BFGS iterations on the analytic gradient) must return to them."""
    items = _items(2, J=3)
    pts = np.linspace(-4, 4, 21)
    n_q = 1000 * np.exp(-0.5 * pts**2)
    counts = (items.prob(pts) * n_q[:, None, None]).transpose(1, 2, 0)
    free = np.zeros((3, 4), bool)
    free[:, 1:] = True
    rng = np.random.default_rng(3)
    s, d = items.category_slopes() * 1.3, items.d + rng.normal(0, 0.3, items.d.shape)
    d[:, 0] = 0.0
    for _ in range(40):
        s, d = _m_step(counts, pts, s, d, free)
    assert np.allclose(s, items.category_slopes(), atol=1e-4) and np.allclose(d, items.d, atol=1e-4)


def test_science_loglik_matches_mirt():
    x = np.loadtxt(DATA / "science_mirt.csv", delimiter=",", skiprows=1).astype(int) - 1
    res = calibrate_nominal(Responses.from_dense(x))
    assert res.converged and res.n_parameters == 24
    assert res.loglik == pytest.approx(-1608.455, abs=0.01)
    assert res.aic == pytest.approx(3264.910, abs=0.02)
    assert res.bic == pytest.approx(3360.220, abs=0.02)
    assert np.all(res.params.ak[:, 0] == 0) and np.all(res.params.ak[:, 3] == 3) and np.all(res.params.d[:, 0] == 0)


def test_an_unchosen_category_is_refused_naming_the_item():
    x = np.array([[0, 1], [2, 1], [0, 0], [2, 0]])
    with pytest.raises(CalibrationError, match=r"item 'item1': categories \[1\]"):
        calibrate_nominal(Responses.from_dense(x))


@pytest.mark.slow
def test_simulated_truth_is_recovered():
    truth = _items(5, J=8)
    rng = np.random.default_rng(6)
    x = truth.simulate(rng.normal(size=5000), rng)
    res = calibrate_nominal(Responses.from_dense(x))
    slopes_true, slopes_est = truth.category_slopes(), res.params.category_slopes()
    # a few hundred persons per category: slopes within 0.25, intercepts within 0.3 (about 4 SE)
    assert np.max(np.abs(slopes_est - slopes_true)) < 0.25 * (truth.ak.shape[1] - 1)
    assert np.max(np.abs(res.params.d - truth.d)) < 0.3
    assert np.corrcoef(slopes_est[:, 1:].ravel(), slopes_true[:, 1:].ravel())[0, 1] > 0.97
