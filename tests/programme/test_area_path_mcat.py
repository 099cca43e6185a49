"""The report's per-area path for multidimensional adaptive tests (the MCAT), on both store back ends.

The MCAT bank's items each load on their own area only (simple structure), so the joint likelihood factors by area:
a session's stored row of an area is its own items' curve in that area's dimension, as for a sub-score. Live MCAT
sessions written with the bank registered carry those rows, equal to the items' probabilities computed here from
the joint model with the other areas held anywhere, and the report estimates every area from them; a bank whose
likelihood does not factor (a general dimension) keeps NULL and the report falls back to θ and SE, saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from digicomp.bank import load_bank
from digicomp.cat.engine import AdaptiveTest
from digicomp.cli import main
from digicomp.loop.simulate import answer_of
from digicomp.models import multidim as md
from digicomp.store import SessionRecord, open_store
from digicomp.store.scores import LOGLIK_NODES

ROOT = Path(__file__).resolve().parents[2]
MCAT = ROOT / "examples" / "designs" / "civil-service-mcat.yaml"
UNITS = "unit,parent,name_vi,name_en,headcount\nP,,Tỉnh,Province,\nA,P,Sở A,Dept A,\nB,P,Sở B,Dept B,80\n"


@pytest.fixture(scope="module")
def engine():
    return AdaptiveTest.from_yaml(MCAT)


@pytest.fixture(scope="module")
def records(engine) -> list[SessionRecord]:
    return live_records(engine)


def live_records(engine, n: int = 30) -> list[SessionRecord]:
    """Finished live MCAT sessions (the service's path: ``SessionRecord.from_session``), stronger persons in A."""
    rng = np.random.default_rng(5)
    out = []
    for i in range(n):
        unit = "A" if i % 2 else "B"
        session = engine.start(seed=i)
        while not session.finished:
            view = session.next_item()
            j = engine.bank.ids.index(view.id)
            right = rng.random() < (0.75 if unit == "A" else 0.4)
            top = int(engine.bank.mparams.n_categories[j]) - 1
            score = int(rng.integers(max(top - 1, 1), top + 1)) if right else 0
            session.record(view.id, answer_of(engine.bank, j, score))
        out.append(SessionRecord.from_session(session, f"m{i}", finished_at="2026-11-10T09:00:00+00:00", unit=unit))
    return out


def own_curves(bank, rec: SessionRecord) -> dict[str, np.ndarray]:
    """{area code: own items' log-likelihood on LOGLIK_NODES} from the joint model, the other dimensions at 0.7."""
    m, dims = bank.mparams, bank.dims
    out: dict[str, np.ndarray] = {}
    for it in rec.items:
        j = bank.ids.index(it.item_id)
        k = int(np.flatnonzero(m.a[j])[0])
        theta = np.full((LOGLIK_NODES.size, m.a.shape[1]), 0.7)
        theta[:, k] = LOGLIK_NODES
        lp = md.log_prob(theta, m.a[j : j + 1], m.intercepts[j : j + 1], m.c[j : j + 1], m.u[j : j + 1], [m.models[j]])
        code = dims.area[k]
        out[code] = out.get(code, 0.0) + lp[:, 0, it.score]
    return out


def test_live_mcat_sessions_store_each_areas_own_items_likelihood(store_url, engine, records):
    recs = records[:6]
    with open_store(store_url) as store:
        store.register_bank(engine.bank)
        store.put_units([{"unit": u} for u in ("P", "A", "B")])
        store.write_many(recs)
        found = store.session_scores().areas
        refs = dict(store._read("SELECT session_id, ref FROM sessions"))
    assert found.has_likelihood().all()
    for rec in recs:
        want = own_curves(engine.bank, rec)
        whole = sum(want.values())
        mine = np.flatnonzero(found.ref == refs[rec.session_id])
        assert sorted(found.codes[found.code[e]] for e in mine) == sorted(want)  # every area the test reached
        for e in mine:
            own, rest = found.likelihoods(np.array([e]))
            code = found.codes[found.code[e]]
            np.testing.assert_allclose(own[0], want[code], rtol=1e-5, atol=1e-4)
            np.testing.assert_allclose(rest[0], whole - want[code], rtol=1e-5, atol=1e-4)


def test_the_report_estimates_every_mcat_area_from_the_stored_likelihoods(store_url, engine, records, tmp_path, capsys):
    with open_store(store_url) as store:
        store.register_bank(engine.bank)
        store.put_units([{"unit": u} for u in ("P", "A", "B")])
        store.write_many(records)
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    args = ["progress", "--store", store_url, "--units", str(tmp_path / "units.csv"), "--out", str(tmp_path / "out")]
    assert main([*args, "--bank", str(engine.bank.source), "--as-of", "2026-11-30", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    methods = report["meta"]["area_method"]
    assert sorted(methods) == sorted(engine.bank.dims.area)
    assert all(m["method"] == "likelihood" and m["without_likelihood"] == 0 for m in methods.values())
    rows = [r for r in report["shares"] if r["area"] is not None and r["unit"] == "P"]
    assert rows and all(r["lower"] <= r["share"] <= r["upper"] for r in rows)


@pytest.fixture(scope="module")
def bifactor(tmp_path_factory):
    """The MCAT bank with a general dimension added (each item loading on it and on its area)."""
    spec = yaml.safe_load((MCAT.parent.parent / "banks" / "civil-service-areas.yaml").read_text(encoding="utf-8"))
    spec["dimensions"].insert(0, {"id": "g", "name": {"vi": "Chung", "en": "General"}, "general": True})
    for item in spec["items"]:
        item["params"]["a"] = [0.8, *item["params"]["a"]]
    spec["latent"] = {"correlation": np.eye(len(spec["dimensions"])).tolist()}
    spec["overall"] = {"weights": {"g": 1.0}}
    path = tmp_path_factory.mktemp("bifactor") / "bifactor.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_bank(path)


def test_a_bank_whose_likelihood_does_not_factor_by_area_keeps_null(store_url, bifactor):
    """A general dimension (bifactor): an area's likelihood is not one-dimensional, so nothing is stored for it."""
    assert bifactor.dims.general == 0
    with open_store(store_url) as store:
        store.register_bank(bifactor)
        assert store._likelihood_table(bifactor) is None
        assert store.fill_likelihoods([bifactor]) == 0
