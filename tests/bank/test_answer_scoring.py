"""Scoring raw answers of every item format: the key scores the maximum, scores stay in 0..K and equal the rule's
closed form, the order of a multiple-response answer never matters, answer_for hits every category, and anything
malformed raises ResponseError naming the item."""

from __future__ import annotations

import itertools
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digicomp.bank.formats import max_score, rule_of
from digicomp.bank.schema import Item
from digicomp.bank.scoring import answer_for, normalize_text, parse_number, score
from digicomp.errors import ResponseError

IDS = list(string.ascii_uppercase[:6])
COMMON = {
    "competence": "1.1",
    "level": 4,
    "calibration": {"status": "provisional", "rule": "r"},
    "stem": {"vi": "Câu hỏi", "en": "Question"},
}


def _options(ids: list[str]) -> list[dict]:
    return [{"id": i, "vi": f"Lựa chọn {i}", "en": f"Option {i}"} for i in ids]


def _model(k: int, partial: bool) -> dict:
    if partial and k > 1:
        return {"model": "GPCM", "params": {"a": 1.0, "b": [0.1 * s for s in range(k)]}}
    return {"model": "2PL", "params": {"a": 1.0, "b": 0.0}}


def mr_item(n: int, keys: list[str], rule: str) -> Item:
    k = len(keys) if rule == "keys_minus_wrong" else 1
    return Item.model_validate(
        {
            "id": "mr-1",
            "type": "multiple_response",
            **COMMON,
            **_model(k, rule != "all_or_nothing"),
            "options": _options(IDS[:n]),
            "keys": keys,
            "scoring": {"rule": rule},
        }
    )


def ordering_item(key_order: list[str], rule: str) -> Item:
    k = len(key_order) - 1 if rule == "adjacent_pairs" else 1
    return Item.model_validate(
        {
            "id": "ord-1",
            "type": "ordering",
            **COMMON,
            **_model(k, rule != "all_or_nothing"),
            "options": _options(sorted(key_order)),
            "key_order": key_order,
            "scoring": {"rule": rule},
        }
    )


def matching_item(n_choices: int, key: list[int], rule: str) -> Item:
    premises = [f"p{i + 1}" for i in range(len(key))]
    k = len(key) if rule == "count_correct" else 1
    return Item.model_validate(
        {
            "id": "match-1",
            "type": "matching",
            **COMMON,
            **_model(k, rule != "all_or_nothing"),
            "premises": _options(premises),
            "choices": _options(IDS[:n_choices]),
            "key_map": {p: IDS[c] for p, c in zip(premises, key)},
            "scoring": {"rule": rule},
        }
    )


def short_item(answer: dict) -> Item:
    return Item.model_validate({"id": "sa-1", "type": "short_answer", **COMMON, **_model(1, False), "answer": answer})


@st.composite
def mr_items(draw):
    n = draw(st.integers(4, 6))
    keys = draw(st.lists(st.sampled_from(IDS[:n]), min_size=1, max_size=n - 1, unique=True))
    return mr_item(n, keys, draw(st.sampled_from(["keys_minus_wrong", "all_or_nothing"])))


@st.composite
def ordering_items(draw):
    n = draw(st.integers(3, 6))
    return ordering_item(draw(st.permutations(IDS[:n])), draw(st.sampled_from(["adjacent_pairs", "all_or_nothing"])))


@st.composite
def matching_items(draw):
    n_choices = draw(st.integers(2, 6))
    key = draw(st.lists(st.integers(0, n_choices - 1), min_size=3, max_size=6))
    return matching_item(n_choices, key, draw(st.sampled_from(["count_correct", "all_or_nothing"])))


def _key(item: Item):
    """The item's key as a raw answer."""
    return {"multiple_response": item.keys, "ordering": item.key_order, "matching": item.key_map}[item.kind]


@settings(max_examples=150, deadline=None)
@given(st.one_of(mr_items(), ordering_items(), matching_items()))
def test_the_key_scores_the_maximum_and_answer_for_hits_every_category(item):
    assert score(item, _key(item))[1] == max_score(item)
    for k in range(max_score(item) + 1):
        assert score(item, answer_for(item, k))[1] == k


@settings(max_examples=200, deadline=None)
@given(mr_items(), st.data())
def test_multiple_response_scores_keys_minus_wrong_and_ignores_order(item, data):
    chosen = data.draw(st.lists(st.sampled_from([o.id for o in item.options]), unique=True))
    plain, got = score(item, chosen)
    assert plain == chosen  # the raw answer is kept as given
    hits, wrong = len(set(chosen) & set(item.keys)), len(set(chosen) - set(item.keys))
    if rule_of(item) == "keys_minus_wrong":
        assert got == max(0, hits - wrong)
    else:
        assert got == int(hits == len(item.keys) and wrong == 0)
    assert 0 <= got <= max_score(item)
    shuffled = data.draw(st.permutations(chosen))
    assert score(item, shuffled)[1] == got
    assert score(item, tuple(chosen))[1] == got


