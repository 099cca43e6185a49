"""Multidimensional structures and their bad input: each refusal names the item, dimension or file line."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.calibration import structure as st
from digicomp.calibration.multidim import calibrate_multidim
from digicomp.calibration.multidim_em import resolve_structure
from digicomp.errors import CalibrationError, ParameterError
from digicomp.io.qmatrix import read_q_matrix

IDS = [f"i{j}" for j in range(6)]


def test_between_items_pattern_follows_the_areas():
    s = st.between_items(IDS, {i: ("A" if j < 3 else "B") for j, i in enumerate(IDS)})
    assert s.dims == ["A", "B"]
    np.testing.assert_array_equal(s.pattern[:, 0], [1, 1, 1, 0, 0, 0])
    assert s.correlated[0, 1] and not s.reduced


def test_bifactor_pattern_general_plus_one_specific():
    s = st.bifactor(IDS, {i: ("A" if j < 3 else "B") for j, i in enumerate(IDS)})
    assert s.dims == ["general", "A", "B"] and s.reduced
    assert s.pattern[:, 0].all()
    np.testing.assert_array_equal(s.specific, [1, 1, 1, 2, 2, 2])


def test_two_tier_keeps_specifics_orthogonal_and_primaries_correlated():
    q = np.array([[1, 0]] * 3 + [[0, 1]] * 3)
    areas = ["A", "A", "A", "B", "B", "B"]
    ids = IDS
    with pytest.raises(CalibrationError, match="specific dimension 'A' has 2 item"):
        st.two_tier(ids, ["G1", "G2"], q, ["A", "A", None, "B", "B", "B"])
    s = st.two_tier(ids, ["G1", "G2"], q, areas)
    assert s.dims == ["G1", "G2", "A", "B"]
    assert s.correlated[0, 1] and not s.correlated[0, 2] and not s.correlated[2, 3]


@pytest.mark.parametrize(
    ("q", "fragment"),
    [
        ([[1, 0], [1, 0], [0, 0], [0, 1], [0, 1], [0, 1]], "item 'i2' loads on no dimension"),
        ([[1, 0], [1, 0], [1, 0], [1, 0], [1, 0], [0, 1]], "dimension 'F2' has 1 item(s)"),
        ([[1, 1]] * 6, "dimensions 'F1' and 'F2' have the same items"),
        ([[1, 0], [2, 0], [1, 0], [0, 1], [0, 1], [0, 1]], "item 'i1', dimension 'F1': 2 is not 0 or 1"),
    ],
)
def test_unidentified_or_malformed_q_matrix_is_refused(q, fragment):
    with pytest.raises(CalibrationError) as info:
        st.within_items(IDS, ["F1", "F2"], np.array(q))
    assert fragment in str(info.value)


def test_linearly_dependent_q_columns_are_refused():
    q = np.array([[1, 0, 1], [1, 0, 1], [0, 1, 1], [0, 1, 1], [1, 0, 1], [0, 1, 1]])
    with pytest.raises(CalibrationError, match="linearly dependent"):
        st.within_items(IDS, ["A", "B", "C"], q)


def test_bifactor_item_on_two_specifics_is_refused():
    s = st.bifactor(IDS, {i: ("A" if j < 3 else "B") for j, i in enumerate(IDS)})
    s.pattern[0, 2] = True
    with pytest.raises(CalibrationError, match="item 'i0' loads on more than one specific dimension"):
        s.check()


def test_structure_missing_an_item_of_the_data_is_refused():
    s = st.between_items(IDS[:4], ["A", "A", "B", "B"])
    with pytest.raises(CalibrationError, match="item 'i5' is in the responses but not in the between structure"):
        s.subset(IDS[:4] + ["i5"])
    with pytest.raises(CalibrationError, match="item 'i3' has no area"):
        st.between_items(IDS[:4], {"i0": "A", "i1": "A", "i2": "B"})


def test_resolve_structure_names_what_it_needs():
    with pytest.raises(CalibrationError, match="needs the items' areas"):
        resolve_structure("areas", IDS, None)
    with pytest.raises(CalibrationError, match="expected 'unidimensional', 'areas', 'bifactor'"):
        resolve_structure("oblique", IDS, None)


def test_more_than_three_correlated_dimensions_need_qmc_not_a_tensor_grid():
    rng = np.random.default_rng(0)
    x = (rng.random((50, 8)) < 0.5).astype(float)
    areas = {f"item{j + 1}": f"A{j // 2}" for j in range(8)}
    with pytest.raises(CalibrationError, match="4 correlated dimensions: tensor-product quadrature is limited to 3"):
        calibrate_multidim(x, "2PL", structure="areas", areas=areas, method="quadrature")
    with pytest.raises(CalibrationError, match="method='qmc' is for correlated structures"):
        calibrate_multidim(x, "2PL", structure="bifactor", areas={i: "A" for i in areas}, method="qmc")


def test_rasch_items_are_refused_in_a_multidimensional_fit():
    rng = np.random.default_rng(0)
    x = (rng.random((50, 4)) < 0.5).astype(float)
    with pytest.raises(CalibrationError, match="model Rasch fixes the slopes"):
        calibrate_multidim(x, "Rasch", structure="unidimensional")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("dim,F1\ni0,1\n", "q.csv:1: the first column must be 'item'"),
        ("item,F1,F1\ni0,1,0\n", "q.csv:1: dimension 'F1' appears twice"),
        ("item,F1,F2\ni0,1,0\ni0,0,1\n", "q.csv:3: item 'i0' is listed twice (first on line 2)"),
        ("item,F1,F2\ni0,1,x\n", "q.csv:2: item 'i0', dimension 'F2': 'x' is not 0 or 1"),
        ("item,F1,F2\ni0,0,0\n", "q.csv:2: item 'i0' loads on no dimension"),
        ("item,F1,F2\ni0,1,0\nzz,0,1\n", "q.csv:3: item 'zz' is not among the items of the responses"),
        ("item,F1,F2\ni0,1\n", "q.csv:2: the row has 2 fields, the header has 3"),
    ],
)
def test_q_matrix_file_errors_name_the_line(tmp_path, text, fragment):
    path = tmp_path / "q.csv"
    path.write_text(text)
    with pytest.raises(ParameterError) as info:
        read_q_matrix(path, known_items=IDS)
    assert fragment in str(info.value)


def test_q_matrix_file_reads_in_header_order(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("item,B,A\ni0,1,0\ni1,1,1\n")
    q = read_q_matrix(path)
    assert list(q["i0"]) == ["B", "A"] and q["i1"] == {"B": 1, "A": 1}


def test_a_dimension_nobody_answered_twice_is_refused_and_a_thin_one_warned():
    from digicomp.errors import DataWarning

    rng = np.random.default_rng(3)
    x = (rng.random((400, 6)) < 0.5).astype(float)
    areas = {f"item{j + 1}": ("A" if j < 3 else "B") for j in range(6)}
    sparse = x.copy()
    sparse[:, 3:] = np.nan  # area B (items 4-6): each person answers at most one of its items
    sparse[:100, 3] = x[:100, 3]
    sparse[100:200, 4] = x[100:200, 4]
    sparse[200:300, 5] = x[200:300, 5]
    with pytest.raises(CalibrationError, match="dimension 'B': no person answered two or more of its items"):
        calibrate_multidim(sparse, "2PL", structure="areas", areas=areas, se=False, quadpts=9)
    thin = x.copy()
    thin[50:, 3:] = np.nan
    thin[50:, 3] = x[50:, 3]
    with pytest.warns(DataWarning, match="dimension 'B': only 50 persons answered two or more of its items"):
        calibrate_multidim(thin, "2PL", structure="areas", areas=areas, se=False, quadpts=9, max_iter=5)


@pytest.mark.parametrize(
    ("option", "fragment"),
    [
        ({"priors": "bayes"}, "priors are not available for multidimensional calibration"),
        ({"D": 1.702}, "multidimensional models use mirt's logit"),
        ({"latent": "sd"}, "a multidimensional fit fixes means 0 and variances 1"),
    ],
)
def test_unidimensional_options_are_refused_not_ignored(option, fragment):
    from digicomp.calibration import calibrate

    x = (np.random.default_rng(0).random((50, 4)) < 0.5).astype(float)
    with pytest.raises(CalibrationError, match=fragment):
        calibrate(x, "2PL", structure="unidimensional", **option)
