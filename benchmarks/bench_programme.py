"""Issue 15: the whole programme report (``digicomp progress``) on 200,000 stored sessions in 1,000 units.

Target: ≤ 10 s on SQLite and on PostgreSQL. The store is filled synthetically by bulk insert (sessions with θ, SE,
level, per-area scores and "to work on", 10% retests, nine months; no response rows, which the report never reads);
the timed part is one ``digicomp progress`` run in-process: reading the store, placing persons, every estimate
(overall and 8 areas, targets, needs, retests, monthly progress), the CSV/JSON files and the HTML page.

    python benchmarks/bench_programme.py                    # both back ends, 200,000 sessions, 1,000 units
    python benchmarks/bench_programme.py --backends sqlite --sessions 20000 --units 100
    python benchmarks/bench_programme.py --calibration      # the interval calibration table (simulation)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from programme_store import fill_store, unit_tree, write_units_csv  # noqa: E402


def run_report(url: str, folder: Path, fresh: bool = False) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole ``digicomp progress`` run; CPU is the run's (not the database server's).

    ``fresh``: in a new process, as a user runs the command (start-up, imports and every page of its memory
    faulted in anew: on this machine a fresh process's page faults cost seconds of system time that later runs in
    the same process, reusing freed memory, do not pay)."""
    argv = [
        "progress",
        "--store",
        url,
        "--units",
        str(folder / "units.csv"),
        "--targets",
        str(folder / "targets.yaml"),
        "--out",
        str(folder / "out"),
        "--html",
        str(folder / "report.html"),
        "--as-of",
        "2026-11-30",
    ]
    if fresh:
        import resource
        import subprocess

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", "import sys; from digicomp.cli import main; sys.exit(main(sys.argv[1:]))", *argv],
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode:
            raise SystemExit(f"digicomp progress exited {done.returncode}: {done.stderr[-2000:]}")
        return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    from digicomp.cli import main

    start, cpu = time.perf_counter(), time.process_time()
    code = main(argv)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if code:
        raise SystemExit(f"digicomp progress exited {code}")
    return elapsed, cpu


