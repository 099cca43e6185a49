"""A multidimensional truth derived from a bank: its areas as correlated dimensions, or a general factor plus areas.

What a simulation needs to ask "how well does this design measure each area?" when no calibrated
multidimensional bank exists yet: every item keeps its parameters and loads on its own framework area.

* ``areas`` (correlated areas): item j of area k has slope a_j on dimension k and 0 elsewhere, mirt's intercept
  d = -a·b (GRM: -a·b_k; GPCM: -a·Σ_{v≤k} b_v), its c and upper asymptote unchanged; the areas are
  N(0, R) with every correlation ρ.
* ``bifactor`` (a general factor plus uncorrelated area factors): item j of area k has slope a_j√ρ on the
  general factor and a_j√(1−ρ) on area k, the same intercept. Its predictor a_j(√ρ θ_g + √(1−ρ) θ_k) is a_j
  times a unit-variance area ability with correlation ρ between areas: the same answers as ``areas`` in
  distribution, written as the model a bifactor calibration fits.

A unidimensional bank's slopes are taken on its logistic scale (a·D); a multidimensional bank with one slope per
item (between-item) gives that slope. Used by ``digicomp simulate --truth`` (and the same rule as
``examples/make_area_bank.py``, there written to a file).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.bank.checks import self_contained
from digicomp.bank.itembank import ItemBank
from digicomp.bank.schema import BankFile
from digicomp.errors import BankError, ParameterError

STRUCTURES = ("areas", "bifactor")
DEFAULT_CORRELATION = 0.8


def parse_truth(text: str) -> tuple[str, float | None]:
    """``areas``, ``areas:RHO``, ``bifactor`` or ``bifactor:RHO`` → (structure, ρ or None); anything else is a path
    (returned as (text, None))."""
    name, _, rho = text.partition(":")
    if name not in STRUCTURES:
        return text, None
    if not rho:
        return name, None
    try:
        value = float(rho)
    except ValueError:
        raise ParameterError(f"--truth {text!r}: expected {name}:RHO with RHO a number, such as {name}:0.8") from None
    return name, value


def derive_truth(bank: ItemBank, structure: str = "areas", correlation: float | None = None) -> ItemBank:
    """The multidimensional truth of ``bank``'s items by ``structure`` (see the module) with inter-area
    correlation ``correlation`` (default 0.8; for a multidimensional ``bank`` with ``areas`` and no value, its own
    latent correlation is kept)."""
    if structure not in STRUCTURES:
        raise ParameterError(f"truth structure {structure!r}: expected one of {', '.join(STRUCTURES)}")
    if bank.dims is not None and bank.dims.general is not None:
        raise BankError(f"bank {bank.id!r}: already has a general factor; give it as the truth itself (a path)")
    if bank.dims is not None and structure == "areas" and correlation is None:
        return bank
    rho = DEFAULT_CORRELATION if correlation is None else float(correlation)
    if structure == "bifactor" and not 0.0 < rho < 1.0:
        raise ParameterError(f"bifactor truth: correlation {rho} must lie strictly between 0 and 1")
    try:
        areas, area_index = bank.areas, bank.area_index
    except Exception as exc:  # a bank without a framework has no areas
        raise BankError(f"bank {bank.id!r}: a per-area truth needs its items' framework areas ({exc})") from None
    if (area_index < 0).any():
        missing = [bank.ids[j] for j in np.flatnonzero(area_index < 0)[:5]]
        raise BankError(f"bank {bank.id!r}: items {missing} have no framework area; a per-area truth needs one each")
    slope, intercepts = _slopes_intercepts(bank)
    data = bank.to_dict()
    G = len(areas)
    dims = [{"id": f"area-{code}", "name": _area_name(bank, code), "area": code} for code in areas]
    if structure == "bifactor":
        dims.insert(
            0,
            {"id": "general", "name": {"vi": "Năng lực số chung", "en": "General digital competence"}, "general": True},
        )
    K = len(dims)
    items = []
    for j, item in enumerate(data["items"]):
        p = item["params"]
        a = [0.0] * K
        g = int(area_index[j])
        if structure == "bifactor":
            a[0], a[g + 1] = slope[j] * np.sqrt(rho), slope[j] * np.sqrt(1.0 - rho)
        else:
            a[g] = slope[j]
        new: dict[str, Any] = {"a": [float(x) for x in a], "intercept": intercepts[j]}
        new.update({k: p[k] for k in ("c", "d") if k in p and bank.dims is None})
        if bank.dims is not None:
            new.update({k: p[k] for k in ("c", "d") if k in p})
        item["params"] = new
        items.append(item)
    if structure == "bifactor":
        R = np.eye(K)
        overall: dict[str, Any] = {"dimension": "general"}
    else:
        R = np.full((G, G), rho) + (1.0 - rho) * np.eye(G)
        overall = {"weights": {d["id"]: 1.0 for d in dims}}
    data.update(
        id=f"{bank.id}-{structure}-truth",
        scale=dict(data["scale"], D=1.0),
        dimensions=dims,
        latent={"correlation": R.tolist()},
        overall=overall,
        items=items,
    )
    return _build(data, bank)


def _slopes_intercepts(bank: ItemBank) -> tuple[NDArray[np.float64], list[Any]]:
    """Each item's slope on its own area (logistic scale) and mirt's intercept(s) in file form."""
    if bank.dims is not None:
        a = bank.mparams.a
        if ((a > 0).sum(axis=1) != 1).any():
            j = int(np.flatnonzero((a > 0).sum(axis=1) != 1)[0])
            raise BankError(
                f"bank {bank.id!r}: item {bank.ids[j]!r} loads on several dimensions; a per-area truth "
                "needs each item on its own area only"
            )
        data = bank.to_dict()["items"]
        return a.max(axis=1), [it["params"]["intercept"] for it in data]
    D = float(bank.scale.D)
    slopes, cepts = [], []
    for item in bank.to_dict()["items"]:
        p = item["params"]
        a = D * float(p.get("a", 1.0))
        b = p["b"]
        if item["model"] in ("GPCM", "PCM"):
            cepts.append([round(float(v), 6) for v in -a * np.cumsum(b)])
        elif isinstance(b, list):
            cepts.append([round(-a * float(v), 6) for v in b])
        else:
            cepts.append(round(-a * float(b), 6))
        slopes.append(a)
    return np.array(slopes), cepts


def _area_name(bank: ItemBank, code: str) -> dict[str, str]:
    """The area's name in vi/en from the framework, or its code."""
    try:
        area = next(a for a in bank.framework.areas if a.code == code)
        name = area.name
        return {"vi": name.vi, "en": name.en} if hasattr(name, "vi") else dict(name)
    except Exception:  # no framework at hand: the code names it
        return {"vi": f"Lĩnh vực {code}", "en": f"Area {code}"}


def _build(data: dict[str, Any], source: ItemBank) -> ItemBank:
    """The derived bank, checked like a loaded one (schema and the self-contained checks)."""
    try:
        spec = BankFile.model_validate(data)
    except Exception as exc:
        raise BankError(f"derived truth of bank {source.id!r} is not a valid bank: {exc}") from None
    problems = self_contained(spec)
    if problems:
        shown = "; ".join(str(p) for p in problems[:5])
        raise BankError(f"derived truth of bank {source.id!r}: {len(problems)} problems: {shown}")
    return ItemBank(spec, source=None, framework=source._framework, media_root=source.media_root)
