"""W4 CAT simulation benchmark: digicomp's lock-step simulate() against PyPI mirt's CATEngine and catsim.

Workload (W4 of the peer comparison in docs/simulation.md): 500 3PL items (a ~ lognormal(0, 0.3), b ~ N(0, 1),
c ~ U(0, 0.25)), 1,000 persons θ ~ N(0, 1), start θ = 0, maximum-information selection, EAP, stop at
SE < 0.30 or 40 items, no exposure or content control. Every peer runs the same bank and the same true θ.

Run: python benchmarks/bench_simulation.py [--repeats 5] [--catsim-subset 100] [--large 100000] [--skip-peers]
Times are wall-clock medians (min-max) of whole calls, in one process; catsim runs a subset of persons and its
time is extrapolated linearly to 1,000 (labelled). The machine is shared: compare ratios within one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import blas_report, print_table, summarise, time_runs

from digicomp.cat import AdaptiveTest
from digicomp.models import ItemParameters
from digicomp.simulation import simulate

DESIGN = {
    "id": "w4",
    "start": {"theta": 0.0},
    "selection": {"rule": "mfi"},
    "exposure": {"method": "none"},
    "scoring": {"method": "EAP", "prior": {"mean": 0.0, "sd": 1.0}, "points": 61, "range": [-6.0, 6.0]},
    "stop": {"max_items": 40, "rules": [{"se": 0.30}]},
    "report": {"audit": False},
}


def workload(n_persons: int, seed: int = 2026) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, c) of the 500-item 3PL bank and the true θ of ``n_persons`` persons."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.lognormal(0, 0.3, 500), rng.normal(0, 1, 500), rng.uniform(0, 0.25, 500)
    return a, b, c, rng.standard_normal(n_persons)


def timed(fn, repeats: int) -> tuple[list[float], list[float], object]:
    """Wall-clock and CPU seconds (this process, all threads) of ``repeats`` calls, and the last result."""
    wall, cpu, result = [], [], None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, result


def accuracy(theta_true: np.ndarray, theta: np.ndarray, lengths: np.ndarray) -> dict[str, float]:
    err = theta - theta_true
    return {
        "mean_length": float(np.mean(lengths)),
        "at_40": float(np.mean(lengths >= 40)),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "bias": float(np.mean(err)),
    }


def run_digicomp(a, b, c, theta, repeats: int, processes: int = 1) -> tuple[list[float], dict]:
    """simulate() whole (engine build + lock-step run + per-person results), from the item parameters."""

    def once():
        params = ItemParameters.dichotomous(a=a, b=b, c=c)
        return simulate(DESIGN, bank=params, thetas=theta, seed=1, baseline="none", processes=processes)["w4"]

    times, cpu, d = timed(once, repeats)
    return times, cpu, accuracy(theta, d.outcome["theta"], d.outcome["n_items"])


def run_digicomp_core(a, b, c, theta, repeats: int) -> tuple[list[float], list[float]]:
    """Engine build alone, and simulate() with the engine already built (the lock-step run + results)."""
    params = ItemParameters.dichotomous(a=a, b=b, c=c)
    build, _ = time_runs(lambda: AdaptiveTest(params, DESIGN), repeats)
    engine = AdaptiveTest(params, DESIGN)
    run, _ = time_runs(lambda: simulate(engine, thetas=theta, seed=1, baseline="none", processes=1), repeats)
    return build, run


def run_pymirt(a, b, c, theta, repeats: int, n_quadpts: int) -> tuple[list[float], dict]:
    """PyPI mirt 1.2 CATEngine.run_batch_simulation (its lock-step path for 3PL), engine construction included."""
    import mirt
    from mirt.cat import CATEngine

    model = mirt.ThreeParameterLogistic(a.size)
    model.set_parameters(discrimination=a, difficulty=b, guessing=c)
    model._is_fitted = True  # known parameters, as in the anchor-figures run: mirt has no public "fixed" flag

    def once():
        engine = CATEngine(
            model,
            item_selection="MFI",
            stopping_rule="SE",
            scoring_method="EAP",
            initial_theta=0.0,
            se_threshold=0.30,
            max_items=40,
            n_quadpts=n_quadpts,
            seed=1,
        )
        return engine.run_batch_simulation(theta)

    times, cpu, res = timed(once, repeats)
    return (
        times,
        cpu,
        accuracy(theta, np.array([r.theta for r in res]), np.array([r.n_items_administered for r in res])),
    )


def run_catsim(a, b, c, theta, subset: int) -> tuple[list[float], dict]:
    """catsim 0.21 Simulator (ML with Dodd's rule; SE from test information) on the first ``subset`` persons."""
    from catsim.estimation import NumericalSearchEstimator
    from catsim.initialization import FixedPointInitializer
    from catsim.selection import MaxInfoSelector
    from catsim.simulation import Simulator
    from catsim.stopping import MinErrorStopper

    items = np.column_stack([a, b, c, np.ones_like(a)])
    sim = Simulator(items, theta[:subset], seed=1)
    start, cpu0 = time.perf_counter(), time.process_time()
    sim.simulate(
        initializer=FixedPointInitializer(0.0),
        selector=MaxInfoSelector(),
        estimator=NumericalSearchEstimator(),
        stopper=MinErrorStopper(0.30, max_items=40),
    )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
    est = np.array([e[-1] for e in sim.estimations])
    lengths = np.array([len(x) for x in sim.administered_items])
    return [seconds], [cpu], accuracy(theta[:subset], est, lengths)


def med(times: list[float]) -> float:
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--catsim-subset", type=int, default=100, help="persons catsim runs (time extrapolated)")
    ap.add_argument("--large", type=int, default=100_000, help="persons of the large run (0 to skip)")
    ap.add_argument("--skip-peers", action="store_true")
    args = ap.parse_args()
    print(blas_report())
    print(f"cpus: {os.cpu_count()}, load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    a, b, c, theta = workload(1000)

    rows, base = [], None
    times, cpu, acc = run_digicomp(a, b, c, theta, args.repeats)
    base = med(times)
    rows.append(
        [
            "digicomp simulate() (build + run + results)",
            "EAP 61 pts",
            summarise(times),
            f"{med(cpu):.3f}",
            "1.0",
            f"{acc['mean_length']:.2f}",
            f"{acc['at_40']:.1%}",
            f"{acc['rmse']:.4f}",
            f"{acc['bias']:+.4f}",
        ]
    )
    build, run = run_digicomp_core(a, b, c, theta, args.repeats)
    rows.append(["  engine build alone (tables)", "", summarise(build), "", "", "", "", "", ""])
    rows.append(["  simulate() on a built engine", "", summarise(run), "", "", "", "", "", ""])
    if not args.skip_peers:
        for q in (21, 61):
            times, cpu, acc = run_pymirt(a, b, c, theta, max(1, args.repeats // 2 + 1), q)
            rows.append(
                [
                    "PyPI mirt 1.2 CATEngine batch",
                    f"EAP {q} pts",
                    summarise(times),
                    f"{med(cpu):.3f}",
                    f"{med(times) / base:.1f}",
                    f"{acc['mean_length']:.2f}",
                    f"{acc['at_40']:.1%}",
                    f"{acc['rmse']:.4f}",
                    f"{acc['bias']:+.4f}",
                ]
            )
        if args.catsim_subset:
            times, cpu, acc = run_catsim(a, b, c, theta, args.catsim_subset)
            k = 1000 / args.catsim_subset
            scaled = [t * k for t in times]
            rows.append(
                [
                    f"catsim 0.21 ({args.catsim_subset} persons, time x{k:g})",
                    "ML (Dodd)",
                    f"~{med(scaled):.1f} (extrapolated)",
                    f"~{med(cpu) * k:.1f}",
                    f"{med(scaled) / base:.0f}",
                    f"{acc['mean_length']:.2f}",
                    f"{acc['at_40']:.1%}",
                    f"{acc['rmse']:.4f}",
                    f"{acc['bias']:+.4f}",
                ]
            )
    print("\nW4: 1,000 persons, 500 3PL items, MFI, EAP, SE < 0.30 or 40 items; seconds median (min-max)")
    print_table(
        [
            "program",
            "scoring",
            "wall s for 1,000",
            "CPU s",
            "x digicomp (wall)",
            "mean length",
            "at 40",
            "RMSE",
            "bias",
        ],
        rows,
    )

    if args.large:
        _, _, _, big = workload(args.large, seed=2027)
        rows = []
        for procs in (1, 2):
            times, cpu, acc = run_digicomp(a, b, c, big, 1, processes=procs)
            rows.append(
                [
                    f"digicomp simulate(), {procs} process{'es' if procs > 1 else ''}",
                    summarise(times),
                    f"{med(cpu):.2f}",
                    f"{acc['mean_length']:.2f}",
                    f"{acc['rmse']:.4f}",
                    f"{acc['bias']:+.4f}",
                ]
            )
        print(f"\nW4 bank, {args.large:,} persons (one run each)")
        print_table(["program", "wall s", "CPU s (parent only)", "mean length", "RMSE", "bias"], rows)
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
