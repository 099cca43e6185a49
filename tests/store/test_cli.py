"""``digicomp store ...`` and ``digicomp calibrate --store``: exit codes, files written, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.cat import AdaptiveTest
from digicomp.cli import main
from digicomp.loop.simulate import simulate_records
from digicomp.store import SCHEMA_VERSION, open_store
from tests.store.loop_fixtures import loop_bank, loop_design


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A SQLite store with 1,500 simulated sessions of a 30 + 4 item bank, and that bank as YAML."""
    root = tmp_path_factory.mktemp("cli")
    bank, truth = loop_bank(30, 4, seed=6)
    bank_path = root / "loop.yaml"
    bank.to_yaml(bank_path)
    url = str(root / "store.db")
    assert main(["store", "register", url, str(bank_path)]) == 0
    engine = AdaptiveTest(load_bank(bank_path), loop_design(2, 6))
    with open_store(url) as store:
        store.write_many(simulate_records(engine, truth, np.random.default_rng(3).normal(size=1500), seed=4))
    return url, bank_path, root


def test_info_reports_counts(filled, capsys):
    url, _, _ = filled
    assert main(["store", "info", url, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["schema_version"] == SCHEMA_VERSION and info["sessions"][0]["sessions"] == 1500


def test_export_writes_every_response(filled, capsys):
    url, bank_path, root = filled
    out = root / "long.csv"
    assert main(["store", "export", url, str(out), "--bank", str(bank_path)]) == 0
    lines = out.read_text().splitlines()
    with open_store(url) as store:
        assert len(lines) - 1 == store.count()[1]
    assert lines[0] == "person,item,response"


def test_check_passes_on_a_sound_store(filled, capsys):
    assert main(["store", "check", filled[0]]) == 0
    assert capsys.readouterr().out.strip().endswith(": ok")


def test_calibrate_from_the_store_writes_the_next_bank_version(filled, capsys):
    url, bank_path, root = filled
    out = root / "loop-1.1.yaml"
    code = main(
        [
            "calibrate",
            "--store",
            url,
            "--bank",
            str(bank_path),
            "--out",
            str(out),
            "--no-drift",
            "--quiet",
            "--report",
            str(root / "r.json"),
        ]
    )
    assert code == 0
    new = load_bank(out)
    assert new.version == "1.1" and new.item("pre00").calibration.status == "calibrated"
    prov = json.loads((root / "loop-1.1.provenance.json").read_text())
    assert prov["data"]["n_sessions"] == 1500 and prov["new_bank"]["fingerprint"] == new.fingerprint
    assert json.loads((root / "r.json").read_text())["provenance"]["mode"] == "pretest"


def test_calibrate_store_without_bank_is_a_one_line_error(filled, capsys):
    assert main(["calibrate", "--store", filled[0], "--out", "x.yaml"]) == 1
    assert "needs --bank" in capsys.readouterr().err


def test_corrupted_store_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all, just text")
    assert main(["store", "info", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("digicomp: error: ") and "is not a SQLite database" in err and err.count("\n") == 1
