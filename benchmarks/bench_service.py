"""Benchmark of `digicomp serve` (issue 14): concurrent simulated test takers against real uvicorn workers.

For each store (PostgreSQL started in a temporary folder, and SQLite), ``--takers`` takers (default 200) sit a whole
test each against ``--workers`` workers (default 2), thinking ``--think`` seconds on average between answers
(exponential; default 2 s, ten times faster than a person reading an item, so 200 takers send about 100 answers a
second). Reported: answer latency p50/p90/p99 (ms, as the client sees it, loopback), answers per second, lost
answers (acknowledged but not in the store) and extra ones (stored but never acknowledged), and the bytes a browser
loads per step of the page. ``--think 0`` measures saturation (every taker answers as soon as it has its reply).
The load generator runs on the same machine, so it takes CPU from the workers: the figures are a lower bound.

    python benchmarks/bench_service.py                    # 200 takers, 2 workers, PostgreSQL and SQLite
    python benchmarks/bench_service.py --think 0 --stores sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table  # noqa: E402

from digicomp.store import open_store  # noqa: E402
from digicomp.store.pgserver import TemporaryPostgres  # noqa: E402
from tests.service.load import Takers, page_weights, store_answers  # noqa: E402
from tests.service.server import Served  # noqa: E402


def run_one(store_url: str, folder: Path, args: argparse.Namespace) -> dict:
    config = folder / f"SERVICE-{len(list(folder.iterdir()))}.yaml"
    config.write_text(json.dumps({"store": store_url, "rate_limits": None, "store_pool": args.pool}), encoding="utf-8")
    server = Served(store_url, workers=args.workers, config=config, log=folder / "serve.log")
    try:
        result = Takers(server.url, args.takers, think=args.think, seed=args.seed).run()
        with open_store(store_url) as store:  # before the page sitting below adds its own answers
            stored = store_answers(store)
        weights = page_weights(server.url)
    finally:
        server.stop()
    acknowledged = {(s, k): i for s, k, i in result.acknowledged}
    lost = sum(1 for key, item in acknowledged.items() if stored.get(key) != item)
    extra = len(set(stored) - set(acknowledged))
    return {
        "answers": len(result.latencies),
        "p50": result.percentile(50),
        "p90": result.percentile(90),
        "p99": result.percentile(99),
        "throughput": len(result.latencies) / result.seconds,
        "seconds": result.seconds,
        "lost": lost,
        "extra": extra,
        "errors": len(result.errors),
        "finished": len(result.finished),
        "page_max": max(weights),
        "page_median": statistics.median(weights),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takers", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think", type=float, default=2.0, help="mean think time between answers, seconds")
    parser.add_argument("--pool", type=int, default=4, help="store connections per worker")
    parser.add_argument("--stores", default="postgresql,sqlite")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()[0]:.2f} (1-min average), {os.cpu_count()} CPUs")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        folder = Path(tmp)
        for kind in args.stores.split(","):
            if kind == "postgresql":
                with TemporaryPostgres() as pg:
                    out = run_one(pg.new_database(), folder, args)
            else:
                out = run_one(f"sqlite:///{folder / 'store.db'}", folder, args)
            rows.append(
                [
                    kind,
                    f"{args.takers}",
                    f"{args.workers}",
                    f"{args.think:g}",
                    f"{out['answers']}",
                    f"{out['p50']:.1f}",
                    f"{out['p90']:.1f}",
                    f"{out['p99']:.1f}",
                    f"{out['throughput']:.0f}",
                    f"{out['lost']}",
                    f"{out['extra']}",
                    f"{out['errors']}",
                    f"{out['page_median'] / 1000:.1f}/{out['page_max'] / 1000:.1f}",
                ]
            )
    print_table(
        [
            "store",
            "takers",
            "workers",
            "think s",
            "answers",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "answers/s",
            "lost",
            "extra",
            "errors",
            "page KB med/max",
        ],
        rows,
    )
    print(f"load after: {os.getloadavg()[0]:.2f} (1-min average)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
