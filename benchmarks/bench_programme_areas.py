"""Per-area calibration of the programme report's share intervals (issue 15), next to the naive count.

Run: python benchmarks/bench_programme_areas.py [--designs balanced mcat] [--seeds 2026 7] [--diagnose]

The 50 units of the overall study (normal, uniform, bimodal, skewed; 20-400 persons; half assessed in part with the
headcount given), each person with a true value per area (general level + N(0, 0.5²)), answering the
multidimensional civil-service truth bank (examples/banks/civil-service-areas.yaml) through

* ``balanced``: today's design (examples/designs/civil-service-balanced.yaml; per-area results are each area's
  sub-score, as a live report gives them; it tests four areas), or
* ``mcat``: the multidimensional design (examples/designs/civil-service-mcat.yaml; per-area results from the joint
  posterior, all eight areas; its bank has simple structure, so each area's own-items likelihood is the area's
  factor of the joint one and the report's method applies to it as to a sub-score).

For each design and seed: coverage of the report's per-area 95% intervals (``estimate_area_shares``) per area and
over all unit-area-level pairs, the interval a count of hard classifications would carry, and both estimates' bias
and mean absolute error. The report's per-area method uses each person's own-items area likelihood (either
design) in the conditioning model (unit × tertile of the rest of the test, log-density smoothing, EM converged);
the line below it is the same persons from the area θ and SD alone (the normal unit model: what a store without
log-likelihoods allows). ``--diagnose`` adds (a) θ and SD with the grid model, 40+2 EM steps and converged, (b)
the likelihoods with the grid model's old 40+2 EM steps, and without the conditioning bands, with log-density and
with plain smoothing (the method's parts), (c) each person's area likelihood replaced by an exactly normal one of
the same width around the truth, (d) the likelihoods under each unit's true distribution (an oracle):
docs/programme.md, Per area.
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DESIGNS = {
    "balanced": ROOT / "examples" / "designs" / "civil-service-balanced.yaml",
    "mcat": ROOT / "examples" / "designs" / "civil-service-mcat.yaml",
}
TRUTH = ROOT / "examples" / "banks" / "civil-service-areas.yaml"


def estimator(method: str):
    """The report's per-area estimator with the unit model ``method`` (``normal`` is the report's)."""
    from digicomp.programme.areas import AREA_DRAWS
    from digicomp.programme.estimate import estimate_shares

    def run(theta, se, unit, ancestors, cuts, **kw):
        kw.pop("rest_log_likelihood", None)  # the unit model alone, without the conditioning bands
        hard = np.searchsorted(cuts, theta, side="right")
        return estimate_shares(theta, se, unit, ancestors, cuts, hard_level=hard, draws=AREA_DRAWS, method=method, **kw)

    return run


def converged() -> object:
    """The grid estimator with its EM run to convergence (``AREA_EM``) on the normal likelihoods recovered from the
    area θ and SD (what the estimate can do without the stored likelihoods)."""
    from digicomp.programme.areas import AREA_EM
    from digicomp.programme.estimate import estimate_shares

    def run(theta, se, unit, ancestors, cuts, **kw):
        kw = {k: v for k, v in kw.items() if k not in ("log_likelihood", "nodes", "rest_log_likelihood")}
        hard = np.searchsorted(cuts, theta, side="right")
        em = {k: AREA_EM[k] for k in ("iterations", "tol", "redraw_iterations", "draws")}
        return estimate_shares(theta, se, unit, ancestors, cuts, hard_level=hard, method="grid", **em, **kw)

    return run


def unconditioned(log_smoothing: bool = True) -> object:
    """The report's per-area estimator without the conditioning on the rest of the test (one band per unit), with
    the log-density smoothing or, ``log_smoothing`` False, the plain one: what each part of the method gives."""
    from digicomp.programme import areas, population

    def run(theta, se, unit, ancestors, cuts, **kw):
        kw.pop("rest_log_likelihood", None)
        plain = population.smooth
        if not log_smoothing:
            population.smooth = lambda g, log=False, weight=None: plain(g, False, weight)
        try:
            return areas.estimate_area_shares(theta, se, unit, ancestors, cuts, **kw)
        finally:
            population.smooth = plain

    return run


def oracle(sim) -> tuple[float, list[float]]:
    """Coverage, and mean error per level, of the shares computed from the persons' own-items likelihoods under their
    unit's *true* distribution (the empirical one of all its persons' true area values) with the measurement
    variance alone: what the likelihoods allow when the unit model is right. Bias here is the likelihood's (the
    unidimensional scoring of answers that follow the multidimensional truth), not the unit model's."""
    from digicomp.levels import level_index

    nodes, cuts = sim.nodes, sim.cuts
    covered, errors = [], {k: [] for k in range(1, cuts.size + 1)}
    for g in range(len(sim.areas)):
        ok = sim.reached[:, g]
        for u in range(len(sim.kinds)):
            sel = ok & (sim.unit == u)
            if not sel.any():
                continue
            t = np.clip(sim.true_area[u][:, g], nodes[0], nodes[-1])
            j = np.clip(np.searchsorted(nodes, t, side="right") - 1, 0, nodes.size - 2)
            f = (t - nodes[j]) / (nodes[j + 1] - nodes[j])
            ll = sim.log_likelihood[sel, g]
            lik = (1 - f)[None, :] * ll[:, j] + f[None, :] * ll[:, j + 1]
            lik = np.exp(lik - lik.max(axis=1, keepdims=True))
            level, own = level_index(t, cuts), level_index(sim.truth[sel, g], cuts)
            for k in errors:
                q = (lik * (level >= k)[None, :]).sum(axis=1) / lik.sum(axis=1)
                err = q.mean() - (own >= k).mean()
                errors[k].append(err)
                covered.append(abs(err) <= 1.96 * np.sqrt((q * (1 - q)).sum()) / q.size + 0.5 / q.size)
    return float(np.mean(covered)), [float(np.mean(e)) for e in errors.values()]


