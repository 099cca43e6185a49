"""Shadow-test CAT (issue 18): 20 content constraints and enemies met exactly, against MPI and unconstrained MFI.

Run: python benchmarks/bench_shadow.py [--persons 1000] [--processes 1] [--sessions 50]

Bank: 500 3PL items (a ~ lognormal(0, 0.3), b ~ N(0, 1), c = 0.2) tagged over the 8 areas of vn-civil-service,
intended level tied to b (level ≈ 1 + (b + 2.1) / 0.6 ± 1, as the provisional rule sets it), 50 enemy pairs.
Constraints (20): each of the 8 areas 3..5 items (16), and each of the 4 level bands at least 4 items (4); 30 items.
Designs over the same 1,000 persons (θ ~ N(0, 1), EAP, fixed length 30):
  shadow  rule shadow, the 16 area limits as content limits, the 4 band minimums as shadow constraints
  mpi     MFI with maximum priority index toward equal area shares, the area min/max as hard masks (the band
          minimums cannot be said in a content section: MPI sees only one grouping)
  mfi     unconstrained maximum information (no content limits, enemies ignored)
Prints per design RMSE, bias, seconds, and violations of the same 20 constraints + enemies (persons with any,
and total broken constraints), the shadow assembler's counts, and the live step latency (next_item + record) of
``--sessions`` shadow sessions: p50/p99/max. States the load average (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from digicomp.assembly.model import build_model
from digicomp.assembly.spec import AssemblySpec
from digicomp.bank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.cat import AdaptiveTest
from digicomp.simulation import simulate

COMPETENCES = ["0.1", "1.1", "2.1", "3.1", "4.1", "5.1", "6.1", "7.1"]
AREAS = [c.split(".")[0] for c in COMPETENCES]
BANDS = ["foundation", "intermediate", "advanced", "highly_specialised"]
LENGTH = 30


def bench_bank(n_items: int = 500, seed: int = 18) -> ItemBank:
    """The benchmark bank (see the module docstring)."""
    rng = np.random.default_rng(seed)
    items = []
    for j in range(n_items):
        b = float(rng.normal())
        level = int(np.clip(np.rint(1 + (b + 2.1) / 0.6 + rng.normal(0, 1)), 1, 8))
        items.append(
            {
                "id": f"i{j:03d}",
                "competence": COMPETENCES[j % len(COMPETENCES)],
                "level": level,
                "model": "3PL",
                "params": {"a": float(rng.lognormal(0, 0.3)), "b": b, "c": 0.2},
                "calibration": {"status": "provisional", "rule": "r"},
                "stem": {"vi": f"Câu {j}", "en": f"Item {j}"},
                "options": [{"id": o, "vi": o, "en": o} for o in "ABCD"],
                "key": "A",
            }
        )
    pairs = rng.choice(n_items, size=(50, 2), replace=False)
    for i, k in pairs:
        items[i]["enemies"] = [items[k]["id"]]
    data = {
        "kind": "item_bank",
        "id": "bench-shadow",
        "version": "1",
        "framework": {"id": "vn-civil-service", "version": "0.1.0"},
        "scale": {
            "D": 1.0,
            "levels": BANDS,
            "cut_scores": [-1.0, 0.0, 1.0],
            "cut_source": {"status": "provisional", "rule": "r"},
        },
        "rules": {"r": {"vi": "quy tắc", "en": "rule"}},
        "items": items,
    }
    return ItemBank(BankFile.model_validate(data))


AREA_LIMITS = [{"group": a, "min": 3, "max": 5} for a in AREAS]
BAND_MINIMUMS = [{"level_band": b, "min": 4} for b in BANDS]


def designs() -> dict[str, dict]:
    """The three designs of the comparison."""
    stop = {"max_items": LENGTH, "rules": []}
    report = {"audit": False}
    return {
        "shadow": {
            "id": "shadow",
            "selection": {"rule": "shadow", "shadow": {"constraints": BAND_MINIMUMS}},
            "content": {"by": "area", "constraints": AREA_LIMITS},
            "stop": stop,
            "report": report,
        },
        "mpi": {
            "id": "mpi",
            "selection": {"rule": "mfi"},
            "content": {
                "by": "area",
                "method": "mpi",
                "constraints": [{**c, "target": 1 / len(AREAS)} for c in AREA_LIMITS],
            },
            "stop": stop,
            "report": report,
        },
        "mfi": {
            "id": "mfi",
            "selection": {"rule": "mfi"},
            "content": {"enemies": False},
            "stop": stop,
            "report": report,
        },
    }


def the_constraints(bank: ItemBank):
    """The 20 constraints and the enemies as one constraint model (to count violations the same way for all)."""
    spec = AssemblySpec(
        constraints=[{"area": c["group"], "min": c["min"], "max": c["max"]} for c in AREA_LIMITS] + BAND_MINIMUMS,
        enemies=True,
    )
    return build_model(bank, spec, LENGTH)


def violations(model, result) -> tuple[int, int, int]:
    """(persons breaking anything, rows broken in total, enemy pairs given together) of one design's outcome."""
    seq = result.outcome["sequence"]
    tests = np.zeros((seq.shape[0], model.n_items), bool)
    rows = np.repeat(np.arange(seq.shape[0]), seq.shape[1])
    ok = seq.ravel() >= 0
    tests[rows[ok], seq.ravel()[ok]] = True
    per_person = model.violations(tests)
    e = model.enemies
    enemies = int((tests[:, e[:, 0]] & tests[:, e[:, 1]]).sum()) if e.size else 0
    return int((per_person > 0).sum()), int(per_person.sum()), enemies


