"""models.multidim.predictor_components: paired (person, item) evaluation agrees with the item × point tables."""

import numpy as np
import pytest

from digicomp.models import multidim


@pytest.mark.parametrize("family", ["dichotomous", "graded", "gpcm"])
def test_paired_components_match_tables_and_numerical_derivatives(family):
    rng = np.random.default_rng(3)
    Q, J, K = 7, 5, 3
    theta = rng.normal(size=(Q, K))
    a = rng.uniform(0.3, 2.0, size=(J, K))
    if family == "dichotomous":
        d = rng.normal(size=J)
        c, u = rng.uniform(0, 0.3, J), rng.uniform(0.85, 1.0, J)
        table = multidim.log_prob(theta, a, d, c, u, "4PL")
        cc, uu, dd = c[None, :], u[None, :], d[None, :]
    else:
        d = np.sort(rng.normal(size=(J, 3)), axis=1)[:, ::-1].copy()
        d[0, 2] = np.nan  # an item with one category fewer
        model = "GRM" if family == "graded" else "GPCM"
        table = multidim.log_prob(theta, a, d, model=model)
        cc = uu = None
        dd = np.broadcast_to(d, (Q, J, 3))
    t = theta @ a.T
    lp, dl, d2l = multidim.predictor_components(t, dd, cc, uu, family)
    np.testing.assert_allclose(lp, table, rtol=1e-12, atol=0)
    h = 1e-5
    up = multidim.predictor_components(t + h, dd, cc, uu, family)
    dn = multidim.predictor_components(t - h, dd, cc, uu, family)
    finite = np.isfinite(lp)
    with np.errstate(invalid="ignore"):  # -inf - -inf on the padded category, masked out below
        num1, num2 = (up[0] - dn[0]) / (2 * h), (up[1] - dn[1]) / (2 * h)
    np.testing.assert_allclose(dl[finite], num1[finite], atol=1e-7)
    np.testing.assert_allclose(d2l[finite], num2[finite], atol=1e-6)


def test_unknown_family_is_refused():
    from digicomp.errors import ParameterError

    with pytest.raises(ParameterError, match="family 'nominal'"):
        multidim.predictor_components(np.zeros(2), np.zeros(2), family="nominal")


@pytest.mark.parametrize("family", ["dichotomous", "graded", "gpcm"])
def test_predictor_information_matches_scalar_information(family):
    rng = np.random.default_rng(5)
    t = rng.normal(0, 3, size=(6, 4))
    if family == "dichotomous":
        d, c, u = rng.normal(size=4), rng.uniform(0, 0.3, 4), rng.uniform(0.8, 1.0, 4)
        want = multidim.scalar_information(t, d, c, u, family)
        got = multidim.predictor_information(t, d[None, :], c[None, :], u[None, :], family)
    else:
        d = np.sort(rng.normal(size=(4, 3)), axis=1)[:, ::-1].copy()
        want = multidim.scalar_information(t, d, family=family)
        got = multidim.predictor_information(t, np.broadcast_to(d, (6, 4, 3)), family=family)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-300)


def test_predictor_information_is_zero_in_the_far_tail_not_nan():
    got = multidim.predictor_information(np.array([-800.0, 800.0]), np.zeros(2), np.zeros(2), np.ones(2))
    np.testing.assert_array_equal(got, [0.0, 0.0])


@pytest.mark.parametrize("family", ["dichotomous", "graded", "gpcm"])
def test_predictor_log_prob_is_the_first_component(family):
    rng = np.random.default_rng(9)
    t = rng.normal(0, 2, size=(5, 3))
    if family == "dichotomous":
        args = (rng.normal(size=(5, 3)), rng.uniform(0, 0.3, (5, 3)), rng.uniform(0.8, 1, (5, 3)))
    else:
        args = (np.sort(rng.normal(size=(5, 3, 2)), axis=-1)[..., ::-1].copy(), None, None)
    np.testing.assert_array_equal(
        multidim.predictor_log_prob(t, *args, family=family), multidim.predictor_components(t, *args, family=family)[0]
    )
