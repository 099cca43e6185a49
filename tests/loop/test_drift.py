"""Drift checks: the linking error is in the test statistic and the false discovery rate over items is controlled.

The null simulation builds banks whose operational values carry the estimation error their recorded SEs state
(bank value = truth + N(0, SE²)), so that with no drift every |z| > 1.96 is a false flag.
"""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.calibration.linking import link
from digicomp.cat import AdaptiveTest
from digicomp.errors import ConvergenceWarning, DataWarning
from digicomp.loop import recalibrate
from digicomp.loop.drift import benjamini_hochberg, drift_rows, jackknife_se, leave_one_out_linkings
from digicomp.loop.simulate import simulate_records
from digicomp.models import ItemParameters
from digicomp.store import open_store
from tests.cli._run import digicomp
from tests.store.loop_fixtures import loop_bank, loop_design

N_OP, OLD_SE = 40, 0.04


def _replicate(tmp_path, seed: int, shift: float = 0.0, n_sessions: int = 2000, **options):
    """Recalibration (drift on) of a store of simulated sessions; truth = bank ± N(0, 0.04²), one item shifted.

    Returns (recalibration, id of the shifted item or None, store URL, bank).
    """
    bank, truth = loop_bank(N_OP, 4, seed=100 + seed)
    rng = np.random.default_rng(seed)
    recs = truth.to_file_form()
    for r in recs[:N_OP]:
        r["a"] = max(r["a"] + rng.normal(0, OLD_SE), 0.2)
        r["b"] += rng.normal(0, OLD_SE)
    moved = None
    if shift:
        moved = max((k for k in range(N_OP) if abs(recs[k]["b"]) < 0.6), key=lambda k: recs[k]["a"])
        recs[moved]["b"] += shift
    engine = AdaptiveTest(bank, loop_design(2, 8))
    url = f"sqlite:///{tmp_path / f'drift-{seed}.db'}"
    with open_store(url) as store:
        store.register_bank(bank)
        records = simulate_records(engine, ItemParameters.from_file_form(recs), rng.normal(size=n_sessions), seed=seed)
        store.write_many(records)
        rec = recalibrate(store, bank, record=False, **options)
    return rec, None if moved is None else bank.ids[moved], url, bank


def test_benjamini_hochberg_matches_the_step_up_rule():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    rejected, threshold = benjamini_hochberg(p, 0.05)
    # k/m · q: 0.005, 0.010, 0.015, ...: the largest p(k) under its line is the 2nd
    assert rejected.tolist() == [True, True] + [False] * 8 and threshold == 0.008
    assert not benjamini_hochberg(np.array([0.2, 0.5]), 0.05)[0].any()


def test_jackknife_se_of_leave_one_out_replicates():
    reps = [{("i", "b"): v} for v in (1.0, 1.1, 0.9, 1.0)]
    v = np.array([1.0, 1.1, 0.9, 1.0])
    assert jackknife_se(reps)[("i", "b")] == pytest.approx(np.sqrt(3 / 4 * np.sum((v - v.mean()) ** 2)))


def test_linking_error_enters_the_standard_error_of_the_change():
    old = [{"id": "x", "model": "2PL", "a": 1.0, "b": 0.0}]
    new = [{"id": "x", "model": "2PL", "a": 1.0, "b": 0.3}]
    check = drift_rows(old, {}, new, {"x": {"a": 0.05, "b": 0.1}}, {("x", "b"): 0.1}, fdr=0.05)
    row = next(r for r in check.rows if r.parameter == "b")
    assert row.se == pytest.approx(np.hypot(0.1, 0.1)) and row.se_link == 0.1
    assert row.z == pytest.approx(0.3 / np.hypot(0.1, 0.1))
    assert check.flagged == [] and check.expected_false_flags == 0


