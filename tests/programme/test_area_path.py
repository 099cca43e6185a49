"""The report's per-area path on both store back ends: sessions written with their per-area log-likelihoods are
estimated from them (``meta.area_method``: likelihood); sessions without (an older store) fall back to the area θ
and SE, which the report says, until ``digicomp progress --fill-likelihoods`` re-scores their stored answers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.bundled import bundled_path
from digicomp.cli import main
from digicomp.store import ServedItem, SessionRecord, open_store

UNITS = "unit,parent,name_vi,name_en,headcount\nP,,Tỉnh,Province,\nA,P,Sở A,Dept A,\nB,P,Sở B,Dept B,80\n"


@pytest.fixture(scope="module")
def bank():
    return load_bank(bundled_path("item_banks", "civil-service"))


def records(bank, n: int = 60) -> list[SessionRecord]:
    """Finished sessions with 12 answers each (0/1, more right for the stronger unit A) over the bank's areas."""
    rng = np.random.default_rng(11)
    out = []
    for i in range(n):
        unit = "A" if i % 2 else "B"
        items = rng.choice(bank.n_items, 12, replace=False)
        right = rng.random(12) < (0.75 if unit == "A" else 0.45)
        served = tuple(ServedItem(k + 1, bank.ids[j], int(r)) for k, (j, r) in enumerate(zip(items, right)))
        codes = sorted({bank.areas[bank.area_index[j]] for j in items})
        theta = float(rng.normal(0.6 if unit == "A" else -0.4, 0.3))
        areas = [{"area": c, "theta": theta, "se": 0.6, "n_items": 2} for c in codes]
        out.append(
            SessionRecord(
                session_id=f"s{i}",
                person_id=f"p{i}",
                bank_fingerprint=bank.fingerprint,
                design_hash=None,
                items=served,
                finished_at="2026-11-10T09:00:00+00:00",
                theta=theta,
                se=0.3,
                result={"theta": theta, "se": 0.3, "areas": areas, "to_work_on": []},
                unit=unit,
            )
        )
    return out


def progress(url, tmp_path, capsys, *extra) -> dict:
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    args = ["progress", "--store", url, "--units", str(tmp_path / "units.csv"), "--out", str(tmp_path / "out")]
    assert main([*args, "--as-of", "2026-11-30", *extra]) == 0
    return capsys.readouterr().out


def test_sessions_written_with_their_likelihoods_are_estimated_from_them(store_url, bank, tmp_path, capsys):
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.put_units([{"unit": u} for u in ("P", "A", "B")])
        store.write_many(records(bank))
    report = json.loads(progress(store_url, tmp_path, capsys, "--json"))
    methods = report["meta"]["area_method"]
    assert methods and all(m["method"] == "likelihood" and m["without_likelihood"] == 0 for m in methods.values())
    rows = [r for r in report["shares"] if r["area"] is not None and r["unit"] == "P"]
    assert rows and all(r["lower"] <= r["share"] <= r["upper"] for r in rows)


def test_an_older_store_falls_back_and_says_so_until_its_answers_are_re_scored(store_url, bank, tmp_path, capsys):
    with open_store(store_url) as store:
        store.register_bank(bank)
        store._loglik_tables.clear()  # written as schema 5 did: no log-likelihoods
        store.put_units([{"unit": u} for u in ("P", "A", "B")])
        store.write_many(records(bank))
    page = tmp_path / "report.html"
    out = progress(store_url, tmp_path, capsys, "--html", str(page))
    assert "from the area θ and SE, not calibrated" in out and "--fill-likelihoods" in out
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert {m["method"] for m in report["meta"]["area_method"].values()} == {"theta_se"}
    html = page.read_text(encoding="utf-8")  # the page (and the dashboard, same body) says so too
    assert 'class="warn"' in html and "Chưa hiệu chỉnh" in html and "--fill-likelihoods" in html
    out = progress(store_url, tmp_path, capsys, "--fill-likelihoods", "--html", str(page))
    assert "not calibrated" not in out
    assert 'class="warn"' not in page.read_text(encoding="utf-8")
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert {m["method"] for m in report["meta"]["area_method"].values()} == {"likelihood"}
    with open_store(store_url) as store:
        assert store.fill_likelihoods([bank]) == 0  # every session has them now


def test_the_areas_estimated_side_by_side_give_what_one_thread_gives(store_url, bank, tmp_path, capsys, monkeypatch):
    import digicomp.programme.areas as areas

    with open_store(store_url) as store:
        store.register_bank(bank)
        store.put_units([{"unit": u} for u in ("P", "A", "B")])
        store.write_many(records(bank, 90))
    reports = []
    for threads in (1, 3):
        monkeypatch.setattr(areas, "AREA_THREADS", threads)
        reports.append(json.loads(progress(store_url, tmp_path, capsys, "--json")))
    by_area = [[r for r in rep["shares"] if r["area"] is not None] for rep in reports]
    assert len({r["area"] for r in by_area[0]}) > 1  # several areas, so three threads really ran side by side
    assert by_area[0] == by_area[1]
