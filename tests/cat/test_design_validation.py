"""The design schema refuses what it used to accept silently, naming the key; a renamed key loads with a warning."""

from __future__ import annotations

import re
import warnings

import pytest

from digicomp.cat import AdaptiveTest, load_design, validate_file
from digicomp.cat.design import MAX_POINTS, Design, design_from
from digicomp.errors import DesignDeprecationWarning, DesignError

from .conftest import params_bank


def write(tmp_path, text):
    path = tmp_path / "d.yaml"
    path.write_text("kind: cat_design\n" + text, encoding="utf-8")
    return path


def refused(tmp_path, text, match):
    with pytest.raises(DesignError, match=match):
        load_design(write(tmp_path, text))


def test_a_content_group_given_twice_is_refused_not_overwritten(tmp_path):
    text = "content:\n  constraints:\n    - {group: '1', min: 2}\n    - {group: '2'}\n    - {group: '1', max: 3}\n"
    refused(tmp_path, text, r"d.yaml:\d+: content.constraints: .*\[2\] repeats group '1' of constraints\[0\]")


@pytest.mark.parametrize(
    "sprt, match",
    [
        ("{alpha: 5}", r"sprt.alpha = 5: an error rate must lie in \(0, 0.5\)"),
        ("{beta: -1}", r"sprt.beta = -1: an error rate"),
        ("{delta: -3}", r"sprt.delta = -3: the half-width"),
        ("{alpha: 5, beta: -1, delta: -3}", r"sprt.alpha = 5"),
        ("{cut: .nan}", r"sprt.cut"),
    ],
)
def test_sprt_settings_out_of_range_are_refused(tmp_path, sprt, match):
    refused(tmp_path, f"stop:\n  rules:\n    - sprt: {sprt}\n", match)


def test_sprt_settings_in_range_load(tmp_path):
    design = load_design(write(tmp_path, "stop:\n  rules:\n    - sprt: {alpha: 0.05, beta: 0.1, delta: 0.2}\n"))
    assert design.stop.rules[0].sprt == {"alpha": 0.05, "beta": 0.1, "delta": 0.2}


def test_report_language_must_be_one_the_interface_speaks(tmp_path):
    refused(tmp_path, "report: {language: tlh}\n", r"d.yaml:\d+: report.language")
    assert load_design(write(tmp_path, "report: {language: en}\n")).report.language == "en"


def test_quadrature_points_are_bounded_with_a_message_not_a_memory_error(tmp_path):
    refused(tmp_path, "scoring: {points: 100000000}\n", rf"scoring.points: .*{MAX_POINTS}")
    assert load_design(write(tmp_path, f"scoring: {{points: {MAX_POINTS}}}\n")).scoring.points == MAX_POINTS


def test_a_reversed_quadrature_range_is_refused(tmp_path):
    refused(tmp_path, "scoring: {range: [6, -6]}\n", r"scoring.range: .*low end must be below")


def test_exposure_options_that_do_not_apply_to_the_method_are_refused(tmp_path):
    refused(tmp_path, "exposure: {method: none, r_max: 0.2}\n", r"r_max does not apply to method 'none'")
    refused(tmp_path, "exposure: {method: randomesque, k: 4, r_max: 0.2}\n", r"r_max does not apply .*'randomesque'")
    refused(tmp_path, "exposure: {method: none, k: 4, r_max: 0.2}\n", r"k, r_max do not apply to method 'none'")


def test_targets_must_sum_to_at_most_one(tmp_path):
    text = "content:\n  method: mpi\n  constraints:\n    - {group: '1', target: 0.7}\n    - {group: '2', target: 0.4}\n"
    refused(tmp_path, text, r"targets add up to 1.1 \(1: 0.7, 2: 0.4\)")


def test_targets_need_a_steering_method_and_a_method_needs_targets(tmp_path):
    refused(tmp_path, "content:\n  constraints:\n    - {group: '1', target: 0.3}\n", r"method is 'none'")
    text = "content:\n  method: kingsbury_zara\n  constraints:\n    - {group: '1', min: 2}\n"
    refused(tmp_path, text, "no constraint has a 'target'")


