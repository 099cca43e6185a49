"""EAP scoring of 100,000 response patterns on 40 2PL items with 61 quadrature points (issue 2, W5).

digicomp against the peers a user would otherwise pick (PyPI `mirt` 1.2 and girth 0.8, from the
`bench` extra), in one run, on the same seeded data; prints times, ratios and agreement of θ.

    python benchmarks/bench_scoring.py [--persons 100000] [--items 40] [--repeats 5]

To time against a current numpy where OPENBLAS_CORETYPE is set (see the env notes), unset it and
OPENBLAS_L2_SIZE for this command alone: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python ...`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import blas_report, print_table, summarise, time_runs  # noqa: E402

from digicomp.models import ItemParameters  # noqa: E402
from digicomp.scoring import score  # noqa: E402


def workload(n_persons: int, n_items: int, seed: int = 20261127):
    """a ~ lognormal(0, 0.3), b ~ N(0, 1), θ ~ N(0, 1), D = 1; complete 0/1 responses."""
    rng = np.random.default_rng(seed)
    a = rng.lognormal(0.0, 0.3, n_items)
    b = rng.normal(0.0, 1.0, n_items)
    theta = rng.normal(0.0, 1.0, n_persons)
    params = ItemParameters.dichotomous(a=a, b=b)
    return a, b, theta, params, params.simulate(theta, rng)


def run_digicomp(params, x):
    return score(params, x, method="EAP", n_points=61, theta_range=(-6.0, 6.0)).theta


def run_pymirt(a, b, x):
    import mirt

    model = mirt.TwoParameterLogistic(len(a))
    model.set_parameters(discrimination=a, difficulty=b)
    model._is_fitted = True  # parameters are known: score with them as a fitted model
    return lambda: np.asarray(mirt.fscores(model, x, method="EAP", n_quadpts=61).theta).ravel()


def run_girth(a, b, x):
    from girth import ability_eap

    data = np.ascontiguousarray(x.T)
    opts = {"quadrature_n": 61, "quadrature_bounds": (-6.0, 6.0)}
    return lambda: np.asarray(ability_eap(data, b, a, options=opts))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    a, b, theta, params, x = workload(args.persons, args.items)
    print(f"EAP scoring: {args.persons:,} patterns × {args.items} 2PL items, 61 quadrature points on [-6, 6]")
    print(blas_report())
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, cores={os.cpu_count()}")
    runs = {"digicomp": lambda: run_digicomp(params, x)}
    for name, factory in (("mirt (PyPI) 1.2", run_pymirt), ("girth 0.8", run_girth)):
        try:
            runs[name] = factory(a, b, x)
        except ImportError:
            print(f"{name}: not installed (pip install -e '.[bench]'); skipped")
    results = {}
    for name, fn in runs.items():
        times, est = time_runs(fn, args.repeats)
        results[name] = (times, est)
    ours = statistics.median(results["digicomp"][0])
    ref = results["digicomp"][1]
    rows = []
    for name, (times, est) in results.items():
        rmse = float(np.sqrt(np.mean((est - theta) ** 2)))
        diff = float(np.max(np.abs(est - ref)))
        ratio = statistics.median(times) / ours
        rows.append([name, summarise(times), f"{ratio:.1f}x", f"{rmse:.4f}", f"{diff:.1e}"])
    print_table(["tool", "seconds median (min-max)", "time / digicomp", "RMSE θ", "max |θ - digicomp θ|"], rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
