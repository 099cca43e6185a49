"""Benchmark: 2PL calibration time and accuracy against the Python peers, in one run.

Workloads (issue 5; a ~ lognormal(0, 0.3), b ~ N(0, 1), θ ~ N(0, 1), D = 1, seeded):
  W1 40 items × 5,000 persons complete; W2 100 × 50,000 complete; W3 300 × 20,000 with 30 random items each;
  W4 1,000 × 1,000,000 with 30 each (only with --large).
Peers (the ``bench`` extra; skipped cleanly when missing): PyPI ``mirt`` 1.2 (pymirt) with 61 quadrature points
and no SEs, and girth 0.8 ``twopl_mml``. digicomp runs with 61 points, tol 1e-4 (mirt's rule), no SEs/fit.
Each workload runs ``--repeats`` rounds; a round times every tool once, in turn, so a change in the machine's
load during the run falls on all tools alike. The table shows the median fit time (min-max), the ratio of
medians to digicomp, RMSE of a and b against the simulated truth and the EM cycles, and each workload's line
ends with the load average (1 min) before and after it; the first line names the BLAS kernel and threads.

Run:  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_calibration.py [--large] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings

import numpy as np
from _common import blas_report

from digicomp.calibration import calibrate
from digicomp.responses import Responses

WORKLOADS = {"W1": (40, 5_000, None), "W2": (100, 50_000, None), "W3": (300, 20_000, 30), "W4": (1_000, 1_000_000, 30)}


def simulate(n_items: int, n_persons: int, per_person: int | None, seed: int = 2026):
    """(a, b, responses) with -1 for not administered; sparse designs pick items uniformly at random."""
    rng = np.random.default_rng(seed)
    a = rng.lognormal(0.0, 0.3, n_items)
    b = rng.normal(0.0, 1.0, n_items)
    theta = rng.normal(0.0, 1.0, n_persons)
    if per_person is None:
        x = (rng.random((n_persons, n_items)) < 1 / (1 + np.exp(-a * (theta[:, None] - b)))).astype(np.int8)
        return a, b, Responses.from_dense(x), x
    item = np.empty((n_persons, per_person), dtype=np.intp)
    for lo in range(0, n_persons, 20_000):  # a random subset per person, in slabs to bound memory
        hi = min(lo + 20_000, n_persons)
        item[lo:hi] = np.argpartition(rng.random((hi - lo, n_items)), per_person, axis=1)[:, :per_person]
    item.sort(axis=1)
    person = np.repeat(np.arange(n_persons), per_person)
    item = item.ravel()
    p = 1 / (1 + np.exp(-a[item] * (theta[person] - b[item])))
    value = (rng.random(person.size) < p).astype(np.int64)
    return a, b, Responses(person, item, value, n_persons, n_items), None


def rmse(est: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((est - truth) ** 2)))


def run_digicomp(resp: Responses, dense) -> tuple[np.ndarray, np.ndarray, int]:
    res = calibrate(resp, "2PL", se=False, fit=False)
    a = res.params.slope
    return a, -res.params.intercepts[:, 0] / a, res.iterations


def run_pymirt(resp: Responses, dense) -> tuple[np.ndarray, np.ndarray, int]:
    import mirt

    data = dense if dense is not None else resp.dense()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mirt.fit_mirt(np.asarray(data, dtype=np.int64), "2PL", n_quadpts=61, compute_standard_errors=False)
    pars = fit.model.parameters
    return np.ravel(pars["discrimination"]), np.ravel(pars["difficulty"]), int(fit.n_iterations)


def run_girth(resp: Responses, dense) -> tuple[np.ndarray, np.ndarray, int]:
    import girth

    data = (dense if dense is not None else resp.dense()).T.astype(int)
    if dense is None:
        data = girth.tag_missing_data(data, [0, 1])
    out = girth.twopl_mml(data)
    return np.asarray(out["Discrimination"]), np.asarray(out["Difficulty"]), -1


PEERS = {"digicomp": run_digicomp, "pymirt (61 pts)": run_pymirt, "girth": run_girth}


def available(name: str) -> bool:
    try:
        __import__({"pymirt (61 pts)": "mirt", "girth": "girth"}.get(name, "digicomp"))
    except ImportError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--large", action="store_true", help="also run W4 (1,000 items × 1,000,000 persons)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", nargs="*", help="workloads to run (default W1 W2 W3)")
    ap.add_argument("--peers", nargs="*", default=list(PEERS), help="tools to run")
    args = ap.parse_args()
    names = args.only or ["W1", "W2", "W3"] + (["W4"] if args.large else [])
    print(blas_report())
    header = ("workload", "tool", "fit s median (min-max)", "ratio", "RMSE a", "RMSE b", "iters")
    print(f"{header[0]:<9} {header[1]:<16} {header[2]:>24} {header[3]:>6} {header[4]:>7} {header[5]:>7} {header[6]:>5}")
    for w in names:
        J, N, per = WORKLOADS[w]
        a, b, resp, dense = simulate(J, N, per)
        tools = []
        for tool in args.peers:
            if not available(tool):
                print(f"{w:<9} {tool:<16} skipped (not installed)")
            elif w == "W4" and tool != "digicomp":
                print(f"{w:<9} {tool:<16} skipped (dense 1M × 1000 matrix does not fit)")
            else:
                tools.append(tool)
        load_before = os.getloadavg()[0]
        times: dict[str, list[float]] = {tool: [] for tool in tools}
        fits = {}
        for _ in range(args.repeats if w != "W4" else 1):
            for tool in tools:
                t = time.perf_counter()
                fits[tool] = PEERS[tool](resp, dense)
                times[tool].append(time.perf_counter() - t)
        base = float(np.median(times["digicomp"])) if "digicomp" in times else None
        for tool in tools:
            ea, eb, iters = fits[tool]
            med = float(np.median(times[tool]))
            ratio = f"{med / base:6.1f}" if base else "     -"
            span = f"({min(times[tool]):.2f}-{max(times[tool]):.2f})"
            print(
                f"{w:<9} {tool:<16} {med:9.2f} {span:<14} {ratio} {rmse(ea, a):7.4f} {rmse(eb, b):7.4f} {iters:>5}",
                flush=True,
            )
        print(f"{w:<9} load average (1 min) {load_before:.2f} before, {os.getloadavg()[0]:.2f} after", flush=True)
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
