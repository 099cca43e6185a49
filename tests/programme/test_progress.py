"""``digicomp progress`` end to end on both store back ends: sessions written through the store's API, units from
the store and files, the CSV/JSON/HTML outputs, persons without a unit kept as a group, targets, retests, needs."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.bundled import bundled_path
from digicomp.cli import main
from digicomp.store import ServedItem, SessionRecord, open_store

UNITS = "unit,parent,name_vi,name_en,headcount\nP,,Tỉnh,Province,\nA,P,Sở A,Dept A,\nB,P,Sở B,Dept B,60\n"


@pytest.fixture(scope="module")
def bank():
    return load_bank(bundled_path("item_banks", "civil-service"))


def record(bank, sid: str, person: str, theta: float, month: int, unit: str | None, rng) -> SessionRecord:
    se = 0.3
    areas = [{"area": a, "theta": theta + float(rng.normal(0, 0.3)), "se": 0.5, "n_items": 2} for a in bank.areas[:3]]
    work = [{"competence": c, "theta": theta - 0.5, "n_items": 1} for c in bank.competences[:2]]
    level = bank.scale.levels[int(np.searchsorted(bank.cut_scores, theta, side="right"))]
    return SessionRecord(
        session_id=sid,
        person_id=person,
        bank_fingerprint=bank.fingerprint,
        design_hash=None,
        items=(ServedItem(1, bank.ids[0], 1),),
        finished_at=f"2026-{month:02d}-10T09:00:00+00:00",
        theta=theta,
        se=se,
        level=level,
        result={"theta": theta, "se": se, "areas": areas, "to_work_on": work},
        unit=unit,
    )


@pytest.fixture
def filled(store_url, bank, tmp_path):
    rng = np.random.default_rng(5)
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    records = []
    for i in range(40):
        records.append(record(bank, f"a{i}", f"pa{i}", float(rng.normal(0.8, 0.5)), 1 + i % 3, "A", rng))
    for i in range(30):
        records.append(record(bank, f"b{i}", f"pb{i}", float(rng.normal(-0.8, 0.5)), 2, "B", rng))
    for i in range(5):  # retests of A's first persons, later and higher
        records.append(record(bank, f"a{i}-2", f"pa{i}", float(rng.normal(1.5, 0.2)), 5, "A", rng))
    for i in range(4):  # nobody knows their unit
        records.append(record(bank, f"x{i}", f"px{i}", 0.0, 4, None, rng))
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.put_units([{"unit": u} for u in ("P", "A", "B")])
        store.write_many(records)
    return store_url, tmp_path


def read_csv(path):
    with open(path, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_progress_writes_every_table_and_keeps_persons_without_unit(filled):
    url, folder = filled
    (folder / "targets.yaml").write_text(
        "targets:\n  - {level: advanced, share: 0.5, date: 2026-12-31}\n", encoding="utf-8"
    )
    out = folder / "out"
    code = main(
        [
            "progress",
            "--store",
            url,
            "--units",
            str(folder / "units.csv"),
            "--targets",
            str(folder / "targets.yaml"),
            "--out",
            str(out),
            "--html",
            str(folder / "r.html"),
            "--as-of",
            "2026-06-30",
            "--lang",
            "en",
        ]
    )
    assert code == 0
    units = {r["unit"]: r for r in read_csv(out / "units.csv")}
    assert units["P"]["assessed"] == "70" and units["A"]["assessed"] == "40" and units["B"]["assessed"] == "30"
    assert units["(no unit)"]["assessed"] == "4"
    assert units["B"]["headcount"] == "60" and units["B"]["assessed_share"] == "0.5"
    # A is mostly at 'advanced' or above (cut 0), B mostly below; P lies between its two departments
    share = {u: float(units[u]["advanced+"]) for u in ("P", "A", "B")}
    assert share["A"] > 0.8 and share["B"] < 0.2 and share["B"] < share["P"] < share["A"]
    assert float(units["B"]["advanced+_lower"]) <= share["B"] <= float(units["B"]["advanced+_upper"])
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["meta"]["persons"] == 74 and report["meta"]["persons_without_unit"] == 4
    areas = {r["area"] for r in report["shares"]}
    assert set(areas) == {None, *load_bank(bundled_path("item_banks", "civil-service")).areas[:3]}
    targets = {r["unit"]: r for r in read_csv(out / "targets.csv")}
    assert targets["A"]["status"] == "met" and targets["B"]["status"] in ("at risk", "missed")
    retests = {r["unit"]: r for r in read_csv(out / "retests.csv")}
    assert retests["A"]["retested"] == "5" and float(retests["A"]["mean_change"]) > 0
    needs = read_csv(out / "training_needs.csv")
    assert {r["competence"] for r in needs if r["unit"] == "P"} == set(
        load_bank(bundled_path("item_banks", "civil-service")).competences[:2]
    )
    months = {r["month"] for r in read_csv(out / "monthly.csv")}
    assert months == {f"2026-{m:02d}" for m in range(1, 7)}
    page = (folder / "r.html").read_text(encoding="utf-8")
    assert "<h1>Programme progress report</h1>" in page and 'id="u-B"' in page and "Dept B" in page


def test_progress_narrows_to_one_unit_and_links_persons_from_a_file(filled):
    url, folder = filled
    (folder / "persons.csv").write_text("person,unit\npx0,B\npx1,B\n", encoding="utf-8")
    out = folder / "out-b"
    main(
        [
            "progress",
            "--store",
            url,
            "--units",
            str(folder / "units.csv"),
            "--persons",
            str(folder / "persons.csv"),
            "--unit",
            "B",
            "--out",
            str(out),
            "--save-units",
            "--as-of",
            "2026-06-30",
        ]
    )
    units = read_csv(out / "units.csv")
    assert [r["unit"] for r in units] == ["B"] and units[0]["assessed"] == "32"
    with open_store(url) as store:
        assert store.person_units() == {"px0": "B", "px1": "B"}
        assert {u["unit"]: u["headcount"] for u in store.units()}["B"] == 60


def test_progress_refuses_a_person_in_a_unit_outside_the_tree(filled, capsys):
    url, folder = filled
    (folder / "small.csv").write_text("unit,parent,name_vi,name_en\nP,,p,p\nA,P,a,a\n", encoding="utf-8")
    code = main(["progress", "--store", url, "--units", str(folder / "small.csv"), "--out", str(folder / "o")])
    assert code != 0
    assert "person 'pb0' is in unit 'B' (latest session), which is not in the unit tree" in capsys.readouterr().err
    assert not (folder / "o").exists()


def test_progress_names_a_session_without_its_scores_row_read_beside_the_report(filled, capsys):
    # digicomp progress reads the per-area entries while its report thread starts: a failure of that reading is
    # reported as a failure read serially is, and the command ends (the report thread does not wait forever)
    url, folder = filled
    with open_store(url) as store:
        ref = store._read("SELECT ref FROM sessions WHERE session_id = 'b7'")[0][0]
        with store._transaction() as cur:
            cur.execute(store._sql("DELETE FROM session_scores WHERE session_ref = ?"), (ref,))
    code = main(["progress", "--store", url, "--units", str(folder / "units.csv"), "--out", str(folder / "o")])
    assert code != 0
    err = capsys.readouterr().err
    assert "1 finished session(s), e.g. of person 'pb7'" in err and "fill_scores" in err
    assert not (folder / "o").exists()
