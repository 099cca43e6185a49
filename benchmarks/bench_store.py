"""Response-store benchmark: sessions written per second from 2 processes, and reading 1,000,000 responses.

    python benchmarks/bench_store.py [--sessions 4000] [--batch 1 --batch 50] [--responses 1000000]
                                     [--postgres URL]   # default: a throw-away local server (needs postgresql)

Sessions are simulated with the batch core on a 300-item 2PL bank (5 pretest items seeded in each test), so
each stored session is what a live one writes (about 25 items with answers, positions, result JSON). Writers are
forked processes, each with its own connection, writing its half in transactions of ``--batch`` sessions;
``--batch 1`` is a live server writing each session as it ends. The read figure is ``store.read_responses``:
SQL query, transfer, and the arrays of the calibrator's sparse Responses.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import blas_report, print_table

from digicomp.bank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.cat import AdaptiveTest
from digicomp.loop.simulate import simulate_records
from digicomp.store import open_store
from digicomp.store.pgserver import TemporaryPostgres

N_OPERATIONAL, N_PRETEST = 300, 20


def bench_bank() -> ItemBank:
    """300 operational 2PL items plus 20 provisional pretest items (flag 'pretest')."""
    rng = np.random.default_rng(1)
    items = [
        {
            "id": f"op{j:03d}",
            "model": "2PL",
            "params": {"a": round(float(rng.lognormal(0.1, 0.25)), 3), "b": round(float(rng.normal(0, 1.1)), 3)},
            "calibration": {"status": "imported", "source": "benchmark"},
        }
        for j in range(N_OPERATIONAL)
    ]
    items += [
        {
            "id": f"pre{j:02d}",
            "model": "2PL",
            "params": {"a": 1.0, "b": 0.0},
            "flags": ["pretest"],
            "calibration": {"status": "provisional", "rule": "expert"},
        }
        for j in range(N_PRETEST)
    ]
    return ItemBank(
        BankFile.model_validate(
            {
                "kind": "item_bank",
                "id": "bench",
                "version": "1",
                "scale": {"D": 1.0},
                "rules": {"expert": {"vi": "Giá trị do chuyên gia đặt", "en": "Expert-set values"}},
                "items": items,
            }
        )
    )


def records(bank: ItemBank, n: int, seed: int, prefix: str) -> list:
    engine = AdaptiveTest(
        bank,
        {
            "stop": {"min_items": 10, "max_items": 30, "rules": [{"se": 0.3}]},
            "seeding": {"n": 5, "flags": ["pretest"], "within": 20},
        },
    )
    return simulate_records(engine, bank.params, np.random.default_rng(seed).normal(size=n), seed, prefix)


def _writer(url: str, part: list, batch: int, start: mp.Barrier) -> None:
    with open_store(url) as store:
        start.wait()
        for k in range(0, len(part), batch):
            store.write_many(part[k : k + batch])


def write_rate(url: str, recs: list, batch: int, processes: int = 2) -> float:
    """Sessions per second written by ``processes`` forked writers (wall time from a common start)."""
    ctx = mp.get_context("fork")
    start = ctx.Barrier(processes + 1)
    parts = [recs[k::processes] for k in range(processes)]
    procs = [ctx.Process(target=_writer, args=(url, p, batch, start)) for p in parts]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    for p in procs:
        p.join()
        if p.exitcode:
            raise SystemExit(f"writer failed with exit code {p.exitcode}")
    return len(recs) / (time.perf_counter() - t0)


def read_time(url: str, bank: ItemBank, repeats: int = 3) -> tuple[float, int]:
    """Best of ``repeats`` seconds of ``read_responses`` and the number of responses read."""
    best, n = float("inf"), 0
    with open_store(url) as store:
        for _ in range(repeats):
            t0 = time.perf_counter()
            got = store.read_responses(bank)
            best = min(best, time.perf_counter() - t0)
            n = got.n_responses
    return best, n


def fill(url: str, bank: ItemBank, target: int, have: int) -> int:
    """Add simulated sessions until the store holds at least ``target`` responses; returns the count."""
    with open_store(url) as store:
        k = 0
        while have < target:
            chunk = records(bank, 5000, 100 + k, f"fill{k}")
            store.write_many(chunk)
            have += sum(r.n_items for r in chunk)
            k += 1
    return have


def run_backend(name: str, url: str, bank: ItemBank, sessions: int, batches: list[int], responses: int) -> list:
    with open_store(url) as store:
        store.register_bank(bank)
    rows = []
    for b in batches:
        recs = records(bank, sessions, seed=b, prefix=f"w{b}")
        rate = write_rate(url, recs, b)
        rows.append(
            [
                name,
                f"write, 2 processes, {b} session(s)/transaction",
                f"{rate:,.0f} sessions/s",
                f"{rate * np.mean([r.n_items for r in recs]):,.0f} responses/s",
            ]
        )
    with open_store(url) as store:
        have = store.count()[1]
    fill(url, bank, responses, have)
    seconds, n = read_time(url, bank)
    rows.append([name, f"read {n:,} responses into Responses", f"{seconds:.2f} s", f"{n / seconds:,.0f} responses/s"])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=4000, help="sessions written per measurement (default 4000)")
    ap.add_argument("--batch", type=int, action="append", help="sessions per transaction (repeatable; default 1, 50)")
    ap.add_argument("--responses", type=int, default=1_000_000, help="responses in the store for the read timing")
    ap.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database (default: a throw-away server)")
    args = ap.parse_args()
    batches = args.batch or [1, 50]
    bank = bench_bank()
    print(f"digicomp store benchmark; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {blas_report()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += run_backend(
            "SQLite (WAL, synchronous=FULL)", str(Path(tmp) / "bench.db"), bank, args.sessions, batches, args.responses
        )
    if args.postgres:
        rows += run_backend("PostgreSQL", args.postgres, bank, args.sessions, batches, args.responses)
    else:
        with TemporaryPostgres() as server:
            rows += run_backend(
                "PostgreSQL (local, 127.0.0.1)", server.new_database(), bank, args.sessions, batches, args.responses
            )
    print_table(["back end", "measure", "result", "rate"], rows)


if __name__ == "__main__":
    main()
