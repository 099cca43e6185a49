"""Fixed-parameter calibration of pretest items: put new items on the bank's scale without moving the bank.

New items are tried out inside live tests: each person answers operational items, whose parameters stay as the
bank has them, plus a few pretest items. Calibrating with ``fixed=bank`` estimates only the new items (and the
mean and SD of this sample), so the new items land on the bank's θ scale. Here the sample is abler than the
bank's reference population (θ ~ N(0.5, 1.2²)); the estimated latent mean and SD recover that, and the new items'
difficulties are compared with the values they were simulated from.

    python examples/pretest_fixed.py
"""

from __future__ import annotations

import numpy as np

from digicomp import calibrate, load_bank
from digicomp.models import ItemParameters
from digicomp.responses import Responses

N_PERSONS, N_OPERATIONAL, SEED = 2000, 25, 7
NEW_A = np.array([0.8, 1.0, 1.2, 1.4, 1.1, 0.9])
NEW_B = np.array([-1.5, -0.6, 0.0, 0.5, 1.0, 1.8])


def main() -> int:
    rng = np.random.default_rng(SEED)
    bank = load_bank("civil-service")
    operational = [i for i, kind in zip(bank.ids, bank.kind) if kind == "multiple_choice"][:N_OPERATIONAL]
    fixed = bank.params.subset(bank.index_of(operational))
    new = ItemParameters.dichotomous(a=NEW_A, b=NEW_B, ids=[f"pretest-{k + 1:02d}" for k in range(NEW_B.size)])
    both = ItemParameters.concat([fixed, new])
    theta = rng.normal(0.5, 1.2, N_PERSONS)
    data = both.simulate(theta, rng=rng).astype(float)
    # each person sees all operational items but only 3 of the pretest items, as in a live rotation
    seen = np.argsort(rng.random((N_PERSONS, NEW_B.size)), axis=1) < 3
    data[:, N_OPERATIONAL:][~seen] = np.nan
    responses = Responses.from_dense(data, item_ids=both.ids)

    result = calibrate(responses, "2PL", fixed=bank)
    est = result.params.subset([result.params.ids.index(i) for i in new.ids])
    se = result.se
    print(
        f"{N_PERSONS} persons, {N_OPERATIONAL} fixed operational items, {NEW_B.size} pretest items "
        f"(each person 3); converged: {result.converged} in {result.iterations} EM cycles"
    )
    print(f"latent mean {result.latent_mean:+.3f} (true +0.5), SD {result.latent_sd:.3f} (true 1.2)")
    print(f"{'item':<12} {'a true':>7} {'a est':>7} {'SE':>6}   {'b true':>7} {'b est':>7} {'SE':>6}")
    for k, rec in enumerate(est.to_file_form()):
        s = se[rec["id"]]
        print(
            f"{rec['id']:<12} {NEW_A[k]:>7.2f} {rec['a']:>7.2f} {s['a']:>6.2f}   "
            f"{NEW_B[k]:>7.2f} {rec['b']:>7.2f} {s['b']:>6.2f}"
        )
    return 0 if result.converged else 1


if __name__ == "__main__":
    raise SystemExit(main())