def bench(
    backend: str,
    n_sessions: int,
    n_units: int,
    repeats: int,
    likelihoods: bool = False,
    settle: bool = False,
    fresh: bool = False,
) -> None:
    from digicomp.bank import load_bank
    from digicomp.bundled import bundled_path
    from digicomp.store import open_store

    bank = load_bank(bundled_path("item_banks", "civil-service"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        units = unit_tree(n_units)
        write_units_csv(units, folder / "units.csv")
        (folder / "targets.yaml").write_text(
            "targets:\n  - {level: intermediate, share: 0.8, date: 2026-12-31}\n", encoding="utf-8"
        )
        server = None
        if backend == "sqlite":
            url = f"sqlite:///{folder / 'store.db'}"
        else:
            from digicomp.store.pgserver import TemporaryPostgres

            server = TemporaryPostgres().__enter__()
            url = server.new_database()
        try:
            start = time.perf_counter()
            if fresh:  # filled by a process of its own too: this one then holds none of the fill's memory
                _fill_in_child(url, n_sessions, n_units, likelihoods)
            else:
                with open_store(url) as store:
                    fill_store(store, bank, units, n_sessions, likelihoods=likelihoods)
            fill = time.perf_counter() - start
            if server is not None and settle:
                with open_store(url) as store:  # what autovacuum does after a bulk load, before the timed runs
                    store._conn.execute("VACUUM ANALYZE")
            runs = [run_report(url, folder, fresh) for _ in range(repeats)]
        finally:
            if server is not None:
                server.__exit__(None, None, None)
    load = os.getloadavg()
    times = [wall for wall, _ in runs]
    best_cpu = min(runs)[1]
    print(
        f"{backend:10s} {n_sessions:>9,d} sessions {n_units:>6,d} units{' (likelihoods)' if likelihoods else ''}"
        f"{' (fresh processes)' if fresh else ''}  "
        f"fill {fill:6.1f} s  report "
        f"min {min(times):5.2f} s (CPU {best_cpu:5.2f} s)  max {max(times):5.2f} s  "
        f"(load {load[0]:.2f} {load[1]:.2f}; runs in order {', '.join(f'{t:.2f}' for t in times)} s)",
        flush=True,
    )


def _fill_in_child(url: str, n_sessions: int, n_units: int, likelihoods: bool) -> None:
    """Fill the store in a new process (``--fresh``: the timed runs are new processes, and a benchmark process that
    held the fill's gigabyte would make their page faults dearer on this machine than a user's would be)."""
    import subprocess

    here = str(Path(__file__).resolve().parent)
    code = (
        f"import sys; sys.path.insert(0, {here!r}); from programme_store import fill_store, unit_tree; "
        "from digicomp.bank import load_bank; from digicomp.bundled import bundled_path; "
        "from digicomp.store import open_store; "
        f"store = open_store({url!r}); fill_store(store, load_bank(bundled_path('item_banks', 'civil-service')), "
        f"unit_tree({n_units}), {n_sessions}, likelihoods={likelihoods}); store.close()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def calibration(seeds: list[int]) -> None:
    import numpy as np

    from digicomp.programme.calibration import run_calibration

    design = Path(__file__).resolve().parents[1] / "examples" / "designs" / "civil-service-balanced.yaml"
    print("seed  pairs  coverage  width   est.bias  est.MAE  count.bias  count.MAE  count.coverage")
    studies = []
    for seed in seeds:
        study = run_calibration(design, seed=seed)
        studies.append(study)
        s = study.summary()
        print(
            f"{seed:4d}  {s['pairs']:5d}  {s['coverage']:8.3f}  {s['mean_interval_width']:.3f}  "
            f"{s['estimate_bias']:+.4f}  {s['estimate_mean_abs_error']:.4f}   {s['naive_bias']:+.4f}     "
            f"{s['naive_mean_abs_error']:.4f}     {s['count_coverage']:.3f}"
        )
    level = np.concatenate([s.level for s in studies])
    covered = np.concatenate([s.covered for s in studies])
    err = np.concatenate([s.estimate - s.true_share for s in studies])
    nerr = np.concatenate([s.naive - s.true_share for s in studies])
    ncov = np.concatenate([s.naive_covered for s in studies])
    print(f"all   {covered.size:5d}  {covered.mean():8.3f}  (count's own interval: {ncov.mean():.3f})")
    print("\nby level (all seeds): share at or above level k")
    print("level  pairs  coverage  est.bias  est.MAE  count.bias  count.MAE")
    for k in np.unique(level):
        sel = level == k
        print(
            f"{k:5d}  {sel.sum():5d}  {covered[sel].mean():8.3f}  {err[sel].mean():+.4f}  {np.abs(err[sel]).mean():.4f}"
            f"   {nerr[sel].mean():+.4f}     {np.abs(nerr[sel]).mean():.4f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    ap.add_argument("--sessions", type=int, default=200_000)
    ap.add_argument("--units", type=int, default=1_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--calibration", action="store_true", help="print the interval calibration table instead")
    ap.add_argument(
        "--likelihoods",
        action="store_true",
        help="store per-area log-likelihoods with every session (schema 6), so the report's per-area shares come from "
        "them; without, the sessions have none (no stored answers) and areas fall back to θ and SE",
    )
    ap.add_argument(
        "--settle",
        action="store_true",
        help="PostgreSQL: VACUUM ANALYZE after the bulk fill (what autovacuum does soon after one) before the timed "
        "runs; without it the first runs race the server's own maintenance of the fresh tables",
    )
    ap.add_argument(
        "--fresh",
        action="store_true",
        help="run each timed report in a new process, as a user runs the command (CPU: the child's user + system)",
    )
    ap.add_argument("--seeds", type=int, nargs="+", default=[2026, 7, 11, 12, 13])
    args = ap.parse_args()
    if args.calibration:
        calibration(args.seeds)
        return
    for backend in args.backends:
        bench(backend, args.sessions, args.units, args.repeats, args.likelihoods, args.settle, args.fresh)


if __name__ == "__main__":
    main()
