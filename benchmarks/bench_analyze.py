"""Pilot analysis: the whole ``digicomp analyze``, IRT-LR DIF over every item, DIF detection, and PyPI mirt.

Data: digicomp.simulation.dif_pilot (300 2PL items, 20,000 persons, booklets of two linked 15-item blocks = 30
items each, focal group 0.5 SD lower, 10% of items with DIF of 0.6 logits, half uniform, half non-uniform),
written as raw option answers + a bank + a person file.

* A: ``digicomp analyze`` as a process (MH + logistic DIF + person fit + everything else), target ≤ 15 s.
* B: IRT-LR DIF over all 300 items (purified anchors; base multiple-group fits included), target ≤ 90 s, and the
  same by Wald tests; power and false-positive rate of MH (uniform items), IRT-LR and IRT-Wald (all planted items)
  after BH; wall and CPU seconds (CPU of this process: the load of other work does not count).
* C: the shared steps with PyPI ``mirt`` in the same run: the multiple-group fit (scalar invariance, its default
  21 quadrature points) against calibrate_multigroup (61 points), and IRT-LR DIF (``mirt.dif``: likelihood ratio,
  one refit per tested item) on the same 30-item subset, with the agreement of the statistics.

    python benchmarks/bench_analyze.py                  # A, B and C
    python benchmarks/bench_analyze.py --skip-mirt --items-per-person 60   # detection at 4,000 persons per item
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import blas_report, print_table  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items-per-person", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-mirt", action="store_true")
    args = ap.parse_args()

    from digicomp.analysis.dif import mantel_haenszel
    from digicomp.analysis.irt_dif import irt_lr_dif, irt_wald_dif
    from digicomp.calibration.multigroup import calibrate_multigroup
    from digicomp.simulation.dif_pilot import simulate_dif_pilot, write_pilot_files

    print(f"load average {os.getloadavg()}; {blas_report()}")
    sim = simulate_dif_pilot(items_per_person=args.items_per_person, seed=args.seed)
    resp = sim.responses
    print(f"pilot: {resp.n_items} items, {resp.n_persons} persons, {args.items_per_person} each, seed {args.seed}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        bank, answers, persons = write_pilot_files(sim, tmp)
        cmd = [sys.executable, "-m", "digicomp.cli", "analyze", str(answers), "--bank", str(bank), "--groups",
               str(persons), "--by", "group", "--reference", "reference", "--out", str(Path(tmp) / "out"),
               "--html", str(Path(tmp) / "report.html"), "--quiet"]  # fmt: skip
        start, cpu = time.perf_counter(), _child_cpu()
        subprocess.run(cmd, check=True)
        wall, cpu = time.perf_counter() - start, _child_cpu() - cpu
        rows.append(["A: digicomp analyze (MH + logistic + person fit + report)", f"{wall:.1f} (CPU {cpu:.1f})",
                     "≤ 15"])  # fmt: skip
    print(f"load average after A {os.getloadavg()}")
    start, cpu = time.perf_counter(), time.process_time()
    irt = irt_lr_dif(resp, sim.group, "2PL", reference="reference", anchors="purified")
    rows.append([f"B: IRT-LR DIF, 300 items, purified ({irt.rounds} rounds)",
                 f"{time.perf_counter() - start:.1f} (CPU {time.process_time() - cpu:.1f})", "≤ 90"])  # fmt: skip
    print(f"load average after B {os.getloadavg()}")
    start, cpu = time.perf_counter(), time.process_time()
    wald = irt_wald_dif(resp, sim.group, "2PL", reference="reference", anchors="purified")
    rows.append([f"B: IRT-Wald DIF, 300 items, purified ({wald.rounds} rounds)",
                 f"{time.perf_counter() - start:.1f} (CPU {time.process_time() - cpu:.1f})", ""])  # fmt: skip
    print(f"load average after B (Wald) {os.getloadavg()}")
    mh = mantel_haenszel(resp, sim.group == "focal", item_ids=resp.item_ids, purify=True)
    print_table(["step", "wall seconds (CPU)", "target"], rows)
    print()
    planted = sim.dif != "none"
    det = [
        ["MH (uniform items)", f"{mh.flagged[sim.dif == 'uniform'].mean():.3f}", f"{mh.flagged[~planted].mean():.4f}"],
        ["MH (non-uniform items)", f"{mh.flagged[sim.dif == 'nonuniform'].mean():.3f}", ""],
        ["IRT-LR (all planted)", f"{irt.flagged[planted].mean():.3f}", f"{irt.flagged[~planted].mean():.4f}"],
        ["IRT-LR (uniform)", f"{irt.flagged[sim.dif == 'uniform'].mean():.3f}", ""],
        ["IRT-LR (non-uniform)", f"{irt.flagged[sim.dif == 'nonuniform'].mean():.3f}", ""],
        ["IRT-Wald (all planted)", f"{wald.flagged[planted].mean():.3f}", f"{wald.flagged[~planted].mean():.4f}"],
        ["IRT-Wald (uniform)", f"{wald.flagged[sim.dif == 'uniform'].mean():.3f}", ""],
        ["IRT-Wald (non-uniform)", f"{wald.flagged[sim.dif == 'nonuniform'].mean():.3f}", ""],
        ["IRT-Wald and IRT-LR flag the same items", f"{(wald.flagged == irt.flagged).mean():.3f}", ""],
    ]
    print_table(["detection (BH q < .05)", "power", "false-positive rate"], det)
    if args.skip_mirt:
        return
    import mirt

    print()
    x = resp.dense().astype(float)
    x[x < 0] = np.nan
    g = (sim.group == "focal").astype(int)
    cmp = []
    start = time.perf_counter()
    ours = calibrate_multigroup(resp, sim.group, "2PL", reference="reference")
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    theirs = mirt.fit_multigroup(x, g, "2PL", invariance="scalar", reference_group=0)
    t_theirs = time.perf_counter() - start
    cmp.append(["multiple-group 2PL fit", f"{t_ours:.1f} (logLik {ours.loglik:.1f})",
                f"{t_theirs:.1f} (logLik {_loglik(theirs)})"])  # fmt: skip
    # IRT-LR DIF on the same subset for both: the 30 items of booklet 0 and the persons of the three booklets that
    # hold them (sparse), all-others anchors (mirt.dif's "drop" scheme), 2PL
    keep = np.isin(sim.booklet, [(-1) % (resp.n_items // 15), 0, 1])
    sub = x[keep][:, :30]
    sub_groups = sim.group[keep]
    from digicomp.responses import Responses

    sub_resp = Responses.from_dense(np.where(np.isnan(sub), -1, sub), item_ids=resp.item_ids[:30])
    start = time.perf_counter()
    ours_dif = irt_lr_dif(sub_resp, sub_groups, "2PL", reference="reference", anchors="all-others")
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    theirs_dif = mirt.dif(sub, (sub_groups == "focal").astype(int), "2PL", method="likelihood_ratio", focal_group=1)
    t_theirs = time.perf_counter() - start
    stat = np.asarray(theirs_dif["statistic"], dtype=float)
    r = np.corrcoef(stat, ours_dif.chi2)[0, 1]
    cmp.append([f"IRT-LR DIF, 30 items x {keep.sum()} persons", f"{t_ours:.1f}", f"{t_theirs:.1f}"])
    cmp.append(["  300 items (digicomp: measured in B; mirt: 10 x this)", rows[1][1], f"~{t_theirs * 10:.0f}"])
    cmp.append(["  G2 statistics: correlation, median ratio ours/mirt", f"r = {r:.4f}",
                f"{np.median(ours_dif.chi2 / stat):.3f}"])  # fmt: skip
    print_table(["shared step", "digicomp s", "PyPI mirt s"], cmp)


def _child_cpu() -> float:
    """User + system CPU seconds of the finished child processes (the load of other work does not count)."""
    import resource

    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _loglik(result: object) -> str:
    for name in ("loglik", "log_likelihood", "logLik"):
        v = getattr(result, name, None)
        if v is not None:
            return f"{float(v):.1f}"
    return "?"


if __name__ == "__main__":
    main()