def test_an_item_that_moved_is_flagged_and_few_others(tmp_path):
    rec, moved, _, _ = _replicate(tmp_path, seed=1, shift=1.5)
    check = rec.drift_check
    assert moved in rec.drifted
    row = next(r for r in rec.drift if r.item == moved and r.parameter == "b")
    assert row.drifted and row.se_link > 0
    assert abs(row.new - row.old - 1.5) < 4 * row.se
    assert check.n_items > 20
    # FDR control: at q = 0.05 the expected number of false flags among those flagged is at most 0.05 · flagged
    assert len(rec.drifted) <= 3
    assert check.expected_false_flags == pytest.approx(0.05 * len(rec.drifted))
    assert "expected false flags" in rec.summary()
    assert rec.provenance["drift"]["expected_false_flags"] == check.expected_false_flags


def test_a_drift_calibration_that_did_not_converge_says_so(tmp_path):
    with pytest.warns(ConvergenceWarning):
        rec, _, url, bank = _replicate(tmp_path, seed=2, n_sessions=600, max_iter=3, min_responses=50)
    assert rec.drift_result is not None and not rec.drift_result.converged
    assert not rec.converged and rec.provenance["converged"] is False
    summary = rec.summary()
    assert "drift calibration (free, linked): NOT converged after 3 EM cycles" in summary
    assert "NOT CONVERGED" in summary
    path = tmp_path / "bank.yaml"
    bank.to_yaml(path)
    proc = digicomp(
        "calibrate", "--store", url, "--bank", str(path), "--out", str(tmp_path / "new.yaml"),
        "--max-iter", "3", "--min-responses", "50", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "NOT converged" in proc.stdout and "did not converge" in proc.stderr


def test_no_standard_errors_means_no_drift_table_and_a_note(tmp_path):
    with pytest.warns(DataWarning, match="drift NOT tested"):
        rec, *_ = _replicate(tmp_path, seed=3, n_sessions=600, se=False, min_responses=50)
    assert rec.drift == [] and rec.drifted == []
    assert "drift NOT tested" in rec.summary()


@pytest.mark.slow
def test_false_flag_rate_with_no_drift_is_controlled(tmp_path):
    """Over R null replicates: the share with any flag is at most q, and |z| > 1.96 occurs at about 5%."""
    R, q = 30, 0.05
    any_flag, row_rates = [], []
    for seed in range(R):
        rec, *_ = _replicate(tmp_path, seed=1000 + seed)
        any_flag.append(bool(rec.drifted))
        row_rates.append(np.mean([abs(r.z) > 1.959964 for r in rec.drift]))
    # BH at q over items controls the familywise rate under the global null at q: one-sided binomial bound
    assert np.mean(any_flag) <= q + 2.33 * np.sqrt(q * (1 - q) / R)
    # per parameter, |z| > 1.96 is not more frequent than 5% (rows share a linking, so the SE comes from the
    # replicates' spread), and the jackknife linking error does not make the test uselessly conservative
    # (one run: 3.3%, SD of z 0.92)
    rate, se = float(np.mean(row_rates)), float(np.std(row_rates, ddof=1) / np.sqrt(R))
    assert 0.025 < rate < 0.05 + 3 * max(se, np.sqrt(0.05 * 0.95 / (R * N_OP * 2)))


def test_leave_one_out_linkings_equal_stocking_lord_refits():
    rng = np.random.default_rng(11)
    n = 12
    target = ItemParameters.dichotomous(
        a=rng.lognormal(0, 0.3, n), b=rng.normal(0, 1, n), c=np.full(n, 0.15), ids=[f"i{j}" for j in range(n)]
    )
    # a calibration on another scale (A = 1.3, B = -0.4) with estimation noise
    recs = target.to_file_form()
    for r in recs:
        r["a"] = r["a"] * 1.3 * np.exp(rng.normal(0, 0.05))
        r["b"] = (r["b"] + 0.4) / 1.3 + rng.normal(0, 0.08)
    source = ItemParameters.from_file_form(recs)
    full = link(source, target, "stocking-lord")
    fast = leave_one_out_linkings(source, target, full)
    for k, (A, B) in enumerate(fast):
        rest = [i for j, i in enumerate(target.ids) if j != k]
        slow = link(source, target.subset([target.ids.index(i) for i in rest]), "stocking-lord")
        assert A == pytest.approx(slow.A, abs=1e-5) and B == pytest.approx(slow.B, abs=1e-5)
