"""`digicomp score` and `digicomp.score` on a multidimensional bank: one θ and SE per dimension, and the overall."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
import yaml

from digicomp.bank import load_bank
from digicomp.scoring import multidim as sm
from digicomp.scoring import multidim_score as ms
from digicomp.scoring import score
from tests.cat.test_mcat import mbank_data


@pytest.fixture
def bank_file(tmp_path):
    path = tmp_path / "mbank.yaml"
    path.write_text(yaml.safe_dump(mbank_data(n=30), allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_score_of_a_multidimensional_bank_is_the_joint_posterior(bank_file):
    bank = load_bank(bank_file)
    rng = np.random.default_rng(4)
    data = rng.integers(0, 2, (5, bank.n_items)).astype(float)
    data[:, bank.mparams.n_categories == 3] = rng.integers(0, 3, (5, int((bank.mparams.n_categories == 3).sum())))
    data[rng.random(data.shape) < 0.4] = np.nan
    got = score(bank, data)
    assert got.theta.shape == (5, 3) and got.dims == ["area-1", "area-2", "area-3"]
    seq, resp = sm.padded(ms._as_responses(*_dense_to_padded(data), bank.n_items))
    want = ms.score_answers(
        bank.mparams, seq, resp, sm.latent(None, bank.dims.correlation), bank.dims.ids, bank.dims.weights, method="EAP"
    )
    np.testing.assert_allclose(got.theta, want.theta, atol=1e-10)
    np.testing.assert_allclose(got.overall, got.theta.mean(axis=1), atol=1e-10)  # equal weights
    np.testing.assert_allclose(got.level_probabilities.sum(axis=2), 1.0, atol=1e-9)
    with pytest.raises(Exception, match="EAP or MAP"):
        score(bank, data, method="WLE")


def _dense_to_padded(data):
    ok = ~np.isnan(data)
    p, j = np.nonzero(ok)
    L = ok.sum(axis=1).max()
    seq = np.full((data.shape[0], L), -1)
    resp = np.full((data.shape[0], L), -1)
    pos = np.concatenate([np.arange(c) for c in ok.sum(axis=1)])
    seq[p, pos], resp[p, pos] = j, data[p, j].astype(int)
    return seq, resp


def test_cli_writes_one_theta_and_se_column_per_dimension(bank_file, tmp_path):
    resp = tmp_path / "resp.csv"
    resp.write_text("person,item,response\nann,m000,1\nann,m001,0\nann,m009,2\nbob,m002,1\n", encoding="utf-8")
    out = tmp_path / "scores.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "digicomp.cli", "score", str(bank_file), str(resp), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == [
        "person",
        "theta_area-1",
        "se_area-1",
        "theta_area-2",
        "se_area-2",
        "theta_area-3",
        "se_area-3",
        "theta_overall",
        "se_overall",
    ]
    assert [r["person"] for r in rows] == ["ann", "bob"]
    bank = load_bank(bank_file)
    from digicomp.io.responses import read_responses

    direct = ms.score_bank(bank, read_responses(resp, item_ids=bank.ids))
    np.testing.assert_allclose([float(r["theta_area-2"]) for r in rows], direct.theta[:, 1], atol=1e-6)


def test_public_score_keeps_every_dimension(bank_file, tmp_path):
    """digicomp.score reads the file and scores a multidimensional bank by its dimensions (never its 1-D view)."""
    import digicomp

    resp = tmp_path / "resp.csv"
    resp.write_text("person,item,response\nann,m000,1\nann,m001,0\nbob,m002,1\n", encoding="utf-8")
    got = digicomp.score(load_bank(bank_file), str(resp), method="MAP")
    assert isinstance(got, ms.MultidimScore) and got.theta.shape == (2, 3) and got.method == "MAP"
