"""Pilot analytics on arrays: classical item analysis, distractors, person fit, model and item fit, DIF.

Math only (arrays and item parameters in, plain tables out): the joining of raw answers to a bank's keys lives in
:mod:`digicomp.face.analysis`. Names load on first use so that importing the package costs nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_PUBLIC = {
    "classical_analysis": "digicomp.analysis.classical",
    "cronbach_alpha": "digicomp.analysis.classical",
    "ClassicalAnalysis": "digicomp.analysis.classical",
    "ItemStatistics": "digicomp.analysis.classical",
    "Alpha": "digicomp.analysis.classical",
    "distractor_analysis": "digicomp.analysis.distractors",
    "OptionTable": "digicomp.analysis.distractors",
    "score_groups": "digicomp.analysis.distractors",
    "nominal_distractors": "digicomp.analysis.distractors",
    "NominalOptionTable": "digicomp.analysis.distractors",
    "person_fit": "digicomp.analysis.person_fit",
    "PersonFit": "digicomp.analysis.person_fit",
    "m2": "digicomp.analysis.model_fit",
    "M2Result": "digicomp.analysis.model_fit",
    "zh": "digicomp.analysis.item_fit",
    "q3": "digicomp.analysis.item_fit",
    "s_x2": "digicomp.analysis.item_fit",
    "ItemFit": "digicomp.analysis.item_fit",
    "Q3Result": "digicomp.analysis.item_fit",
    "mantel_haenszel": "digicomp.analysis.dif",
    "logistic_dif": "digicomp.analysis.dif",
    "benjamini_hochberg": "digicomp.analysis.dif",
    "ets_classes": "digicomp.analysis.dif",
    "MHTable": "digicomp.analysis.dif",
    "LogisticTable": "digicomp.analysis.dif",
    "irt_lr_dif": "digicomp.analysis.irt_dif",
    "irt_wald_dif": "digicomp.analysis.irt_dif",
    "irt_dif": "digicomp.analysis.irt_dif",
    "IRTDIFTable": "digicomp.analysis.irt_dif",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'digicomp.analysis' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
