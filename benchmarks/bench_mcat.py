"""Multidimensional adaptive testing (issue 12): MCAT speed and live latency on the derived civil-service bank.

Run: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 python benchmarks/bench_mcat.py
     [--part speed|live|all]

The bank: the civil-service framework's 8 areas as dimensions with correlation 0.8, the bundled bank's items
loading on their own area with their provisional parameters (examples/make_area_bank.py, derived afresh).
Per-area accuracy against today's design is benchmarks/bench_per_area.py.

* speed: 1,000 persons, 8 dimensions, 30 items, D-optimality, lock-step core (selection + Newton update), best of 3;
  the final EAP (QMC) of the same persons timed apart.
* live: next_item() + record() per step of 200 sessions of 30 items on the derived bank (Bayesian D-optimality,
  content minimums, randomesque), p50/p99/max.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))

from _common import blas_report  # noqa: E402
from make_area_bank import derive  # noqa: E402

from digicomp.bank import load_bank  # noqa: E402
from digicomp.cat import AdaptiveTest  # noqa: E402
from digicomp.cat.design import load_design  # noqa: E402
from digicomp.io.yamlfile import dump_yaml  # noqa: E402
from digicomp.simulation.multidim import (  # noqa: E402
    MultidimResponder,
    draw_multidim_thetas,
)

ROOT = Path(__file__).parents[1]
MCAT = ROOT / "examples" / "designs" / "civil-service-mcat.yaml"


def truth_bank(folder: Path):
    """The derived multidimensional bank, written beside the run and loaded (validated) like any bank."""
    path = folder / "civil-service-areas.yaml"
    dump_yaml(derive(), path)
    return load_bank(path)


def design(path: Path, bank, exclude: list[str], **changes) -> dict:
    """The design file as a dict for ``bank``, with ``exclude`` (ids of that bank) left out and ``changes``."""
    d = load_design(path).model_dump(exclude_unset=True)  # defaults unset: a design prior is refused on an MCAT
    d.pop("kind")
    d.pop("bank", None)
    d.update(changes)
    ids = [i for i in dict.fromkeys(exclude) if i in bank.ids]
    d["content"] = dict(d.get("content") or {}, exclude={"ids": ids})
    return d


def speed(folder: Path, repeats: int = 3) -> None:
    """1,000 persons × 30 items × 8 dimensions, D-optimality, lock-step."""
    truth = truth_bank(folder)
    theta = draw_multidim_thetas(truth.dims.correlation, 1000, seed=1)
    engine = AdaptiveTest(truth, {"selection": {"rule": "d_optimality"}, "stop": {"min_items": 30, "max_items": 30}})
    respond = MultidimResponder(truth.mparams, theta, np.arange(truth.n_items))
    times, cpu = [], []
    for _ in range(repeats):
        state = engine.new_batch(1000, seed=7)
        start, c0 = time.perf_counter(), time.thread_time()
        engine.core.run(state, respond)
        times.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - c0)
    from digicomp.scoring.multidim_score import score_answers

    m = engine.core.model
    start = time.perf_counter()
    score_answers(
        m.items,
        state.sequence,
        state.responses,
        m.prior,
        truth.dims.ids,
        truth.dims.weights,
        method="EAP",
        mode=(state.mtheta, state.mcov),
    )
    eap = time.perf_counter() - start
    print(
        f"MCAT speed: 1,000 persons, {truth.dims.n} dimensions, 30 items, D-optimality, bank of {truth.n_items} items: "
        f"best {min(times):.2f} s wall, {min(cpu):.2f} s CPU (runs {', '.join(f'{t:.2f}' for t in times)}; "
        "target ≤ 3 s); "
        f"final QMC EAP (2,048 Sobol points) of the same persons {eap:.2f} s; load {os.getloadavg()}"
    )


def live(folder: Path, sessions: int = 200) -> None:
    """Per-step latency of live sessions on the derived bank: wall clock, and this thread's CPU time (what the step
    costs without the other processes of a shared machine)."""
    truth = truth_bank(folder)
    engine = AdaptiveTest(truth, design(MCAT, truth, []))
    rng = np.random.default_rng(3)
    wall, cpu = [], []
    for s in range(sessions):
        session = engine.start(seed=s, audit=False)
        while True:
            w0, c0 = time.perf_counter(), time.thread_time()
            item = session.next_item()
            if item is None:
                break
            session.record(item.id, _answer(truth, truth.index_of(item.id), rng))
            wall.append(time.perf_counter() - w0)
            cpu.append(time.thread_time() - c0)
    w, c = np.array(wall) * 1000, np.array(cpu) * 1000
    print(
        f"live step (next_item + record), {sessions} sessions × 30 items, bank of {truth.n_items} items "
        "(target p99 ≤ 5 ms):"
    )
    for name, v in (("wall", w), ("CPU ", c)):
        print(f"  {name}: p50 {np.percentile(v, 50):.2f} ms, p99 {np.percentile(v, 99):.2f} ms, max {v.max():.2f} ms")
    print(f"  load average {os.getloadavg()}")


def _answer(bank, j: int, rng):
    """A raw answer to item j scoring a random category."""
    from digicomp.bank.scoring import answer_for

    return answer_for(bank.items[j], int(rng.integers(0, int(bank.params.n_categories[j]))))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", default="all", choices=["speed", "live", "all"])
    args = p.parse_args(argv)
    print(blas_report(), f"| OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')} | load {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.part in ("speed", "all"):
            speed(folder)
        if args.part in ("live", "all"):
            live(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