@settings(max_examples=200, deadline=None)
@given(ordering_items(), st.data())
def test_ordering_counts_the_keys_adjacent_pairs_kept(item, data):
    order = data.draw(st.permutations([o.id for o in item.options]))
    got = score(item, order)[1]
    key = item.key_order
    if rule_of(item) == "adjacent_pairs":
        # closed form: position of each step in the answer; a key pair is kept when the next step follows at once
        pos = {x: i for i, x in enumerate(order)}
        assert got == sum(pos[b] == pos[a] + 1 for a, b in itertools.pairwise(key))
        assert score(item, list(reversed(key)))[1] == 0
    else:
        assert got == int(list(order) == list(key))
    assert 0 <= got <= max_score(item)


@settings(max_examples=200, deadline=None)
@given(matching_items(), st.data())
def test_matching_counts_the_premises_matched(item, data):
    choices = [c.id for c in item.choices]
    answer = {p.id: data.draw(st.sampled_from(choices)) for p in item.premises}
    got = score(item, answer)[1]
    right = sum(answer[p] == c for p, c in item.key_map.items())
    assert got == (right if rule_of(item) == "count_correct" else int(right == len(item.key_map)))
    assert 0 <= got <= max_score(item)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=4), inner, max_size=5),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(mr_items(), ordering_items(), matching_items()), JSONISH)
def test_any_answer_either_scores_in_range_or_raises_naming_the_item(item, answer):
    try:
        got = score(item, answer)[1]
    except ResponseError as exc:
        assert f"item {item.id!r}" in str(exc)
    else:
        assert 0 <= got <= max_score(item)


@pytest.mark.parametrize(
    ("item", "answer", "fragment"),
    [
        (mr_item(5, ["A", "C"], "keys_minus_wrong"), ["A", "A"], "names an option twice"),
        (mr_item(5, ["A", "C"], "keys_minus_wrong"), ["A", "Z"], "'Z', which is not an option id"),
        (mr_item(5, ["A", "C"], "keys_minus_wrong"), "A,C", "must be a list of the option ids chosen"),
        (mr_item(5, ["A", "C"], "keys_minus_wrong"), [1, 2], "must be a list of the option ids chosen"),
        (ordering_item(["C", "A", "B"], "adjacent_pairs"), ["C", "A"], "must give every option"),
        (ordering_item(["C", "A", "B"], "adjacent_pairs"), ["C", "A", "A"], "must give every option"),
        (ordering_item(["C", "A", "B"], "adjacent_pairs"), {"C": 1}, "every option id in the chosen order"),
        (matching_item(3, [0, 1, 0], "count_correct"), {"p1": "A", "p2": "B"}, "no choice with premise 'p3'"),
        (matching_item(3, [0, 1, 0], "count_correct"), {"p1": "A", "p2": "B", "p3": "Q"}, "with 'Q', not a choice"),
        (matching_item(3, [0, 1, 0], "count_correct"), {"p1": "A", "p2": "B", "p3": "A", "p9": "A"}, "'p9'"),
        (matching_item(3, [0, 1, 0], "count_correct"), [["p1", "A"]], "must be a dict"),
        (short_item({"kind": "text", "accepted": ["113"]}), 113, "must be the typed text"),
        (short_item({"kind": "text", "accepted": ["113"]}), "1" * 501, "at most 500"),
        (short_item({"kind": "number", "accepted": [1000]}), "1.000", "ambiguous"),
        (short_item({"kind": "number", "accepted": [1000]}), "1 000", "is not a number"),
        (short_item({"kind": "number", "accepted": [1000]}), "1,000.5", "is not a number"),
        (short_item({"kind": "number", "accepted": [1000]}), "1e3", "is not a number"),
        (short_item({"kind": "number", "accepted": [1000]}), "", "is not a number"),
    ],
)
def test_malformed_answers_raise_naming_the_item_and_the_problem(item, answer, fragment):
    with pytest.raises(ResponseError, match=rf"item {item.id!r}: .*{_escape(fragment)}"):
        score(item, answer)


def _escape(text: str) -> str:
    return "".join("\\" + c if c in "()[].*+?{}|^$\\" else c for c in text)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("6,5", 6.5), ("6.5", 6.5), (" -0,25 ", -0.25), ("+3", 3.0), (",5", 0.5), ("1000", 1000.0), ("0,125", 0.125)],
)
def test_numbers_read_with_either_decimal_mark(typed, expected):
    assert parse_number(typed, "x") == expected


