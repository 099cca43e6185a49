"""Multidimensional banks: the dimensions / latent / overall blocks, slope vectors, their arrays and refusals."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.bank.validate import validate_file
from digicomp.errors import BankError

PROV = {"status": "provisional", "rule": "r1"}


def _bank(K: int = 3, general: bool = False) -> dict[str, Any]:
    """A between-item bank on areas 1..3 of the civil-service framework (a general factor first if asked)."""
    dims = [{"id": "g", "name": {"vi": "Chung", "en": "General"}, "general": True}] if general else []
    dims += [{"id": f"area-{k}", "name": {"vi": f"Lĩnh vực {k}", "en": f"Area {k}"}, "area": str(k)} for k in (1, 2, 3)]
    dims = dims[:K]
    n = len(dims)
    items = []
    for j in range(9):
        area = j % 3 + 1
        a = [0.0] * n
        a[(area - 1) + (1 if general else 0)] = 1.0 + 0.1 * j
        if general:
            a[0] = 0.8
        items.append(
            {
                "id": f"q{j}",
                "competence": f"{area}.1",
                "model": "2PL",
                "params": {"a": a, "intercept": 0.2 * j - 0.8},
                "calibration": PROV,
            }
        )
    items.append(
        {
            "id": "s1",
            "competence": "1.1",
            "model": "GRM",
            "params": {
                "a": [1.2] + [0.0] * (n - 1) if not general else [0.5, 1.0] + [0.0] * (n - 2),
                "intercept": [1.5, 0.0, -1.5],
            },
            "calibration": PROV,
        }
    )
    R = np.eye(n)
    if not general:
        R = np.full((n, n), 0.6) + 0.4 * np.eye(n)
    overall = {"dimension": "g"} if general else {"weights": {d["id"]: 1.0 for d in dims}}
    return {
        "kind": "item_bank",
        "id": "mdim",
        "version": "1",
        "framework": {"id": "vn-civil-service", "version": "0.1.0"},
        "scale": {"D": 1.0},
        "rules": {"r1": {"vi": "Tạm thời", "en": "Provisional"}},
        "dimensions": dims,
        "latent": {"correlation": R.tolist()},
        "overall": overall,
        "items": items,
    }


def test_multidimensional_bank_loads_with_its_arrays(write_bank):
    bank = load_bank(write_bank(_bank()))
    assert bank.dims.ids == ["area-1", "area-2", "area-3"]
    assert bank.dims.area == ["1", "2", "3"]
    np.testing.assert_allclose(bank.dims.correlation[0, 1], 0.6)
    np.testing.assert_allclose(bank.dims.weights, [1 / 3] * 3)
    m = bank.mparams
    assert m.a.shape == (10, 3) and m.n_dims == 3
    np.testing.assert_allclose(m.a[4], [0.0, 1.4, 0.0])
    np.testing.assert_allclose(m.intercepts[4, 0], 0.2 * 4 - 0.8)
    assert np.isnan(m.intercepts[4, 1])  # dichotomous rows are NaN-padded
    np.testing.assert_allclose(m.intercepts[9], [1.5, 0.0, -1.5])
    assert list(m.n_categories) == [2] * 9 + [4]
    # the direction view keeps categories and intercepts, slope = ‖a‖
    np.testing.assert_allclose(bank.params.slope, np.linalg.norm(m.a, axis=1))
    assert validate_file(bank.source) == []


def test_bifactor_bank_general_is_the_overall(write_bank):
    bank = load_bank(write_bank(_bank(K=4, general=True)))
    assert bank.dims.is_bifactor and bank.dims.general == 0
    np.testing.assert_allclose(bank.dims.weights, [1, 0, 0, 0])


def test_unidimensional_banks_are_unchanged():
    bank = load_bank("civil-service")
    assert bank.dims is None and bank.mparams is None


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["items"][0]["params"].update(a=[1.0, 0.0]), "'a' has 2 slopes; the bank has 3 dimensions"),
        (
            lambda d: d["latent"].update(correlation=[[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]),
            "not positive definite",
        ),
        (lambda d: d["latent"].update(correlation=[[1, 0.5], [0.5, 1]]), "must be 3 × 3"),
        (lambda d: d["latent"].update(correlation=[[1, 0.5, 0.5], [0.4, 1, 0.5], [0.5, 0.5, 1]]), "not symmetric"),
        (lambda d: d["latent"].update(correlation=[[2, 0.5, 0.5], [0.5, 1, 0.5], [0.5, 0.5, 1]]), "1 on its diagonal"),
        (lambda d: d["scale"].update(D=1.702), "scale.D must be 1.0"),
        (lambda d: d["items"][0]["params"].update(a=[-0.5, 1.0, 0.0]), "must be ≥ 0"),
        (lambda d: d["items"][9]["params"].update(intercept=[0.0, 1.5, -1.5]), "must strictly decrease"),
        (lambda d: d["overall"].update(weights={"area-9": 1.0}), "'area-9' is not a dimension"),
        (lambda d: d["dimensions"][1].update(id="area-1"), "repeats dimensions[0]"),
        (lambda d: d["items"][0]["params"].update(b=0.3), "needs 'intercept'"),
        (lambda d: d.pop("latent"), "missing ['latent']"),
        (lambda d: d["items"][0].update(params={"a": 1.0, "b": 0.0}), "needs 'a' as a list of 3 slopes"),
    ],
)
def test_refusals_name_the_place(write_bank, edit, message):
    data = _bank()
    edit(data)
    with pytest.raises(BankError) as exc:
        load_bank(write_bank(data))
    assert message in str(exc.value)
    assert "bank.yaml:" in str(exc.value)


def test_dimension_without_items_is_not_identified(write_bank):
    data = _bank()
    for item in data["items"]:
        if item["params"]["a"][2] > 0:
            item["params"]["a"] = [item["params"]["a"][2], 0.0, 0.0]
    with pytest.raises(BankError, match="dimension 'area-3' is measured by no item"):
        load_bank(write_bank(data))


def test_bifactor_identification_refusals(write_bank):
    data = _bank(K=4, general=True)
    data["latent"]["correlation"] = (np.full((4, 4), 0.3) + 0.7 * np.eye(4)).tolist()
    data["items"][0]["params"]["a"] = [0.8, 1.0, 1.0, 0.0]
    with pytest.raises(BankError) as exc:
        load_bank(write_bank(data))
    text = str(exc.value)
    assert "must be uncorrelated with the area dimensions" in text
    assert "item 'q0' loads on 2 area dimensions" in text


def test_every_problem_in_one_pass(write_bank):
    data = _bank()
    data["items"][0]["params"]["a"] = [1.0]
    data["latent"]["correlation"] = [[1, 1, 1], [1, 1, 1], [1, 1, 1]]
    with pytest.raises(BankError) as exc:
        load_bank(write_bank(data))
    assert "'a' has 1 slopes" in str(exc.value) and "not positive definite" in str(exc.value)


def test_slope_list_without_dimensions_block(write_bank):
    data = _bank()
    for key in ("dimensions", "latent", "overall"):
        data.pop(key)
    with pytest.raises(BankError, match="item 'q0': a list of slopes needs the bank's 'dimensions' block"):
        load_bank(write_bank(data))


def test_dimensions_must_match_the_framework(write_bank):
    data = _bank()
    data["dimensions"][2]["area"] = "9"
    problems = validate_file(write_bank(copy.deepcopy(data)))
    assert any("stands for area '9', which is not an area of the framework" in p for p in problems)
    assert any("item 'q2' is in area '3', which has no dimension" in p for p in problems)
    data = _bank()
    data["items"][1]["params"]["a"] = [0.5, 0.0, 0.0]  # q1 is in area 2 but does not load on area-2
    problems = validate_file(write_bank(data))
    assert any("item 'q1' (area '2') has slope 0 on its area's dimension 'area-2'" in p for p in problems)


def test_parameter_table_has_mirts_slope_columns_and_reads_back(write_bank, tmp_path):
    from digicomp.io.param_table import read_multidim_param_table

    bank = load_bank(write_bank(_bank()))
    out = tmp_path / "params.csv"
    bank.to_param_table(out)
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:8] == ["item", "itemtype", "a1", "a2", "a3", "d", "g", "u"]
    back = read_multidim_param_table(out, n_dims=3)
    m = bank.mparams
    assert back.ids == m.ids and back.models == list(m.models)
    np.testing.assert_array_equal(back.a, m.a)
    np.testing.assert_array_equal(back.intercepts[:, :3], m.intercepts)
    np.testing.assert_array_equal(back.c, m.c)
    with pytest.raises(BankError, match="multidimensional: its table has mirt's columns"):
        bank.to_param_table(tmp_path / "c.csv", style="catR")
