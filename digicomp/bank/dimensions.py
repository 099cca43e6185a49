"""Multidimensional banks: the ``dimensions`` / ``latent`` / ``overall`` blocks, their checks and their arrays.

A bank with a ``dimensions`` block holds compensatory multidimensional items in R mirt's slope–intercept form
(one slope per dimension, logit a·θ + d, scale D = 1). The schema (:mod:`digicomp.bank.schema`) checks each node's
shape; :func:`problems` checks the bank as a whole (one pass, every problem with its place in the file) and
:func:`framework_problems` its match with the framework's areas. Identification rules (docs/item-banks.md):

* every dimension is measured by at least one item (a non-zero slope), every item loads somewhere, slopes ≥ 0;
* the latent correlation matrix is K × K, symmetric, unit diagonal and positive definite (variances fixed at 1);
* a general factor (bifactor / two-tier) is uncorrelated with the area dimensions, and an item loads on at most
  one area dimension besides it (otherwise general and specific variance cannot be told apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.bank.schema import BankFile
from digicomp.io.param_table import MAX_INTERCEPT, MAX_SLOPE
from digicomp.models import ItemParameters
from digicomp.models.names import DICHOTOMOUS_MODELS
from digicomp.scoring.multidim import MultidimItems

Problem = tuple[tuple[str | int, ...], str]

PD_TOLERANCE = 1e-8
"""Smallest eigenvalue a latent correlation matrix may have (below it the matrix is not positive definite)."""


@dataclass(frozen=True)
class Dimensions:
    """A multidimensional bank's dimensions as arrays: ids, what each stands for, the latent normal, the overall.

    ``area`` holds the framework area code of each dimension (None for the general factor, at ``general``);
    ``weights`` (K,) define the overall composite θ_overall = Σ_k w_k θ_k (one-hot on the general factor when
    ``overall: {dimension: ...}``, else the declared weights normalised to sum 1).
    """

    ids: list[str]
    names: list[dict[str, str]]
    area: list[str | None]
    general: int | None
    correlation: NDArray[np.float64]
    mean: NDArray[np.float64]
    weights: NDArray[np.float64]

    @property
    def n(self) -> int:
        """Number of dimensions K."""
        return len(self.ids)

    @property
    def covariance(self) -> NDArray[np.float64]:
        """The latent covariance (variances are fixed at 1, so it is the correlation matrix)."""
        return self.correlation

    @property
    def is_bifactor(self) -> bool:
        """True when one dimension is the general factor."""
        return self.general is not None

    def index(self, dim_id: str) -> int:
        """Position of dimension ``dim_id``."""
        return self.ids.index(dim_id)

    @classmethod
    def from_spec(cls, spec: BankFile) -> Dimensions:
        """The arrays of a checked bank's blocks (``problems(spec)`` is empty)."""
        dims = spec.dimensions or []
        ids = [d.id for d in dims]
        general = next((k for k, d in enumerate(dims) if d.general), None)
        K = len(ids)
        corr = np.asarray(spec.latent.correlation, dtype=float)
        mean = np.zeros(K) if spec.latent.mean is None else np.asarray(spec.latent.mean, dtype=float)
        weights = np.zeros(K)
        if spec.overall.dimension is not None:
            weights[ids.index(spec.overall.dimension)] = 1.0
        else:
            for dim_id, w in spec.overall.weights.items():
                weights[ids.index(dim_id)] = w
            weights /= weights.sum()
        names = [d.name.model_dump(mode="json") for d in dims]
        return cls(ids, names, [d.area for d in dims], general, corr, mean, weights)


def is_multidimensional(spec: BankFile) -> bool:
    """True for a bank with a ``dimensions`` block."""
    return spec.dimensions is not None


