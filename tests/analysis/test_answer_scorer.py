"""The one raw-answer scorer (digicomp.face.pilot.score_answers): a file and rows give the same scored matrices,
every format scores as the bank's own per-answer scoring, and a bad answer is refused at its first row."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import digicomp
from digicomp.bank.scoring import answer_for
from digicomp.bank.scoring import score as bank_score
from digicomp.errors import ResponseError
from digicomp.face.analysis import read_answers
from digicomp.face.analysis import score_answers as analysis_score_answers
from digicomp.face.pilot import PilotError, read_pilot, score_answers

BANKS = ("civil-service", "public-security")


@pytest.fixture(scope="module", params=BANKS)
def bank(request):
    return digicomp.load_bank(request.param)


def _oracle(item, answer) -> tuple[int, int]:
    """(score, option position) of one answer, one row at a time, straight from the bank's scoring."""
    if item.kind == "self_assessment":
        return int(answer), -1
    _, s = bank_score(item, answer)
    pos = [o.id for o in item.options].index(answer) if item.kind == "multiple_choice" else -1
    return int(s), pos


def _cell(answer) -> str:
    return answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)


def _answers(bank, seed: int, n: int = 150, per_person: int = 40):
    """A long CSV (text) of n persons answering per_person random items each, every score category of every
    format drawn, and the expected (person, item) → (score, option) from the oracle."""
    rng = np.random.default_rng(seed)
    items = list(bank)
    expected = {}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["person", "item", "response"])
    for p in range(n):
        for j in rng.choice(len(items), per_person, replace=False):
            it = items[j]
            top = int(bank.params.n_categories[bank.index_of(it.id)]) - 1
            if it.kind == "multiple_choice":
                answer = it.options[int(rng.integers(len(it.options)))].id
            elif it.kind == "self_assessment":
                answer = str(int(rng.integers(top + 1)))
            else:
                answer = answer_for(it, int(rng.integers(top + 1)))
            w.writerow([f"p{p}", it.id, _cell(answer)])
            expected[(f"p{p}", it.id)] = _oracle(it, answer)
    return buf.getvalue(), expected


def _check(data, expected) -> None:
    got = {}
    for p, person in enumerate(data.person_ids):
        for j in np.flatnonzero(~np.isnan(data.scores[p])):
            got[(person, data.item_ids[j])] = (int(data.scores[p, j]), int(data.choices[p, j]))
    assert got == expected


def test_file_and_rows_give_identical_matrices_on_the_bundled_banks(bank, tmp_path):
    text, expected = _answers(bank, seed=3)
    assert {bank[i].kind for _, i in expected} >= {
        "multiple_choice", "multiple_response", "ordering", "matching", "short_answer", "self_assessment"
    }  # fmt: skip
    path = tmp_path / "answers.csv"
    path.write_text(text, encoding="utf-8")
    from_file = read_pilot(path, bank)  # the former `digicomp analyze` entry point
    from_rows = analysis_score_answers(bank, read_answers(path))  # the former row-by-row entry point
    for data in (from_file, from_rows):
        _check(data, expected)
    assert from_file.person_ids == from_rows.person_ids and from_file.item_ids == from_rows.item_ids
    assert np.array_equal(from_file.scores, from_rows.scores, equal_nan=True)
    assert np.array_equal(from_file.choices, from_rows.choices)
    assert np.array_equal(from_file.keys, from_rows.keys) and from_file.options == from_rows.options
    assert np.array_equal(from_file.max_scores, from_rows.max_scores)
    assert from_file.not_in_pilot == from_rows.unanswered == [i for i in bank.params.ids if i not in from_file.item_ids]
    assert from_file.responses.n_observed == len(expected)


def test_a_wide_file_scores_as_the_long_one(tmp_path):
    bank = digicomp.load_bank("civil-service")
    text, expected = _answers(bank, seed=4, n=40, per_person=15)
    rows = list(csv.reader(io.StringIO(text)))[1:]
    persons = list(dict.fromkeys(r[0] for r in rows))
    items = list(dict.fromkeys(r[1] for r in rows))
    cell = {(r[0], r[1]): r[2] for r in rows}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["person", *items])
    for p in persons:
        w.writerow([p, *(cell.get((p, i), "") for i in items)])
    buf.seek(0)
    _check(score_answers(bank, buf), expected)


