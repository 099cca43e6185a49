"""``digicomp simulate``: design files naming a bank by id, YAML or CSV; JSON to stdout; tables to --out."""

from __future__ import annotations

import json

from digicomp.cli import main

DESIGN = """kind: cat_design
id: {id}
bank: {bank}
selection: {{rule: mfi}}
stop: {{max_items: 20, rules: [{{se: 0.35}}]}}
report: {{audit: false}}
"""


def test_simulate_a_design_whose_bank_is_a_parameter_csv(tmp_path, params, capsys):
    from digicomp.bank import ItemBank

    ItemBank.from_item_parameters(params).to_param_table(tmp_path / "bank.csv")
    (tmp_path / "d.yaml").write_text(DESIGN.format(id="csv-bank", bank="bank.csv"), encoding="utf-8")
    code = main(
        [
            "simulate",
            str(tmp_path / "d.yaml"),
            "--n",
            "200",
            "--seed",
            "3",
            "--json",
            "--quiet",
            "--cuts=-0.5,0.5",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    d = data["designs"]["csv-bank"]
    assert data["n"] == 200 and d["n"] == 200 and d["mean_length"] <= 20
    assert 0 < d["classification_accuracy"] <= 1 and len(d["confusion"]) == 3
    assert (tmp_path / "out" / "summary.json").exists() and (tmp_path / "out" / "persons-csv-bank.csv").exists()


def test_two_designs_and_a_bundled_bank_print_a_side_by_side_summary(tmp_path, capsys):
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(DESIGN.format(id=name, bank="civil-service"), encoding="utf-8")
    code = main(
        [
            "simulate",
            str(tmp_path / "a.yaml"),
            str(tmp_path / "b.yaml"),
            "--n",
            "50",
            "--quiet",
            "--baseline",
            "random",
            "--baseline-length",
            "10",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("metric"))
    assert header.split() == ["metric", "a", "b", "random-10"]


def test_a_missing_design_file_is_a_one_line_error(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "nope.yaml"), "--n", "5"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("digicomp: error:") and "nope.yaml" in err and len(err.strip().splitlines()) == 1
