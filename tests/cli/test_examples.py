"""Every example script runs on the bundled data and prints what its docstring promises."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ._run import ENV, ROOT


def run_example(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=ENV,
        cwd=ROOT,
        timeout=300,
    )


def test_web_backend_sits_a_test_over_http_and_refuses_an_altered_state():
    proc = run_example("web_backend.py")
    assert proc.returncode == 0, proc.stderr
    assert "items over HTTP" in proc.stdout and "level: " in proc.stdout
    assert "altered state refused: TamperedStateError" in proc.stdout
    assert "replayed state refused: ReplayedStateError" in proc.stdout
    assert "a JSON array as the body: BadRequest" in proc.stdout


@pytest.mark.slow  # a 3PL calibration with standard errors: ~10 s
def test_calibrate_and_publish_writes_a_valid_new_bank_version(tmp_path):
    proc = run_example("calibrate_and_publish.py", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "published" in proc.stdout and "30 of" in proc.stdout
    written = list(tmp_path.glob("civil-service-*.yaml"))
    assert len(written) == 1
    from digicomp.bank import load_bank

    bank = load_bank(written[0])
    assert sum(it.calibration.status == "calibrated" for it in bank.spec.items) == 30


@pytest.mark.slow  # fixed-parameter EM on 2,000 persons: ~10 s
def test_pretest_fixed_recovers_the_sample_and_the_new_items():
    proc = run_example("pretest_fixed.py")
    assert proc.returncode == 0, proc.stderr
    assert "converged: True" in proc.stdout and "pretest-06" in proc.stdout


def test_compare_designs_prints_the_side_by_side_table(tmp_path):
    proc = run_example("compare_designs.py", "300", "--csv", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "mfi-eap-se30" in proc.stdout and "civil-service-balanced" in proc.stdout and "rmse" in proc.stdout
    assert (tmp_path / "summary.csv").exists()
