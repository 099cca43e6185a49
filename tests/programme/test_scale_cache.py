"""The level scale of each bank version is kept in the store after the first report, so later reports need not load
the bank's YAML; a bank or framework file changed since makes the kept value stale, and it is derived again."""

from __future__ import annotations

import os
import shutil

import numpy as np

from digicomp.bank import load_bank
from digicomp.bundled import bundled_path
from digicomp.programme import scale as scale_module
from digicomp.programme.scale import scale_of_banks
from digicomp.store import open_store


def _counting(monkeypatch) -> list[list[str]]:
    """Record the fingerprints each lookup had to load banks for."""
    calls: list[list[str]] = []
    real = scale_module._matching

    def counted(wanted, banks):
        calls.append(list(wanted))
        return real(wanted, banks)

    monkeypatch.setattr(scale_module, "_matching", counted)
    return calls


def test_the_scale_is_derived_once_and_then_read_from_the_store(store_url, tmp_path, monkeypatch):
    copy = tmp_path / "cs.yaml"
    shutil.copy(bundled_path("item_banks", "civil-service"), copy)
    shutil.copytree(bundled_path("item_banks", "civil-service").parent / "media", tmp_path / "media")
    fp = load_bank(copy).fingerprint
    calls = _counting(monkeypatch)
    with open_store(store_url) as store:
        first = scale_of_banks({fp}, [str(copy)], 0.0, 1.0, store=store)
        again = scale_of_banks({fp}, [str(copy)], 0.2, 1.5, store=store)
        assert calls == [[fp]]  # the second lookup loaded no bank
        assert again.levels == first.levels and np.array_equal(again.cuts, first.cuts)
        assert again.labels == first.labels and again.labels["levels"]  # the names came back too
        assert (again.prior_mean, again.prior_sd) == (0.2, 1.5)  # the prior is the caller's, not kept
        os.utime(copy, ns=(1, 1))  # the bank file changed since: the kept value no longer holds
        scale_of_banks({fp}, [str(copy)], 0.0, 1.0, store=store)
        assert calls == [[fp], [fp]]
    with open_store(store_url) as store:  # another process (a new store object) finds it kept
        scale_of_banks({fp}, [str(copy)], 0.0, 1.0, store=store)
        assert calls == [[fp], [fp]]


def test_without_a_store_or_when_the_store_refuses_the_write_the_scale_is_still_found(store_url, monkeypatch):
    from digicomp.store import cache

    fp = load_bank("civil-service").fingerprint
    calls = _counting(monkeypatch)
    plain = scale_of_banks({fp}, [], 0.0, 1.0)
    monkeypatch.setattr(cache, "put", lambda store, key, value: False)
    with open_store(store_url) as store:
        kept = scale_of_banks({fp}, [], 0.0, 1.0, store=store)
        scale_of_banks({fp}, [], 0.0, 1.0, store=store)
    assert len(calls) == 3 and kept.levels == plain.levels and np.array_equal(kept.cuts, plain.cuts)
