"""``simulate()``: a Monte Carlo study of one or more CAT designs (plus a baseline) over the same persons."""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.cat.design import Design, design_from, resolve_bank_ref
from digicomp.cat.engine import AdaptiveTest, as_bank
from digicomp.cat.exposure import ItemEligibility, ProgressiveRestricted
from digicomp.errors import DesignError, ExposureWarning, ParameterError
from digicomp.levels import check_cuts
from digicomp.simulation.baseline import BASELINES, baseline_design
from digicomp.simulation.metrics import DEFAULT_EDGES, exposure_limit
from digicomp.simulation.parallel import auto_processes, run_chunks
from digicomp.simulation.population import Population, check_thetas, describe, draw_thetas
from digicomp.simulation.responder import item_map
from digicomp.simulation.results import DesignResult, SimulationResult
from digicomp.simulation.runner import Truth, merge
from digicomp.simulation.stream import DEFAULT_CONCURRENT, run_stream

DesignLike = Design | dict | str | PathLike[str] | AdaptiveTest
Progress = Callable[[str, int, int], None]
"""``progress(design name, persons done, persons in the study)``, called after each chunk."""


def simulate(
    designs: DesignLike | Sequence[DesignLike],
    *,
    thetas: ArrayLike | None = None,
    n: int | None = None,
    population: Population = "normal",
    seed: int = 0,
    bank: Any = None,
    true_bank: Any = None,
    baseline: str = "linear",
    baseline_length: int | None = None,
    cuts: ArrayLike | None = None,
    edges: ArrayLike | None = None,
    processes: int | None = None,
    chunk_size: int = 1000,
    concurrent: int | None = None,
    progress: bool | Progress = False,
) -> SimulationResult:
    """Simulate the same persons through each design's engine core in lock-step, and through a baseline.

    ``designs``: a design (file path, dict, Design or AdaptiveTest) or a list of them; ``bank`` overrides their
    ``bank:``. A given AdaptiveTest is used as it is (no rebuild), so its exposure ledger receives the simulated
    persons; other designs get a fresh engine. Persons: ``thetas`` (true θ), or ``n`` drawn from ``population`` with
    ``seed``; person i draws as a live session started with ``seed=(seed, i)``. Answers come from the design's bank,
    or from ``true_bank`` (same item ids) to study calibration error. ``baseline``: ``linear`` (best fixed form),
    ``random`` (random items) or ``none``, of ``baseline_length`` items (default: the first design's mean length,
    rounded). ``cuts`` replace the bank's cut scores for classification (finite, strictly increasing).
    ``processes`` (default: by study size) and ``chunk_size`` never change the result.

    Exposure control that reads past test takers (item eligibility, progressive–restricted) learns from a ledger
    of finished tests, so its result depends on how many people test at the same time: those designs run as a
    stream of arrivals with ``concurrent`` seats (default :data:`~digicomp.simulation.stream.DEFAULT_CONCURRENT`;
    see :mod:`digicomp.simulation.stream`), in this process, and an :class:`~digicomp.errors.ExposureWarning`
    says when the realised maximum exposure exceeds ``r_max`` by more than sampling error.
    """
    items = list(designs) if isinstance(designs, (list, tuple)) else [designs]
    if not items:
        raise DesignError("simulate: no design given")
    if baseline not in BASELINES:
        raise DesignError(f"baseline = {baseline!r}; expected one of {', '.join(BASELINES)}")
    if chunk_size < 1:
        raise ParameterError(f"chunk_size = {chunk_size}; expected a positive number of persons")
    concurrent = DEFAULT_CONCURRENT if concurrent is None else concurrent
    if isinstance(concurrent, bool) or not isinstance(concurrent, (int, np.integer)) or concurrent < 1:
        raise ParameterError(f"concurrent = {concurrent!r}; expected how many test takers test at once (≥ 1)")
    cuts = None if cuts is None else check_cuts(cuts)
    if thetas is not None and n is not None:
        raise ParameterError("simulate: give thetas or n, not both")
    if thetas is None:
        if n is None:
            raise ParameterError("simulate: give the true abilities (thetas=...) or a number of persons (n=...)")
        theta = draw_thetas(population, int(n), seed)
        pop = describe(population)
    else:
        theta = check_thetas(thetas)
        pop = "given thetas"
    processes = auto_processes(theta.size) if processes is None else max(1, int(processes))
    banks: dict[str, Any] = {}
    engines = [_engine(d, bank, banks) for d in items]
    for engine in engines:  # one θ per person cannot answer a multidimensional test (simulation.multidim can)
        if getattr(engine.bank, "dims", None) is not None:
            raise DesignError(
                f"design {engine.design.id!r}: bank {engine.bank.id!r} is multidimensional; simulate() draws one θ "
                "per person: use digicomp.simulation.multidim.simulate_areas with a multidimensional truth"
            )
    truth_bank = as_bank(true_bank) if true_bank is not None else None
    report = _progress_printer if progress is True else (progress or None)
    study = _Study(
        theta,
        seed,
        truth_bank,
        cuts,
        processes,
        chunk_size,
        int(concurrent),
        report,
        np.asarray(DEFAULT_EDGES if edges is None else edges, dtype=float),
    )
    results: dict[str, DesignResult] = {}
    for engine in engines:
        name = _unique(engine.design.id, results)
        results[name] = study.run(engine, name)
    if baseline != "none":
        first = next(iter(results.values()))
        length = baseline_length or max(1, round(first.metrics["mean_length"]))
        engine = AdaptiveTest(engines[0].bank, baseline_design(baseline, engines[0], length))
        name = _unique(engine.design.id, results)
        results[name] = study.run(engine, name)
    return SimulationResult(results, seed, pop)


