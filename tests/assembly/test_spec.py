"""Assembly specs: the schema, every problem at once with its file line, and the checks against a bank."""

from __future__ import annotations

import pytest

from digicomp.assembly import AssemblyError, AssemblySpec, build_model, load_spec, read_spec
from digicomp.assembly.model import validate_file

GOOD = """kind: assembly_spec
id: t
length: 10
constraints:
  - {area: "*", min: 1, max: 3}
  - {level_band: [foundation, intermediate], min: 2}
"""


def write(tmp_path, text: str, name: str = "spec.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_spec_loads(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.length == 10 and len(spec.constraints) == 2


def test_every_problem_is_reported_at_once_with_its_line(tmp_path):
    text = """kind: assembly_spec
length: 5
constraints:
  - {area: "1", min: 4, max: 2}
  - {item_type: multiple_choice}
  - {competence: "1.1", min: 6}
overlap: {max: 9}
objective: {type: max_information, target: [1.0]}
"""
    _, _, problems = read_spec(write(tmp_path, text))
    joined = "\n".join(problems)
    assert "spec.yaml:4: constraints[0]: min = 4 exceeds max = 2" in joined
    assert "spec.yaml:5: constraints[1]: a constraint needs a 'min', a 'max' or both" in joined
    assert "spec.yaml:6: constraints[2].min: min = 6 is more than the length 5" in joined
    assert "spec.yaml:7: overlap.max" in joined
    assert "spec.yaml:8: objective" in joined
    with pytest.raises(AssemblyError, match="5 problems"):
        load_spec(write(tmp_path, text))


def test_another_kind_is_refused(tmp_path):
    with pytest.raises(AssemblyError, match="kind: expected 'assembly_spec'"):
        read_spec(write(tmp_path, "kind: cat_design\n"))


def test_problems_against_the_bank_name_the_line(tmp_path, bank):
    text = """kind: assembly_spec
length: 10
constraints:
  - {area: "9", min: 1}
  - {item_type: ordering, min: 1}
include: [nope]
exclude: {ids: [q000]}
"""
    path = write(tmp_path, text)
    spec, linemap, problems = read_spec(path)
    assert problems == []
    with pytest.raises(AssemblyError) as err:
        build_model(bank, spec, source=path, linemap=linemap)
    msg = str(err.value)
    assert "spec.yaml:4: constraints[0]: area ['9'] not in the bank" in msg
    assert "spec.yaml:5: constraints[1]: item_type ['ordering'] not in the bank" in msg
    assert "spec.yaml:6: include[0]: bank 'asm-test' has no item 'nope'" in msg


def test_validate_file_checks_against_the_named_bank(tmp_path):
    text = GOOD.replace("length: 10", "bank: civil-service\nlength: 10") + "  - {area: '42', min: 1}\n"
    problems = validate_file(write(tmp_path, text))
    assert len(problems) == 1 and "constraints[2]: area ['42'] not in the bank" in problems[0]
    assert validate_file(write(tmp_path, GOOD.replace("length: 10", "bank: civil-service\nlength: 10"))) == []


def test_a_star_expands_to_one_row_per_value_and_crosses(bank):
    spec = AssemblySpec(length=20, constraints=[{"area": "*", "level_band": "*", "min": 0, "max": 2}])
    model = build_model(bank, spec)
    crossed = [r for r in model.rows if r.where == ("constraints", 0)]
    assert len(crossed) == len(bank.areas) * 4
    # the cells partition the items that have a band
    total = sum(r.mask.astype(int) for r in crossed)
    assert total.max() == 1


def test_a_bank_too_small_is_an_error(bank):
    spec = AssemblySpec(length=200)
    with pytest.raises(AssemblyError, match="the bank has 120 usable items for a form of 200"):
        build_model(bank, spec)
