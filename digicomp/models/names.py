"""Item model names: the one place a typed name (digicomp's or R mirt's ``itemtype``) becomes a model.

digicomp's names are Rasch, 1PL, 2PL, 3PL, 4PL, GRM, GPCM and PCM. mirt's ``itemtype`` names for the same models
are accepted too (mirt's ``mirt()`` documentation, argument ``itemtype``): ``graded`` (GRM), ``gpcm`` (GPCM),
``gpcmIRT`` (the GPCM in its IRT parameterisation, the same model), and ``Rasch``, which mirt uses for the partial
credit model when an item has more than two categories. Names are read without regard to case or surrounding space.
mirt's other item types (``3PLu``, ``5PL``, ``grsm``, ``rsm``, ``nominal``, ``ggum``, ...) are models digicomp does not
estimate; they are refused with the list of accepted names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from digicomp.errors import ParameterError

DICHOTOMOUS_MODELS = ("Rasch", "1PL", "2PL", "3PL", "4PL")
POLYTOMOUS_MODELS = ("GRM", "GPCM", "PCM")
MODELS = DICHOTOMOUS_MODELS + POLYTOMOUS_MODELS

TO_MIRT = {
    "Rasch": "Rasch",
    "1PL": "2PL",
    "2PL": "2PL",
    "3PL": "3PL",
    "4PL": "4PL",
    "GRM": "graded",
    "GPCM": "gpcm",
    "PCM": "Rasch",
}
"""digicomp's model name -> mirt's ``itemtype`` (1PL is a 2PL with equal slopes; PCM is mirt's Rasch)."""

# mirt itemtype (and common spellings) -> digicomp's name; digicomp's own names map to themselves.
MIRT_NAMES = {"graded": "GRM", "gpcm": "GPCM", "gpcmIRT": "GPCM", "Rasch": "Rasch"}
_ALIASES = {
    **{m.lower(): m for m in MODELS},
    **{k.lower(): v for k, v in MIRT_NAMES.items()},
    "partial_credit": "PCM",
    "generalized_partial_credit": "GPCM",
    "graded_response": "GRM",
}
_MIRT_UNSUPPORTED = ("3PLu", "5PL", "CLL", "ograded", "grsm", "grsmIRT", "rsm", "nominal", "ggum", "sequential")

ACCEPTED = (
    "Rasch, 1PL, 2PL, 3PL, 4PL, GRM (mirt: graded), GPCM (mirt: gpcm, gpcmIRT) or PCM (mirt: Rasch on an item "
    "with more than two categories); case is ignored"
)


def model_name(raw: Any, *, polytomous: bool | None = None, where: str = "model") -> str:
    """digicomp's name for a typed model name; ``polytomous=True`` reads mirt's ``Rasch`` as PCM.

    Raises :class:`ParameterError` (a ValueError) naming ``where``, the name given and the names accepted.
    """
    key = raw.strip().lower() if isinstance(raw, str) else None
    name = _ALIASES.get(key) if key is not None else None
    if name is None:
        if key in {m.lower() for m in _MIRT_UNSUPPORTED}:
            why = "an R mirt item type that digicomp does not estimate"
        else:
            why = "not a model name"
        raise ParameterError(f"{where} = {raw!r}: {why}; expected {ACCEPTED}")
    if polytomous and name == "Rasch":
        return "PCM"
    return name


def model_names(model: Any, *, where: str = "model") -> Any:
    """The same shape as given (one name, a list in item order, or a mapping id -> name) with digicomp's names.

    mirt's ``Rasch`` stays ``Rasch`` here; :func:`model_name` with ``polytomous=True`` reads it as PCM once an
    item's number of categories is known.
    """
    if isinstance(model, Mapping):
        return {k: model_name(v, where=f"{where} of item {k!r}") for k, v in model.items()}
    if isinstance(model, Sequence) and not isinstance(model, str):
        return [model_name(v, where=f"{where} {j + 1} of {len(model)}") for j, v in enumerate(model)]
    return model_name(model, where=where)


def canonical_item_record(data: Any) -> Any:
    """A bank item's raw mapping with its ``model`` in digicomp's name (mirt's Rasch on a polytomous item -> PCM).

    Anything else (not a mapping, no model, an unknown name) is returned unchanged: the schema's field check
    reports it beside the item's other problems.
    """
    if not isinstance(data, Mapping) or _ALIASES.get(str(data.get("model")).strip().lower()) is None:
        return data
    params = data.get("params")
    polytomous = (
        data.get("type") == "self_assessment"
        or data.get("categories") is not None
        or (isinstance(params, Mapping) and isinstance(params.get("b"), list))
    )
    return {**data, "model": model_name(data["model"], polytomous=polytomous)}
