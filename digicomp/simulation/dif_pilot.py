"""A simulated pilot with planted DIF: booklets of linked blocks, two groups, uniform and non-uniform DIF.

For DIF power studies and benchmarks. Items are 2PL with slopes U(0.8, 2.0) and difficulties N(0, 1). The bank is
cut into blocks; booklet f holds blocks f and f + 1 (cyclically), so each item sits in two booklets and every
booklet links to the next (a chain design). Persons are assigned to booklets at random; the focal group's θ is
N(``impact``, 1), the reference group's N(0, 1). A share of items carries DIF for the focal group: uniform DIF
moves the intercept by ``effect`` logits (d_focal = d ∓ effect), non-uniform DIF the slope by ``effect``
(a_focal = a ∓ effect, so the logits differ by ``effect`` per SD of θ from the item's difficulty), with random
signs. ``items_per_person = n_items`` gives the complete design (everyone answers everything).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from digicomp.responses import Responses


@dataclass
class DIFPilot:
    """The simulated responses and the truth they were drawn from."""

    responses: Responses
    group: NDArray[np.str_]  # "reference" / "focal" per person
    booklet: NDArray[np.intp]
    theta: NDArray[np.float64]
    a: NDArray[np.float64]
    d: NDArray[np.float64]
    a_focal: NDArray[np.float64]
    d_focal: NDArray[np.float64]
    dif: NDArray[np.str_]  # "none", "uniform" or "nonuniform" per item


def simulate_dif_pilot(
    n_items: int = 300,
    n_persons: int = 20_000,
    items_per_person: int = 30,
    impact: float = -0.5,
    dif_share: float = 0.10,
    effect: float = 0.6,
    seed: int = 0,
) -> DIFPilot:
    """Draw a booklet pilot (see the module docstring); half the DIF items uniform, half non-uniform.

    ``items_per_person = n_items`` draws the complete design instead: every person answers every item (one booklet).
    """
    rng = np.random.default_rng(seed)
    complete = items_per_person == n_items
    block = n_items if complete else items_per_person // 2
    n_blocks = n_items // block
    if not complete and (block * 2 != items_per_person or n_blocks * block != n_items or n_blocks < 3):
        raise ValueError(
            "items_per_person must equal n_items (complete design), or be even with its half dividing n_items into "
            "at least 3 blocks"
        )
    a = rng.uniform(0.8, 2.0, n_items)
    d = -a * rng.normal(0.0, 1.0, n_items)
    n_dif = int(round(dif_share * n_items))
    dif_items = rng.choice(n_items, n_dif, replace=False)
    dif = np.full(n_items, "none", dtype="<U10")
    dif[dif_items[: n_dif // 2]] = "uniform"
    dif[dif_items[n_dif // 2 :]] = "nonuniform"
    sign = rng.choice([-1.0, 1.0], n_items)
    a_f, d_f = a.copy(), d.copy()
    d_f[dif == "uniform"] += sign[dif == "uniform"] * effect
    a_f[dif == "nonuniform"] += sign[dif == "nonuniform"] * effect
    focal = rng.random(n_persons) < 0.5
    theta = rng.normal(0.0, 1.0, n_persons) + np.where(focal, impact, 0.0)
    booklet = rng.integers(0, n_blocks, n_persons) if not complete else np.zeros(n_persons, dtype=np.intp)
    offsets = np.arange(items_per_person)
    first = booklet[:, None] * block
    items = (first + offsets[None, :]) % n_items  # (N, items_per_person): blocks f and f + 1
    aa = np.where(focal[:, None], a_f[items], a[items])
    dd = np.where(focal[:, None], d_f[items], d[items])
    p = 1.0 / (1.0 + np.exp(-(aa * theta[:, None] + dd)))
    x = (rng.random(p.shape) < p).astype(np.int64)
    person = np.repeat(np.arange(n_persons), items_per_person)
    item = items.ravel()
    order = np.lexsort((item, person))
    resp = Responses(
        person[order],
        item[order],
        x.ravel()[order],
        n_persons,
        n_items,
        [f"p{k + 1}" for k in range(n_persons)],
        [f"item{j + 1:03d}" for j in range(n_items)],
    )
    group = np.where(focal, "focal", "reference")
    return DIFPilot(resp, group, booklet, theta, a, d, a_f, d_f, dif)


def write_pilot_files(pilot: DIFPilot, directory: str | Path, seed: int = 0) -> tuple[Path, Path, Path]:
    """Write the pilot as ``digicomp analyze`` reads it: bank.yaml (multiple-choice 2PL items with options A-D,
    the reference group's parameters, tagged to vn-civil-service), answers.csv (long: a right answer is the key,
    a wrong one a distractor drawn at random) and persons.csv (person,group). Returns the three paths."""
    from digicomp.io.yamlfile import dump_yaml

    rng = np.random.default_rng(seed)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    J = pilot.a.size
    letters = np.array(list("ABCD"))
    keys = letters[rng.integers(0, 4, J)]
    competences = ["1.1", "1.2", "2.1", "2.2", "3.1"]
    items = [
        {
            "id": pilot.responses.item_ids[j],
            "competence": competences[j % len(competences)],
            "level": 1 + j % 8,
            "model": "2PL",
            "params": {"a": float(pilot.a[j]), "b": float(-pilot.d[j] / pilot.a[j])},
            "calibration": {"status": "provisional", "rule": "sim"},
            "stem": {"vi": f"Câu {j + 1}?", "en": f"Question {j + 1}?"},
            "options": [{"id": o, "vi": o, "en": o} for o in "ABCD"],
            "key": str(keys[j]),
        }
        for j in range(J)
    ]
    bank = {
        "kind": "item_bank",
        "id": "dif-pilot",
        "version": "1",
        "framework": {"id": "vn-civil-service", "version": "0.1.0"},
        "scale": {
            "D": 1.0,
            "levels": ["foundation", "intermediate", "advanced", "highly_specialised"],
            "cut_scores": [-1.0, 0.0, 1.0],
            "cut_source": {"status": "provisional", "rule": "sim"},
        },
        "rules": {"sim": {"vi": "mô phỏng", "en": "simulated"}},
        "items": items,
    }
    dump_yaml(bank, out / "bank.yaml")
    r = pilot.responses
    key_idx = np.searchsorted(letters, keys)
    wrong = (key_idx[r.item] + rng.integers(1, 4, r.item.size)) % 4
    answer = np.where(r.value == 1, keys[r.item], letters[wrong])
    pids = np.array(r.person_ids)
    iids = np.array(r.item_ids)
    lines = np.char.add(np.char.add(np.char.add(np.char.add(pids[r.person], ","), iids[r.item]), ","), answer)
    (out / "answers.csv").write_text("person,item,response\n" + "\n".join(lines.tolist()) + "\n", encoding="utf-8")
    people = np.char.add(np.char.add(pids, ","), pilot.group.astype(str))
    (out / "persons.csv").write_text("person,group\n" + "\n".join(people.tolist()) + "\n", encoding="utf-8")
    return out / "bank.yaml", out / "answers.csv", out / "persons.csv"
