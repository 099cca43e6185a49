"""θ estimators against closed forms, textbook values and direct numerical optimisation."""

import numpy as np
import pytest
from scipy import integrate, optimize

from digicomp.errors import DataWarning
from digicomp.models import ItemParameters
from digicomp.scoring import GridPrior, NormalPrior, score


@pytest.fixture
def bank():
    rng = np.random.default_rng(11)
    return ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, 12), b=rng.normal(0, 1, 12), c=rng.uniform(0, 0.2, 12))


def test_ml_matches_baker_textbook_example():
    # Baker (2001), The Basics of Item Response Theory, ch. 5: a = (1.0, 1.2, 0.8), b = (-1, 0, 1),
    # responses (1, 0, 1); the Newton-Raphson ML estimate is 0.3249 (printed to 4 decimals).
    p = ItemParameters.dichotomous(a=[1.0, 1.2, 0.8], b=[-1.0, 0.0, 1.0])
    res = score(p, [[1, 0, 1]], method="ML")
    assert res.theta[0] == pytest.approx(0.3249, abs=1e-4)


def test_rasch_ml_solves_the_raw_score_equation():
    b = np.array([-1.5, -0.5, 0.0, 0.7, 1.6])
    p = ItemParameters.dichotomous(a=1.0, b=b, model="Rasch")
    x = np.array([[1, 1, 0, 1, 0]])
    root = optimize.brentq(lambda t: (1 / (1 + np.exp(-(t - b)))).sum() - 3, -6, 6, xtol=1e-12)
    res = score(p, x, method="ML")
    assert res.theta[0] == pytest.approx(root, abs=1e-7)
    info = (np.exp(-(root - b)) / (1 + np.exp(-(root - b))) ** 2).sum()
    assert res.se[0] == pytest.approx(1 / np.sqrt(info), rel=1e-6)


def test_eap_matches_numerical_integration(bank):
    x = np.array([[1, 0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 1]])

    def dens(t):
        pr = bank.prob(np.array([t]))[0]
        return np.prod(np.where(x[0] == 1, pr[:, 1], pr[:, 0])) * np.exp(-t * t / 2)

    z = integrate.quad(dens, -8, 8, epsabs=1e-13)[0]
    mean = integrate.quad(lambda t: t * dens(t), -8, 8, epsabs=1e-13)[0] / z
    var = integrate.quad(lambda t: (t - mean) ** 2 * dens(t), -8, 8, epsabs=1e-13)[0] / z
    res = score(bank, x, method="EAP", n_points=201, theta_range=(-8, 8))
    assert res.theta[0] == pytest.approx(mean, abs=1e-8)
    assert res.se[0] == pytest.approx(np.sqrt(var), abs=1e-8)


def test_map_maximises_the_log_posterior(bank):
    x = np.array([[0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1]])
    prior = NormalPrior(0.5, 1.3)

    def neg_log_post(t):
        lp = bank.log_prob(np.array([t]))[0]
        return -(lp[np.arange(12), x[0]].sum() - 0.5 * ((t - 0.5) / 1.3) ** 2)

    best = optimize.minimize_scalar(neg_log_post, bounds=(-6, 6), method="bounded", options={"xatol": 1e-10})
    res = score(bank, x, method="MAP", prior=prior)
    assert res.theta[0] == pytest.approx(best.x, abs=1e-6)


def test_wle_solves_warms_equation_for_the_2pl():
    # For the 2PL, Warm's WLE maximises L(θ)·sqrt(I(θ)) (Warm 1989).
    rng = np.random.default_rng(3)
    p = ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, 10), b=rng.normal(0, 1, 10))
    x = np.array([[1, 1, 1, 0, 1, 1, 1, 1, 0, 1]])

    def neg(t):
        lp = p.log_prob(np.array([t]))[0]
        return -(lp[np.arange(10), x[0]].sum() + 0.5 * np.log(p.information(np.array([t]))[0].sum()))

    best = optimize.minimize_scalar(neg, bounds=(-6, 6), method="bounded", options={"xatol": 1e-10})
    res = score(p, x, method="WLE")
    assert res.theta[0] == pytest.approx(best.x, abs=1e-6)


