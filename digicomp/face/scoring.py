"""``digicomp.score``: :func:`digicomp.scoring.score` that also reads parameter tables and response files."""

from __future__ import annotations

from os import PathLike
from typing import Any

from digicomp.io.param_table import read_param_table
from digicomp.io.responses import read_responses
from digicomp.models import ItemParameters
from digicomp.scoring import ScoreResult
from digicomp.scoring import score as score_responses


def score(bank_or_params: Any, responses: Any, method: str = "EAP", **options: Any) -> ScoreResult:
    """θ and SE per person (:func:`digicomp.scoring.score`, same options).

    ``bank_or_params``: an ItemBank, ItemParameters, or a parameter table (mirt or catR columns; a CSV path,
    mapping or DataFrame). ``responses``: Responses, an array (NaN / -1 = not administered), a CSV path (long or
    wide) or a DataFrame, whose columns are aligned to the items.
    """
    params = parameters(bank_or_params)
    if is_file_or_frame(responses):
        responses = read_responses(responses, item_ids=params.ids)
    if getattr(bank_or_params, "mparams", None) is not None:  # a multidimensional bank: θ and SE per dimension
        return score_responses(bank_or_params, responses, method, **options)
    return score_responses(params, responses, method, **options)


def is_file_or_frame(source: Any) -> bool:
    """True for a path (to be read) or a pandas DataFrame."""
    return isinstance(source, (str, PathLike)) or (hasattr(source, "columns") and hasattr(source, "to_numpy"))


def parameters(source: Any) -> ItemParameters:
    """ItemParameters, a bank's (anything with ``params``), or read from a parameter table."""
    if isinstance(source, ItemParameters):
        return source
    if isinstance(getattr(source, "params", None), ItemParameters):
        return source.params
    return read_param_table(source)
