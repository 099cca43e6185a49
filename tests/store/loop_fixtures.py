"""A bank with calibrated operational items and provisional pretest items, and the truth simulated people follow."""

from __future__ import annotations

import numpy as np

from digicomp.bank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.models import ItemParameters


def loop_bank(n_operational: int, n_pretest: int, seed: int = 1) -> tuple[ItemBank, ItemParameters]:
    """(bank, truth): operational 2PL items at their true values; pretest items provisional (a = 1, b = 0)."""
    rng = np.random.default_rng(seed)
    n = n_operational + n_pretest
    a = rng.lognormal(0.1, 0.25, n)
    b = rng.normal(0, 1.1, n)
    items = []
    for j in range(n):
        item = {"id": f"op{j:03d}" if j < n_operational else f"pre{j - n_operational:02d}", "model": "2PL"}
        if j < n_operational:
            item["params"] = {"a": round(float(a[j]), 4), "b": round(float(b[j]), 4)}
            item["calibration"] = {
                "status": "calibrated",
                "n": 5000,
                "date": "2026-10-01",
                "se": {"a": 0.04, "b": 0.04},
            }
        else:
            item["params"] = {"a": 1.0, "b": 0.0}
            item["calibration"] = {"status": "provisional", "rule": "expert"}
            item["flags"] = ["pretest"]
        items.append(item)
    spec = BankFile.model_validate(
        {
            "kind": "item_bank",
            "id": "loop",
            "version": "1.0",
            "scale": {"D": 1.0},
            "rules": {"expert": {"vi": "Giá trị do chuyên gia đặt", "en": "Expert-set values"}},
            "items": items,
        }
    )
    bank = ItemBank(spec)
    truth = ItemParameters.dichotomous(
        a=np.r_[bank.params.slope[:n_operational], a[n_operational:]],
        b=np.r_[[it["params"]["b"] for it in items[:n_operational]], b[n_operational:]],
        ids=bank.ids,
    )
    return bank, truth


def loop_design(n_seed: int, within: int, max_items: int = 20) -> dict:
    """MFI + EAP, SE 0.35 or ``max_items``, with ``n_seed`` pretest items (flag 'pretest') in positions 1..within."""
    return {
        "stop": {"min_items": 8, "max_items": max_items, "rules": [{"se": 0.35}]},
        "seeding": {"n": n_seed, "flags": ["pretest"], "within": within},
    }
