"""Multiple-group IRT: recovery of group means and SDs within their standard errors, nesting, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.calibration.multigroup import calibrate_multigroup
from digicomp.errors import CalibrationError, DigicompError
from digicomp.responses import Responses

MEANS, SDS = [0.0, 0.5, -0.3], [1.0, 1.25, 0.8]


def _three_groups(seed: int = 11, n: int = 2500, J: int = 20) -> tuple[Responses, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.8, 2.0, J), rng.normal(0.0, 1.0, J)
    blocks, labels = [], []
    for k, (m, s) in enumerate(zip(MEANS, SDS)):
        theta = rng.normal(m, s, n)
        p = 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))
        blocks.append((rng.random(p.shape) < p).astype(float))
        labels += [f"g{k}"] * n
    x = np.vstack(blocks)
    resp = Responses.from_dense(x, item_ids=[f"i{j}" for j in range(J)])
    return resp, np.array(labels), a, b


@pytest.fixture(scope="module")
def fitted():
    resp, labels, a, b = _three_groups()
    return calibrate_multigroup(resp, labels, "2PL", se=True), resp, labels, a, b


def test_group_means_and_sds_recovered_within_three_standard_errors(fitted):
    res = fitted[0]
    assert res.converged
    assert res.groups == ["g0", "g1", "g2"]
    assert res.latent_mean[0] == 0.0 and res.latent_sd[0] == 1.0
    for g in (1, 2):
        se_m, se_s = res.latent_se["mean"][g], res.latent_se["sd"][g]
        assert 0.01 < se_m < 0.1 and 0.01 < se_s < 0.1
        assert abs(res.latent_mean[g] - MEANS[g]) < 3 * se_m
        assert abs(res.latent_sd[g] - SDS[g]) < 3 * se_s


def test_item_parameters_recovered(fitted):
    res, _, _, a, b = fitted
    assert np.max(np.abs(res.params.slope - a)) < 0.3
    est_b = -res.params.intercepts[:, 0] / res.params.slope
    assert np.max(np.abs(est_b - b)) < 0.25


def test_latent_table_lists_every_group(fitted):
    rows = fitted[0].latent_table()
    assert [r["group"] for r in rows] == ["g0", "g1", "g2"]
    assert rows[0]["reference"] and rows[0]["mean_se"] is None
    assert rows[1]["n"] == 2500


def test_freeing_an_item_splits_it_per_group_and_never_lowers_the_likelihood(fitted):
    res, resp, labels, _, _ = fitted
    freed = calibrate_multigroup(resp, labels, "2PL", free=["i3"], start=res)
    assert [i for i in freed.params.ids if i.startswith("i3")] == ["i3@g0", "i3@g1", "i3@g2"]
    assert freed.n_parameters == res.n_parameters + 4
    assert freed.loglik >= res.loglik - 1e-3
    # the group's view puts the pseudo-item back under its id
    view = freed.group_params("g1")
    assert view.ids == [f"i{j}" for j in range(20)]


def test_eap_per_person_in_input_order(fitted):
    res, _, labels, _, _ = fitted
    means = [np.mean(res.eap[labels == g]) for g in ("g0", "g1", "g2")]
    assert means[1] > means[0] > means[2]


def test_reference_group_can_be_chosen():
    resp, labels, _, _ = _three_groups(n=800, J=10)
    res = calibrate_multigroup(resp, labels, "2PL", reference="g1")
    assert res.groups[0] == "g1"
    g0 = res.groups.index("g0")
    assert res.latent_mean[g0] < 0  # g0 sits below g1 (true difference -0.5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"free": ["i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9"]}, "at least one anchor"),
        ({"free": ["nope"]}, "'nope'"),
        ({"reference": "g9"}, "reference group 'g9'"),
    ],
)
def test_bad_settings_are_refused(kwargs, message):
    resp, labels, _, _ = _three_groups(n=200, J=10)
    with pytest.raises(CalibrationError, match=message):
        calibrate_multigroup(resp, labels, "2PL", **kwargs)


def test_group_labels_must_match_the_persons():
    resp, labels, _, _ = _three_groups(n=200, J=10)
    with pytest.raises(DigicompError, match="labels given for 600 persons"):
        calibrate_multigroup(resp, labels[:-1], "2PL")
    with pytest.raises(DigicompError, match="at least 2 groups"):
        calibrate_multigroup(resp, np.full(600, "one"), "2PL")
