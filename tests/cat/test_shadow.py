"""The shadow-test rule in the engine: every constraint met for every person, live = lock-step, resumable,
audited, validated against the bank; Sympson–Hetter on top."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.assembly import AssemblySpec, build_model
from digicomp.cat import AdaptiveTest
from digicomp.cat.sympson_hetter import simulate_answers
from digicomp.errors import DesignError
from tests import banks

BAND_MINIMUMS = [{"level_band": b, "min": 2} for b in ("foundation", "intermediate", "advanced", "highly_specialised")]
AREAS = [{"group": a, "min": 2, "max": 4} for a in ("1", "2", "3", "4")]
LENGTH = 12


def design(**selection):
    return {
        "selection": {"rule": "shadow", "shadow": {"constraints": BAND_MINIMUMS}, **selection},
        "content": {"by": "area", "constraints": AREAS},
        "stop": {"max_items": LENGTH, "rules": []},
    }


def constraint_model(bank):
    spec = AssemblySpec(
        constraints=[{"area": c["group"], "min": c["min"], "max": c["max"]} for c in AREAS] + BAND_MINIMUMS
    )
    model = build_model(bank, spec, LENGTH)
    model.allowed &= bank.kind != "self_assessment"
    return model


def given_tests(state, n_items):
    tests = np.zeros((state.n_persons, n_items), bool)
    for i in range(state.n_persons):
        seq = state.sequence[i]
        tests[i, seq[seq >= 0]] = True
    return tests


def run_batch(engine, n, seed, theta):
    state = engine.new_batch(n, seed)
    engine.core.run(state, simulate_answers(engine.core, theta))
    return state


def test_every_person_meets_every_constraint(cbank):
    engine = AdaptiveTest(cbank, design())
    theta = np.random.default_rng(1).normal(size=60) * 1.5
    state = run_batch(engine, 60, 5, theta)
    tests = given_tests(state, cbank.n_items)
    assert (state.n_given == LENGTH).all()
    assert (constraint_model(cbank).violations(tests) == 0).all()
    # the unconstrained rule breaks them for some of the same persons: the check can fail
    plain = AdaptiveTest(cbank, {"stop": {"max_items": LENGTH, "rules": []}, "content": {"enemies": False}})
    other = given_tests(run_batch(plain, 60, 5, theta), cbank.n_items)
    assert (constraint_model(cbank).violations(other) > 0).any()


def test_a_live_session_gives_what_the_batch_gives_and_resumes(cbank):
    engine = AdaptiveTest(cbank, design())
    theta = np.array([-1.0, 0.2, 1.4])
    state = run_batch(engine, 3, 9, theta)
    for i in range(3):
        session = engine.start(seed=(9, i))
        for pos in range(LENGTH):
            item = session.next_item()
            assert item.id == cbank.ids[state.sequence[i, pos]]
            session.record(item.id, banks.answer_for(cbank, item.id, int(state.responses[i, pos])))
            if pos == 5:
                session = engine.resume(session.to_json())
        assert session.finished


def test_the_audit_records_the_shadow_test(cbank):
    engine = AdaptiveTest(cbank, design())
    session = engine.start(seed=3, audit=True)
    item = session.next_item()
    session.record(item.id, banks.answer_for(cbank, item.id, 1))
    step = session.state.audit[0][0]
    shadow = step["shadow_test"]
    assert len(shadow) == LENGTH and step["item"] in shadow
    mask = np.isin(cbank.ids, shadow)
    assert constraint_model(cbank).violations(mask)[0] == 0


def test_sympson_hetter_on_top_keeps_every_constraint(cbank):
    d = design()
    d["exposure"] = {"method": "sympson_hetter", "parameters": {cbank.ids[j]: 0.3 for j in range(0, 160, 2)}}
    engine = AdaptiveTest(cbank, d)
    state = run_batch(engine, 40, 2, np.random.default_rng(2).normal(size=40))
    assert (constraint_model(cbank).violations(given_tests(state, cbank.n_items)) == 0).all()


def test_posterior_objective_runs(cbank):
    engine = AdaptiveTest(cbank, design(shadow={"constraints": BAND_MINIMUMS, "objective": "posterior"}))
    state = run_batch(engine, 10, 4, np.zeros(10))
    assert (constraint_model(cbank).violations(given_tests(state, cbank.n_items)) == 0).all()


def test_design_problems_are_named(cbank):
    d = design(shadow={"constraints": [{"area": "9", "min": 1}]})
    d["content"]["method"] = "mpi"
    d["content"]["constraints"] = [{**c, "target": 0.25} for c in AREAS]
    with pytest.raises(DesignError) as err:
        AdaptiveTest(cbank, d)
    msg = str(err.value)
    assert "selection.shadow.constraints[0]: area ['9'] not in the bank" in msg
    assert "content.method: rule 'shadow' meets content limits exactly" in msg


def test_shadow_options_need_the_shadow_rule():
    with pytest.raises(DesignError, match="'shadow' options apply only to rule 'shadow'"):
        AdaptiveTest(
            banks.build_bank(banks.content_bank_data(["1.1"], 20, 1)), {"selection": {"rule": "mfi", "shadow": {}}}
        )


def test_an_unset_shadow_section_is_left_out_of_the_hash():
    """Designs written before the rule keep their hash (saved sessions of them still resume)."""
    import hashlib
    import json

    from digicomp.cat.design import Design

    d = Design(stop={"max_items": 20})
    data = d.model_dump(mode="json")
    data["start"]["pretest"] = data["start"].pop("first_items")
    del data["selection"]["shadow"]
    for rule in data["stop"]["rules"]:
        for key in ("area_se", "area_classification"):
            rule.pop(key, None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert d.hash == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert Design(selection={"rule": "shadow", "shadow": {}}).hash != Design(selection={"rule": "shadow"}).hash


def test_a_variable_length_test_waits_for_the_shadow_minimums(cbank):
    d = design()
    d["stop"] = {"max_items": LENGTH, "rules": [{"se": 0.9}]}
    engine = AdaptiveTest(cbank, d)
    state = run_batch(engine, 40, 6, np.random.default_rng(6).normal(size=40) * 1.5)
    tests = given_tests(state, cbank.n_items)
    assert (state.n_given < LENGTH).any()  # some stopped early ...
    bands = constraint_model(cbank)
    band_rows = [k for k, r in enumerate(bands.rows) if r.label.startswith("level_band")]
    counts = tests.astype(float) @ bands.matrix[band_rows].T
    assert (counts >= 2).all()  # ... but only once every band had its 2 items


def test_item_eligibility_exposure_control_enters_as_constraints(cbank):
    """Items a person is not eligible for are fixed out of the shadow test: every limit still holds for everyone."""
    from digicomp.simulation import simulate

    d = design()
    d["exposure"] = {"method": "item_eligibility", "r_max": 0.3}
    result = simulate(d, bank=cbank, n=80, seed=3, baseline="none", concurrent=10)
    r = list(result)[0]
    tests = np.zeros((r.n_persons, cbank.n_items), bool)
    for i, seq in enumerate(r.outcome["sequence"]):
        tests[i, seq[seq >= 0]] = True
    assert (constraint_model(cbank).violations(tests) == 0).all()
    assert (tests.sum(axis=1) == LENGTH).all()
