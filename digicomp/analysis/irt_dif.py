"""IRT DIF between multiple-group models by likelihood-ratio or Wald tests, with all-others or purified anchors.

For a studied item j the question is whether its parameters differ between groups once the groups' ability
distributions are accounted for by the anchor items (Thissen, Steinberg & Wainer 1993). The base model is a
multiple-group fit (:mod:`digicomp.calibration.multigroup`) whose anchors are equal across groups.

``method="conditional"`` (default): item j is refitted twice, equal across groups and free per group, with every
other parameter (the other items and the groups' N(μ_g, σ_g²)) held at the base model's estimates. Each person
who answered j contributes log Σ_q w_pq P_j(x_pj | θ_q), with w_pq the posterior of the base model without item
j, so all items are refitted at once by a few EM cycles over the observed responses. The statistic
G² = 2 (ℓ_free - ℓ_equal) is at most the full refit's (the free model is maximised over fewer parameters) and,
with many anchor items, differs from it by little (tested against ``method="refit"``, which fits the two
multiple-group models in full for every item: exact, and one EM per item).

The Wald test (:func:`irt_wald_dif`) needs only the free model: W = dᵀ (C Σ Cᵀ)⁻¹ d, d the differences of item j's
parameters (slope–intercept form) between each group and the reference, Σ their covariance. ``"conditional"``:
Σ from the observed information of item j's conditional log-likelihood in each group (the groups' observations are
disjoint, so Σ is block diagonal), by central differences of its Fisher-identity gradient: targets are independent
given the base, so one E-pass per perturbed parameter column serves every item. ``"refit"``: the multiple-group
model with item j freed, Σ its block of the inverse numerical observed information of every parameter (anchors and
the groups' distributions included; 2 E-steps per parameter, for small tests). W and G² test the same hypothesis
and are asymptotically equivalent (Wald 1943; Lord's 1980 χ² for DIF is this test, Langer 2008 with the
supplemented covariance).

Anchors: ``"all-others"`` (every other item is equal across groups), ``"purified"`` (after the all-others round,
the items flagged by Benjamini–Hochberg are freed in the base model and every item is tested again, until the
flagged set repeats), or a list of anchor item ids. df = (G - 1) × the item's free parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.analysis.dif import benjamini_hochberg
from digicomp.analysis.irt_dif_conditional import conditional_tests
from digicomp.analysis.irt_dif_items import Array, ItemTests
from digicomp.analysis.irt_dif_refit import refit_lr, refit_wald
from digicomp.analysis.tables import Table
from digicomp.calibration.multigroup import MultiGroupResult, calibrate_multigroup, group_codes
from digicomp.errors import CalibrationError

TESTS = ("lr", "wald")


@dataclass
class IRTDIFTable(Table):
    """IRT DIF per item (likelihood ratio or Wald, ``test``); ``a_ref``/``b_ref`` the reference group's free-model
    parameters and ``a_diff``/``b_diff`` the largest signed difference of another group from them (b for
    dichotomous items).

    ``chi2``/``df``/``p``/``q``/``flagged``: the test of every parameter (any DIF), by the statistic ``test``
    names. ``chi2_uniform``: for LR, intercepts free per group with the slope (and asymptotes) held at the equal
    model's values, against the equal model (conservative as the slope is not re-maximised); for Wald, the
    intercepts' differences alone (NaN with ``method="refit"``). ``chi2_lr`` and ``chi2_wald``: both statistics
    where computed (the conditional Wald run also has the LR; NaN otherwise)."""

    item: list[str]
    chi2: Array
    df: Array
    p: Array
    q: Array
    flagged: NDArray[np.bool_]
    anchor: list[str]
    chi2_all_others: Array
    p_all_others: Array
    q_all_others: Array
    a_ref: Array
    b_ref: Array
    a_diff: Array
    b_diff: Array
    chi2_uniform: Array
    df_uniform: Array
    p_uniform: Array
    chi2_lr: Array
    chi2_wald: Array
    groups: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)
    rounds: int = 1
    method: str = "conditional"
    test: str = "lr"
    excluded: dict[str, str] = field(default_factory=dict)
    base: MultiGroupResult | None = None


def irt_lr_dif(
    responses: Any,
    groups: Sequence[Any],
    model: Any = "2PL",
    *,
    reference: Any = None,
    anchors: str | Sequence[str] = "purified",
    alpha: float = 0.05,
    method: str = "conditional",
    quadpts: int = 61,
    max_rounds: int = 5,
    progress: Callable[[str, int, int], None] | None = None,
) -> IRTDIFTable:
    """IRT-LR DIF of every item between the groups (see the module docstring).

    ``responses``: Responses with item ids or an array; ``groups``: one label per person. ``progress(step, done,
    total)`` is called as the base fits and the item tests advance.
    """
    return irt_dif(
        responses, groups, model, test="lr", reference=reference, anchors=anchors, alpha=alpha, method=method,
        quadpts=quadpts, max_rounds=max_rounds, progress=progress,
    )  # fmt: skip


def irt_wald_dif(
    responses: Any,
    groups: Sequence[Any],
    model: Any = "2PL",
    *,
    reference: Any = None,
    anchors: str | Sequence[str] = "purified",
    alpha: float = 0.05,
    method: str = "conditional",
    quadpts: int = 61,
    max_rounds: int = 5,
    progress: Callable[[str, int, int], None] | None = None,
) -> IRTDIFTable:
    """IRT DIF of every item by Wald tests of its parameters' group differences in the model with it freed (see
    the module docstring); anchors, purification and Benjamini–Hochberg flags as :func:`irt_lr_dif`."""
    return irt_dif(
        responses, groups, model, test="wald", reference=reference, anchors=anchors, alpha=alpha, method=method,
        quadpts=quadpts, max_rounds=max_rounds, progress=progress,
    )  # fmt: skip


def irt_dif(
    responses: Any,
    groups: Sequence[Any],
    model: Any = "2PL",
    *,
    test: str = "lr",
    reference: Any = None,
    anchors: str | Sequence[str] = "purified",
    alpha: float = 0.05,
    method: str = "conditional",
    quadpts: int = 61,
    max_rounds: int = 5,
    progress: Callable[[str, int, int], None] | None = None,
) -> IRTDIFTable:
    """IRT DIF of every item between the groups by ``test`` = ``"lr"`` (likelihood ratio) or ``"wald"``."""
    if method not in ("conditional", "refit"):
        raise CalibrationError(f"method = {method!r}: expected 'conditional' or 'refit'")
    if test not in TESTS:
        raise CalibrationError(f"test = {test!r}: expected 'lr' or 'wald'")
    report = progress or (lambda *_: None)
    from digicomp.calibration.data import as_responses

    resp = as_responses(responses)
    ids = resp.item_ids or [f"item{j + 1}" for j in range(resp.n_items)]
    if resp.item_ids is None:
        resp = type(resp)(resp.person, resp.item, resp.value, resp.n_persons, resp.n_items, resp.person_ids, ids)
    _, labels = group_codes(groups, resp.n_persons, reference)
    if isinstance(anchors, str):
        if anchors not in ("all-others", "purified"):
            raise CalibrationError(f"anchors = {anchors!r}: expected 'all-others', 'purified' or a list of item ids")
        free: list[str] = []
    else:
        unknown = [a for a in anchors if a not in ids]
        if unknown:
            raise CalibrationError(f"anchors: item(s) {', '.join(map(repr, unknown[:5]))} are not in the responses")
        if not anchors:
            raise CalibrationError("anchors: an empty list leaves nothing to link the groups")
        free = [i for i in ids if i not in set(anchors)]
    report("base model", 0, 1)
    base = calibrate_multigroup(resp, groups, model, free=free, reference=labels[0], quadpts=quadpts)
    report("base model", 1, 1)
    if method == "conditional":

        def run(base: MultiGroupResult) -> tuple[ItemTests, Callable[[], None]]:
            return conditional_tests(base, report, test)

    else:
        refit = refit_lr if test == "lr" else refit_wald

        def run(base: MultiGroupResult) -> tuple[ItemTests, Callable[[], None]]:
            return refit(base, resp, groups, model, labels[0], quadpts, report)

    first, add_uniform = run(base)
    table = first
    rounds = 1
    anchor_name = "all others" if isinstance(anchors, str) else f"{len(ids) - len(free)} given anchors"
    if anchors == "purified":
        while rounds < max_rounds:
            flagged = [i for i, f in zip(table.item, table.flagged) if f]
            if sorted(flagged) == sorted(base.free_items) or len(flagged) >= len(ids):
                break
            rounds += 1
            report("base model", 0, 1)
            base = calibrate_multigroup(
                resp, groups, model, free=flagged, reference=labels[0], quadpts=quadpts, start=base
            )
            report("base model", 1, 1)
            table, add_uniform = run(base)
        n_anchor = len(ids) - len(base.free_items)
        anchor_name = f"purified ({n_anchor} anchors)"
    add_uniform()  # the uniform-DIF split of the final round only
    del add_uniform
    return _finish(table, first, alpha, base, anchor_name, rounds, method, test)


def _finish(
    table: ItemTests,
    first: ItemTests,
    alpha: float,
    base: MultiGroupResult,
    anchor: str,
    rounds: int,
    method: str,
    test: str,
) -> IRTDIFTable:
    from digicomp.analysis.probability import chi2_sf

    p = chi2_sf(table.chi2, table.df)
    p0 = chi2_sf(first.chi2, first.df)
    q, q0 = benjamini_hochberg(p), benjamini_hochberg(p0)
    ref_a, ref_b = table.a[:, 0], table.b[:, 0]
    da, db = table.a[:, 1:] - ref_a[:, None], table.b[:, 1:] - ref_b[:, None]
    pick_a = np.argmax(np.abs(np.nan_to_num(da)), axis=1)
    pick_b = np.argmax(np.abs(np.nan_to_num(db)), axis=1)
    rows = np.arange(len(table.item))
    chi2_u, df_u = _or_nan(table.chi2_uniform, len(table.item)), _or_nan(table.df_uniform, len(table.item))
    return IRTDIFTable(
        item=table.item,
        chi2=table.chi2,
        df=table.df,
        p=p,
        q=q,
        flagged=np.nan_to_num(q, nan=1.0) < alpha,
        anchor=[anchor] * len(table.item),
        chi2_all_others=first.chi2,
        p_all_others=p0,
        q_all_others=q0,
        a_ref=ref_a,
        b_ref=ref_b,
        a_diff=da[rows, pick_a],
        b_diff=db[rows, pick_b],
        chi2_uniform=chi2_u,
        df_uniform=df_u,
        p_uniform=chi2_sf(chi2_u, df_u),
        chi2_lr=_or_nan(table.chi2_lr, len(table.item)),
        chi2_wald=_or_nan(table.chi2_wald, len(table.item)),
        groups=list(base.groups),
        anchors=[i for i in table.item if i not in set(base.free_items)],
        rounds=rounds,
        method=method,
        test=test,
        excluded={**first.excluded, **table.excluded},
        base=base,
    )


def _or_nan(values: Array | None, n: int) -> Array:
    return np.full(n, np.nan) if values is None else values
