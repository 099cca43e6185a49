"""Ability scoring: EAP, MAP, ML, WLE and plausible values for one person or a million at once.

The names below load on first use, so that the engine's use of :mod:`digicomp.scoring.estimators` does not import
the response-data layer (and scipy.sparse) that only ``score`` needs.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_PUBLIC = {
    "score": "digicomp.scoring.api",
    "ScoreResult": "digicomp.scoring.api",
    "NormalPrior": "digicomp.scoring.quadrature",
    "GridPrior": "digicomp.scoring.quadrature",
    "make_grid": "digicomp.scoring.quadrature",
    "score_bank": "digicomp.scoring.multidim_score",
    "MultidimScore": "digicomp.scoring.multidim_score",
    "lord_wingersky": "digicomp.scoring.sum_score",
    "sum_score_table": "digicomp.scoring.sum_score",
    "SumScoreTable": "digicomp.scoring.sum_score",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'digicomp.scoring' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
