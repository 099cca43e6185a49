"""``digicomp demo``: show what the package does on its bundled defaults."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the demonstration on the bundled defaults")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from digicomp.models import ItemParameters
    from digicomp.scoring import score

    rng = np.random.default_rng(2026)
    n_items = 20
    params = ItemParameters.dichotomous(a=rng.lognormal(0, 0.3, n_items), b=rng.normal(0, 1, n_items))
    theta = np.array([-1.5, 0.0, 1.5])
    responses = params.simulate(theta, rng=rng)
    result = score(params, responses, method="EAP")
    print("digicomp demo: 3 simulated people answer a 20-item 2PL test, scored by EAP")
    print(f"{'true theta':>10}  {'EAP':>7}  {'SE':>6}")
    for t, est, se in zip(theta, result.theta, result.se):
        print(f"{t:>10.2f}  {est:>7.3f}  {se:>6.3f}")
    return 0
