"""The item formats beyond multiple choice: a valid bank of each loads; each malformed item is refused by load_bank
and listed by validate_file at its place in the file, with the item named, every problem in one run."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from digicomp.bank import load_bank, validate_file
from digicomp.bank.formats import max_score
from digicomp.errors import BankError

from .conftest import FIXTURES
from .test_bank_validate import FRAMEWORK

FORMATS = FIXTURES / "formats.yaml"
INDEX = {"f-mc": 0, "f-mr": 1, "f-mr-aon": 2, "f-ord": 3, "f-match": 4, "f-num": 5, "f-text": 6, "f-hotline": 7}


@pytest.fixture
def formats_data() -> dict[str, Any]:
    """The formats bank as plain data (a fresh copy per test)."""
    return copy.deepcopy(yaml.safe_load(FORMATS.read_text(encoding="utf-8")))


@pytest.fixture
def write_formats(tmp_path: Path):
    """Write a variant of the formats bank next to a copy of its media folder; returns its path."""
    shutil.copytree(FIXTURES / "media", tmp_path / "media")

    def write(data: dict[str, Any]) -> Path:
        path = tmp_path / "formats.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    return write


def test_the_formats_bank_loads_with_the_score_categories_each_rule_gives():
    bank = load_bank(FORMATS)
    assert validate_file(FORMATS, FRAMEWORK) == []
    assert list(bank.kind) == [
        "multiple_choice",
        "multiple_response",
        "multiple_response",
        "ordering",
        "matching",
        "short_answer",
        "short_answer",
        "short_answer",
    ]
    # keys_minus_wrong with 3 keys: 0..3; all_or_nothing: 0/1; 4 steps in order: 0..3 pairs; 3 premises: 0..3
    assert [max_score(item) for item in bank] == [1, 3, 1, 3, 3, 1, 1, 1]
    assert bank.params.n_categories.tolist() == [max_score(item) + 1 for item in bank]


def _set(data: dict[str, Any], item: str, change: dict[str, Any]) -> None:
    entry = data["items"][INDEX[item]]
    for field, value in change.items():
        if value is None:
            entry.pop(field, None)
        else:
            entry[field] = value


REFUSALS = [
    ("f-mr", {"keys": ["A", "F"]}, "keys[1]", "keys names 'F', which is not an option id"),
    ("f-mr", {"keys": ["A", "C", "A"]}, "keys[2]", "keys names 'A' twice"),
    ("f-mr", {"keys": ["A", "B", "C", "D", "E"]}, "keys", "fewer than all 5"),
    ("f-mr", {"keys": []}, "keys", "at least 1 option"),
    ("f-mr", {"params": {"a": 1.0, "b": [0.0, 0.5]}}, "params.b", "params.b needs 3 values, got 2"),
    ("f-mr", {"model": "2PL", "params": {"a": 1.0, "b": 0.0}}, "model", "needs a polytomous model"),
    ("f-mr", {"key_order": ["A", "B"]}, "key_order", "'key_order' is not a field of a multiple_response item"),
    ("f-mr", {"key": "A"}, "key", "'key' is not a field of a multiple_response item"),
    ("f-mr", {"keys": None}, "items[1]", "a multiple_response item needs 'keys'"),
    ("f-mr", {"level": None}, "items[1]", "needs its intended 'level'"),
    ("f-mr", {"scoring": {"rule": "adjacent_pairs"}}, "scoring.rule", "use keys_minus_wrong or all_or_nothing"),
    ("f-mr-aon", {"model": "GPCM", "params": {"a": 1.0, "b": [0.0]}}, "model", "needs a dichotomous model"),
    ("f-mr-aon", {"options": None}, "items[2]", "a multiple_response item needs 'options'"),
    ("f-ord", {"key_order": ["C", "A", "D"]}, "key_order", "it lacks ['B']"),
    ("f-ord", {"key_order": ["C", "A", "D", "X"]}, "key_order[3]", "key_order names 'X', which is not an option id"),
    ("f-ord", {"params": {"a": 1.0, "b": [0.0, 0.5, 1.0, 1.5]}}, "params.b", "params.b needs 3 values, got 4"),
    ("f-ord", {"scoring": {"rule": "count_correct"}}, "scoring.rule", "use adjacent_pairs or all_or_nothing"),
    ("f-match", {"key_map": {"p1": "X", "p2": "Y", "p4": "Z"}}, "key_map.p4", "'p4', which is not a premise id"),
    ("f-match", {"key_map": {"p1": "X", "p2": "W", "p3": "Z"}}, "key_map.p2", "with 'W', not a choice id"),
    ("f-match", {"key_map": {"p1": "X", "p2": "Y"}}, "key_map", "it lacks ['p3']"),
    ("f-match", {"options": [{"id": "A", "vi": "a", "en": "a"}]}, "options", "'options' is not a field of a matching"),
    ("f-num", {"model": "3PL", "params": {"a": 1.0, "b": -1.5, "c": 0.2}}, "params.c", "no guessing floor"),
    ("f-num", {"answer": {"kind": "number", "accepted": ["6.5"]}}, "answer.accepted[0]", "accepts a number"),
    ("f-num", {"answer": {"kind": "number", "accepted": [6.5], "normalize": ["strip"]}}, "answer.normalize", "text"),
    ("f-text", {"answer": {"kind": "text", "accepted": [113]}}, "answer.accepted[0]", "quote it"),
    ("f-text", {"answer": {"kind": "text", "accepted": ["pdf"], "tolerance": 1}}, "answer.tolerance", "number"),
    (
        "f-text",
        {"answer": {"kind": "text", "accepted": [" "], "normalize": ["strip"]}},
        "answer.accepted[0]",
        "empty once",
    ),
    ("f-text", {"scoring": {"rule": "all_or_nothing"}}, "scoring", "'scoring' is not a field of a short_answer"),
    ("f-mc", {"media": {"src": "media/missing.svg"}}, "media.src", "media file 'media/missing.svg' not found"),
    ("f-mc", {"media": {"src": "../formats.yaml"}}, "media.src", "must be a relative path inside the bank's folder"),
    ("f-mc", {"media": {"src": "/etc/passwd"}}, "media.src", "must be a relative path inside the bank's folder"),
    ("f-mc", {"media": {"src": "formats.yaml"}}, "media.src", "an image file is one of .svg"),
    ("f-mc", {"keys": ["A"]}, "items[0]", "keys: not fields of a multiple_choice item"),
]


@pytest.mark.parametrize(("item", "change", "node", "fragment"), REFUSALS, ids=[f"{r[0]}-{r[2]}" for r in REFUSALS])
def test_malformed_items_are_refused_and_listed_at_their_place(
    formats_data, write_formats, item, change, node, fragment
):
    _set(formats_data, item, change)
    path = write_formats(formats_data)
    problems = validate_file(path, FRAMEWORK)
    hits = [p for p in problems if fragment in p]
    assert hits, problems
    where = f"items[{INDEX[item]}]" if node.startswith("items[") else f"items[{INDEX[item]}].{node}"
    assert any(f": {where}: " in p and f"item {item!r}" in p for p in hits), hits
    with pytest.raises(BankError, match=r"(?s)" + fragment.replace("(", r"\(").replace("[", r"\[")):
        load_bank(path)


def test_duplicate_option_premise_and_choice_ids_are_each_refused(formats_data, write_formats):
    formats_data["items"][INDEX["f-mr"]]["options"][4]["id"] = "A"
    formats_data["items"][INDEX["f-match"]]["premises"][2]["id"] = "p1"
    formats_data["items"][INDEX["f-match"]]["choices"][1]["id"] = "X"
    problems = validate_file(write_formats(formats_data), FRAMEWORK)
    text = "\n".join(problems)
    assert ": items[1].options[4].id: item 'f-mr': id 'A' is used twice in 'options'" in text
    assert ": items[4].premises[2].id: item 'f-match': id 'p1' is used twice in 'premises'" in text
    assert ": items[4].choices[1].id: item 'f-match': id 'X' is used twice in 'choices'" in text


def test_list_sizes_outside_each_format_are_refused(formats_data, write_formats):
    formats_data["items"][INDEX["f-mr"]]["options"] = formats_data["items"][INDEX["f-mr"]]["options"][:3]
    formats_data["items"][INDEX["f-mr"]]["keys"] = ["A", "C"]
    formats_data["items"][INDEX["f-mr"]]["params"]["b"] = [0.0, 0.5]
    formats_data["items"][INDEX["f-ord"]]["options"] = formats_data["items"][INDEX["f-ord"]]["options"][:2]
    formats_data["items"][INDEX["f-ord"]]["key_order"] = ["A", "B"]
    formats_data["items"][INDEX["f-ord"]]["params"]["b"] = [0.0]
    problems = validate_file(write_formats(formats_data), FRAMEWORK)
    assert any(
        "items[1].options: item 'f-mr': a multiple_response item has 4 to 6 options, got 3" in p for p in problems
    )
    assert any("items[3].options: item 'f-ord': a ordering item has 3 to 6 options, got 2" in p for p in problems)


def test_an_svg_that_loads_another_resource_or_runs_a_script_is_refused(formats_data, write_formats, tmp_path):
    path = write_formats(formats_data)
    svg = tmp_path / "media" / "phishing.svg"
    clean = svg.read_text(encoding="utf-8")
    for bad in ('<image href="https://example.org/x.png"/>', "<script>alert(1)</script>", '<use href="//cdn/x"/>'):
        svg.write_text(clean.replace("</svg>", bad + "</svg>"), encoding="utf-8")
        problems = validate_file(path, FRAMEWORK)
        assert any(
            "items[0].media.src: item 'f-mc': SVG 'media/phishing.svg' loads another resource" in p for p in problems
        )
    svg.write_text(clean.replace("</svg>", '<image href="data:image/png;base64,AAAA"/></svg>'), encoding="utf-8")
    assert validate_file(path, FRAMEWORK) == []


def test_every_problem_of_every_item_comes_in_one_run(formats_data, write_formats):
    _set(formats_data, "f-mr", {"keys": ["A", "F"], "params": {"a": 1.0, "b": [0.0]}})
    _set(formats_data, "f-ord", {"key_order": ["C", "A", "D", "X"]})
    _set(formats_data, "f-match", {"key_map": {"p1": "W", "p2": "Y"}})
    _set(formats_data, "f-num", {"model": "3PL", "params": {"a": 1.0, "b": -1.5, "c": 0.2}})
    _set(formats_data, "f-mc", {"media": {"src": "media/none.png"}})
    formats_data["items"].append(copy.deepcopy(formats_data["items"][INDEX["f-text"]]))  # duplicate id
    problems = validate_file(write_formats(formats_data), FRAMEWORK)
    text = "\n".join(problems)
    for fragment in (
        "items[1].keys[1]: item 'f-mr': keys names 'F'",
        "items[1].params.b: item 'f-mr': rule keys_minus_wrong on a multiple_response item gives scores 0..2",
        "items[3].key_order[3]: item 'f-ord'",
        "items[3].key_order: item 'f-ord': key_order must give every option exactly once; it lacks ['B']",
        "items[4].key_map.p1: item 'f-match': key_map pairs 'p1' with 'W'",
        "items[4].key_map: item 'f-match': key_map must pair every premise; it lacks ['p3']",
        "items[5].params.c: item 'f-num'",
        "items[0].media.src: item 'f-mc': media file 'media/none.png' not found",
        "items[8].id: duplicate item id 'f-text'",
    ):
        assert fragment in text, (fragment, problems)
    assert len(problems) == 9, problems


def test_an_item_of_a_new_format_without_type_is_refused_with_the_hint(formats_data, write_formats):
    del formats_data["items"][INDEX["f-ord"]]["type"]
    problems = validate_file(write_formats(formats_data), FRAMEWORK)
    assert any("items[3]: item 'f-ord'" in p and "declare the item's 'type'" in p for p in problems), problems


def test_sources_and_review_by_are_read(formats_data, write_formats):
    _set(formats_data, "f-num", {"review_by": "2027-01-31"})
    bank = load_bank(write_formats(formats_data))
    assert str(bank["f-num"].review_by) == "2027-01-31"
    assert str(bank["f-match"].sources[0].review_by) == "2027-06-30"
    formats_data["items"][INDEX["f-match"]]["sources"][0]["review_by"] = "soon"
    with pytest.raises(BankError, match=r"items\[4\]\.sources\[0\]\.review_by"):
        load_bank(write_formats(formats_data))


@pytest.mark.parametrize(
    ("src", "fragment"),
    [
        ("media/" + "x" * 5000 + ".svg", "cannot be read"),  # a name the file system refuses: a finding, no crash
        ("media/a\x00b.svg", "not found"),
        ("C:/media/x.svg", "relative path inside the bank's folder"),
        ("media\\..\\..\\x.svg", "relative path inside the bank's folder"),
    ],
)
def test_unusable_media_paths_are_findings_not_crashes(formats_data, write_formats, src, fragment):
    _set(formats_data, "f-mc", {"media": {"src": src}})
    problems = validate_file(write_formats(formats_data), FRAMEWORK)
    assert any("items[0].media.src: item 'f-mc'" in p and fragment in p for p in problems), problems


def test_an_oversized_media_file_is_refused(formats_data, write_formats, tmp_path):
    from digicomp.bank.checks import MAX_MEDIA_BYTES

    path = write_formats(formats_data)
    (tmp_path / "media" / "big.png").write_bytes(b"\0" * (MAX_MEDIA_BYTES + 1))
    _set(formats_data, "f-mc", {"media": {"src": "media/big.png"}})
    problems = validate_file(write_formats(formats_data), FRAMEWORK)
    assert any("media file 'media/big.png' has 2,000,001 bytes" in p for p in problems), problems
    assert path.exists()


def test_a_bank_written_elsewhere_takes_its_media_files_along(tmp_path):
    """to_yaml copies the media from the folder the bank came from, so the written file loads as it is (README's
    calibrate-and-publish block covers a derived bank); a different file in the way is refused, never overwritten."""
    bank = load_bank(FORMATS)
    media = sorted({it.media.src for it in bank.spec.items if it.media is not None})
    assert media, "the fixture must hold an item with media for this test to mean anything"
    out = tmp_path / "elsewhere" / "bank.yaml"
    bank.to_yaml(out)
    again = load_bank(out)
    assert again.fingerprint == bank.fingerprint
    for rel in media:
        assert (out.parent / rel).read_bytes() == (FORMATS.parent / rel).read_bytes()
    # a second write to the same folder finds identical files: fine; a different one in the way: refused
    bank.to_yaml(out)
    (out.parent / media[0]).write_bytes(b"<svg/>")
    with pytest.raises(BankError, match="a different file is already there"):
        bank.to_yaml(tmp_path / "elsewhere" / "other.yaml")
