"""Fuzzing the file loaders: YAML documents (``digicomp validate`` and each kind's loader), response CSVs and
parameter tables.

Random bytes, byte-level mutations of valid files, value-level mutations of valid YAML documents and random
tables either load (and are then sound: see files_harness.py) or raise a DigicompError. Every past finding in
``corpus/yaml``, ``corpus/csv`` and ``corpus/param_table`` is replayed with its expected outcome and message.
Settings: conftest.py (DIGICOMP_FUZZ=release: longer).
"""

from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from .files_harness import ENTRIES, TOKENS, corpus_cases, mutate, run, run_with_message, seeds

FUZZ = settings.get_profile("digicomp-fuzz")
CASES = [(entry, name, data, expected) for entry in ENTRIES for name, data, expected in corpus_cases(entry)]


@pytest.mark.parametrize(
    ("entry", "name", "data", "expected"), CASES, ids=[f"{entry}/{name}" for entry, name, _, _ in CASES]
)
def test_past_findings_give_their_expected_outcome(entry, name, data, expected):
    outcome, message = run_with_message(entry, data, name.rsplit(".", 1)[0])
    assert outcome == expected["expect"], expected["finding"]
    for fragment in expected["message"]:
        assert fragment in message, f"{fragment!r} not in:\n{message}"


def test_every_entry_has_regression_inputs():
    assert {entry for entry, *_ in CASES} == set(ENTRIES)


@pytest.mark.parametrize("entry", ENTRIES)
def test_the_seeds_are_valid_inputs(entry):
    assert [run(entry, seed) for seed in seeds(entry)] == ["ok"] * len(seeds(entry))


edits = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.floats(0, 1, allow_nan=False),
        st.integers(1, 40),
        st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=8)),
    ),
    min_size=1,
    max_size=6,
)


@FUZZ
@given(entry=st.sampled_from(ENTRIES), index=st.integers(0, 10), edits=edits)
def test_mutated_files_load_or_raise_a_digicomp_error(entry, index, edits):
    pool = seeds(entry)
    run(entry, mutate(pool[index % len(pool)], edits))


@FUZZ
@given(entry=st.sampled_from(ENTRIES), data=st.binary(max_size=400))
def test_random_bytes_load_or_raise_a_digicomp_error(entry, data):
    run(entry, data)


# ---------------------------------------------------------------------- value-level mutations of YAML
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**18, max_value=10**40),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(["2PL", "3PL", "Rasch", "GRM", "graded", "official", "calibrated", "provisional", "1.1", "A"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner))
KEYS = ["id", "kind", "version", "items", "params", "a", "b", "c", "d", "model", "level", "calibration", "se", "n"]
KEYS += ["status", "source", "sources", "areas", "competences", "code", "scale", "cut_scores", "levels", "framework"]
KEYS += ["enemies", "options", "key", "categories", "stop", "selection", "content", "exposure", "scoring", "start"]


def _nodes(data, path=()):
    """Every (path, node) of a YAML document's data."""
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(data, list):
        for k, value in enumerate(data):
            yield from _nodes(value, (*path, k))


@FUZZ
@given(
    index=st.integers(0, 10),
    changes=st.lists(
        st.tuples(st.integers(0, 10_000), st.sampled_from(["set", "delete", "add"]), st.sampled_from(KEYS), values),
        min_size=1,
        max_size=4,
    ),
)
def test_documents_with_changed_values_validate_or_raise_a_digicomp_error(index, changes):
    pool = seeds("yaml")
    data = copy.deepcopy(yaml.safe_load(pool[index % len(pool)]))
    for pick, op, key, value in changes:
        nodes = [(path, node) for path, node in _nodes(data) if isinstance(node, (dict, list))]
        path, node = nodes[pick % len(nodes)]
        if isinstance(node, dict) and node and op != "add":
            target = sorted(node, key=str)[pick % len(node)]
            if op == "delete":
                del node[target]
            else:
                node[target] = value
        elif isinstance(node, list) and node and op != "add":
            if op == "delete":
                del node[pick % len(node)]
            else:
                node[pick % len(node)] = value
        elif isinstance(node, dict):
            node[key] = value
        else:
            node.append(value)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    run("yaml", text.encode("utf-8", "surrogatepass"))


# ---------------------------------------------------------------------- random tables
cells = st.one_of(
    st.sampled_from(["", "NA", "0", "1", "2", "3", "-1", "-7", "1.0", "1.5", "inf", "nan", "1e30", "9" * 20, "+1"]),
    st.sampled_from(["1e308", "-1e308", "0.3", "0.9", "2PL", "3PL", "graded", "gpcm", "Rasch", " ", "\u00a0"]),
    st.text(max_size=6),
    st.integers(-3, 200).map(str),
    st.floats(-1000, 1000).map(repr),
)
response_headers = st.one_of(
    st.just(["person", "item", "response"]),
    st.lists(st.sampled_from(["person", "i1", "i2", "i3", "i4", "", "item", "response"]), min_size=1, max_size=5),
)
param_headers = st.lists(
    st.sampled_from(["item", "itemtype", "model", "a1", "a2", "d", "g", "u", "d1", "d2", "d3", "a", "b", "c", "id"]),
    min_size=1,
    max_size=7,
)


def _csv(header, rows) -> bytes:
    return ("\n".join(",".join(row) for row in [header, *rows]) + "\n").encode("utf-8", "surrogatepass")


@FUZZ
@given(header=response_headers, rows=st.lists(st.lists(cells, min_size=1, max_size=5), max_size=6), ids=st.data())
def test_random_response_tables_load_or_raise_a_digicomp_error(header, rows, ids):
    run("csv", _csv(header, [[f"p{k}", *row[1:]] if ids.draw(st.booleans()) else row for k, row in enumerate(rows)]))


@FUZZ
@given(header=param_headers, rows=st.lists(st.lists(cells, min_size=1, max_size=7), min_size=1, max_size=4))
def test_random_parameter_tables_load_or_raise_a_digicomp_error(header, rows):
    run("param_table", _csv(header, [[f"q{k}", *row[1:]] for k, row in enumerate(rows)]))
