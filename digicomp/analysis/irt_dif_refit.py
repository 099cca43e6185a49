"""The refit method of IRT DIF (``method="refit"``; see :mod:`digicomp.analysis.irt_dif`): for every item the
multiple-group model fitted in full with that item freed or anchored. Exact, one EM per item: for small tests and
for checking the conditional method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from digicomp.analysis.irt_dif_items import ItemTests, base_items, eta_of_columns, flag_items, slope_difficulty
from digicomp.calibration.multigroup import SEP, MultiGroupResult, calibrate_multigroup
from digicomp.errors import CalibrationError


def refit_lr(
    base: MultiGroupResult, resp: Any, groups: Any, model: Any, reference: str, quadpts: int, report: Callable
) -> tuple[ItemTests, Callable[[], None]]:
    """Exact LR: for every item, the multiple-group model with that item freed (anchored in the base) or anchored
    (free in the base), fitted in full from the base's estimates."""
    names, _, _ = base_items(base)
    J, G = len(names), len(base.groups)
    chi2, df = np.full(J, np.nan), np.full(J, np.nan)
    a, bb = np.full((J, G), np.nan), np.full((J, G), np.nan)
    excluded: dict[str, str] = {}
    for j, i in enumerate(names):
        report("item tests", j, J)
        was_free = i in base.free_items
        free = [f for f in base.free_items if f != i] if was_free else [*base.free_items, i]
        try:
            other = calibrate_multigroup(
                resp, groups, model, free=free, reference=reference, quadpts=quadpts, start=base
            )
        except CalibrationError as err:
            excluded[i] = str(err)
            continue
        full, restricted = (base, other) if was_free else (other, base)
        chi2[j] = max(2 * (full.loglik - restricted.loglik), 0.0)
        df[j] = full.n_parameters - restricted.n_parameters
        etas = eta_of_columns(full)
        for g, label in enumerate(base.groups):
            c = full.params.ids.index(f"{i}{SEP}{label}")
            a[j, g], bb[j, g] = slope_difficulty(*etas[c])
    report("item tests", J, J)
    return flag_items(ItemTests(names, chi2, df, a, bb, excluded, chi2_lr=chi2)), lambda: None


def refit_wald(
    base: MultiGroupResult, resp: Any, groups: Any, model: Any, reference: str, quadpts: int, report: Callable
) -> tuple[ItemTests, Callable[[], None]]:
    """Exact Wald: for every item, the multiple-group model with that item freed (the base itself when it is free
    there), W from the inverse numerical observed information of all its parameters (2 E-steps per parameter)."""
    names, _, _ = base_items(base)
    J, G = len(names), len(base.groups)
    chi2, df = np.full(J, np.nan), np.full(J, np.nan)
    a, bb = np.full((J, G), np.nan), np.full((J, G), np.nan)
    excluded: dict[str, str] = {}
    for j, i in enumerate(names):
        report("item tests", j, J)
        try:
            fit = base if i in base.free_items else calibrate_multigroup(
                resp, groups, model, free=[*base.free_items, i], reference=reference, quadpts=quadpts, start=base
            )  # fmt: skip
            chi2[j], df[j] = fit.wald_dif(i)
        except CalibrationError as err:
            excluded[i] = str(err)
            continue
        if not np.isfinite(chi2[j]):
            excluded[i] = "the observed information is not positive definite (no Wald test)"
        etas = eta_of_columns(fit)
        for g, label in enumerate(base.groups):
            a[j, g], bb[j, g] = slope_difficulty(*etas[fit.params.ids.index(f"{i}{SEP}{label}")])
    report("item tests", J, J)
    return flag_items(ItemTests(names, chi2, df, a, bb, excluded, chi2_wald=chi2)), lambda: None
