"""Mantel–Haenszel and logistic-regression DIF against difR's own recorded output on its shipped ``verbal`` data.

Data: tests/data/verbal.csv, difR's ``verbal`` (Vansteelandt 2000; 316 persons, 24 items, Anger, Gender with
0 = 243 women, 1 = 73 men as the focal group), transcribed from difR's data/verbal.txt (see tests/data/SOURCES.md).

Reference values: difR's testthat snapshots of the examples of its help pages, which record the printed output of
difR itself on these data:

* ``tests/testthat/_snaps/difMH.md`` (github.com/adelahladka/difR, commit 28af0942e75d3e8ef101044b8dd5761a5b04d470):
  ``difMH(verbal, group = 25, focal.name = 1)`` with and without ``MHstat = "logOR"``, ``p.adjust.method = "BH"``,
  ``purify = TRUE`` (also ``nrIter = 5``, and with BH ``puriadjType = "simple"`` / ``"combined"``) and
  ``correct = FALSE``;
* ``tests/testthat/_snaps/difLogistic.md`` (same repository, commit af163ec56e7246228e51744b06677b1264b607b1):
  ``difLogistic(verbal, group = 25, focal.name = 1)`` with ``type = "both"`` (default), ``"udif"``, ``"nudif"``
  and ``p.adjust.method = "BH"``.

difR prints 4 decimals, so every number must agree within half a unit of the 4th decimal (5e-5, plus float slack).
The effect-size classes are difR's size-only ETS codes (|Δ| < 1 A, < 1.5 B, else C) — our ``ets_delta_class``;
Zwick's significance-aware ``ets_class`` is not what difR prints. "Detected" in difR is p < .05 without adjustment
(our ``adjust="none"``), or BH-adjusted p < .05 with ``p.adjust.method = "BH"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from digicomp.analysis.dif import logistic_dif, mantel_haenszel

DATA = Path(__file__).parents[1] / "data" / "verbal.csv"
TOL = 5.1e-5  # half a unit of difR's 4th printed decimal

ITEMS = (
    "S1wantCurse S1WantScold S1WantShout S2WantCurse S2WantScold S2WantShout S3WantCurse S3WantScold S3WantShout "
    "S4WantCurse S4WantScold S4WantShout S1DoCurse S1DoScold S1DoShout S2DoCurse S2DoScold S2DoShout S3DoCurse "
    "S3DoScold S3DoShout S4DoCurse S4DoScold S4DoShout"
).split()

# difMH(verbal, group = 25, focal.name = 1): MH chi-square, alphaMH, deltaMH, ETS code, per item in ITEMS order
MH = """
1.7076 1.7005 -1.2476 B | 2.1486 1.7702 -1.3420 B | 0.9926 1.4481 -0.8701 A | 1.9302 1.9395 -1.5567 C
2.9540 1.9799 -1.6052 C | 9.6032 2.8804 -2.4861 C | 0.0013 0.9439 0.1358 A | 0.6752 0.7194 0.7741 A
0.8185 1.5281 -0.9965 A | 1.6292 1.6849 -1.2260 B | 0.0152 1.0901 -0.2028 A | 4.1188 2.3458 -2.0036 C
0.1324 0.7967 0.5340 A | 2.7501 0.4995 1.6313 C | 0.0683 1.1765 -0.3821 A | 6.3029 0.3209 2.6709 C
6.8395 0.3746 2.3072 C | 0.2170 0.7931 0.5447 A | 5.7817 0.4616 1.8165 C | 3.8880 0.4727 1.7606 C
0.2989 0.6373 1.0585 B | 1.1220 0.6444 1.0327 B | 1.4491 0.6385 1.0541 B | 0.8390 1.6053 -1.1123 B
"""
# MHstat = "logOR": log(alphaMH) / sqrt(varLambda)
LOG_OR = """1.4759 1.6751 1.1404 1.6327 1.9103 3.1373 -0.1889 -0.9984 1.1136 1.4869 0.2735 2.2368
-0.5675 -1.8434 0.4495 -2.6614 -2.6876 -0.6396 -2.4687 -2.1368 -0.8366 -1.2436 -1.3810 1.1203"""
# p.adjust.method = "BH": adjusted p
MH_BH = """0.4036 0.3805 0.5106 0.3954 0.2917 0.0466 0.9711 0.5483 0.5162 0.4036 0.9412 0.1945
0.8182 0.2917 0.8660 0.0964 0.0964 0.7696 0.0972 0.1945 0.7384 0.4963 0.4222 0.5162"""
MH_DETECTED = ["S2WantShout", "S4WantShout", "S2DoCurse", "S2DoScold", "S3DoCurse", "S3DoScold"]

# purify = TRUE ("Convergence reached after 6 iterations"): chi-square and alphaMH
MH_PURIFIED = """
0.0069 1.1054 | 0.0376 1.1357 | 0.0087 1.0919 | 0.8881 1.5998 | 0.1112 1.1994 | 4.2680 2.2088
0.0987 0.8584 | 4.3724 0.4593 | 0.3454 1.3348 | 0.1406 1.2183 | 1.6853 0.6322 | 1.0766 1.5764
2.0959 0.5481 | 6.2736 0.3832 | 0.0172 0.9822 | 9.6672 0.2658 | 11.9436 0.3014 | 0.6997 0.6832
9.4644 0.3713 | 6.4356 0.4079 | 1.4190 0.4654 | 3.9323 0.4744 | 5.7987 0.4148 | 0.3223 1.4040
"""
MH_PURIFIED_DETECTED = [
    "S2WantShout", "S3WantScold", "S1DoScold", "S2DoCurse", "S2DoScold", "S3DoCurse", "S3DoScold", "S4DoCurse",
    "S4DoScold",
]  # fmt: skip
# purify = TRUE, p.adjust.method = "BH", puriadjType = "simple": BH applied once, after purification
MH_PURIFIED_BH = """0.9336 0.9336 0.9336 0.5931 0.9041 0.1165 0.9041 0.1165 0.8050 0.9041 0.4238 0.5528
0.3545 0.0588 0.9336 0.0168 0.0132 0.6446 0.0168 0.0588 0.4671 0.1263 0.0642 0.8050"""
# purify = TRUE, nrIter = 5 (no convergence: the last of 1 + 5 runs)
MH_NRITER5 = """0.0974 0.0989 0.2182 1.2035 0.2336 4.1092 0.0344 4.3724 0.4716 0.2721 1.2605 1.3271
1.3384 6.5336 0.0075 8.1200 13.1912 0.4496 8.4944 5.2667 1.0026 4.4670 5.9626 0.0844"""
# purify = TRUE, p.adjust.method = "BH", puriadjType = "combined": BH inside purification; chi-square, alphaMH
MH_COMBINED = """
1.7529 1.6794 | 2.0309 1.7658 | 1.2353 1.4698 | 2.9846 2.0937 | 2.5506 1.8301 | 9.6032 2.8804
0.0172 1.0071 | 0.2278 0.8080 | 1.4923 1.7136 | 2.5318 1.8911 | 0.0849 1.1568 | 3.5175 2.1597
0.0110 0.8846 | 2.1092 0.5491 | 0.0554 1.1583 | 5.0524 0.3720 | 6.5937 0.3824 | 0.2440 0.7844
6.3161 0.4256 | 3.1692 0.5298 | 0.1195 0.6958 | 0.4831 0.7330 | 0.5418 0.7488 | 1.2621 1.7955
"""
# correct = FALSE
MH_UNCORRECTED = """2.2151 2.6579 1.3392 2.5359 3.5755 10.6034 0.0356 0.9709 1.1630 2.1003 0.0838 4.8072
0.3083 3.3869 0.1880 7.2126 7.7670 0.4256 6.5479 4.6194 0.6927 1.5020 1.8592 1.2302"""

# difLogistic(verbal, group = 25, focal.name = 1): LRT statistics of type "both" (2 df), "udif", "nudif"; R^2 (both)
LR_BOTH = """2.0014 3.3541 2.4742 4.7296 4.1404 11.4111 1.6061 1.6331 2.6989 2.4547 2.0997 3.6877
1.2196 4.7304 1.0456 7.6935 10.2622 1.7016 7.2379 5.8680 1.2763 2.9521 2.6956 1.3524"""
LR_UDIF = """1.9998 1.9065 2.1606 4.2639 2.9036 11.3031 0.0955 1.6260 2.1397 1.9563 0.0042 3.6491
0.4234 4.0968 0.7163 7.6372 9.1401 0.0928 7.1433 4.6496 0.5258 1.8339 2.3918 1.0577"""
LR_NUDIF = """0.0016 1.4476 0.3136 0.4658 1.2367 0.1080 1.5106 0.0071 0.5592 0.4983 2.0955 0.0386
0.7962 0.6335 0.3293 0.0563 1.1221 1.6088 0.0945 1.2184 0.7505 1.1182 0.3039 0.2947"""
LR_R2 = """0.0067 0.0101 0.0074 0.0177 0.0125 0.0343 0.0056 0.0050 0.0106 0.0085 0.0060 0.0133
0.0039 0.0122 0.0033 0.0243 0.0277 0.0058 0.0232 0.0211 0.0078 0.0092 0.0083 0.0057"""
LR_BH = """0.5190 0.4486 0.4689 0.3222 0.3785 0.0709 0.5376 0.5376 0.4689 0.4689 0.5190 0.4219
0.5671 0.3222 0.5929 0.1609 0.0709 0.5376 0.1609 0.2553 0.5671 0.4689 0.4689 0.5671"""
LR_DETECTED = ["S2WantShout", "S2DoCurse", "S2DoScold", "S3DoCurse"]
LR_UDIF_DETECTED = ["S2WantCurse", "S2WantShout", "S1DoScold", "S2DoCurse", "S2DoScold", "S3DoCurse", "S3DoScold"]


def _numbers(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split()])


def _rows(text: str) -> list[list[str]]:
    return [cell.split() for cell in text.replace("\n", " | ").split("|") if cell.strip()]


def _column(text: str, k: int) -> np.ndarray:
    return np.array([float(r[k]) for r in _rows(text)])


@pytest.fixture(scope="module")
def verbal() -> tuple[np.ndarray, np.ndarray]:
    x = np.loadtxt(DATA, delimiter=",", skiprows=1)
    header = DATA.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == [*ITEMS, "Anger", "Gender"]
    return x[:, :24], x[:, 25] == 1


def _detected(flags: np.ndarray) -> list[str]:
    return [ITEMS[j] for j in np.flatnonzero(flags)]


def test_the_shipped_copy_is_difRs_verbal_data(verbal):
    x, men = verbal
    assert x.shape == (316, 24) and set(np.unique(x)) == {0.0, 1.0}
    assert (~men).sum() == 243 and men.sum() == 73  # difR's documentation: 243 women and 73 men


def test_mantel_haenszel_matches_difMH(verbal):
    x, men = verbal
    t = mantel_haenszel(x, men, item_ids=ITEMS, adjust="none")
    assert len(_rows(MH)) == 24
    np.testing.assert_allclose(t.chi2, _column(MH, 0), atol=TOL, rtol=0)
    np.testing.assert_allclose(t.alpha_mh, _column(MH, 1), atol=TOL, rtol=0)
    np.testing.assert_allclose(t.delta, _column(MH, 2), atol=TOL, rtol=0)
    assert t.ets_delta_class == [r[3] for r in _rows(MH)]
    np.testing.assert_allclose(np.log(t.alpha_mh) / t.log_alpha_se, _numbers(LOG_OR), atol=TOL, rtol=0)
    assert _detected(t.flagged) == MH_DETECTED
    # difR's BH adjustment of the same p-values: only S2WantShout stays
    np.testing.assert_allclose(t.q, _numbers(MH_BH), atol=TOL, rtol=0)
    assert _detected(mantel_haenszel(x, men, item_ids=ITEMS).flagged) == ["S2WantShout"]


def test_mantel_haenszel_without_continuity_correction_matches_difMH(verbal):
    x, men = verbal
    t = mantel_haenszel(x, men, correct=False, adjust="none", alpha=0.01)
    np.testing.assert_allclose(t.chi2, _numbers(MH_UNCORRECTED), atol=TOL, rtol=0)
    assert _detected(t.flagged) == ["S2WantShout", "S2DoCurse", "S2DoScold"]


def test_purified_mantel_haenszel_matches_difMH(verbal):
    x, men = verbal
    t = mantel_haenszel(x, men, purify=True, adjust="none", item_ids=ITEMS)
    np.testing.assert_allclose(t.chi2, _column(MH_PURIFIED, 0), atol=TOL, rtol=0)
    np.testing.assert_allclose(t.alpha_mh, _column(MH_PURIFIED, 1), atol=TOL, rtol=0)
    assert _detected(t.flagged) == MH_PURIFIED_DETECTED
    assert t.iterations == 7  # difR's "6 iterations" of purification after the first run
    assert sorted(t.anchors) == sorted(set(ITEMS) - set(MH_PURIFIED_DETECTED))
    np.testing.assert_allclose(t.q, _numbers(MH_PURIFIED_BH), atol=TOL, rtol=0)  # puriadjType = "simple"
    assert _detected(t.q < 0.05) == ["S2DoCurse", "S2DoScold", "S3DoCurse"]
    short = mantel_haenszel(x, men, purify=True, adjust="none", max_rounds=6)  # difR's nrIter = 5
    np.testing.assert_allclose(short.chi2, _numbers(MH_NRITER5), atol=TOL, rtol=0)


def test_purified_mantel_haenszel_with_bh_inside_matches_difMH_combined(verbal):
    x, men = verbal
    t = mantel_haenszel(x, men, purify=True)
    np.testing.assert_allclose(t.chi2, _column(MH_COMBINED, 0), atol=TOL, rtol=0)
    np.testing.assert_allclose(t.alpha_mh, _column(MH_COMBINED, 1), atol=TOL, rtol=0)
    assert _detected(t.flagged) == ["S2WantShout"]


def test_logistic_dif_matches_difLogistic(verbal):
    x, men = verbal
    t = logistic_dif(x, men, item_ids=ITEMS)
    np.testing.assert_allclose(t.chi2_dif, _numbers(LR_BOTH), atol=TOL, rtol=0)
    np.testing.assert_allclose(t.chi2_uniform, _numbers(LR_UDIF), atol=TOL, rtol=0)
    np.testing.assert_allclose(t.chi2_nonuniform, _numbers(LR_NUDIF), atol=TOL, rtol=0)
    np.testing.assert_allclose(t.delta_r2, _numbers(LR_R2), atol=TOL, rtol=0)
    np.testing.assert_allclose(t.q, _numbers(LR_BH), atol=TOL, rtol=0)
    assert _detected(t.p_dif < 0.05) == LR_DETECTED
    assert _detected(t.p_uniform < 0.05) == LR_UDIF_DETECTED
    assert not (t.p_nonuniform < 0.05).any()  # difR: "No DIF item detected" for type = "nudif"
    assert not t.flagged.any()  # and none after BH
    assert set(t.zumbo_thomas) == {"A"} and set(t.jodoin_gierl) == {"A"}