def items_of(spec: BankFile) -> MultidimItems:
    """The items of a checked multidimensional bank as slope-intercept arrays."""
    items = spec.items
    J, K = len(items), len(spec.dimensions or [])
    width = max(max((len(it.params.intercept) for it in items if isinstance(it.params.intercept, list)), default=1), 1)
    a = np.zeros((J, K))
    d = np.full((J, width), np.nan)
    c, u = np.zeros(J), np.ones(J)
    for j, it in enumerate(items):
        a[j] = it.params.a
        icpt = np.atleast_1d(np.asarray(it.params.intercept, dtype=float))
        d[j, : icpt.size] = icpt
        if it.model in DICHOTOMOUS_MODELS:
            c[j] = it.params.c or 0.0
            u[j] = 1.0 if it.params.d is None else it.params.d
    return MultidimItems([it.id for it in items], [it.model for it in items], a, d, c, u)


# ---------------------------------------------------------------------------------------------------- checks
def problems(spec: BankFile) -> list[Problem]:
    """Every problem of the bank's dimensions, latent distribution, overall composite and slope vectors."""
    items = spec.items
    if spec.dimensions is None:
        return [
            (("items", i, "params", "a"), f"item {it.id!r}: a list of slopes needs the bank's 'dimensions' block")
            for i, it in enumerate(items)
            if it.params.multidimensional
        ]
    dims = spec.dimensions
    K = len(dims)
    found: list[Problem] = []
    found += _dimension_problems(spec)
    found += _latent_problems(spec, K)
    found += _overall_problems(spec)
    slopes = np.zeros((len(items), K))
    for i, it in enumerate(items):
        here = ("items", i, "params")
        if not it.params.multidimensional:
            found.append(
                (
                    here + ("a",),
                    f"item {it.id!r}: a multidimensional bank needs 'a' as a list of {K} slopes "
                    f"(one per dimension: {', '.join(d.id for d in dims)}) and 'intercept'",
                )
            )
            continue
        found += _item_problems(it, here, K)
        if len(it.params.a) == K:
            slopes[i] = it.params.a
    found += _identification_problems(spec, np.nan_to_num(slopes))
    return found


def _dimension_problems(spec: BankFile) -> list[Problem]:
    found: list[Problem] = []
    first: dict[str, int] = {}
    areas: dict[str, int] = {}
    generals = [k for k, d in enumerate(spec.dimensions) if d.general]
    for k, d in enumerate(spec.dimensions):
        if d.id in first:
            found.append((("dimensions", k, "id"), f"dimension id {d.id!r} repeats dimensions[{first[d.id]}]"))
        first.setdefault(d.id, k)
        if d.area is not None:
            if d.area in areas:
                found.append(
                    (
                        ("dimensions", k, "area"),
                        f"area {d.area!r} already has dimension {spec.dimensions[areas[d.area]].id!r}",
                    )
                )
            areas.setdefault(d.area, k)
    for k in generals[1:]:
        found.append((("dimensions", k, "general"), "a bank has at most one general factor"))
    return found


def _latent_problems(spec: BankFile, K: int) -> list[Problem]:
    corr = spec.latent.correlation
    where = ("latent", "correlation")
    if len(corr) != K or any(len(row) != K for row in corr):
        shape = f"{len(corr)} rows of lengths {sorted({len(r) for r in corr})}"
        return [
            (where, f"the latent correlation matrix must be {K} × {K} (a row and column per dimension), got {shape}")
        ]
    R = np.asarray(corr, dtype=float)
    found: list[Problem] = []
    off = np.flatnonzero(np.abs(np.diag(R) - 1.0) > 1e-12)
    if off.size:
        found.append(
            (
                where + (int(off[0]), int(off[0])),
                f"a correlation matrix has 1 on its diagonal, got {R[off[0], off[0]]:g}",
            )
        )
    i, j = np.nonzero(np.abs(R - R.T) > 1e-12)
    if i.size:
        found.append(
            (
                where + (int(i[0]), int(j[0])),
                f"the correlation matrix is not symmetric: [{i[0]}][{j[0]}] = "
                f"{R[i[0], j[0]]:g} but [{j[0]}][{i[0]}] = {R[j[0], i[0]]:g}",
            )
        )
    elif not found:
        smallest = float(np.linalg.eigvalsh(R).min())
        if smallest <= PD_TOLERANCE:
            found.append(
                (
                    where,
                    f"the latent correlation matrix is not positive definite (smallest eigenvalue "
                    f"{smallest:.3g}); no multivariate normal has it",
                )
            )
    if spec.latent.mean is not None and len(spec.latent.mean) != K:
        found.append((("latent", "mean"), f"latent mean has {len(spec.latent.mean)} entries for {K} dimensions"))
    return found


