"""digicomp: adaptive assessment of digital competence.

Frameworks as data, item banks with IRT parameters, calibration, computerized adaptive tests and
simulation studies. The public API is imported lazily so that ``import digicomp`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_PUBLIC = {
    "DigicompError": "digicomp.errors",
    "ConvergenceWarning": "digicomp.errors",
    "ItemParameters": "digicomp.models",
    "score": "digicomp.face.scoring",
    "read_param_table": "digicomp.io.param_table",
    "read_responses": "digicomp.io.responses",
    "load_framework": "digicomp.framework",
    "load_bank": "digicomp.bank",
    "ItemBank": "digicomp.bank",
    "find_crosswalk": "digicomp.framework",
    "list_frameworks": "digicomp.framework",
    "calibrate": "digicomp.face.calibration",
    "CalibrationResult": "digicomp.calibration",
    "calibrate_multigroup": "digicomp.calibration.multigroup",
    "AdaptiveTest": "digicomp.cat",
    "register_rule": "digicomp.cat",
    "simulate": "digicomp.simulation",
    "SimulationResult": "digicomp.simulation",
    "open_store": "digicomp.store",
    "SessionRecord": "digicomp.store",
    "recalibrate": "digicomp.loop",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'digicomp' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
