"""Unit, person and target files: the tree they describe, and bad input named by file and line."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.programme import UNASSIGNED, LevelScale, ProgrammeError, load_persons, load_targets, load_units

HEADER = "unit,parent,name_vi,name_en,headcount\n"
GOOD = HEADER + "P,,Tỉnh,Province,\nD1,P,Sở 1,Dept 1,40\nD2,P,Sở 2,Dept 2,\nS1,D1,Trạm,Station,12\n"
SCALE = LevelScale(("low", "mid", "high"), np.array([-0.5, 0.5]))


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_tree_is_read_with_parents_headcounts_and_depth_first_order(tmp_path):
    tree = load_units(write(tmp_path, "u.csv", GOOD))
    assert tree.ids == ["P", "D1", "D2", "S1"]
    assert [tree.ids[i] for i in tree.order] == ["P", "D1", "S1", "D2"]
    assert tree.depth().tolist() == [0, 1, 1, 2]
    assert tree.headcount.tolist() == [-1, 40, -1, 12]
    assert [tree.ids[i] for i in tree.subtree("D1")] == ["D1", "S1"]
    assert tree.ancestors()[3].tolist() == [3, 1, 0]
    assert tree.name(1, "en") == "Dept 1" and tree.name(1, "vi") == "Sở 1"


def test_tree_round_trips_through_rows(tmp_path):
    tree = load_units(write(tmp_path, "u.csv", GOOD))
    from digicomp.programme import UnitTree

    again = UnitTree.from_rows(tree.to_rows())
    assert again.ids == tree.ids and again.parent.tolist() == tree.parent.tolist()
    assert again.headcount.tolist() == tree.headcount.tolist()


@pytest.mark.parametrize(
    "body, message",
    [
        ("A,,a,a,\nB,C,b,b,\nC,B,c,c,\n", r"u.csv:3: unit 'B' is on a cycle of parents: B → C → B"),
        ("A,,a,a,\nB,Z,b,b,\n", r"u.csv:3: unit 'B': parent 'Z' is not a unit of the file"),
        ("A,,a,a,\nB,A,b,b,\nA,,x,x,\n", r"u.csv:4: unit 'A' is listed twice \(first at line 2\)"),
        ("A,,a,a,\nB,B,b,b,\n", r"u.csv:3: unit 'B' is its own parent"),
        ("A,,a,a,-3\n", r"u.csv:2: unit 'A': headcount '-3'"),
        ("A,,a,a\n", r"u.csv:2: 4 fields, the header has 5"),
        (",,a,a,\n", r"u.csv:2: empty unit id"),
    ],
)
def test_bad_unit_file_names_the_line(tmp_path, body, message):
    with pytest.raises(ProgrammeError, match=message):
        load_units(write(tmp_path, "u.csv", HEADER + body))


def test_unit_file_header_must_name_unit_and_parent(tmp_path):
    with pytest.raises(ProgrammeError, match=r"u.csv:1: header id,parent: missing column unit; unknown column id"):
        load_units(write(tmp_path, "u.csv", "id,parent\nA,\n"))


def test_reserved_unassigned_id_is_refused(tmp_path):
    with pytest.raises(ProgrammeError, match="reserved for persons without a unit"):
        load_units(write(tmp_path, "u.csv", HEADER + f"{UNASSIGNED},,a,a,\n"))


def test_person_file_refuses_unknown_units_and_repeated_persons(tmp_path):
    tree = load_units(write(tmp_path, "u.csv", GOOD))
    assert load_persons(write(tmp_path, "p.csv", "person,unit\nx,D1\ny,S1\n"), tree) == {"x": "D1", "y": "S1"}
    with pytest.raises(ProgrammeError, match=r"p.csv:3: person 'y' is in unit 'Q', which is not in the unit tree"):
        load_persons(write(tmp_path, "p.csv", "person,unit\nx,D1\ny,Q\n"), tree)
    with pytest.raises(ProgrammeError, match=r"p.csv:3: person 'x' is listed twice \(first at line 2\)"):
        load_persons(write(tmp_path, "p.csv", "person,unit\nx,D1\nx,S1\n"), tree)


def test_targets_are_read_and_bad_ones_name_the_line(tmp_path):
    tree = load_units(write(tmp_path, "u.csv", GOOD))
    good = (
        "targets:\n  - {level: mid, share: 0.8, date: 2026-12-31}\n"
        "  - {level: high, share: 0.3, date: 2026-06-30, unit: D1}\n"
    )
    targets = load_targets(write(tmp_path, "t.yaml", good), SCALE, tree)
    assert [(t.level, t.share, t.unit, t.line) for t in targets] == [("mid", 0.8, None, 2), ("high", 0.3, "D1", 3)]
    cases = {
        "  - {level: expert, share: 0.8, date: 2026-12-31}\n": r"t.yaml:3: target 2: level 'expert' is not one",
        "  - {level: mid, share: 80, date: 2026-12-31}\n": r"t.yaml:3: target 2: share 80",
        "  - {level: mid, share: 0.8, date: soon}\n": r"t.yaml:3: target 2: date 'soon'",
        "  - {level: mid, share: 0.8, date: 2026-12-31, unit: Q}\n": r"t.yaml:3: target 2: unit 'Q' is not in",
        "  - {level: mid, share: 0.8}\n": r"t.yaml:3: target 2: missing 'date'",
    }
    for line, message in cases.items():
        text = "targets:\n  - {level: mid, share: 0.8, date: 2026-12-31}\n" + line
        with pytest.raises(ProgrammeError, match=message):
            load_targets(write(tmp_path, "t.yaml", text), SCALE, tree)