class _Study:
    """The persons, answers and execution settings shared by every design of one study."""

    def __init__(
        self,
        theta: NDArray,
        seed: int,
        truth_bank: Any,
        cuts: ArrayLike | None,
        processes: int,
        chunk_size: int,
        concurrent: int,
        progress: Progress | None,
        edges: NDArray,
    ) -> None:
        self.theta, self.seed, self.truth_bank = theta, seed, truth_bank
        self.cuts = cuts
        self.processes, self.chunk_size, self.progress, self.edges = processes, chunk_size, progress, edges
        self.concurrent = concurrent

    def run(self, engine: AdaptiveTest, name: str) -> DesignResult:
        """All persons through ``engine``; the per-person outcome and its context."""
        bank = engine.bank
        if self.truth_bank is None:
            truth = Truth(bank.params)
        else:
            truth = Truth(self.truth_bank.params, item_map(bank.ids, self.truth_bank.params))
        cuts = bank.cut_scores if self.cuts is None else self.cuts
        ledger_bound = isinstance(engine.core.exposure, (ItemEligibility, ProgressiveRestricted))
        done = [0]

        def on_chunk(count: int) -> None:
            done[0] += count
            if self.progress is not None:
                self.progress(name, done[0], self.theta.size)

        start = time.perf_counter()
        if ledger_bound:
            seats = self.concurrent
            outcomes = run_stream(engine, self.seed, self.theta, truth, cuts, seats, self.chunk_size, on_chunk)
        else:
            outcomes = run_chunks(engine, self.seed, self.theta, truth, cuts, self.chunk_size, self.processes, on_chunk)
        seconds = time.perf_counter() - start
        levels = list(bank.scale.levels or []) if self.cuts is None else []
        if len(levels) != cuts.size + 1:
            levels = [f"L{i + 1}" for i in range(cuts.size + 1)]
        groups = None
        if "area_theta" in outcomes[0]:
            groups = list(bank.areas)
        outcome = merge(outcomes)
        if ledger_bound:
            _warn_if_over_target(name, engine, outcome, self.concurrent)
        ids = list(bank.ids)
        return DesignResult(name, engine.design, bank.id, ids, cuts, levels, groups, outcome, seconds, self.edges)


def _warn_if_over_target(name: str, engine: AdaptiveTest, outcome: dict, concurrent: int) -> None:
    """ExposureWarning when an item's exposure under control exceeds r_max by more than sampling error."""
    r_max = float(engine.core.exposure.r_max)
    sequence = outcome["sequence"][:, engine.core.n_pretest :]  # the first items are chosen without control
    n = sequence.shape[0]
    counts = np.bincount(sequence[sequence >= 0], minlength=engine.bank.n_items)
    limit = exposure_limit(r_max, n, engine.bank.n_items)
    short = int(np.sum(outcome["stop_reason"] == "no_items"))
    length = engine.design.stop.max_items
    if short:
        warnings.warn(
            f"design {name!r}: {short:,} of {n:,} tests ended early for want of eligible items under "
            f"{engine.core.exposure.name} with r_max = {r_max:g}: full tests of {length} items at that rate need "
            f"at least {length} / r_max = {math.ceil(length / r_max - 1e-9)} selectable items, the bank has "
            f"{int(engine.core.content.allowed.sum())} (and content limits may crowd some areas); raise r_max, "
            "shorten the test or add items",
            ExposureWarning,
            stacklevel=4,
        )
    over = np.flatnonzero(counts / n > limit)
    if over.size == 0:
        return
    worst = over[np.argmax(counts[over])]
    warnings.warn(
        f"design {name!r}: {engine.core.exposure.name} with r_max = {r_max:g} gave item {engine.bank.ids[worst]!r} to "
        f"{counts[worst] / n:.3f} of {n:,} test takers ({over.size} item(s) above {limit:.3f}, r_max plus sampling "
        f"error): the exposure ledger, filled only as tests end, cannot keep up with {concurrent} test takers at "
        "the same time (or content minimums force these items); a live programme with as many at once will see "
        "the same. Lower concurrent if fewer test at once, use sympson_hetter with parameters calibrated in "
        "advance, or relax content minimums",
        ExposureWarning,
        stacklevel=4,
    )


def _engine(design: DesignLike, bank: Any, banks: dict[str, Any]) -> AdaptiveTest:
    """The engine of ``design`` (an AdaptiveTest is used as it is); banks named by the same reference load once."""
    if isinstance(design, AdaptiveTest):
        return design if bank is None else AdaptiveTest(_bank(bank, banks), design.design)
    base = None
    if isinstance(design, (str, PathLike)):
        base = Path(design).parent
    spec = design_from(design)
    ref = bank if bank is not None else resolve_bank_ref(spec, base)
    if ref is None:
        raise DesignError(f"design {spec.id!r}: bank: the design names no bank; pass bank=... to simulate")
    return AdaptiveTest(_bank(ref, banks), spec)


def _bank(ref: Any, banks: dict[str, Any]) -> Any:
    if not isinstance(ref, (str, PathLike)):
        return as_bank(ref)
    key = str(ref)
    if key not in banks:
        banks[key] = as_bank(ref)
    return banks[key]


def _unique(name: str, taken: dict) -> str:
    if name not in taken:
        return name
    k = 2
    while f"{name}-{k}" in taken:
        k += 1
    return f"{name}-{k}"


def _progress_printer(name: str, done: int, total: int) -> None:
    """Progress on stderr: one line per design, rewritten in place."""
    sys.stderr.write(f"\r{name}: {done:,}/{total:,} persons")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()
