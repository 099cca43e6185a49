"""Raw answers joined to a bank's keys (digicomp.face.analysis): every format scored by the bank's own scoring,
single-choice answers kept for the distractor tables, bad rows named by file:line."""

import csv
import io
import json

import numpy as np
import pytest

import digicomp
from digicomp.bank.scoring import answer_for
from digicomp.errors import ResponseError
from digicomp.face.analysis import item_analysis, read_answers, score_answers


@pytest.fixture(scope="module")
def bank():
    return digicomp.load_bank("civil-service")


def _pilot(bank, seed=0, n=300, per_person=20):
    """Answers of n simulated persons to 20 of the first 60 items each, as a long CSV; and the categories."""
    rng = np.random.default_rng(seed)
    items = list(bank)[:60]
    kinds = {it.kind for it in items}
    ids = [it.id for it in items]
    params = bank.params.subset([bank.params.ids.index(i) for i in ids])
    cats = params.simulate(rng.normal(size=n), rng)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["person", "item", "response"])
    truth = np.full((n, len(ids)), np.nan)
    for p in range(n):
        for j in rng.choice(len(ids), per_person, replace=False):
            it = items[j]
            k = int(cats[p, j])
            if it.kind in ("self_assessment", "parameters"):
                cell = str(k)
            else:
                ans = answer_for(it, k)
                cell = ans if isinstance(ans, str) else json.dumps(ans)
            w.writerow([f"p{p}", it.id, cell])
            truth[p, j] = k
    buf.seek(0)
    return buf, truth, ids, kinds


def test_every_format_is_scored_as_the_bank_scores_it(bank):
    buf, truth, ids, kinds = _pilot(bank)
    assert {"multiple_choice", "multiple_response"} <= kinds
    data, classical, options = item_analysis(bank, buf)
    order = [ids.index(i) for i in data.item_ids]
    persons = [int(p[1:]) for p in data.person_ids]
    expected = truth[np.ix_(persons, order)]
    assert np.array_equal(np.isnan(data.scores), np.isnan(expected))
    assert np.allclose(np.nan_to_num(data.scores, nan=-1), np.nan_to_num(expected, nan=-1))
    assert np.allclose(classical.items.mean, np.nanmean(expected, axis=0))
    mcq = [j for j, k in enumerate(data.keys) if k >= 0]
    for j in mcq:  # the chosen option is the key exactly when the score is 1
        seen = data.choices[:, j] >= 0
        assert np.array_equal(data.choices[seen, j] == data.keys[j], data.scores[seen, j] == 1)
    assert set(options.item) == {data.item_ids[j] for j in mcq}
    assert data.unanswered == [i for i in bank.params.ids if i not in data.item_ids]


def test_bad_rows_are_named_by_file_and_line(bank):
    mcq = next(it for it in bank if it.kind == "multiple_choice")
    text = f"person,item,response\np1,{mcq.id},{mcq.key}\np2,{mcq.id},Z\n"
    with pytest.raises(ResponseError, match=r":3: item .* answer 'Z' is not one of its options"):
        score_answers(bank, read_answers(io.StringIO(text)))
    text = f"person,item,response\np1,{mcq.id},{mcq.key}\np1,{mcq.id},{mcq.key}\n"
    with pytest.raises(ResponseError, match=r":3: person 'p1' answered item .* already at .*:2"):
        score_answers(bank, read_answers(io.StringIO(text)))
    text = "person,item,response\np1,no-such-item,A\n"
    with pytest.raises(ResponseError, match=r":2: item 'no-such-item' is not in bank"):
        score_answers(bank, read_answers(io.StringIO(text)))
    with pytest.raises(ResponseError, match="missing response"):
        read_answers(io.StringIO("person,item\np1,x\n"))


def test_answers_from_the_store_are_scored_like_a_file(bank, tmp_path):
    from digicomp.face.analysis import answers_from_store
    from digicomp.store import open_store
    from digicomp.store.records import ServedItem, SessionRecord

    mcq = [it for it in bank if it.kind == "multiple_choice"][:3]
    store = open_store(tmp_path / "pilot.sqlite")
    store.register_bank(bank)
    rng = np.random.default_rng(5)
    chosen = {}
    for s in range(6):
        served = []
        for k, it in enumerate(mcq):
            opt = it.options[int(rng.integers(len(it.options)))].id
            chosen[(f"s{s}", it.id)] = opt
            served.append(ServedItem(k + 1, it.id, int(opt == it.key), opt, 10.0, False))
        store.write(SessionRecord(f"s{s}", f"p{s}", bank.fingerprint, None, tuple(served), theta=0.0, se=0.5))
    rows = answers_from_store(store, bank)
    data = score_answers(bank, rows)
    for p, person in enumerate(data.person_ids):
        for j, item in enumerate(data.item_ids):
            assert data.options[j][data.choices[p, j]] == chosen[(person, item)]
            assert data.scores[p, j] == float(chosen[(person, item)] == bank[item].key)
    store.close()


def test_nominal_model_on_the_chosen_options_flags_a_miskey(bank):
    from digicomp.face.analysis import nominal_item_analysis
    from digicomp.models.nominal import NominalParameters

    items = [it for it in bank if it.kind == "multiple_choice" and len(it.options) == 4][:6]
    rng = np.random.default_rng(11)
    ak = np.tile([0.0, 1.0, 2.0, 3.0], (6, 1))
    d = np.tile([0.0, 0.5, 0.5, 0.0], (6, 1))
    truth = NominalParameters(np.full(6, 0.8), ak, d)
    cats = truth.simulate(rng.normal(size=3000), rng)  # category 3 is the steepest
    keys = [[o.id for o in it.options].index(it.key) for it in items]
    steep_to_key = [[(k + keys[j] + 1) % 4 for k in range(4)] for j in range(6)]  # category 3 -> the key
    chosen = np.array([[steep_to_key[j][c] for j, c in enumerate(row)] for row in cats])
    chosen[:, 2] = np.where(
        chosen[:, 2] == keys[2], (keys[2] + 1) % 4, np.where(chosen[:, 2] == (keys[2] + 1) % 4, keys[2], chosen[:, 2])
    )
    chosen[chosen[:, 4] == (keys[4] + 2) % 4, 4] = (keys[4] + 1) % 4  # item 5: one option never chosen
    rows = [
        (f"row{p}", f"p{p}", it.id, it.options[int(chosen[p, j])].id) for p in range(3000) for j, it in enumerate(items)
    ]
    data = score_answers(bank, rows)
    cal, table, excluded = nominal_item_analysis(data)
    assert list(excluded) == [items[4].id]
    flags = {(i, o): f for i, o, f in zip(table.item, table.option, table.flags)}
    key_flags = {i: f for i, f, k in zip(table.item, table.flags, table.is_key) if k}
    assert key_flags[items[2].id] == "key_not_steepest"
    assert all(key_flags[it.id] == "" for j, it in enumerate(items) if j not in (2, 4))
    assert "steeper_than_key" in flags[(items[2].id, items[2].options[(keys[2] + 1) % 4].id)]
    assert cal.converged
