"""Timing of issue 13's pilot analytics (the 13a part), with PyPI `mirt` on the steps both programs have.

A: the 300-item x 20,000-person sparse pilot of issue 13 (30 random items each, 2PL, a ~ lognormal(0.2, 0.25),
b ~ N(0, 1), theta ~ N(0, 1), seeded): classical item analysis, distractor tables (4 options, 5 score groups),
person fit (WLE estimated, and at given theta), Zh, Q3. digicomp only (the sparse design has no complete persons
for pymirt's functions).
B: M2 and Q3 of a complete 20-item x 5,000-person 2PL test at known parameters, digicomp against pymirt
(`mirt.compute_m2` with 61 points, `mirt.Q3` at the same theta), the statistics compared.
C: the nominal response model on Science (mirt's data), its EM time and log-likelihood.
Each figure is one run; the load average is printed before and after.

    python benchmarks/bench_pilot_analytics.py
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np

from digicomp.analysis import classical_analysis, distractor_analysis, m2, person_fit, q3, zh
from digicomp.calibration.nominal import calibrate_nominal
from digicomp.models import ItemParameters
from digicomp.responses import Responses

warnings.simplefilter("ignore")
DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def timed(name: str, f):
    start = time.perf_counter()
    out = f()
    print(f"  {name:<34} {time.perf_counter() - start:7.2f} s")
    return out


def load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def part_a() -> None:
    rng = np.random.default_rng(0)
    N, J, A = 20_000, 300, 30
    params = ItemParameters.dichotomous(a=rng.lognormal(0.2, 0.25, J), b=rng.normal(0, 1, J))
    x = params.simulate(rng.normal(size=N), rng).astype(float)
    keep = np.argsort(rng.random((N, J)), axis=1)[:, :A]
    sparse = np.full((N, J), np.nan)
    rows = np.arange(N)[:, None]
    sparse[rows, keep] = x[rows, keep]
    wrong = rng.integers(1, 4, (N, J))
    choices = np.where(np.isnan(sparse), -1, np.where(sparse == 1, 0, wrong)).astype(np.intp)
    resp = Responses.from_dense(sparse)
    print(f"A. sparse pilot {J} items x {N:,} persons, {A} each ({load()})")
    timed("classical_analysis", lambda: classical_analysis(sparse))
    timed("distractor_analysis", lambda: distractor_analysis(choices, [list("ABCD")] * J, np.zeros(J, int), sparse))
    fit = timed("person_fit (WLE estimated)", lambda: person_fit(params, resp))
    timed("person_fit (theta given)", lambda: person_fit(params, resp, fit.theta))
    timed("zh (EAP estimated)", lambda: zh(params, resp))
    timed("q3 (EAP estimated)", lambda: q3(params, resp))
    print(f"  ({load()})")


def part_b() -> None:
    rng = np.random.default_rng(1)
    N, J = 5_000, 20
    a, b = rng.lognormal(0, 0.3, J), rng.normal(0, 1, J)
    params = ItemParameters.dichotomous(a=a, b=b)
    theta = rng.normal(size=N)
    x = params.simulate(theta, rng)
    resp = Responses.from_dense(x)
    print(f"B. complete {J} items x {N:,} persons at known 2PL parameters ({load()})")
    ours = timed("digicomp m2", lambda: m2(params, resp))
    q_ours = timed("digicomp q3 (theta given)", lambda: q3(params, resp, theta))
    try:
        import mirt as pymirt
    except ImportError:
        print("  pymirt not installed (pip install digicomp[bench])")
        return
    model = pymirt.TwoParameterLogistic(n_items=J)
    model.set_parameters(discrimination=a, difficulty=b)
    model._is_fitted = True  # parameters set by hand: pymirt's functions need the flag
    theirs = timed("pymirt compute_m2 (61 points)", lambda: pymirt.compute_m2(model, x, n_quadpts=61))
    q_theirs = timed("pymirt Q3", lambda: pymirt.Q3(model, x, theta))
    print(f"  M2 digicomp {ours.M2:.4f} (df {ours.df}), pymirt {theirs['M2']:.4f} (df {theirs['df']})")
    off = ~np.eye(J, dtype=bool)
    print(f"  Q3 largest difference {np.nanmax(np.abs(q_ours.Q3[off] - np.asarray(q_theirs)[off])):.2e}")
    print(f"  ({load()})")


def part_c() -> None:
    x = np.loadtxt(DATA / "science_mirt.csv", delimiter=",", skiprows=1).astype(int) - 1
    print(f"C. nominal response model, Science 4 items x 392 persons ({load()})")
    res = timed("calibrate_nominal", lambda: calibrate_nominal(Responses.from_dense(x)))
    print(f"  logLik {res.loglik:.3f} (mirt -1608.455), {res.iterations} EM cycles ({load()})")


if __name__ == "__main__":
    part_a()
    part_b()
    part_c()
