"""Parallel fixed forms (issue 18): 4 forms of 30 items from the bundled civil-service bank, area-by-level blueprint.

Run: python benchmarks/bench_assembly.py [--forms 4] [--time-limit 8] [--repeats 3]

Spec: examples/assembly/civil-service-paper.yaml (every area 3..5 items, level bands 6..9 / 6..12 / 6..9 from
foundation to advanced, every area at least one item in the two lower bands and two at levels 3-6, single-choice
items only, enemies apart, no item in two forms; minimax deviation from the auto target TIF at the three cut
scores). Prints per run the wall time of the
whole assembly (model, both MILP stages, checks), the solver status, the largest relative deviation from the target
and HiGHS's proven bound on it, each form's information at the cuts and the largest difference between forms per
cut ((max − min) / min), plus the load average (the machine may be shared: quote figures with it).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from digicomp.assembly import assemble_forms, build_model, read_spec
from digicomp.bank import load_bank

SPEC = Path(__file__).resolve().parents[1] / "examples" / "assembly" / "civil-service-paper.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--forms", type=int, default=4)
    ap.add_argument("--time-limit", type=float, default=8.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--spec", default=str(SPEC))
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    bank = load_bank("civil-service")
    spec, linemap, problems = read_spec(args.spec)
    assert not problems, problems
    for run in range(args.repeats):
        t0 = time.perf_counter()
        model = build_model(bank, spec, source=args.spec, linemap=linemap)
        result = assemble_forms(bank, model, spec, args.forms, time_limit=args.time_limit)
        seconds = time.perf_counter() - t0
        print(
            f"\nrun {run + 1}: {seconds:.2f} s wall, status {result.status}, {len(model.rows)} rows, "
            f"{int(model.allowed.sum())} usable items"
        )
        if result.objective == "minimax_target":
            print(
                f"  largest deviation from the target {result.value:.2%} (HiGHS bound {max(result.bound, 0):.2%}); "
                f"target at cuts {', '.join(f'{t:.3f}' for t in result.target)}"
            )
        for k, info in enumerate(result.information, start=1):
            print(f"  form {k}: " + "  ".join(f"{v:.3f}" for v in info))
        print("  largest difference between forms per cut: " + ", ".join(f"{s:.2%}" for s in result.spread))
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