@settings(max_examples=200, deadline=None)
@given(
    st.integers(-(10**6), 10**6).map(lambda i: i / 100),
    st.sampled_from([0.0, 0.01, 0.5]),
    st.sampled_from([".", ","]),
)
def test_a_number_within_the_tolerance_scores_1_and_beyond_it_0(value, tol, mark):
    item = short_item({"kind": "number", "accepted": [value], "tolerance": tol})
    typed = f"{value:.2f}".replace(".", mark)
    assert score(item, typed) == (typed, 1)
    outside = f"{value + tol + 0.02:.2f}".replace(".", mark)
    assert score(item, outside)[1] == 0


def test_text_normalisations_apply_only_when_declared():
    strict = short_item({"kind": "text", "accepted": ["Cứu hoả"]})
    loose = short_item(
        {
            "kind": "text",
            "accepted": ["Cứu hoả"],
            "normalize": ["strip", "casefold", "collapse_spaces", "strip_diacritics"],
        }
    )
    for typed in ("cuu hoa", "  CỨU   HOẢ ", "Cuu Hoa"):
        assert score(loose, typed)[1] == 1
        assert score(strict, typed)[1] == 0
    decomposed = "Cu\u031bu hoa\u0309"  # the same text typed with combining marks
    assert score(strict, "Cứu hoả")[1] == 1 and score(loose, decomposed)[1] == 1
    assert normalize_text("Đà Nẵng", ["strip_diacritics", "casefold"]) == "da nang"
    ext = short_item({"kind": "text", "accepted": ["pdf"], "normalize": ["strip", "casefold", "strip_leading_dot"]})
    assert [score(ext, t)[1] for t in (".PDF", " pdf ", "..pdf", "docx")] == [1, 1, 0, 0]


KEY_ALIASES = {"ctrl": ["Ctrl", "CTRL", "control", "Control"], "shift": ["Shift", "SHIFT"], "esc": ["Esc", "Escape"]}


@given(st.permutations(["ctrl", "shift", "esc"]), st.data())
def test_a_key_chord_is_the_same_in_any_order_spelling_and_separator(keys, data):
    chord = short_item({"kind": "text", "accepted": ["Ctrl+Shift+Esc"], "normalize": ["strip", "key_chord"]})
    names = [data.draw(st.sampled_from(KEY_ALIASES[k])) for k in keys]
    seps = [data.draw(st.sampled_from(["+", " + ", " ", "-", " - ", "+ "])) for _ in names[1:]]
    typed = names[0] + "".join(s + n for s, n in zip(seps, names[1:], strict=True))
    assert score(chord, f" {typed} ")[1] == 1
    assert score(chord, typed.replace(names[-1], "Tab"))[1] == 0  # another key is another chord
    assert score(chord, "Ctrl+Shift")[1] == 0 and score(chord, "Ctrl+Shift+Esc+Alt")[1] == 0


def test_the_plus_and_minus_keys_are_keys_of_a_chord_not_separators():
    zoom_in = short_item({"kind": "text", "accepted": ["Ctrl + +"], "normalize": ["strip", "key_chord"]})
    zoom_out = short_item({"kind": "text", "accepted": ["Ctrl + -"], "normalize": ["strip", "key_chord"]})
    assert [score(zoom_in, t)[1] for t in ("ctrl++", "Ctrl plus", "ctrl+-", "ctrl")] == [1, 1, 0, 0]
    assert [score(zoom_out, t)[1] for t in ("Ctrl+-", "ctrl -", "Ctrl minus", "ctrl++")] == [1, 1, 1, 0]
    assert normalize_text("Ctrl-Alt-Del", ["key_chord"]) == normalize_text("Delete + Alt + Control", ["key_chord"])


def test_a_web_address_ignores_scheme_www_host_case_and_trailing_slashes_but_not_the_path():
    site = short_item(
        {"kind": "text", "accepted": ["dichvucong.gov.vn"], "normalize": ["strip", "casefold", "web_address"]}
    )
    typed = ["https://www.dichvucong.gov.vn/", "DichVuCong.gov.vn", "http://dichvucong.gov.vn//", " dichvucong.gov.vn "]
    assert all(score(site, t)[1] == 1 for t in typed)
    wrong = ["dichvucong.gov.vn.com", "dichvucong-gov.vn", "dichvucong.gov.vn/login", "wwwdichvucong.gov.vn"]
    assert not any(score(site, t)[1] for t in wrong)
