"""Calibrate a bank from a response file and publish a new version of it.

A psychometrician's job: responses of a field trial (here simulated from "true" parameters that differ from the
bundled bank's provisional ones) are read from a CSV, the items are calibrated (3PL with the usual priors),
the result is written as the next version of the bank with every calibrated item marked `calibrated` (n, date,
standard errors), the new file is validated, and old and new fingerprints are printed.

    python examples/calibrate_and_publish.py [OUTPUT_FOLDER]
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

import numpy as np

from digicomp import calibrate, load_bank
from digicomp.bank import validate_file
from digicomp.models import ItemParameters

N_PERSONS, N_ITEMS, SEED = 2000, 30, 2026


def file_b(params: ItemParameters) -> np.ndarray:
    """Difficulties b of dichotomous items (the file form psychometricians read)."""
    return np.array([rec["b"] for rec in params.to_file_form()])


def file_a(params: ItemParameters) -> np.ndarray:
    """Slopes a of the items in file form."""
    return np.array([rec["a"] for rec in params.to_file_form()])


def field_trial(bank, path: Path, rng: np.random.Generator) -> ItemParameters:
    """Write a wide response CSV for the first N_ITEMS multiple-choice items; the true parameters used."""
    items = [i for i, kind in zip(bank.ids, bank.kind) if kind == "multiple_choice"][:N_ITEMS]
    b_prov = file_b(bank.params.subset(bank.index_of(items)))
    truth = ItemParameters.dichotomous(
        a=rng.lognormal(0.1, 0.25, len(items)), b=b_prov + rng.normal(0, 0.4, len(items)), c=0.2, ids=items
    )
    responses = truth.simulate(rng.normal(0, 1, N_PERSONS), rng=rng)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["person", *items])
        writer.writerows([f"p{i:05d}", *row] for i, row in enumerate(responses.tolist()))
    return truth


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="digicomp-calibrate-"))
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    bank = load_bank("civil-service")
    responses = out / "field-trial.csv"
    truth = field_trial(bank, responses, rng)
    print(f"field trial: {N_PERSONS} persons × {N_ITEMS} items -> {responses}")

    result = calibrate(responses, "3PL", priors="bayes")
    print(result.summary())
    est = result.params.subset([result.params.ids.index(i) for i in truth.ids])
    for name, true, got in (("a", file_a(truth), file_a(est)), ("b", file_b(truth), file_b(est))):
        print(
            f"recovery of {name}: RMSE {np.sqrt(np.mean((got - true) ** 2)):.3f}, "
            f"correlation {np.corrcoef(got, true)[0, 1]:.3f}"
        )

    new_version = f"{bank.version}.1"
    new_bank = result.to_bank(bank, id=bank.id, version=new_version)
    target = out / f"{bank.id}-{new_version}.yaml"
    new_bank.to_yaml(target)
    problems = validate_file(target)
    for line in problems:
        print(line)
    calibrated = sum(it.calibration.status == "calibrated" for it in new_bank.spec.items)
    print(
        f"published {target}: {bank.id} {bank.version} -> {new_version}, {calibrated} of {new_bank.n_items} "
        f"items calibrated"
    )
    print(f"fingerprint {bank.fingerprint[:23]}... -> {new_bank.fingerprint[:23]}...")
    return 1 if problems or not result.converged else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