def _overall_problems(spec: BankFile) -> list[Problem]:
    ids = [d.id for d in spec.dimensions]
    ov = spec.overall
    if ov.dimension is not None and ov.dimension not in ids:
        return [(("overall", "dimension"), f"{ov.dimension!r} is not a dimension of this bank ({', '.join(ids)})")]
    return [
        (("overall", "weights", key), f"{key!r} is not a dimension of this bank ({', '.join(ids)})")
        for key in ov.weights or {}
        if key not in ids
    ]


def _item_problems(it: Any, here: tuple[str | int, ...], K: int) -> list[Problem]:
    p = it.params
    a = np.asarray(p.a, dtype=float)
    if a.size != K:
        return [(here + ("a",), f"item {it.id!r}: 'a' has {a.size} slopes; the bank has {K} dimensions")]
    found: list[Problem] = []
    if np.any(a < 0) or not np.any(a > 0):
        found.append((here + ("a",), f"item {it.id!r}: slopes {a.tolist()} must be ≥ 0 with at least one above 0"))
    elif a.max() > MAX_SLOPE:
        found.append((here + ("a",), f"item {it.id!r}: slope {a.max():g} is above {MAX_SLOPE:g} logits per θ unit"))
    d = np.atleast_1d(np.asarray(p.intercept, dtype=float))
    if np.any(np.abs(d) > MAX_INTERCEPT):
        found.append((here + ("intercept",), f"item {it.id!r}: intercept beyond ±{MAX_INTERCEPT:g} (a typo?)"))
    if it.model == "GRM" and np.any(np.diff(d) >= 0):
        found.append(
            (
                here + ("intercept",),
                f"item {it.id!r}: graded intercepts {d.tolist()} must strictly decrease (mirt's d1 > d2 > ...)",
            )
        )
    if it.model in DICHOTOMOUS_MODELS:
        c = p.c or 0.0
        u = 1.0 if p.d is None else p.d
        if not 0 <= c < 1:
            found.append((here + ("c",), f"item {it.id!r}: c = {c:g} must lie in [0, 1)"))
        elif not c < u <= 1:
            found.append((here + ("d",), f"item {it.id!r}: d = {u:g} must lie in (c, 1]"))
    return found


def _identification_problems(spec: BankFile, slopes: NDArray[np.float64]) -> list[Problem]:
    dims = spec.dimensions
    found: list[Problem] = []
    loads = slopes > 0
    for k in np.flatnonzero(~loads.any(axis=0)):
        found.append(
            (
                ("dimensions", int(k)),
                f"dimension {dims[k].id!r} is measured by no item (every slope on it is 0): it is not identified",
            )
        )
    general = next((k for k, d in enumerate(dims) if d.general), None)
    if general is None:
        return found
    R = np.asarray(spec.latent.correlation, dtype=float)
    if R.shape == (len(dims), len(dims)):
        other = [k for k in range(len(dims)) if k != general and R[general, k] != 0]
        if other:
            found.append(
                (
                    ("latent", "correlation", general, other[0]),
                    f"the general factor "
                    f"{dims[general].id!r} must be "
                    f"uncorrelated with the area dimensions (bifactor identification), got "
                    f"{R[general, other[0]]:g} with {dims[other[0]].id!r}",
                )
            )
    specific = loads.copy()
    specific[:, general] = False
    for i in np.flatnonzero(specific.sum(axis=1) > 1):
        names = [dims[k].id for k in np.flatnonzero(specific[i])]
        found.append(
            (
                ("items", int(i), "params", "a"),
                f"item {spec.items[i].id!r} loads on "
                f"{len(names)} area dimensions "
                f"({', '.join(names)}) besides the general factor; a bifactor item loads on at most one",
            )
        )
    return found