def test_targets_must_fit_the_group_limits_and_the_test_length(tmp_path):
    base = "stop: {max_items: 20}\ncontent:\n  method: mpi\n  constraints:\n"
    refused(tmp_path, base + "    - {group: '1', target: 0.5, max: 6}\n", r"target 0.5 of stop.max_items = 20 is 10")
    refused(tmp_path, base + "    - {group: '1', target: 0.1, min: 5}\n", r"min = 5 items is more than its target 0.1")
    design = load_design(write(tmp_path, base + "    - {group: '1', target: 0.3, min: 2, max: 6}\n"))
    assert design.content.constraints[0].target == 0.3


def test_unknown_target_group_is_refused_by_the_engine(cbank):
    with pytest.raises(DesignError, match=r"content.constraints\[0\].group: '7'"):
        AdaptiveTest(cbank, {"content": {"method": "mpi", "constraints": [{"group": "7", "target": 0.2}]}})


def test_start_pretest_is_a_deprecated_name_of_start_first_items(tmp_path):
    new = load_design(write(tmp_path, "start:\n  first_items: {n: 2, rule: random}\n"))
    path = write(tmp_path, "id: d\nstart:\n  theta: 0\n  pretest: {n: 2, rule: random}\n")
    with pytest.warns(DesignDeprecationWarning, match=r"d.yaml:5: design key start.pretest is now start.first_items"):
        old = load_design(path)
    assert old.start == new.start and old.start.first_items.n == 2
    with pytest.warns(DesignDeprecationWarning):
        from_dict = design_from({"start": {"pretest": {"n": 2}}})
    assert from_dict.start.first_items.n == 2