def test_wle_is_finite_for_perfect_2pl_patterns_while_ml_is_at_the_bound():
    p = ItemParameters.dichotomous(a=[1.0, 1.5, 0.8], b=[-1, 0, 1])
    wle = score(p, [[1, 1, 1]], method="WLE")
    assert np.isfinite(wle.theta[0]) and not wle.extreme[0] and -6 < wle.theta[0] < 6
    with pytest.warns(DataWarning, match="all answers correct or all wrong"):
        ml = score(p, [[1, 1, 1], [0, 0, 0]], method="ML")
    assert list(ml.theta) == [6.0, -6.0]
    assert ml.extreme.all()
    assert np.all(np.isfinite(ml.se))


def test_person_without_responses_gets_prior_for_eap_and_nan_with_warning_for_ml(bank):
    x = np.full((1, 12), np.nan)
    eap = score(bank, x)
    assert eap.theta[0] == pytest.approx(0.0, abs=1e-12)
    assert eap.se[0] == pytest.approx(1.0, abs=1e-3)
    with pytest.warns(DataWarning, match="answered no item"):
        ml = score(bank, x, method="ML")
    assert np.isnan(ml.theta[0])


def test_grid_prior_changes_the_eap(bank):
    x = np.array([[1] * 6 + [0] * 6])
    pts = np.linspace(-4, 4, 81)
    shifted = GridPrior.from_arrays(pts, np.exp(-0.5 * (pts - 1.0) ** 2))
    default = score(bank, x).theta[0]
    moved = score(bank, x, prior=shifted).theta[0]
    same = score(bank, x, prior=NormalPrior(1.0, 1.0), n_points=81, theta_range=(-4, 4)).theta[0]
    assert moved > default
    assert moved == pytest.approx(same, abs=1e-10)


def test_plausible_values_follow_the_posterior(bank):
    x = bank.simulate(np.zeros(1), rng=5).repeat(4000, 0)
    res = score(bank, x, method="PV", n_draws=5, rng=7)
    draws = res.draws.ravel()
    # the draws' mean and SD estimate the posterior's: tolerance 4 standard errors of 20,000 draws
    se_mean = res.se[0] / np.sqrt(draws.size)
    assert abs(draws.mean() - res.theta[0]) < 4 * se_mean
    assert draws.std() == pytest.approx(res.se[0], rel=4 / np.sqrt(2 * draws.size) + 0.01)


def test_polytomous_eap_and_ml_agree_with_direct_optimisation():
    p = ItemParameters.concat(
        [
            ItemParameters.graded(a=[1.2, 0.8], b=[[-1.0, 0.0, 1.0], [-0.5, 0.5, np.nan]], ids=["g1", "g2"]),
            ItemParameters.partial_credit(a=[1.0], b=[[0.2, -0.4]], ids=["p1"]),
            ItemParameters.dichotomous(a=[1.1], b=[0.3], ids=["d1"]),
        ]
    )
    x = np.array([[2, 1, 1, 0]])

    def nll(t):
        lp = p.log_prob(np.array([t]))[0]
        return -lp[np.arange(4), x[0]].sum()

    best = optimize.minimize_scalar(nll, bounds=(-6, 6), method="bounded", options={"xatol": 1e-10})
    assert score(p, x, method="ML").theta[0] == pytest.approx(best.x, abs=1e-6)


def test_many_persons_at_once_equal_one_at_a_time(bank):
    rng = np.random.default_rng(9)
    x = bank.simulate(rng.normal(size=40), rng=rng).astype(float)
    x[rng.random(x.shape) < 0.3] = np.nan
    for method in ("EAP", "MAP", "WLE"):
        batch = score(bank, x, method=method)
        singles = np.array([score(bank, row[None, :], method=method).theta[0] for row in x])
        np.testing.assert_allclose(batch.theta, singles, atol=1e-9)
