"""The same seed gives the same study, whatever the chunking or the number of processes."""

from __future__ import annotations

import numpy as np

from digicomp.simulation import simulate
from tests.simulation.conftest import MFI_EAP

RANDOMESQUE = {**MFI_EAP, "id": "rq", "exposure": {"method": "randomesque", "k": 5}}
KEYS = ("person", "theta_true", "theta", "se", "n_items", "stop_reason", "sequence", "responses", "exposed")


def same(a, b) -> bool:
    return all(np.array_equal(a.outcome[k], b.outcome[k]) for k in KEYS)


def test_same_seed_gives_the_same_study_and_another_seed_another(param_bank):
    one = simulate(RANDOMESQUE, bank=param_bank, n=300, seed=9, baseline="random")
    two = simulate(RANDOMESQUE, bank=param_bank, n=300, seed=9, baseline="random")
    other = simulate(RANDOMESQUE, bank=param_bank, n=300, seed=10, baseline="random")
    assert all(same(one[k], two[k]) for k in one.designs)
    assert not np.array_equal(one["rq"].outcome["theta"], other["rq"].outcome["theta"])


def test_chunk_size_and_process_count_do_not_change_the_study(param_bank):
    base = simulate(RANDOMESQUE, bank=param_bank, n=240, seed=3, baseline="none", chunk_size=240, processes=1)
    chunked = simulate(RANDOMESQUE, bank=param_bank, n=240, seed=3, baseline="none", chunk_size=17, processes=1)
    parallel = simulate(RANDOMESQUE, bank=param_bank, n=240, seed=3, baseline="none", chunk_size=40, processes=2)
    assert same(base["rq"], chunked["rq"])
    assert same(base["rq"], parallel["rq"])


def test_designs_of_one_study_see_the_same_persons(param_bank):
    result = simulate([MFI_EAP, RANDOMESQUE], bank=param_bank, n=50, seed=2)
    assert list(result.designs) == ["mfi", "rq", "linear-" + str(round(result["mfi"].metrics["mean_length"]))]
    for d in result:
        np.testing.assert_array_equal(d.outcome["theta_true"], result.thetas)


def test_progress_reports_every_chunk_until_all_persons_are_done(param_bank):
    calls = []
    simulate(
        MFI_EAP,
        bank=param_bank,
        n=25,
        seed=1,
        baseline="none",
        chunk_size=10,
        progress=lambda name, done, total: calls.append((name, done, total)),
    )
    assert calls == [("mfi", 10, 25), ("mfi", 20, 25), ("mfi", 25, 25)]
