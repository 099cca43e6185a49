"""Raters of rated tasks: weighted kappa against its closed form, the ratings file read against the bank's rubrics
(every problem at once), double ratings resolved, and ``digicomp rate`` end to end."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.analysis.agreement import agreement, weighted_kappa
from digicomp.bank import load_bank
from digicomp.cli import main
from digicomp.errors import ResponseError
from digicomp.face.ratings import read_ratings, resolve

TASKS = Path(__file__).parents[1] / "bank" / "fixtures" / "tasks.yaml"


def test_quadratic_kappa_of_a_small_table_is_seven_elevenths():
    # by hand: observed weighted disagreement 2 x 1/4 x 1/4 x 1/4 = 0.125, expected 0.34375 -> 1 - 0.125/0.34375
    assert weighted_kappa([0, 1, 2, 2], [0, 2, 2, 1], 3) == pytest.approx(7 / 11)
    assert weighted_kappa([0, 1, 2], [0, 1, 2], 3) == pytest.approx(1.0)
    assert np.isnan(weighted_kappa([1, 1, 1], [1, 1, 1], 3))  # no expected disagreement: undefined


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=2, max_size=40))
def test_quadratic_kappa_equals_its_moment_form(pairs):
    """κ_w (quadratic) = 2 cov(a, b) / (var a + var b + (mean a - mean b)²), population moments."""
    a, b = (np.array(x, float) for x in zip(*pairs))
    denominator = a.var() + b.var() + (a.mean() - b.mean()) ** 2
    got = weighted_kappa(a.astype(int), b.astype(int), 5)
    if denominator == 0:
        assert np.isnan(got)
    else:
        assert got == pytest.approx(2 * np.mean((a - a.mean()) * (b - b.mean())) / denominator, abs=1e-12)


def test_agreement_counts_exact_and_adjacent_scores():
    result = agreement([0, 3, 5, 2], [0, 4, 3, 2], 6)
    assert (result.n, result.exact, result.adjacent) == (4, 0.5, 0.75)


def _ratings(rows: list[tuple]) -> io.StringIO:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["person", "item", "rater", "criterion", "points"])
    writer.writerows(rows)
    out.seek(0)
    return out


def _rating(person: str, item: str, rater: str, points: dict[str, int]) -> list[tuple]:
    return [(person, item, rater, c, p) for c, p in points.items()]


BANK = load_bank(TASKS)
AGREED = {"c1": 2, "c2": 1, "c3": 1}


def test_single_agreed_and_adjudicated_ratings_give_one_score_each():
    rows = (
        _rating("p1", "t-plan", "r1", AGREED)
        + _rating("p1", "t-plan", "r2", AGREED)
        + _rating("p2", "t-plan", "r1", {"c1": 1, "c2": 0, "c3": 0})
        + _rating("p3", "t-plan", "r1", {"c1": 2, "c2": 1, "c3": 2})
        + _rating("p3", "t-plan", "r2", {"c1": 1, "c2": 1, "c3": 2})
        + _rating("p3", "t-plan", "boss", {"c1": 2, "c2": 0, "c3": 2})
        + _rating("p1", "t-guide", "r1", {"c1": 1, "c2": 0})
    )
    resolved = resolve(read_ratings(_ratings(rows), BANK), BANK, adjudicator="boss")
    assert resolved.rows == [
        ("p1", "t-plan", 4, "agreed"),
        ("p2", "t-plan", 1, "single"),
        ("p3", "t-plan", 4, "adjudicated"),
        ("p1", "t-guide", 1, "single"),
    ]
    plan = resolved.agreement["t-plan"]  # p1 (4, 4) and p3 (5, 4); the adjudicator is not a rater of the pair
    assert (plan.n, plan.exact, plan.adjacent) == (2, 0.5, 1.0)
    assert resolved.criteria["t-plan"] == {"c1": 0.5, "c2": 1.0, "c3": 1.0}


def test_disagreements_without_an_adjudicator_are_listed_or_take_the_lower_points():
    rows = (
        _rating("p1", "t-plan", "r1", {"c1": 2, "c2": 1, "c3": 1})
        + _rating("p1", "t-plan", "r2", {"c1": 1, "c2": 1, "c3": 2})
        + _rating("p2", "t-guide", "r1", {"c1": 1, "c2": 1})
        + _rating("p2", "t-guide", "r2", {"c1": 0, "c2": 1})
    )
    ratings = read_ratings(_ratings(rows), BANK)
    with pytest.raises(ResponseError, match=r"2 problem.*'p1' on 't-plan' \(raters r1, r2\).*'p2' on 't-guide'"):
        resolve(ratings, BANK)
    lower = resolve(ratings, BANK, rule="lower")
    assert lower.rows == [("p1", "t-plan", 3, "lower"), ("p2", "t-guide", 1, "lower")]


def test_every_problem_of_a_ratings_file_is_reported_at_once_by_line():
    rows = [
        ("p1", "t-nope", "r1", "c1", "1"),  # line 2
        ("p1", "t-mc1", "r1", "c1", "1"),  # line 3
        ("p1", "t-plan", "r1", "c9", "1"),  # line 4
        ("p1", "t-plan", "r1", "c1", "3"),  # line 5
        ("p1", "t-plan", "r1", "c2", "1"),  # line 6
        ("p1", "t-plan", "r1", "c2", "0"),  # line 7
        ("", "t-plan", "r2", "c1", "1"),  # line 8
    ]
    with pytest.raises(ResponseError) as caught:
        read_ratings(_ratings(rows), BANK)
    text = str(caught.value)
    for fragment in (
        ":2: item 't-nope' is not in bank 'tasks'",
        ":3: item 't-mc1' is a multiple_choice item, not a rated task",
        ":4: item 't-plan' has no criterion 'c9'",
        ":5: criterion 'c1' of 't-plan' is scored 0..2 in whole points, got '3'",
        ":7: rater 'r1' scored 'c2' of 't-plan' for 'p1' again (first on line 6)",
        ":8: person and rater must not be empty",
        "rater 'r1' gave 'p1' on 't-plan' no points for ['c1', 'c3']",
    ):
        assert fragment in text, text


def test_digicomp_rate_writes_scores_that_digicomp_score_reads_and_an_agreement_report(tmp_path, capsys):
    rows = _rating("p1", "t-plan", "r1", AGREED) + _rating("p1", "t-plan", "r2", AGREED)
    rows += _rating("p2", "t-plan", "r1", {"c1": 0, "c2": 1, "c3": 0})
    rows += _rating("p2", "t-plan", "r2", {"c1": 1, "c2": 1, "c3": 0})
    path = tmp_path / "ratings.csv"
    path.write_text(_ratings(rows).getvalue(), encoding="utf-8")
    out, report = tmp_path / "scores.csv", tmp_path / "agreement.json"
    assert main(["rate", str(TASKS), str(path), "--out", str(out), "--resolve", "lower", "--report", str(report)]) == 0
    assert out.read_text(encoding="utf-8").splitlines() == ["person,item,response", "p1,t-plan,4", "p2,t-plan,1"]
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["resolution"] == {"single": 0, "agreed": 1, "adjudicated": 0, "lower": 1}
    assert data["overall"]["exact"] == 0.5 and data["items"]["t-plan"]["criteria_exact"]["c1"] == 0.5
    assert "exact agreement 50.0%" in capsys.readouterr().out
    scored = tmp_path / "theta.csv"
    assert main(["score", str(TASKS), str(out), "--out", str(scored)]) == 0
    with scored.open(encoding="utf-8") as fh:
        theta = {row["person"]: float(row["theta"]) for row in csv.DictReader(fh)}
    assert theta["p1"] > theta["p2"]  # 4 of 5 points against 1
