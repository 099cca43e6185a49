"""The design file: examples load and run, errors name the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from digicomp.cat import AdaptiveTest, load_design, validate_file
from digicomp.errors import DesignError

from .conftest import answer_for

DESIGNS = sorted((Path(__file__).parents[2] / "examples" / "designs").glob("*.yaml"))


@pytest.mark.parametrize("path", DESIGNS, ids=lambda p: p.stem)
def test_example_designs_load_and_run_a_session(path, cbank):
    """Every example runs on the test bank, except designs that name items of their own bank (seeding) or need a
    multidimensional one (the MCAT rules), which run on their own bank."""
    design = load_design(path)
    own = "seeding" in design.model_fields_set or design.selection.rule.endswith("_optimality")
    bank = None if own else cbank
    engine = AdaptiveTest.from_yaml(path, bank=bank)
    session = engine.start(seed=1)
    while (item := session.next_item()) is not None:
        session.record(item.id, answer_for(engine.bank, item.id, session.state.n_given[0] % 2))
    assert session.finished


def test_the_reference_design_says_what_its_name_says():
    d = load_design(DESIGNS[[p.stem for p in DESIGNS].index("mfi-eap-se30")])
    assert (d.selection.rule, d.scoring.method, d.start.theta, d.exposure.method) == ("mfi", "EAP", 0.0, "none")
    assert d.stop.max_items == 40 and d.stop.rules[0].se == 0.30 and not d.content.constraints


def write(tmp_path, text):
    path = tmp_path / "d.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_is_reported_with_its_line(tmp_path):
    path = write(tmp_path, "kind: cat_design\nselection:\n  rule: mfi\n  rulez: 3\n")
    with pytest.raises(DesignError, match=r"d.yaml:4: selection.rulez: unknown key 'rulez'"):
        load_design(path)


def test_bad_values_name_the_key(tmp_path):
    path = write(tmp_path, "kind: cat_design\nexposure: {method: randomesque}\nstop: {max_items: 0}\n")
    problems = validate_file(path)
    assert any("exposure" in p and "needs 'k'" in p for p in problems)
    assert any(":3: stop.max_items" in p for p in problems)


def test_design_hash_changes_with_any_setting():
    a = load_design(DESIGNS[0])
    b = a.model_copy(update={"id": a.id + "x"})
    assert a.hash != b.hash and a.hash.startswith("sha256:")


def test_constraint_on_a_group_the_bank_lacks_is_refused(cbank):
    with pytest.raises(DesignError, match=r"content.constraints\[0\].group: '9'"):
        AdaptiveTest(cbank, {"content": {"constraints": [{"group": "9", "min": 1}]}})


def test_content_minimums_beyond_the_length_are_refused():
    with pytest.raises(DesignError, match="more than stop.max_items"):
        AdaptiveTest(None, {"content": {"constraints": [{"group": "1", "min": 5}]}, "stop": {"max_items": 4}})
