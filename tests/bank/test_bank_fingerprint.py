"""The fingerprint changes with any parameter, key or text and never with YAML formatting alone."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digicomp.bank import load_bank

from .conftest import MINI

REFERENCE = load_bank(MINI).fingerprint


def test_fingerprint_is_a_sha256_hex_digest():
    assert REFERENCE.startswith("sha256:") and len(REFERENCE) == len("sha256:") + 64


@pytest.mark.parametrize(
    "dump_options",
    [
        {"default_flow_style": True},
        {"default_flow_style": False, "indent": 4},
        {"sort_keys": True},
        {"default_style": '"'},
        {"allow_unicode": False, "width": 40},
    ],
    ids=["flow", "indent-4", "sorted-keys", "all-quoted", "escaped-unicode-narrow"],
)
def test_yaml_layout_does_not_change_fingerprint(mini_data, write_bank, dump_options):
    assert load_bank(write_bank(mini_data, **dump_options)).fingerprint == REFERENCE


def test_comments_and_integer_spelling_do_not_change_fingerprint(tmp_path):
    text = MINI.read_text(encoding="utf-8")
    text = "# a comment\n" + text.replace("a: 1.0, b: -0.9", "a: 1, b: -0.90").replace("D: 1.0", "D: 1  # scale")
    path = tmp_path / "commented.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_bank(path).fingerprint == REFERENCE


def test_empty_enemy_list_means_the_same_as_none(mini_data, write_bank):
    mini_data["items"][1]["enemies"] = []
    assert load_bank(write_bank(mini_data)).fingerprint == REFERENCE


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(item=st.sampled_from([0, 1]), field=st.sampled_from(["a", "b"]), delta=st.sampled_from([1e-6, 0.01, -0.5]))
def test_any_parameter_change_changes_fingerprint(mini_data, write_bank, item, field, delta):
    data = {**mini_data, "items": [dict(it) for it in mini_data["items"]]}
    params = dict(data["items"][item]["params"])
    params[field] += delta
    data["items"][item]["params"] = params
    assert load_bank(write_bank(data)).fingerprint != REFERENCE


def test_threshold_change_changes_fingerprint(mini_data, write_bank):
    mini_data["items"][2]["params"]["b"][2] = 1.6
    assert load_bank(write_bank(mini_data)).fingerprint != REFERENCE


@pytest.mark.parametrize(
    "path, value",
    [
        (("items", 0, "key"), "A"),
        (("items", 1, "key"), "B"),
        (("items", 0, "stem", "vi"), "Câu hỏi một khác?"),
        (("items", 0, "options", 1, "en"), "Deux"),
        (("items", 0, "competence"), "1.2"),
        (("items", 0, "level"), 4),
        (("items", 1, "calibration", "n"), 1201),
        (("scale", "cut_scores", 0), -1.1),
    ],
)
def test_any_key_text_tag_or_cut_change_changes_fingerprint(mini_data, write_bank, path, value):
    node = mini_data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    assert load_bank(write_bank(mini_data)).fingerprint != REFERENCE
