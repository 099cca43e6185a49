"""Parallel forms: every constraint met, optimal against enumeration of every form, infeasibility named."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from digicomp.assembly import AssemblyError, AssemblySpec, assemble_forms, build_model, read_spec


def as_tests(forms, n_items):
    out = np.zeros((len(forms), n_items), bool)
    for f, items in enumerate(forms):
        out[f, items] = True
    return out


def test_forms_meet_every_constraint_and_share_no_item(bank):
    spec = AssemblySpec(
        length=16,
        objective={"type": "minimax_target", "at": [-1.0, 0.0, 1.0]},
        constraints=[
            {"area": "*", "min": 1, "max": 3},
            {"level_band": "*", "min": 2},
            {"area": "1", "level_band": ["foundation", "intermediate"], "min": 1},
        ],
        include=["q005"],
        exclude={"ids": ["q006"]},
        exposure={"max_forms": 3},
    )
    model = build_model(bank, spec)
    result = assemble_forms(bank, model, spec, 3, time_limit=20)
    tests = as_tests(result.forms, bank.n_items)
    assert (model.violations(tests) == 0).all()
    assert tests[:, bank.index_of("q005")].all() and not tests[:, bank.index_of("q006")].any()
    assert (tests.sum(axis=1) == 16).all()
    info = bank.params.information(np.array([-1.0, 0.0, 1.0]))
    assert np.allclose(result.information, tests.astype(float) @ info.T)
    # the minimax value is what the forms reach: the largest relative deviation from the target
    dev = np.abs(result.information - result.target) / result.target
    assert dev.max() == pytest.approx(result.value, abs=1e-6)


def test_an_overlap_limit_holds_between_every_pair(bank):
    spec = AssemblySpec(length=12, objective={"type": "max_information", "at": [0.0]}, overlap={"max": 3})
    model = build_model(bank, spec)
    result = assemble_forms(bank, model, spec, 3, time_limit=20)
    tests = as_tests(result.forms, bank.n_items).astype(int)
    shared = tests @ tests.T
    assert shared[np.triu_indices(3, 1)].max() <= 3


def _feasible_forms(bank, model, length):
    """Every single form meeting the model (enumeration)."""
    M, lo, hi = model.matrix, model.lower, model.upper
    pool = np.flatnonzero(model.allowed)
    out = []
    for combo in itertools.combinations(pool, length):
        x = np.zeros(bank.n_items)
        x[list(combo)] = 1
        if np.all(M @ x >= lo - 1e-9) and np.all(M @ x <= hi + 1e-9) and model.violations(x.astype(bool))[0] == 0:
            out.append(np.array(combo))
    return out


def test_maximin_of_two_forms_is_the_enumerated_optimum(tiny_bank):
    spec = AssemblySpec(
        length=3, objective={"type": "max_information", "at": [-0.5, 0.5]}, constraints=[{"area": "*", "max": 1}]
    )
    model = build_model(tiny_bank, spec)
    info = tiny_bank.params.information(np.array([-0.5, 0.5]))
    forms = _feasible_forms(tiny_bank, model, 3)
    best = -np.inf
    for a, b in itertools.combinations(forms, 2):
        if np.intersect1d(a, b).size == 0:
            best = max(best, min(info[:, a].sum(axis=1).min(), info[:, b].sum(axis=1).min()))
    result = assemble_forms(tiny_bank, model, spec, 2, time_limit=20)
    assert result.status == "optimal"
    assert result.information.min() == pytest.approx(best, rel=1e-6)


def test_minimax_to_a_given_target_is_the_enumerated_optimum(tiny_bank):
    target = [1.1, 0.9]
    spec = AssemblySpec(length=4, objective={"type": "minimax_target", "at": [-1.0, 1.0], "target": target})
    model = build_model(tiny_bank, spec)
    info = tiny_bank.params.information(np.array([-1.0, 1.0]))
    forms = _feasible_forms(tiny_bank, model, 4)
    t = np.array(target)
    best = min(np.max(np.abs(info[:, f].sum(axis=1) - t) / t) for f in forms)
    result = assemble_forms(tiny_bank, model, spec, 1, time_limit=20)
    assert result.value == pytest.approx(best, abs=1e-6)


def test_an_infeasible_spec_names_the_conflicting_lines(tmp_path, bank):
    text = """kind: assembly_spec
length: 10
objective: {type: max_information, at: [0.0]}
constraints:
  - {area: "1", min: 6}
  - {area: "2", min: 6}
  - {level_band: "*", min: 1}
"""
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    spec, linemap, problems = read_spec(path)
    assert problems == []
    model = build_model(bank, spec, source=path, linemap=linemap)
    with pytest.raises(AssemblyError) as err:
        assemble_forms(bank, model, spec, 1)
    msg = str(err.value)
    # relaxing one of the two area minimums, or the length, is the smallest fix: all three named, the bands not
    assert "relaxing 1 of them is the least that helps; 3 ways" in msg
    assert (
        "spec.yaml:5: constraints[0]" in msg and "spec.yaml:6: constraints[1]" in msg and "spec.yaml:2: length" in msg
    )
    assert "constraints[2]" not in msg


def test_too_few_items_for_the_forms_is_an_error(bank):
    spec = AssemblySpec(length=50)
    model = build_model(bank, spec)
    with pytest.raises(AssemblyError, match="3 forms of 50 items need 150 item uses"):
        assemble_forms(bank, model, spec, 3)


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    length=st.integers(2, 5),
    limits=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), min_size=3, max_size=3),
    band_min=st.integers(0, 2),
)
def test_a_form_exists_exactly_when_enumeration_finds_one(tiny_bank, length, limits, band_min):
    """Property: the solver returns a form meeting every constraint iff some form does (enumerated), else it
    raises AssemblyError with a diagnosis; never a form that breaks a rule."""
    constraints = [
        {"area": a, "min": min(lo, length), "max": max(min(lo, length), hi)}
        for a, (lo, hi) in zip(tiny_bank.areas, limits)
    ]
    constraints.append({"level_band": "foundation", "min": band_min})
    spec = AssemblySpec(length=length, objective={"type": "max_information", "at": [0.0]}, constraints=constraints)
    try:
        model = build_model(tiny_bank, spec)
    except AssemblyError:
        return  # a limit the bank cannot fill: refused before any program (checked in test_spec)
    exists = bool(_feasible_forms(tiny_bank, model, length))
    if exists:
        result = assemble_forms(tiny_bank, model, spec, 1, time_limit=20)
        assert model.violations(as_tests(result.forms, tiny_bank.n_items))[0] == 0
    else:
        with pytest.raises(AssemblyError, match="cannot hold together"):
            assemble_forms(tiny_bank, model, spec, 1, time_limit=20)
