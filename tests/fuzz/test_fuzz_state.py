"""Fuzzing the live session's entry points: ``resume(state)`` and ``record(item, answer)``.

Damaged states from real sessions, arbitrary text and arbitrary answers either succeed (and the session then
saves and resumes to itself) or raise a DigicompError; real sessions always resume. Every past finding in
``corpus/state`` is replayed with its expected outcome. Settings: conftest.py (DIGICOMP_FUZZ=release: longer).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .state_harness import ENGINES, content_bank, corpus_cases, params_bank, run_case

FUZZ = settings.get_profile("digicomp-fuzz")
FIELDS = ["format", "bank", "design", "person", "key", "items", "scores", "answers", "pending", "stop_reason"]
FIELDS += ["seeded", "ineligible", "signature"]

item_ids = st.sampled_from(list(params_bank().ids) + list(content_bank().ids) + ["item0", "item31", "q99"])
interesting = st.one_of(
    item_ids,
    st.sampled_from(["A", "B", "C", "D", "no_items", "max_items", "se", "", "digicomp.session/1", "0" * 16, "f" * 64]),
    st.from_regex(r"-?[0-9a-fA-F]{0,20}", fullmatch=True),
    st.integers(-2, 5),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**62, max_value=2**80),
    st.floats(),
    st.text(max_size=12),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2),  # lone surrogates
)
json_values = st.recursive(
    st.one_of(interesting, scalars),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner),
    max_leaves=12,
)
paths = st.tuples(
    st.sampled_from([*FIELDS, "extra"]),
    st.lists(st.one_of(st.integers(-2, 12), st.sampled_from(["item", "position", "answer", "score"])), max_size=2),
).map(lambda p: [p[0], *p[1]])
mutations = st.lists(st.tuples(st.sampled_from(["set", "delete", "append"]), paths, json_values).map(list), max_size=4)
bases = st.fixed_dictionaries({"seed": st.integers(0, 40), "answers": st.integers(0, 12), "serve_next": st.booleans()})
engines = st.sampled_from(sorted(ENGINES))
numpy_answers = st.fixed_dictionaries(
    {
        "numpy": st.sampled_from(["int8", "int16", "int32", "int64", "uint8", "uint64", "float32", "float64", "bool"]),
        "value": st.integers(0, 4),
    }
)


@pytest.mark.parametrize(("name", "case"), corpus_cases(), ids=[name for name, _ in corpus_cases()])
def test_past_findings_give_their_expected_outcome(name, case):
    assert run_case(case) == case["expect"], case.get("finding")


@FUZZ
@given(engine=engines, base=bases)
def test_real_sessions_resume_from_their_own_state(engine, base):
    assert run_case({"engine": engine, "base": base}) == "ok"


@FUZZ
@given(engine=engines, base=bases, mutations=mutations, sign=st.booleans())
def test_damaged_states_resume_or_raise_a_digicomp_error(engine, base, mutations, sign):
    run_case({"engine": engine, "base": base, "mutations": mutations, "sign": sign})


@FUZZ
@given(
    engine=engines,
    text=st.one_of(
        st.text(max_size=200),
        st.integers(500, 5000).map(lambda d: '{"format":"digicomp.session/1","items":' + "[" * d + "]" * d + "}"),
        json_values.map(json.dumps),
    ),
)
def test_text_that_is_no_state_is_refused_with_a_digicomp_error(engine, text):
    assert run_case({"engine": engine, "text": text}) in {"TamperedStateError", "StateMismatchError"}


@FUZZ
@given(engine=engines, data=st.binary(max_size=200))
def test_bytes_that_are_no_state_are_refused_with_a_digicomp_error(engine, data):
    assert run_case({"engine": engine, "bytes_hex": data.hex()}) in {"TamperedStateError", "StateMismatchError"}


@FUZZ
@given(
    engine=engines,
    base=bases,
    item=st.one_of(st.just("$served"), item_ids, json_values),
    answer=st.one_of(interesting, json_values, numpy_answers),
)
def test_any_answer_is_recorded_or_refused_with_a_digicomp_error(engine, base, item, answer):
    run_case({"engine": engine, "base": base, "record": {"item": item, "answer": answer}})
