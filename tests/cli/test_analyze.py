"""``digicomp analyze`` end to end on a simulated booklet pilot, and every refusal of bad input with its line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from digicomp.cli import main
from digicomp.simulation.dif_pilot import simulate_dif_pilot, write_pilot_files


@pytest.fixture(scope="module")
def pilot(tmp_path_factory) -> tuple[Path, Path, Path]:
    sim = simulate_dif_pilot(n_items=40, n_persons=3000, items_per_person=20, effect=1.0, seed=4)
    return write_pilot_files(sim, tmp_path_factory.mktemp("pilot"))


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_analyze_writes_every_table_the_summary_and_the_report(pilot, tmp_path, capsys):
    bank, answers, persons = pilot
    out, html = tmp_path / "out", tmp_path / "report.html"
    code = main(
        [
            "analyze", str(answers), "--bank", str(bank), "--groups", str(persons), "--by", "group",
            "--reference", "reference", "--irt-dif", "--out", str(out), "--html", str(html), "--lang", "en",
        ]
    )  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "[1] read and score the answers" in err and "IRT likelihood ratio" in err
    for name in ("items", "options", "person_fit", "item_fit", "information", "dif_mh", "dif_logistic", "dif_irt"):
        assert (out / f"{name}.csv").is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["n_persons"] == 3000 and summary["n_items"] == 40 and summary["design"] == "booklets"
    assert summary["dif"]["reference"] == "reference" and summary["dif"]["focal"] == ["focal"]
    mh = _read(out / "dif_mh.csv")
    assert len(mh) == 40 and {r["ets_class"] for r in mh} <= {"A", "B", "C"}
    assert summary["dif"]["irt_flagged"]  # effects of 1 logit on 4 items are found
    groups = _read(out / "groups.csv")
    assert [g["group"] for g in groups] == ["reference", "focal"]
    assert float(groups[1]["mean"]) == pytest.approx(-0.5, abs=0.2)
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'lang="en"' in page
    for section in ("Items and flags", "Mantel–Haenszel", "IRT likelihood ratio", "Test information", "Person fit"):
        assert section in page


def test_report_in_vietnamese(pilot, tmp_path):
    bank, answers, _ = pilot
    html = tmp_path / "r.html"
    assert main(["analyze", str(answers), "--bank", str(bank), "--out", str(tmp_path / "o"), "--html", str(html),
                 "--quiet"]) == 0  # fmt: skip
    page = html.read_text(encoding="utf-8")
    assert 'lang="vi"' in page and "Báo cáo phân tích thử nghiệm" in page
    assert "Chưa phân tích DIF" in page


def _run_error(capsys, *args: str) -> str:
    assert main(["analyze", *args]) == 1
    return capsys.readouterr().err


def test_missing_group_column_is_named(pilot, tmp_path, capsys):
    bank, answers, persons = pilot
    err = _run_error(capsys, str(answers), "--bank", str(bank), "--groups", str(persons), "--by", "language",
                     "--out", str(tmp_path))  # fmt: skip
    assert f"{persons}:1: no column 'language'" in err


def test_a_small_group_is_refused_with_its_size(pilot, tmp_path, capsys):
    bank, answers, persons = pilot
    rows = persons.read_text(encoding="utf-8").splitlines()
    rows[1] = rows[1].rsplit(",", 1)[0] + ",tiny"
    small = tmp_path / "persons.csv"
    small.write_text("\n".join(rows) + "\n", encoding="utf-8")
    err = _run_error(capsys, str(answers), "--bank", str(bank), "--groups", str(small), "--by", "group",
                     "--out", str(tmp_path))  # fmt: skip
    assert "'tiny' (1)" in err and "fewer than 100 persons" in err


def test_persons_missing_from_the_person_file_are_refused(pilot, tmp_path, capsys):
    bank, answers, persons = pilot
    rows = persons.read_text(encoding="utf-8").splitlines()
    short = tmp_path / "persons.csv"
    short.write_text("\n".join(rows[:-3]) + "\n", encoding="utf-8")
    err = _run_error(capsys, str(answers), "--bank", str(bank), "--groups", str(short), "--by", "group",
                     "--out", str(tmp_path))  # fmt: skip
    assert "3 person(s) of the responses are not in the person file" in err


def test_extra_persons_in_the_person_file_are_listed_not_dropped(pilot, tmp_path):
    bank, answers, persons = pilot
    extra = tmp_path / "persons.csv"
    extra.write_text(persons.read_text(encoding="utf-8") + "ghost,focal\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["analyze", str(answers), "--bank", str(bank), "--groups", str(extra), "--by", "group",
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    excluded = _read(out / "excluded.csv")
    assert {"what": "person", "id": "ghost"}.items() <= excluded[0].items()


def test_an_answer_that_is_not_an_option_names_the_line(pilot, tmp_path, capsys):
    bank, answers, _ = pilot
    lines = answers.read_text(encoding="utf-8").splitlines()
    person, item, _ = lines[5].split(",")
    lines[5] = f"{person},{item},E"
    bad = tmp_path / "answers.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = _run_error(capsys, str(bad), "--bank", str(bank), "--out", str(tmp_path))
    assert f"{bad}:6: item {item!r}: answer 'E' is not one of its options ['A', 'B', 'C', 'D']" in err


def test_an_item_without_options_or_key_cannot_be_scored_from_a_letter(pilot, tmp_path, capsys):
    bank, answers, _ = pilot
    text = bank.read_text(encoding="utf-8")
    # make item001 a parameters-only item: drop its content (stem, competence stay legal), options and key
    import yaml

    data = yaml.safe_load(text)
    first = data["items"][0]
    for k in ("stem", "options", "key", "competence", "level"):
        first.pop(k, None)
    nokey = tmp_path / "bank.yaml"
    nokey.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    lines = answers.read_text(encoding="utf-8").splitlines()
    row = next(k for k, ln in enumerate(lines) if ",item001," in ln)
    err = _run_error(capsys, str(answers), "--bank", str(nokey), "--out", str(tmp_path))
    assert f":{row + 1}: item 'item001' has no options or key in the bank" in err


def test_an_item_not_in_the_bank_names_the_line(pilot, tmp_path, capsys):
    bank, answers, _ = pilot
    bad = tmp_path / "answers.csv"
    bad.write_text(answers.read_text(encoding="utf-8") + "p1,zz9,A\n", encoding="utf-8")
    n = len(bad.read_text(encoding="utf-8").splitlines())
    err = _run_error(capsys, str(bad), "--bank", str(bank), "--out", str(tmp_path))
    assert f"{bad}:{n}: item 'zz9' is not in bank 'dif-pilot'" in err


def test_groups_without_by_is_a_usage_error(pilot, tmp_path):
    bank, answers, persons = pilot
    assert main(["analyze", str(answers), "--bank", str(bank), "--groups", str(persons), "--out", str(tmp_path)]) == 2


def test_a_complete_wide_pilot_matches_on_the_total_score(tmp_path):
    import numpy as np

    sim = simulate_dif_pilot(n_items=12, n_persons=600, items_per_person=8, effect=1.0, seed=5)
    bank, _, persons = write_pilot_files(sim, tmp_path / "p")
    rng = np.random.default_rng(5)  # every person answers every item (the bank's 2PL, the pilot's abilities)
    x = (rng.random((600, 12)) < 1 / (1 + np.exp(-(sim.a * sim.theta[:, None] + sim.d)))).astype(int)
    letters = np.array(list("ABCD"))
    import yaml

    keys = np.array([it["key"] for it in yaml.safe_load(bank.read_text(encoding="utf-8"))["items"]])
    wrong = letters[(np.searchsorted(letters, keys)[None, :] + 1) % 4]
    cells = np.where(x == 1, keys[None, :], wrong)
    lines = ["person," + ",".join(sim.responses.item_ids)]
    lines += [f"{p}," + ",".join(row) for p, row in zip(sim.responses.person_ids, cells)]
    wide = tmp_path / "wide.csv"
    wide.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["analyze", str(wide), "--bank", str(bank), "--groups", str(persons), "--by", "group",
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["design"] == "complete" and summary["dif"]["matching"] == "total score"
    assert summary["n_responses"] == 600 * 12


def test_irt_dif_by_wald_tests(pilot, tmp_path, capsys):
    bank, answers, persons = pilot
    out = tmp_path / "out"
    code = main(
        ["analyze", str(answers), "--bank", str(bank), "--groups", str(persons), "--by", "group", "--reference",
         "reference", "--irt-dif", "wald", "--anchors", "all-others", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    assert "IRT Wald" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["dif"]["irt_test"] == "wald" and summary["dif"]["irt_flagged"]
    rows = _read(out / "dif_irt.csv")
    assert len(rows) == 40
    wald = [float(r["chi2"]) for r in rows]
    lr = [float(r["chi2_lr"]) for r in rows]
    assert abs(sum(wald) / sum(lr) - 1) < 0.1  # the two statistics of the same hypothesis
