"""Paper forms: the scoring table, answer sheets, the booklet, the assemble command, and the simulation baseline."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from digicomp.assembly import AssemblyError
from digicomp.assembly.paper import answer_key, form_bank_data, score_sheets, scoring_table
from digicomp.bank import ItemBank, load_bank
from digicomp.bank.schema import BankFile
from digicomp.levels import level_index
from digicomp.reporting.booklet import booklet_html
from digicomp.scoring.sum_score import lord_wingersky, sum_score_table
from tests.cli._run import digicomp

FORM = [3, 17, 40, 41, 77, 90, 101, 115]


@pytest.fixture(scope="module")
def form(bank):
    return ItemBank(BankFile.model_validate(form_bank_data(bank, np.array(FORM), "f1")))


def test_the_scoring_table_is_the_sum_score_eap_with_its_level(bank, form):
    table = scoring_table(form)
    ref = sum_score_table(bank.params, items=np.array(FORM))
    assert np.allclose(table.theta, ref.eap) and np.allclose(table.se, ref.sd)
    assert table.level == [form.scale.levels[k] for k in level_index(table.theta, form.cut_scores)]
    assert np.allclose(table.level_probabilities.sum(axis=1), 1.0)
    # a higher sum score never gives a lower θ
    assert (np.diff(table.theta) > 0).all()


def test_the_recursion_is_the_enumerated_score_distribution(form):
    """P(s | θ) by Lord–Wingersky equals the sum over all 2^n patterns (n = 8)."""
    theta = np.array([-0.7, 0.4])
    p = form.params.prob(theta)[:, :, 1]  # (2, n)
    n = p.shape[1]
    patterns = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    probs = np.prod(np.where(patterns[None], p[:, None, :], 1 - p[:, None, :]), axis=2)
    enumerated = np.stack([np.bincount(patterns.sum(axis=1), weights=row, minlength=n + 1) for row in probs])
    assert np.allclose(lord_wingersky(form.params.prob(theta)), enumerated)


def test_answer_sheets_score_by_the_key(form):
    table = scoring_table(form)
    key = [row["key"] for row in answer_key(form, np.arange(form.n_items))]
    header = ["person"] + [str(k) for k in range(1, form.n_items + 1)]
    wrong = ["B" if k == "A" else "A" for k in key]
    rows = [["all", *key], ["none", *[""] * len(key)], ["half", *key[:4], *wrong[4:]], ["bad", "Z", *key[1:]]]
    scored = score_sheets(form, table, header, rows)
    assert [r["sum_score"] for r in scored] == [8, 0, 4, 7]
    assert scored[0]["theta"] == pytest.approx(table.theta[8]) and scored[3]["invalid"] == "1"
    assert scored[1]["invalid"] == ""
    with pytest.raises(AssemblyError, match="column 2 'x'"):
        score_sheets(form, table, ["person", "x"], [])


def test_the_booklet_holds_every_question_the_sheet_and_the_table(bank, form):
    table = scoring_table(form)
    key = answer_key(form, np.arange(form.n_items))
    html = booklet_html(form, list(range(form.n_items)), "1", key, table, "vi")
    for item in form.items:
        assert item.stem.vi in html
    assert "Phiếu trả lời" in html and "Bảng quy đổi điểm" in html and "Đáp án" in html
    assert html.count('<tr><td class="n">') >= form.n_items * 2 + table.score.size
    english = booklet_html(form, list(range(form.n_items)), "1", key, table, "en")
    assert "Answer sheet" in english and form.items[0].stem.en in english


def test_assemble_and_score_from_the_command_line(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "kind: assembly_spec\nid: p\nlength: 12\nobjective: {type: minimax_target, at: cuts}\n"
        "constraints:\n  - {area: '*', min: 1, max: 2}\n  - {level_band: foundation, min: 2}\n"
        "  - {level_band: intermediate, min: 2}\n  - {level_band: advanced, min: 2}\n"
        "exclude: {item_types: [self_assessment, multiple_response, ordering, matching, short_answer]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "forms"
    proc = digicomp("assemble", "civil-service", str(spec), "--forms", "2", "--out", str(out), "--time-limit", "3")
    assert proc.returncode == 0, proc.stderr
    assert "2 forms of 12 items" in proc.stdout
    bank = load_bank("civil-service")
    forms = [load_bank(out / f"form-{k}.yaml") for k in (1, 2)]
    assert not set(forms[0].ids) & set(forms[1].ids)
    for f in forms:
        assert f.n_items == 12 and set(np.array(bank.areas)[bank.area_index[bank.index_of(f.ids)]]) == set(bank.areas)
    key = list(csv.DictReader(open(out / "form-1-key.csv", encoding="utf-8")))
    sheets = tmp_path / "sheets.csv"
    with open(sheets, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["person"] + [row["item"] for row in key])
        w.writerow(["p1"] + [row["key"] for row in key])
    proc = digicomp("score", str(out / "form-1.yaml"), str(sheets), "--answer-sheets")
    assert proc.returncode == 0, proc.stderr
    scored = list(csv.DictReader(proc.stdout.splitlines()))
    table = list(csv.DictReader(open(out / "form-1-scoring.csv", encoding="utf-8")))
    assert scored[0]["sum_score"] == "12" and float(scored[0]["theta"]) == pytest.approx(float(table[12]["theta"]))


def test_an_infeasible_spec_on_the_command_line_names_the_line(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "kind: assembly_spec\nlength: 10\nconstraints:\n  - {area: '1', min: 6}\n  - {area: '2', min: 6}\n",
        encoding="utf-8",
    )
    proc = digicomp("assemble", "civil-service", str(spec), "--out", str(tmp_path / "o"))
    assert proc.returncode != 0
    assert "cannot hold together" in proc.stderr and "spec.yaml:" in proc.stderr


def test_the_baseline_form_meets_the_design_minimums():
    """Issue 18: the old best-information baseline gave area 7 none of the 3 items required."""
    from digicomp.cat import AdaptiveTest
    from digicomp.simulation.baseline import fixed_form

    bank = load_bank("civil-service")
    design = {
        "content": {"by": "area", "constraints": [{"group": a, "min": 3} for a in bank.areas]},
        "stop": {"max_items": 30},
    }
    form = fixed_form(AdaptiveTest(bank, design), 30)
    counts = np.bincount(bank.area_index[form], minlength=len(bank.areas))
    assert form.size == 30 and (counts >= 3).all()
    pairs = bank.enemy_pairs
    chosen = np.isin(np.arange(bank.n_items), form)
    assert not (chosen[pairs[:, 0]] & chosen[pairs[:, 1]]).any()


def test_the_printed_key_of_every_item_format_scores_full_marks_on_a_sheet():
    """What the key says, written on the answer sheet, gets each item's top category (every bundled format)."""
    from digicomp.assembly.paper import key_text, sheet_answer
    from digicomp.bank.scoring import score

    bank = load_bank("civil-service")
    for j, item in enumerate(bank.items):
        if item.kind == "self_assessment":
            continue
        written = key_text(item).split(" | ")[0].split(" (± ")[0]
        assert score(item, sheet_answer(item, written))[1] == bank.params.n_categories[j] - 1, item.id


