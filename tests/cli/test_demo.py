"""``digicomp demo`` runs on the bundled defaults and prints each person's test, level and the study table."""

from __future__ import annotations

import json

from ._run import assert_one_line_error, digicomp


def test_demo_prints_questions_paths_levels_and_the_study():
    proc = digicomp("demo", "--study-size", "200")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("Trình độ chung:") == 4 and out.count("Đường đi của θ̂:") == 4
    assert "cs-" in out and "✓" in out
    assert "Nghiên cứu mô phỏng" in out and "rmse" in out and "classification_accuracy" in out


def test_demo_json_gives_each_persons_result_and_the_study():
    proc = digicomp("demo", "--json", "--thetas", "-1", "1", "--study-size", "100", "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [p["true_theta"] for p in doc["people"]] == [-1.0, 1.0]
    assert all(p["level"]["name"] and len(p["path"]) == p["n_items"] for p in doc["people"])
    assert doc["study"]["n"] == 100


def test_demo_is_reproducible_and_bad_bank_fails_cleanly():
    a = digicomp("demo", "--study-size", "0", "--seed", "5")
    b = digicomp("demo", "--study-size", "0", "--seed", "5")
    assert a.returncode == 0 and a.stdout == b.stdout
    assert "Nghiên cứu mô phỏng" not in a.stdout
    assert_one_line_error(digicomp("demo", "--bank", "missing.yaml"))
