"""Start-up benchmark: whole `digicomp` processes, as a user runs them.

Timed commands (each a fresh process, the installed `digicomp` console script):
  help      `digicomp --help`                                                         target ≤ 0.15 s
  simulate  `digicomp simulate` on W4: 500 3PL items (a ~ lognormal(0, 0.3), b ~ N(0, 1), c ~ U(0, 0.25), seed 2026,
            as benchmarks/bench_simulation.py), 1,000 persons, MFI + EAP (61 points), SE < 0.30 or 40 items, no
            exposure or content control, no baseline; the bank is a mirt parameter table   target ≤ 0.35 s
and, for scale, `python -c pass` and `python -c "import numpy"`. Each command runs --repeats times after one warm-up
run (which also writes the compiled bytecode, as an installed package has it); the table gives min and median
wall-clock seconds and the median CPU seconds (user + system; numpy's BLAS threads can make it exceed the wall
time). The machine may be shared: the load average is printed before and after, and the minimum is the figure to
compare with a target. On a busy machine, run it at real-time priority (root: `chrt -f 10 python ...`) so that other
processes do not preempt the measured ones; they still share the caches and the other cores.

Run: python benchmarks/bench_startup.py [--repeats 15] [--importtime]
--importtime adds the heaviest imports of the simulate process (python -X importtime, cumulative ms).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table

TARGETS = {"help": 0.15, "simulate": 0.35}

DESIGN = """\
kind: cat_design
id: w4
start: {theta: 0.0}
selection: {rule: mfi}
exposure: {method: none}
scoring: {method: EAP, prior: {mean: 0.0, sd: 1.0}, points: 61, range: [-6.0, 6.0]}
stop: {max_items: 40, rules: [{se: 0.30}]}
report: {audit: false}
"""


def write_w4(folder: Path) -> tuple[Path, Path]:
    """The W4 bank as a mirt parameter table and the W4 design, written to ``folder``."""
    import numpy as np

    from digicomp.bank import ItemBank
    from digicomp.models import ItemParameters

    rng = np.random.default_rng(2026)
    a, b, c = rng.lognormal(0, 0.3, 500), rng.normal(0, 1, 500), rng.uniform(0, 0.25, 500)
    params = folder / "w4-params.csv"
    ItemBank.from_item_parameters(ItemParameters.dichotomous(a=a, b=b, c=c)).to_param_table(params)
    design = folder / "w4-design.yaml"
    design.write_text(DESIGN, encoding="utf-8")
    return params, design


def run_times(argv: list[str], repeats: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) seconds of ``repeats`` runs of ``argv``, after one warm-up run."""
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    wall, cpu = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
        wall.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def heaviest_imports(argv: list[str], env: dict[str, str], top: int = 12) -> list[tuple[str, float]]:
    """Top-level imports of one run of ``argv`` under -X importtime, by cumulative milliseconds."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, check=True, env=env
    )
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m[2]) <= 1:
            rows.append((m[3], int(m[1]) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:top]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--importtime", action="store_true", help="also list the simulate process's heaviest imports")
    args = ap.parse_args()

    # the console script installed beside this interpreter (not a pyenv shim on PATH, which starts pyenv first)
    script = Path(sys.executable).parent / "digicomp"
    digicomp = [str(script)] if script.exists() else [sys.executable, "-m", "digicomp.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        params, design = write_w4(Path(tmp))
        # As on a user's machine, Python keeps compiled bytecode (here in a cache folder of its own, so the
        # checkout stays clean); PYTHONDONTWRITEBYTECODE would make every run recompile digicomp's sources.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        simulate = [*digicomp, "simulate", str(design), "--bank", str(params), "--n", "1000", "--baseline", "none"]
        simulate += ["--seed", "1", "--quiet"]
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
            "help": [*digicomp, "--help"],
            "simulate": simulate,
        }
        load_before = os.getloadavg()
        rows = []
        for name, argv in commands.items():
            wall, cpu = run_times(argv, args.repeats, env)
            target = TARGETS.get(name)
            rows.append(
                [
                    name,
                    f"{min(wall):.3f}",
                    f"{statistics.median(wall):.3f}",
                    f"{statistics.median(cpu):.3f}",
                    "" if target is None else f"≤ {target:.2f}: {'met' if min(wall) <= target else 'NOT met'}",
                ]
            )
        load_after = os.getloadavg()
        print(f"command: {' '.join(digicomp)}  (python {sys.version.split()[0]}, {os.cpu_count()} cores)")
        print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; {args.repeats} runs each")
        print_table(["command", "min s", "median s", "median CPU s", "target (min)"], rows)
        if args.importtime:
            print("\nheaviest top-level imports of the simulate process (cumulative ms, one run):")
            module_argv = ["-m", "digicomp.cli", *simulate[len(digicomp) :]]
            heaviest_imports(module_argv, env)  # writes the bytecode of modules only imported under -m
            for module, ms in heaviest_imports(module_argv, env):
                print(f"  {ms:8.1f}  {module}")


if __name__ == "__main__":
    main()
