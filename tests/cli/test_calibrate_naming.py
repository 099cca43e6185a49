"""``digicomp calibrate --out``: the new bank's id and version (the next version of a --fixed bank)."""

from __future__ import annotations

import csv

import numpy as np

from digicomp.bank import ItemBank, load_bank
from digicomp.cli import main
from digicomp.models import ItemParameters


def _responses(path, params: ItemParameters, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = params.simulate(rng.normal(0, 1, 800), rng)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["person", "item", "response"])
        w.writerows([[f"p{i}", params.ids[j], int(x[i, j])] for i in range(x.shape[0]) for j in range(x.shape[1])])


def _setup(tmp_path):
    rng = np.random.default_rng(8)
    ids = [f"o{j}" for j in range(8)] + ["new1", "new2"]
    params = ItemParameters.dichotomous(rng.lognormal(0, 0.3, 10), rng.normal(0, 1, 10), ids=ids)
    base = ItemBank.from_item_parameters(params.subset(range(8)), id="anchors", version="0.4")
    base.to_yaml(tmp_path / "anchors.yaml")
    _responses(tmp_path / "r.csv", params, 9)
    return tmp_path / "r.csv", tmp_path / "anchors.yaml"


def test_fixed_calibration_writes_the_next_version_of_the_fixed_bank(tmp_path, capsys):
    data, anchors = _setup(tmp_path)
    out = tmp_path / "new.yaml"
    assert main(["calibrate", str(data), "--fixed", str(anchors), "--out", str(out), "--quiet"]) == 0
    new = load_bank(out)
    assert (new.id, new.version) == ("anchors", "0.5")
    assert "new1" in new and new.fingerprint != load_bank(anchors).fingerprint
    assert "(bank anchors 0.5)" in capsys.readouterr().out


def test_bank_id_and_new_version_name_the_new_bank(tmp_path):
    data, anchors = _setup(tmp_path)
    out = tmp_path / "named.yaml"
    args = ["calibrate", str(data), "--out", str(out), "--bank-id", "pilot", "--new-version", "2.0", "--quiet"]
    assert main(args) == 0
    assert (load_bank(out).id, load_bank(out).version) == ("pilot", "2.0")
    assert main(["calibrate", str(data), "--out", str(tmp_path / "plain.yaml"), "--quiet"]) == 0
    assert (load_bank(tmp_path / "plain.yaml").id, load_bank(tmp_path / "plain.yaml").version) == ("calibrated", "1")


def test_calibrate_shows_which_standard_errors_it_computes_and_their_progress(tmp_path, capsys):
    data, _ = _setup(tmp_path)
    assert main(["calibrate", str(data), "--out", str(tmp_path / "b.yaml")]) == 0
    err = capsys.readouterr().err
    assert "standard errors (numerical): 40 E-steps" in err  # 10 items × 2 parameters, 2 E-steps each
    assert "standard errors (numerical): 40/40 E-steps" in err
    assert main(["calibrate", str(data), "--out", str(tmp_path / "q.yaml"), "--quiet"]) == 0
    assert "standard errors" not in capsys.readouterr().err
