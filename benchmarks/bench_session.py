"""Live-session latency: next_item() + record() on a 1,000-item bank with content balancing and randomesque.

Run: python benchmarks/bench_session.py [--sessions 200] [--items 1000]
Prints p50/p99/max per-step latency (next_item + record, audit on and off) of ``--runs`` runs, the session JSON
size, the BLAS and the load average (the machine may be shared: quote figures with it).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from threadpoolctl import threadpool_info

from digicomp.bank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.cat import AdaptiveTest

COMPETENCES = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "3.1", "3.2", "4.1", "4.2", "5.1", "6.1", "7.1"]


def synthetic_bank(n_items: int, seed: int = 1) -> ItemBank:
    """A 3PL multiple-choice bank tagged over 7 areas of vn-civil-service, with some enemy pairs."""
    rng = np.random.default_rng(seed)
    items = []
    for j in range(n_items):
        items.append(
            {
                "id": f"i{j:04d}",
                "competence": COMPETENCES[j % len(COMPETENCES)],
                "level": int(rng.integers(1, 9)),
                "model": "3PL",
                "params": {"a": float(rng.lognormal(0, 0.3)), "b": float(rng.normal()), "c": 0.2},
                "calibration": {"status": "provisional", "rule": "r"},
                "stem": {"vi": f"Câu {j}", "en": f"Item {j}"},
                "options": [{"id": o, "vi": o, "en": o} for o in "ABCD"],
                "key": "A",
            }
        )
    for e in range(0, min(100, n_items - 1), 2):
        items[e]["enemies"] = [items[e + 1]["id"]]
    data = {
        "kind": "item_bank",
        "id": "bench",
        "version": "1",
        "framework": {"id": "vn-civil-service", "version": "0.1.0"},
        "scale": {
            "D": 1.0,
            "levels": ["foundation", "intermediate", "advanced", "highly_specialised"],
            "cut_scores": [-1.0, 0.0, 1.0],
            "cut_source": {"status": "provisional", "rule": "r"},
        },
        "rules": {"r": {"vi": "r", "en": "r"}},
        "items": items,
    }
    return ItemBank(BankFile.model_validate(data))


DESIGN = {
    "selection": {"rule": "mfi"},
    "exposure": {"method": "randomesque", "k": 5},
    "content": {
        "by": "area",
        "method": "mpi",
        "constraints": [{"group": g, "min": 2, "target": 1 / 7} for g in ["1", "2", "3", "4", "5", "6", "7"]],
    },
    "stop": {"max_items": 40, "rules": [{"se": 0.3}]},
}


def measure(engine: AdaptiveTest, bank: ItemBank, sessions: int, audit: bool) -> tuple[np.ndarray, list[int]]:
    """Per-step seconds of next_item() + record(), and each finished session's JSON size in bytes."""
    rng = np.random.default_rng(7)
    steps, sizes = [], []
    for s in range(sessions):
        theta = rng.standard_normal()
        session = engine.start(person_id=f"p{s}", seed=s, audit=audit)
        while True:
            t0 = time.perf_counter()
            item = session.next_item()
            if item is None:
                break
            t1 = time.perf_counter()
            p = bank.params.prob(np.array(theta))[bank.index_of(item.id), 1]  # the simulated person: not timed
            answer = "A" if rng.random() < p else "B"
            t2 = time.perf_counter()
            session.record(item.id, answer)
            t3 = time.perf_counter()
            steps.append((t1 - t0) + (t3 - t2))
        sizes.append(len(session.to_json().encode()))
    return np.array(steps), sizes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=1, help="repeat each measurement (medians differ under load)")
    args = ap.parse_args()
    for pool in threadpool_info():
        print(
            f"BLAS: {pool.get('internal_api')} {pool.get('version')} threads={pool.get('num_threads')} "
            f"({pool.get('threading_layer', '-')}, {pool.get('architecture', '-')})"
        )
    bank = synthetic_bank(args.items)
    t0 = time.perf_counter()
    engine = AdaptiveTest(bank, DESIGN)
    print(f"engine build: {1e3 * (time.perf_counter() - t0):.0f} ms for {bank.n_items} items")
    print(f"cpus: {os.cpu_count()}, load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    measure(engine, bank, 5, audit=False)  # warm-up
    for run in range(args.runs):
        for audit in (False, True):
            steps, sizes = measure(engine, bank, args.sessions, audit)
            p50, p99 = np.percentile(steps, [50, 99]) * 1e3
            print(
                f"run {run + 1} audit={'on ' if audit else 'off'}: {steps.size} steps in {args.sessions} sessions; "
                f"next_item+record p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {steps.max() * 1e3:.3f} ms; "
                f"session JSON {int(np.median(sizes))} B median, {max(sizes)} B max"
            )
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("design:", json.dumps(DESIGN))


if __name__ == "__main__":
    main()