def framework_problems(spec: BankFile, framework: Any) -> list[Problem]:
    """The dimensions stand for areas of ``framework``, and each item loads on its own area's dimension."""
    if spec.dimensions is None:
        return []
    from digicomp.bank import frameworkview

    codes = frameworkview.area_codes(framework)
    dims = spec.dimensions
    found: list[Problem] = [
        (
            ("dimensions", k, "area"),
            f"dimension {d.id!r} stands for area {d.area!r}, which is not an area of the "
            f"framework ({', '.join(codes)})",
        )
        for k, d in enumerate(dims)
        if d.area is not None and d.area not in codes
    ]
    by_area = {d.area: k for k, d in enumerate(dims) if d.area is not None}
    if not by_area:
        return found
    known = frameworkview.competence_codes(framework)
    for i, it in enumerate(spec.items):
        if it.competence is None or it.competence not in known or not it.params.multidimensional:
            continue
        area = frameworkview.area_of(framework, it.competence)
        k = by_area.get(area)
        if k is None:
            found.append(
                (
                    ("items", i, "competence"),
                    f"item {it.id!r} is in area {area!r}, which has no dimension "
                    f"(dimensions stand for areas {', '.join(sorted(by_area))})",
                )
            )
        elif len(it.params.a) == len(dims) and not it.params.a[k] > 0:
            found.append(
                (
                    ("items", i, "params", "a"),
                    f"item {it.id!r} (area {area!r}) has slope 0 on its area's dimension {dims[k].id!r}",
                )
            )
    return found


def direction_view(items: MultidimItems) -> ItemParameters:
    """The items along their direction of greatest discrimination: slope MDISC = ‖a‖ (Reckase 1985), same
    intercepts and asymptotes. ``bank.params`` of a multidimensional bank, for what does not depend on θ's
    dimensions (models, categories, asymptotes); unidimensional designs and scoring refuse such a bank."""
    return ItemParameters(
        list(items.models),
        np.linalg.norm(items.a, axis=1),
        items.intercepts,
        items.c,
        items.u,
        D=1.0,
        ids=items.ids,
    )


def param_table(items: MultidimItems) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of mirt's multidimensional table (``coef(mod, simplify=TRUE)$items``): item, itemtype,
    a1..aK, d, g, u (dichotomous) or d1..dm (graded / gpcm); ``io.param_table.read_multidim_param_table`` reads it."""
    from digicomp.models.names import TO_MIRT

    K = items.n_dims
    width = max(int(items.n_categories.max()) - 1, 1) if np.any(items.family != "dichotomous") else 0
    header = ["item", "itemtype", *[f"a{k + 1}" for k in range(K)], "d", "g", "u", *[f"d{k + 1}" for k in range(width)]]
    rows = []
    for j in range(items.n_items):
        row: list[Any] = [items.ids[j], TO_MIRT[items.models[j]], *[repr(float(v)) for v in items.a[j]]]
        if items.family[j] == "dichotomous":
            row += [repr(float(items.intercepts[j, 0])), repr(float(items.c[j])), repr(float(items.u[j]))]
            row += [""] * width
        else:
            k = int(items.n_categories[j]) - 1
            row += ["", "", ""] + [repr(float(v)) for v in items.intercepts[j, :k]] + [""] * (width - k)
        rows.append(row)
    return header, rows