def _children_cpu() -> float:
    """CPU seconds of this process's finished child processes (the simulation's workers)."""
    t = os.times()
    return t.children_user + t.children_system


def live_latency(bank: ItemBank, design: dict, sessions: int) -> np.ndarray:
    """Seconds per step (next_item + record) of ``sessions`` shadow sessions answering at random."""
    engine = AdaptiveTest(bank, design)
    rng = np.random.default_rng(5)
    steps = []
    cpu = []
    for s in range(sessions):
        session = engine.start(seed=(99, s))
        while True:
            t0, c0 = time.perf_counter(), time.thread_time()
            item = session.next_item()
            if item is None:
                break
            session.record(item.id, "A" if rng.random() < 0.5 else "B")
            steps.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
    return np.array(steps), np.array(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1000)
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    bank = bench_bank()
    model = the_constraints(bank)
    limits = int((model.lower[1:] > 0).sum() + (model.upper[1:] < LENGTH).sum())
    print(
        f"bank {bank.n_items} items, {bank.enemy_pairs.shape[0]} enemy pairs, {limits} content limits, {LENGTH} items"
    )
    rows = []
    for name, design in designs().items():
        engine = AdaptiveTest(bank, design)
        t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
        res = simulate(
            engine,
            n=args.persons,
            seed=args.seed,
            baseline="none",
            processes=args.processes,
            chunk_size=max(1, args.persons // max(args.processes, 1)),
        )
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0 + _children_cpu() - k0  # worker processes too (--processes > 1)
        r = res[name] if name in [d.name for d in res] else list(res)[0]
        m = r.metrics
        who, total, enemies = violations(model, r)
        rows.append((name, m["rmse"], m["bias"], seconds, cpu, who, total, enemies))
        if name == "shadow":
            print(f"shadow assembler: {engine.core.rule.assembler.stats}")
    base = dict((r[0], r[1]) for r in rows)["mfi"]
    print(
        f"\n{'design':8} {'RMSE':>7} {'vs mfi':>7} {'bias':>7} {'wall s':>7} {'CPU s':>7} {'persons w/ violation':>21} "
        f"{'violations':>10} {'enemy pairs':>11}"
    )
    for name, rmse, bias, sec, cpu, who, total, enemies in rows:
        print(
            f"{name:8} {rmse:7.4f} {rmse / base - 1:+7.1%} {bias:+7.4f} {sec:7.1f} {cpu:7.1f} {who:21d} {total:10d} "
            f"{enemies:11d}"
        )
    if args.sessions:
        steps, cpu = live_latency(bank, designs()["shadow"], args.sessions)
        q = np.percentile(steps, [50, 99]) * 1e3
        qc = np.percentile(cpu, [50, 99]) * 1e3
        print(
            f"\nlive shadow step (next_item + record), {steps.size} steps of {args.sessions} sessions: "
            f"wall p50 {q[0]:.1f} ms, p99 {q[1]:.1f} ms, max {steps.max() * 1e3:.1f} ms; "
            f"CPU p50 {qc[0]:.1f} ms, p99 {qc[1]:.1f} ms"
        )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
