"""Rated tasks: a rubric of criteria worth 1 or 2 points each, checked in the bank, scored from a rater's points,
never given by an adaptive test; provisional parameters from the rubric total; paper booklets and sheets."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.bank import load_bank, validate_file
from digicomp.bank.formats import max_score
from digicomp.bank.provisional import format_params, level_difficulty
from digicomp.bank.scoring import answer_for, score
from digicomp.cat import AdaptiveTest
from digicomp.errors import BankError, ResponseError

from .conftest import FIXTURES
from .test_bank_validate import FRAMEWORK

TASKS = FIXTURES / "tasks.yaml"
PLAN = 2  # position of t-plan in the file


@pytest.fixture(scope="module")
def bank():
    return load_bank(TASKS)


@pytest.fixture
def data() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(TASKS.read_text(encoding="utf-8")))


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_a_task_scores_0_to_its_rubric_total_in_its_polytomous_model(bank):
    assert validate_file(TASKS, FRAMEWORK) == []
    assert list(bank.kind) == ["multiple_choice", "multiple_choice", "rated_task", "rated_task"]
    assert [max_score(item) for item in bank] == [1, 1, 5, 2]
    assert bank.params.n_categories.tolist() == [2, 2, 6, 3]


REFUSALS = [
    ({"rubric": None}, "items[2]", "a rated_task item needs 'rubric'"),
    ({"rubric": [{"id": "c1", "points": 1, "vi": "a", "en": "a"}]}, "items[2].rubric", "has 2 to 8 rubric, got 1"),
    ({"params": {"a": 1.0, "b": [0.0, 0.5]}}, "items[2].params.b", "params.b needs 5 values, got 2"),
    ({"model": "2PL", "params": {"a": 1.0, "b": 0.0}}, "items[2].model", "needs a polytomous model"),
    ({"key": "A"}, "items[2].key", "'key' is not a field of a rated_task item"),
    ({"level": None}, "items[2]", "needs its intended 'level'"),
]


@pytest.mark.parametrize(("change", "where", "fragment"), REFUSALS, ids=[r[1] + "-" + r[2][:20] for r in REFUSALS])
def test_malformed_tasks_are_refused_and_listed_at_their_place(tmp_path, data, change, where, fragment):
    for field, value in change.items():
        if value is None:
            data["items"][PLAN].pop(field)
        else:
            data["items"][PLAN][field] = value
    path = _write(tmp_path, data)
    problems = validate_file(path, FRAMEWORK)
    assert any(f": {where}: " in p and fragment in p for p in problems), problems
    with pytest.raises(BankError, match=fragment.replace("(", r"\(").replace("[", r"\[")):
        load_bank(path)


@pytest.mark.parametrize(
    ("criterion", "fragment"),
    [
        ({"id": "c1", "points": 2, "vi": "a", "en": "a"}, "worth 2 points: 'partial' says what earns 1"),
        ({"id": "c1", "points": 1, "vi": "a", "en": "a", "partial": {"vi": "b", "en": "b"}}, "has no 'partial'"),
        ({"id": "c1", "points": 3, "vi": "a", "en": "a"}, "less than or equal to 2"),
        ({"id": "c1", "points": 1, "vi": "a"}, "en"),
    ],
)
def test_a_criterion_states_its_points_and_what_earns_part_of_them(tmp_path, data, criterion, fragment):
    data["items"][PLAN]["rubric"][0] = criterion
    problems = validate_file(_write(tmp_path, data), FRAMEWORK)
    assert any("items[2].rubric[0]" in p and fragment in p for p in problems), problems


def test_duplicate_criterion_ids_are_refused(tmp_path, data):
    data["items"][PLAN]["rubric"][2]["id"] = "c1"
    problems = validate_file(_write(tmp_path, data), FRAMEWORK)
    assert any(": items[2].rubric[2].id: item 't-plan': id 'c1' is used twice in 'rubric'" in p for p in problems)


def test_a_rating_scores_the_sum_of_its_points(bank):
    item = bank.item("t-plan")
    assert score(item, {"c1": 2, "c2": 0, "c3": 1}) == ({"c1": 2, "c2": 0, "c3": 1}, 3)
    assert score(item, {"c3": 2, "c1": 2, "c2": 1})[1] == 5
    assert score(item, {"c1": np.int64(1), "c2": 1, "c3": 0})[1] == 2


@pytest.mark.parametrize(
    ("rating", "fragment"),
    [
        ({"c1": 2, "c2": 1}, "no points for criterion 'c3'"),
        ({"c1": 2, "c2": 1, "c3": 0, "c4": 1}, "'c4', which is not a rubric criterion"),
        ({"c1": 3, "c2": 1, "c3": 0}, "'c1' is scored 0..2 in whole points, got 3"),
        ({"c1": 1, "c2": -1, "c3": 0}, "'c2' is scored 0..1"),
        ({"c1": 1.5, "c2": 1, "c3": 0}, "got 1.5"),
        ({"c1": True, "c2": 1, "c3": 0}, "got True"),
        ("c1=2,c2=1,c3=0", "a rating must be a dict"),
    ],
)
def test_malformed_ratings_are_refused_naming_item_and_criterion(bank, rating, fragment):
    with pytest.raises(ResponseError, match=r"item 't-plan'.*" + fragment.replace("(", r"\(")):
        score(bank.item("t-plan"), rating)


@settings(max_examples=30, deadline=None)
@given(category=st.integers(0, 5))
def test_answer_for_gives_a_rating_with_exactly_the_score_asked(bank, category):
    item = bank.item("t-plan")
    assert score(item, answer_for(item, category))[1] == category


def test_provisional_parameters_spread_the_rubric_total_around_the_level():
    item = {"id": "x", "type": "rated_task", "level": 7, "rubric": [{"points": 2}, {"points": 1}, {"points": 2}]}
    model, params = format_params(item)
    b7 = level_difficulty(7)
    assert model == "GPCM" and params["a"] == 1.0
    assert params["b"] == pytest.approx(np.linspace(b7 - 0.6, b7 + 0.6, 5))


def test_an_adaptive_test_never_gives_a_rated_task(bank):
    """A CAT scores as it goes; a task waits for its rater, so neither selection nor exposure ever picks one."""
    engine = AdaptiveTest(bank, {"stop": {"max_items": 4}, "exposure": {"method": "randomesque", "k": 4}})
    for seed in range(20):
        session = engine.start(seed=seed)
        given_ids = []
        while (view := session.next_item()) is not None:
            given_ids.append(view.id)
            session.record(view.id, answer_for(bank.item(view.id), 1))
        assert given_ids and set(given_ids) <= {"t-mc1", "t-mc2"}


def test_a_paper_booklet_leaves_room_for_the_task_and_the_sheet_takes_the_raters_points(bank):
    from digicomp.assembly.paper import key_text, sheet_answer
    from digicomp.reporting.booklet import _question, _sheet_cell

    item = bank.item("t-plan")
    html = _question(3, item, None, "vi")
    assert "người chấm chấm theo thang tiêu chí" in html and 'class="response"' in html
    assert _sheet_cell(item).count("bubble") == 3 and "/2" in _sheet_cell(item)
    assert key_text(item) == "c1=2,c2=1,c3=2"  # full marks, as a rater writes it on the sheet
    assert sheet_answer(item, "c1=2; c2=1,c3=0") == {"c1": 2, "c2": 1, "c3": 0}
    assert score(item, sheet_answer(item, "c1=2,c2=1,c3=0"))[1] == 3
    with pytest.raises(ResponseError, match="'c2' is scored 0..1 in whole points, got 'x'"):
        score(item, sheet_answer(item, "c1=2,c2=x,c3=0"))


def test_a_design_that_names_a_rated_task_among_its_first_items_is_refused(bank):
    from digicomp.errors import DesignError

    design = {"start": {"first_items": {"n": 2, "rule": "fixed", "items": ["t-mc1", "t-plan"]}}}
    with pytest.raises(DesignError, match=r"first_items\.items\[1\]: item 't-plan' is a rated task"):
        AdaptiveTest(bank, design)


def test_pilot_analysis_scores_a_rated_task_from_its_rating_in_json(bank):
    import io

    from digicomp.errors import ResponseError as PilotProblem
    from digicomp.face.pilot import score_answers

    text = 'person,item,response\np1,t-mc1,A\np1,t-plan,"{""c1"": 2, ""c2"": 1, ""c3"": 0}"\np2,t-plan,"{""c1"": 0}"\n'
    with pytest.raises(PilotProblem, match=r":4: .*no points for criterion 'c2'"):
        score_answers(bank, io.StringIO(text))
    scored = score_answers(bank, io.StringIO(text.rsplit("p2", 1)[0]))
    assert scored.kinds == ["multiple_choice", "rated_task"] and scored.scores.tolist() == [[1.0, 3.0]]


def test_lint_reads_a_rubric_that_rests_a_point_on_a_law(tmp_path, data):
    """A rubric criterion citing a decree needs the item's sources and a review-by date, as a stem would."""
    import datetime

    from digicomp.bank.lint import lint_bank

    data["items"][PLAN]["rubric"][1]["vi"] = "Phân loại đúng dữ liệu nhạy cảm theo Nghị định 356/2025/NĐ-CP"
    data["items"][PLAN]["rubric"][1]["en"] = "Classifies sensitive data as Decree 356/2025/ND-CP does"
    found = {(f.item, f.rule) for f in lint_bank(_write(tmp_path, data), today=datetime.date(2026, 12, 5)).findings}
    assert {("t-plan", "law-source"), ("t-plan", "law-review-date")} <= found
    data["items"][PLAN]["sources"] = [
        {"title": "Nghị định 356/2025/NĐ-CP", "url_or_ref": "vbpl.vn", "review_by": "2027-06-30"}
    ]
    found = {(f.item, f.rule) for f in lint_bank(_write(tmp_path, data), today=datetime.date(2026, 12, 5)).findings}
    assert not {rule for item, rule in found if item == "t-plan"} & {"law-source", "law-review-date"}