def test_refusals_name_the_first_bad_row(tmp_path):
    bank = digicomp.load_bank("civil-service")
    mcq = next(it for it in bank if it.kind == "multiple_choice")
    sa = next(it for it in bank if it.kind == "self_assessment")
    mr = next(it for it in bank if it.kind == "multiple_response")
    top = int(bank.params.n_categories[bank.index_of(sa.id)]) - 1
    cases = [
        (f"p1,{sa.id},{top + 1}\n", rf":3: item '{sa.id}': score '{top + 1}' is outside its categories 0..{top}"),
        (f"p1,{sa.id},x\n", rf":3: item '{sa.id}' is a self-assessment item: its answer 'x' cannot be scored"),
        (f'p1,{mr.id},"[""zz""]"\n', rf":3: item '{mr.id}'"),
        (f"p1,{mr.id},[oops\n", rf":3: item '{mr.id}': answer '\[oops' is not valid JSON"),
        (f"p1,{mcq.id},Q\n", rf":3: item '{mcq.id}': answer 'Q' is not one of its options"),
    ]
    for bad, message in cases:
        # a good row first, the bad one second, a bad multiple-choice answer after it: the second row is named
        text = f"person,item,response\np0,{mcq.id},{mcq.key}\n{bad}p2,{mcq.id},Z\n"
        with pytest.raises(PilotError, match=message):
            score_answers(bank, io.StringIO(text))
        with pytest.raises(ResponseError, match=":3: "):  # the rows of read_answers name the same line
            score_answers(bank, read_answers(io.StringIO(text)))


_BANK = digicomp.load_bank("civil-service")
_ITEMS = [it for it in _BANK][:80]


@st.composite
def _rows(draw):
    """Random rows over 80 items of every format; each answer valid (drawn over the item's scores or options) or,
    rarely, a string no item accepts; (person, item) pairs unique."""
    n = draw(st.integers(1, 60))
    cells = draw(
        st.lists(st.tuples(st.integers(0, 9), st.integers(0, len(_ITEMS) - 1)), min_size=n, max_size=n, unique=True)
    )
    rows, expected, first_bad = [], {}, None
    for k, (p, j) in enumerate(cells):
        it = _ITEMS[j]
        top = int(_BANK.params.n_categories[_BANK.index_of(it.id)]) - 1
        if it.kind != "short_answer" and draw(st.integers(0, 30)) == 0:  # any text answers a short-answer item
            answer = "no-such-answer"
            first_bad = k if first_bad is None else first_bad
        elif it.kind == "multiple_choice":
            answer = it.options[draw(st.integers(0, len(it.options) - 1))].id
        elif it.kind == "self_assessment":
            answer = draw(st.sampled_from([str(c) for c in range(top + 1)] + list(range(top + 1))))
        else:
            answer = answer_for(it, draw(st.integers(0, top)))
        rows.append((f"row{k}", f"p{p}", it.id, answer))
        if first_bad is None:
            expected[(f"p{p}", it.id)] = _oracle(it, str(answer) if it.kind == "self_assessment" else answer)
    return rows, expected, first_bad


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_rows())
def test_random_rows_score_as_the_bank_scores_each_answer(case):
    rows, expected, first_bad = case
    if first_bad is not None:
        with pytest.raises(PilotError, match=rf"^row{first_bad}: "):
            score_answers(_BANK, rows)
        return
    data = score_answers(_BANK, rows)
    _check(data, expected)
    assert data.person_ids == list(dict.fromkeys(r[1] for r in rows))  # persons in the order of their first answer
    assert data.item_ids == [i for i in _BANK.params.ids if i in {r[2] for r in rows}]  # items in bank order
    # the file form of the same rows gives the same matrices
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["person", "item", "response"])
    w.writerows((r[1], r[2], _cell(r[3]) if not isinstance(r[3], int) else str(r[3])) for r in rows)
    buf.seek(0)
    again = score_answers(_BANK, buf)
    assert np.array_equal(again.scores, data.scores, equal_nan=True) and np.array_equal(again.choices, data.choices)


def test_a_second_answer_names_both_rows():
    bank = digicomp.load_bank("civil-service")
    mcq = next(it for it in bank if it.kind == "multiple_choice")
    rows = [("a:1", "p1", mcq.id, mcq.key), ("a:2", "p2", mcq.id, mcq.key), ("a:3", "p1", mcq.id, mcq.key)]
    with pytest.raises(PilotError, match=r"^a:3: person 'p1' answered item .* a second time, already at a:1$"):
        score_answers(bank, rows)