def test_a_form_keeps_one_order_when_equal_values_differ_in_the_last_bit():
    """Items with the same parameters have the same value up to the BLAS kernel's rounding: the form's order (which
    decides which random draw answers each item in a simulation) must not depend on that last bit."""
    from digicomp.assembly import assemble_one
    from digicomp.assembly.spec import AssemblySpec

    bank = load_bank("civil-service")
    value = np.repeat([3.0, 2.0, 1.0], [4, 4, bank.n_items - 8])
    rng = np.random.default_rng(5)
    orders = set()
    for _ in range(6):
        noisy = value * (1 + rng.choice([-1, 0, 1], value.size) * np.finfo(float).eps)
        orders.add(tuple(assemble_one(bank, AssemblySpec.model_validate({}), 8, noisy).tolist()))
    assert orders == {tuple(range(8))}  # the eight most valuable, each value's ties in bank order


def test_rated_tasks_enter_a_form_only_when_the_spec_asks_for_them():
    """A task needs a rater: a spec that never names the type keeps tasks out, however valuable; naming it in a
    constraint (or including a task by id) lets them in."""
    from digicomp.assembly import assemble_one
    from digicomp.assembly.spec import AssemblySpec

    bank = load_bank("civil-service")
    tasks = np.flatnonzero(bank.is_rated)
    value = np.where(bank.is_rated, 10.0, 1.0)  # tasks would win on value alone
    plain = assemble_one(bank, AssemblySpec.model_validate({}), 8, value)
    assert not set(plain.tolist()) & set(tasks.tolist())
    asked = AssemblySpec.model_validate({"constraints": [{"item_type": "rated_task", "max": 2}]})
    assert len(set(assemble_one(bank, asked, 8, value).tolist()) & set(tasks.tolist())) == 2
    one = bank.ids[int(tasks[0])]
    included = assemble_one(bank, AssemblySpec.model_validate({"include": [one]}), 8, value)
    assert set(included.tolist()) & set(tasks.tolist()) == {int(tasks[0])}
