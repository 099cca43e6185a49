"""Issue 13's detection targets by simulation: DIF power and false positives, and random guessers by person fit.

The design the issue states: 300 items, 20,000 persons, two groups (focal θ ~ N(-0.5, 1), reference N(0, 1)), 10%
of the items (30) with planted DIF of 0.6 logits — half uniform (intercept ± 0.6), half non-uniform (slope ± 0.6) —
and Benjamini–Hochberg at .05 over the items; generator ``digicomp.simulation.dif_pilot.simulate_dif_pilot``.
Designs (``--design``):

* ``complete``: every person answers the 300 items (what the issue states);
* ``booklet30``: chain booklets of 30 items (two linked blocks of 15; each item answered by ~2,000 persons);
* ``booklet60``: chain booklets of 60 items (each item answered by ~4,000 persons; the slow test's design).

Steps and what is reported:

* Mantel–Haenszel (score strata within each booklet, purified, BH): share flagged among uniform / non-uniform /
  DIF-free items;
* logistic-regression DIF (complete design only: the total score is the matching variable; BH);
* IRT likelihood-ratio DIF (2PL multiple-group model, purified anchors, BH): same shares, and its time;
* person fit: 1,000 random guessers (every answer right with probability 1/4, on the same booklets) added to the
  20,000 model-following persons, lz* at the WLE θ under the generating reference-group parameters: the share of
  guessers flagged at lz* < -1.645 (nominal 5%) with the false-alarm rate it gives, and the share flagged at the
  empirical 5% cut of the model-following persons (exactly 5% false alarms).

Each figure is one run of one seed (``--seed``; several seeds with ``--seeds 1,2,3``); with 15 items of each DIF
kind a power of 0.9 is 13.5 of 15, so one item moves it by 0.067. Load average printed before and after.

    python benchmarks/bench_dif_detection.py --design complete
    python benchmarks/bench_dif_detection.py --design booklet30
    python benchmarks/bench_dif_detection.py --design booklet60 --skip-irt
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from digicomp.analysis.dif import logistic_dif, mantel_haenszel
from digicomp.analysis.person_fit import person_fit
from digicomp.models import ItemParameters
from digicomp.responses import Responses
from digicomp.simulation.dif_pilot import simulate_dif_pilot

warnings.simplefilter("ignore")
DESIGNS = {"complete": 300, "booklet30": 30, "booklet60": 60}


def load() -> str:
    return "load average " + ", ".join(f"{v:.2f}" for v in os.getloadavg())


def shares(flagged: np.ndarray, dif: np.ndarray) -> str:
    u, n, f = (flagged[dif == k] for k in ("uniform", "nonuniform", "none"))
    return (
        f"uniform {u.sum()}/{u.size} = {u.mean():.2f}, non-uniform {n.sum()}/{n.size} = {n.mean():.2f}, "
        f"all planted {(u.sum() + n.sum())}/{u.size + n.size} = {(u.sum() + n.sum()) / (u.size + n.size):.2f}, "
        f"false positives {f.sum()}/{f.size} = {f.mean():.3f}"
    )


def with_guessers(pilot, n_guessers: int, seed: int) -> Responses:
    """The pilot's responses plus ``n_guessers`` persons answering booklets of the same design at random (p = 1/4)."""
    rng = np.random.default_rng(seed + 1000)
    r = pilot.responses
    # reuse the booklets of the first n_guessers persons: same item sets, random answers
    take = np.isin(r.person, np.arange(n_guessers))
    person = r.person[take] + r.n_persons
    value = (rng.random(person.size) < 0.25).astype(r.value.dtype)
    return Responses(
        np.concatenate([r.person, person]),
        np.concatenate([r.item, r.item[take]]),
        np.concatenate([r.value, value]),
        r.n_persons + n_guessers,
        r.n_items,
        None,
        r.item_ids,
    )


def run(design: str, seed: int, skip_irt: bool) -> None:
    per_person = DESIGNS[design]
    start = time.perf_counter()
    pilot = simulate_dif_pilot(n_items=300, n_persons=20_000, items_per_person=per_person, seed=seed)
    focal = pilot.group == "focal"
    print(
        f"\n{design}, seed {seed}: {pilot.responses.value.size:,} responses, drawn in "
        f"{time.perf_counter() - start:.1f} s ({load()})"
    )

    t = time.perf_counter()
    mh = mantel_haenszel(pilot.responses, focal, item_ids=pilot.responses.item_ids, purify=True)
    print(f"  MH (purified, BH)       {time.perf_counter() - t:6.1f} s  {shares(mh.flagged, pilot.dif)}")
    if design == "complete":
        t = time.perf_counter()
        lg = logistic_dif(pilot.responses, focal, item_ids=pilot.responses.item_ids)
        print(f"  logistic (2 df, BH)     {time.perf_counter() - t:6.1f} s  {shares(lg.flagged, pilot.dif)}")
    if not skip_irt:
        from digicomp.analysis.irt_dif import irt_lr_dif

        t = time.perf_counter()
        lr = irt_lr_dif(pilot.responses, pilot.group, "2PL", reference="reference", anchors="purified")
        print(f"  IRT-LR (purified, BH)   {time.perf_counter() - t:6.1f} s  {shares(lr.flagged, pilot.dif)}")
        mean, sd = lr.base.latent_mean[1], lr.base.latent_sd[1]
        print(f"    focal latent mean {mean:+.3f} (true -0.5), sd {sd:.3f} (true 1)")

    t = time.perf_counter()
    n_guess = 1_000
    resp = with_guessers(pilot, n_guess, seed)
    params = ItemParameters.dichotomous(a=pilot.a, b=-pilot.d / pilot.a, ids=pilot.responses.item_ids)
    fit = person_fit(params, resp, method="WLE")
    honest, guess = fit.lz_star[:-n_guess], fit.lz_star[-n_guess:]
    cut = np.quantile(honest, 0.05)
    print(
        f"  person fit (lz*, WLE)   {time.perf_counter() - t:6.1f} s  guessers flagged at -1.645: "
        f"{np.mean(guess < -1.645):.3f} with false alarms {np.mean(honest < -1.645):.3f}; at the empirical 5% cut "
        f"({cut:.2f}): {np.mean(guess < cut):.3f}"
    )
    print(f"  ({load()})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--design", choices=sorted(DESIGNS), default="complete")
    ap.add_argument("--seeds", default="1", help="comma-separated seeds (default 1)")
    ap.add_argument("--skip-irt", action="store_true", help="leave out IRT-LR (the slow step)")
    args = ap.parse_args()
    for seed in (int(s) for s in args.seeds.split(",")):
        run(args.design, seed, args.skip_irt)


if __name__ == "__main__":
    main()
