"""The refit method of IRT DIF (``method="refit"``; see :mod:`digicomp.analysis.irt_dif`): for every item the
multiple-group model fitted in full with that item freed or anchored. Exact, one EM per item: for small tests and
for checking the conditional method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from digicomp.analysis.irt_dif_items import Array, ItemTests, base_items, eta_of_columns, flag_items, slope_difficulty
from digicomp.calibration.multigroup import SEP, MultiGroupResult, calibrate_multigroup
from digicomp.errors import CalibrationError


def refit_lr(
    base: MultiGroupResult, resp: Any, groups: Any, model: Any, reference: str, quadpts: int, report: Callable
) -> tuple[ItemTests, Callable[[], None]]:
    """Exact LR: for every item, the multiple-group model with that item freed (anchored in the base) or anchored
    (free in the base), fitted in full from the base's estimates."""

    def test(i: str) -> tuple[MultiGroupResult, float, float]:
        was_free = i in base.free_items
        free = [f for f in base.free_items if f != i] if was_free else [*base.free_items, i]
        other = calibrate_multigroup(resp, groups, model, free=free, reference=reference, quadpts=quadpts, start=base)
        full, restricted = (base, other) if was_free else (other, base)
        return full, max(2 * (full.loglik - restricted.loglik), 0.0), full.n_parameters - restricted.n_parameters

    raw = _each_item(base, report, test, not_finite=None)
    return flag_items(ItemTests(*raw, chi2_lr=raw[1])), lambda: None


def refit_wald(
    base: MultiGroupResult, resp: Any, groups: Any, model: Any, reference: str, quadpts: int, report: Callable
) -> tuple[ItemTests, Callable[[], None]]:
    """Exact Wald: for every item, the multiple-group model with that item freed (the base itself when it is free
    there), W from the inverse numerical observed information of all its parameters (2 E-steps per parameter)."""

    def test(i: str) -> tuple[MultiGroupResult, float, float]:
        fit = base if i in base.free_items else calibrate_multigroup(
            resp, groups, model, free=[*base.free_items, i], reference=reference, quadpts=quadpts, start=base
        )  # fmt: skip
        return (fit, *fit.wald_dif(i))

    raw = _each_item(base, report, test, not_finite="the observed information is not positive definite (no Wald test)")
    return flag_items(ItemTests(*raw, chi2_wald=raw[1])), lambda: None


def _each_item(
    base: MultiGroupResult,
    report: Callable,
    test: Callable[[str], tuple[MultiGroupResult, float, float]],
    not_finite: str | None,
) -> tuple[list[str], Array, Array, Array, Array, dict[str, str]]:
    """Run ``test`` (one full refit: the fit holding the item free per group, the statistic, its df) for every item
    of the base: (items, chi2, df, a, b per group, excluded items with the reason). A refit that fails excludes its
    item; ``not_finite`` names why an item whose statistic is not finite has no test (None: kept as NaN)."""
    names, _, _ = base_items(base)
    J, G = len(names), len(base.groups)
    chi2, df = np.full(J, np.nan), np.full(J, np.nan)
    a, bb = np.full((J, G), np.nan), np.full((J, G), np.nan)
    excluded: dict[str, str] = {}
    for j, i in enumerate(names):  # one full EM per item: the loop is over model fits, not observations
        report("item tests", j, J)
        try:
            fit, chi2[j], df[j] = test(i)
        except CalibrationError as err:
            excluded[i] = str(err)
            continue
        if not_finite is not None and not np.isfinite(chi2[j]):
            excluded[i] = not_finite
        etas = eta_of_columns(fit)
        for g, label in enumerate(base.groups):
            a[j, g], bb[j, g] = slope_difficulty(*etas[fit.params.ids.index(f"{i}{SEP}{label}")])
    report("item tests", J, J)
    return names, chi2, df, a, bb, excluded
