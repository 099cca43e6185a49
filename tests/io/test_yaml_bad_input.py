"""YAML loading refuses what cannot be a document, with a DigicompError naming file and line, in bounded time."""

from __future__ import annotations

import pytest

from digicomp.errors import BankError, DigicompError
from digicomp.io.yamlfile import ALIAS_NODES, MAX_DEPTH, alias_limit, load_yaml


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a: !!int 1e3\n", "'1e3' is not a valid int"),
        ("a: !!float abc\n", "'abc' is not a valid float"),
        ("a: !!bool maybe\n", "'maybe' is not a valid bool"),
        ("a: !!timestamp x\n", "'x' is not a valid timestamp"),
        ("a: " + "9" * 5000 + "\n", "(5000 chars) is not a valid int"),
    ],
)
def test_a_value_its_tag_cannot_hold_is_a_yaml_error_with_its_line(tmp_path, text, fragment):
    path = tmp_path / "doc.yaml"
    path.write_text("kind: item_bank\n" + text)
    with pytest.raises(BankError) as info:
        load_yaml(path, BankError)
    assert str(info.value).startswith(f"{path}:2:4: malformed YAML:")
    assert fragment in str(info.value)


def _bomb(levels: int, width: int = 10) -> str:
    lines = ["kind: item_bank", "l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * width) + "]" for k in range(1, levels)]
    return "\n".join(lines + [f"items: *l{levels - 1}"]) + "\n"


def test_an_alias_bomb_is_refused_before_anything_is_built(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb(7))
    with pytest.raises(DigicompError, match=r"aliases \(\*name\) expand the document's \d+ nodes to [\d,]+ \(at most"):
        load_yaml(path)


def test_moderate_aliases_are_allowed(tmp_path):
    path = tmp_path / "shared.yaml"
    path.write_text(_bomb(3))  # ~1,100 nodes from a few dozen written
    data, _ = load_yaml(path)
    assert len(data["items"]) == 10 and data["items"][0][0][0] == "lol"
    assert alias_limit(0) == ALIAS_NODES


def test_a_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("kind: x\na: &a [1, *a]\n")
    with pytest.raises(DigicompError, match=r"loop.yaml:2: a\[1\]: an alias refers to a node that contains it"):
        load_yaml(path)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_nesting_is_refused_without_recursing(tmp_path, depth):
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(DigicompError, match=f"nesting deeper than {MAX_DEPTH} levels"):
        load_yaml(path)


def test_nesting_up_to_the_limit_loads(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")
    data, _ = load_yaml(path)
    for _ in range(MAX_DEPTH - 1):
        data = data[0]
    assert data == []


def test_a_shared_node_is_walked_once_and_its_duplicate_key_reported_once(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("base: &b {x: 1, x: 2}\nc1: *b\nc2: *b\n")
    with pytest.raises(DigicompError) as info:
        load_yaml(path)
    assert info.value.problems == [
        f"{path}:1: base.x: duplicate key 'x' (first given on line 1); YAML would silently keep only the last one"
    ]


def test_lines_inside_an_alias_fall_back_to_the_alias(tmp_path):
    path = tmp_path / "lines.yaml"
    path.write_text("base: &b\n  x: 1\nuse: *b\n")
    _, linemap = load_yaml(path)
    assert linemap["base.x"] == 2 and linemap["use"] == 3 and "use.x" not in linemap


def test_a_recursive_alias_in_a_large_file_is_refused_by_the_event_screen(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("kind: x\nnote: " + "y" * 30_000 + "\na: &a [1, *a]\n")  # a long line: the screen runs first
    with pytest.raises(DigicompError, match=r"loop.yaml:3: alias \*a: an alias refers to a node that contains it"):
        load_yaml(path)