def normal_likelihoods(sim, seed: int):
    """``sim`` with each person's area likelihood exactly normal (the recovered width) around the true value."""
    from digicomp.programme.estimate import likelihoods

    _, v = likelihoods(sim.theta, sim.se, sim.prior_mean, sim.prior_sd)
    v = np.where(np.isfinite(v), v, 1.0)
    m = sim.truth + np.random.default_rng(seed).standard_normal(sim.truth.shape) * np.sqrt(v)
    tau2 = sim.prior_sd**2
    post = 1.0 / (1.0 / v + 1.0 / tau2)
    out = copy.copy(sim)
    out.theta = post * (m / v + sim.prior_mean / tau2)
    out.se = np.sqrt(post)
    return out


def line(name: str, study) -> str:
    s = study.summary()
    return (
        f"{name:34s} {s['pairs']:5d}  {s['coverage']:8.3f}  {s['count_coverage']:8.3f}  {s['mean_interval_width']:.3f}"
        f"  {s['estimate_bias']:+.4f}  {s['estimate_mean_abs_error']:.4f}  {s['naive_bias']:+.4f}"
        f"  {s['naive_mean_abs_error']:.4f}"
    )


def main() -> None:
    from digicomp.programme.calibration import CalibrationStudy, area_study, simulate_area_units

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--designs", nargs="+", default=["balanced", "mcat"], choices=sorted(DESIGNS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[2026])
    ap.add_argument("--diagnose", action="store_true", help="add the diagnostic variants (sub-score design)")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} (2-core machine)")
    head = f"{'study':34s} {'pairs':>5s}  coverage  count.cov  width  est.bias  est.MAE  cnt.bias  cnt.MAE"
    for design in args.designs:
        studies: list[CalibrationStudy] = []
        print(f"\n== {design}: {DESIGNS[design].relative_to(ROOT)}")
        print(head)
        for seed in args.seeds:
            start = time.perf_counter()
            sim = simulate_area_units(DESIGNS[design], TRUTH, seed=seed)
            took = time.perf_counter() - start
            start = time.perf_counter()
            study = area_study(sim, seed=seed)
            est_took = time.perf_counter() - start
            print(f"seed {seed}: simulated in {took:.0f} s")
            studies.append(study)
            what = "own-items likelihoods" if sim.log_likelihood is not None else "theta and SD"
            print(line(f"seed {seed} ({what}; {est_took:.0f} s)", study))
            if sim.log_likelihood is not None:
                print(line("  theta and SD only, normal model", area_study(sim, seed=seed, likelihoods=False)))
            if args.diagnose:
                grid = estimator("grid")
                print(line("  theta and SD, grid model", area_study(sim, seed=seed, estimator=grid, likelihoods=False)))
                print(line("  theta and SD, EM converged", area_study(sim, seed=seed, estimator=converged())))
                print(line("  likelihoods, grid model 40+2 EM", area_study(sim, seed=seed, estimator=grid)))
                if sim.log_likelihood is not None:
                    print(line("  likelihoods, no bands", area_study(sim, seed=seed, estimator=unconditioned())))
                    plain = unconditioned(log_smoothing=False)
                    print(line("  likelihoods, no bands, plain smooth", area_study(sim, seed=seed, estimator=plain)))
                syn = normal_likelihoods(sim, seed)
                syn.log_likelihood = None
                print(line("  normal likelihoods, normal model", area_study(syn, seed=seed)))
                print(line("  normal likelihoods, EM converged", area_study(syn, seed=seed, estimator=converged())))
                if sim.log_likelihood is not None:
                    cov, err = oracle(sim)
                    errs = " ".join(f"{e:+.4f}" for e in err)
                    print(f"  oracle (true unit distributions): coverage {cov:.3f}, bias by level {errs}")
        print("\nper area (all seeds): coverage of the estimate's interval and of the count's; MAE of both")
        print("area  pairs  coverage  count.cov  est.bias  est.MAE  cnt.bias  cnt.MAE")
        rows: dict[str, list[dict]] = {}
        for study in studies:
            for r in study.by_area():
                rows.setdefault(r["area"], []).append(r)
        for area, rs in rows.items():
            n = sum(r["pairs"] for r in rs)

            def avg(key: str, rs=rs, n=n) -> float:
                return sum(r[key] * r["pairs"] for r in rs) / n

            print(
                f"{area:>4s}  {n:5d}  {avg('coverage'):8.3f}  {avg('count_coverage'):9.3f}  {avg('estimate_bias'):+.4f}"
                f"  {avg('estimate_mae'):.4f}  {avg('naive_bias'):+.4f}  {avg('naive_mae'):.4f}"
            )
        covered = np.concatenate([s.covered for s in studies])
        se = np.sqrt(0.95 * 0.05 / covered.size)
        print(f"all   {covered.size:5d}  {covered.mean():8.3f}  (binomial SE at 0.95: {se:.3f}; target 0.93-0.97)")


if __name__ == "__main__":
    main()