def test_the_new_key_loads_without_a_warning_and_both_keys_are_refused(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_design(write(tmp_path, "start:\n  first_items: {n: 1}\n"))
    refused(tmp_path, "start:\n  first_items: {n: 1}\n  pretest: {n: 1}\n", r"start.first_items only")


def test_renaming_the_key_kept_the_design_hash():
    """The hash is computed with the old key name, so sessions saved before the rename still resume."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignDeprecationWarning)
        old = design_from({"start": {"pretest": {"n": 2, "rule": "random"}}})
    new = design_from({"start": {"first_items": {"n": 2, "rule": "random"}}})
    assert old.hash == new.hash
    assert new.hash != Design().hash


def test_first_items_errors_name_the_new_key():
    with pytest.raises(DesignError, match=r"start.first_items.items\[0\]: bank .* has no item 'nope'"):
        AdaptiveTest(params_bank(10), {"start": {"first_items": {"n": 1, "rule": "fixed", "items": ["nope"]}}})


def test_sympson_hetter_calibration_refuses_bad_settings_with_a_digicomp_error():
    from digicomp.cat.sympson_hetter import calibrate_sympson_hetter
    from digicomp.errors import ParameterError

    core = AdaptiveTest(params_bank(10), {"stop": {"max_items": 3}}).core
    with pytest.raises(ParameterError, match=r"r_max = 1.5: the target maximum exposure rate"):
        calibrate_sympson_hetter(core, r_max=1.5)
    with pytest.raises(ParameterError, match=r"n_persons = 0"):
        calibrate_sympson_hetter(core, r_max=0.3, n_persons=0)


def test_selection_options_of_another_rule_are_refused(tmp_path):
    refused(tmp_path, "selection: {rule: mfi, kl_radius: 2}\n", r"'kl_radius' applies only to rule 'kl'")
    refused(tmp_path, "selection: {rule: klp, kl_radius: 2}\n", r"not 'klp'")
    refused(tmp_path, "selection: {rule: mfi, name: mine}\n", r"'name' applies only to rule 'custom'")
    assert load_design(write(tmp_path, "selection: {rule: kl, kl_radius: 2}\n")).selection.kl_radius == 2


@pytest.mark.parametrize(
    "text, match",
    [
        (None, r"cannot read the K table"),
        ("item,k\nitem1,0.5\nitem1,0.4\n", r"k.csv:3: item 'item1' is listed twice"),
        ("item,k\nitem1,high\n", r"k.csv:2: expected columns item,k"),
        ("name,k\nitem1,0.5\n", r"k.csv:2: expected columns item,k"),
        ("item,k\nitem1,1.5\n", r"item 'item1' has K = 1.5"),
        (b"item,k\n\xff\xfe,0.5\n", r"cannot read the K table"),
    ],
)
def test_a_bad_sympson_hetter_table_is_a_design_error_naming_file_and_line(tmp_path, text, match):
    path = tmp_path / "k.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    design = {"exposure": {"method": "sympson_hetter", "parameters": str(path)}, "stop": {"max_items": 3}}
    with pytest.raises(DesignError, match=match):
        AdaptiveTest(params_bank(10), design)


def test_first_items_must_match_their_rule_and_the_test_length(tmp_path):
    refused(tmp_path, "start:\n  first_items: {n: 3, rule: fixed, items: [a, b]}\n", r"n = 3 but 2 items are listed")
    refused(tmp_path, "start:\n  first_items: {n: 2, items: [a, b]}\n", r"'items' apply only to rule 'fixed'")
    refused(tmp_path, "start:\n  first_items: {n: 2, rule: fixed, items: [a, a]}\n", r"\['a'\] more than once")
    refused(tmp_path, "start:\n  first_items: {n: 9}\nstop: {max_items: 5}\n", r"first_items.n = 9 is more than")


def test_the_grid_stays_on_a_plausible_theta_range_and_holds_the_prior_mean(tmp_path):
    refused(tmp_path, "scoring: {range: [-1.0e+300, 1.0e+300]}\n", r"scoring.range: .*within ±20")
    refused(tmp_path, "scoring: {prior: {mean: 50}}\n", r"prior.mean = 50 lies outside the grid's range \[-6, 6\]")
    assert load_design(write(tmp_path, "scoring: {range: [-8, 8], prior: {mean: 1}}\n")).scoring.range == (-8, 8)


def test_a_design_file_shows_every_problem_in_one_pass(tmp_path):
    """Schema problems, checks across sections and checks against the bank come together, each with its line."""
    path = write(
        tmp_path,
        "bank: civil-service\n"  # 2
        "start:\n"  # 3
        "  first_items: {n: 2, rule: fixed, items: [nope1, nope2]}\n"  # 4
        "selection: {rule: mfi, rulez: 1}\n"  # 5
        "content:\n"  # 6
        "  constraints:\n"  # 7
        "    - {group: '9', min: 2}\n"  # 8
        "    - {group: '1', min: 40}\n"  # 9
        "  exclude: {ids: [nosuch]}\n"  # 10
        "scoring: {points: 2}\n"  # 11
        "stop: {max_items: 30}\n"  # 12
        "seeding: {n: 1, items: [ghost]}\n",  # 13
    )
    problems = validate_file(path)
    expected = [
        r"d.yaml:5: selection.rulez: unknown key 'rulez'",
        r"d.yaml:11: scoring.points: .*greater than or equal to 3",
        r"d.yaml:7: content.constraints: content minimums add up to 42 items, more than stop.max_items = 30",
        r"d.yaml:4: start.first_items.items\[0\]: bank 'civil-service' has no item 'nope1'",
        r"d.yaml:4: start.first_items.items\[1\]: bank 'civil-service' has no item 'nope2'",
        r"d.yaml:10: content.exclude.ids\[0\]: bank 'civil-service' has no item 'nosuch'",
        r"d.yaml:8: content.constraints\[0\].group: '9' is not an area of bank 'civil-service'",
        r"d.yaml:13: seeding.items\[0\]: bank 'civil-service' has no item 'ghost'",
    ]
    for pattern in expected:
        assert sum(bool(re.search(pattern, p)) for p in problems) == 1, (pattern, problems)
    assert len(problems) == len(expected), problems
    with pytest.raises(DesignError) as caught:
        load_design(path)  # the schema and the checks across sections, without the bank
    assert len(caught.value.problems) == 3


def test_checks_across_sections_run_beside_schema_problems_of_other_sections(tmp_path):
    path = write(tmp_path, "start: {first_items: {n: 9}}\nscoring: {points: 2}\nstop: {max_items: 5}\n")
    problems = validate_file(path)
    assert len(problems) == 2
    assert any(":2: start.first_items: first_items.n = 9 is more than stop.max_items = 5" in p for p in problems)
    assert any(":3: scoring.points" in p for p in problems)


def test_an_engine_names_every_place_its_design_does_not_fit_the_bank(cbank):
    design = {
        "start": {"first_items": {"n": 1, "rule": "fixed", "items": ["zz"]}},
        "content": {"constraints": [{"group": "9", "min": 1}, {"group": "8"}], "exclude": {"ids": ["yy"]}},
    }
    with pytest.raises(DesignError) as caught:
        AdaptiveTest(cbank, design)
    lines = str(caught.value).splitlines()
    assert lines[0] == "design 'design' on bank 'cat-test': 4 problems"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "start.first_items.items[0]",
        "content.exclude.ids[0]",
        "content.constraints[0].group",
        "content.constraints[1].group",
    ]
