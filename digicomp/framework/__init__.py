"""Digital-competence frameworks as data: schema, level scales, crosswalks, loading and export.

``load_framework("vn-civil-service")`` loads a bundled framework (or any YAML path) bound to its level scale;
``find_crosswalk(a, b).project(result)`` shows a per-competence result of framework ``a`` on framework ``b``.
"""

from digicomp.framework.crosswalk import RELATION_WEIGHTS, Crosswalk, Mapping, Projected
from digicomp.framework.loader import (
    FrameworkInfo,
    find_crosswalk,
    list_crosswalks,
    list_frameworks,
    list_scales,
    load_crosswalk,
    load_framework,
    load_scale,
    validate_crosswalk_file,
    validate_framework_file,
    validate_scale_file,
)
from digicomp.framework.model import Area, Competence, Framework, Indicator, Level, LevelLabel
from digicomp.framework.scale import Band, LevelScale, ScaleLevel
from digicomp.framework.schema import Source, Status, Text

__all__ = [
    "RELATION_WEIGHTS",
    "Area",
    "Band",
    "Competence",
    "Crosswalk",
    "Framework",
    "FrameworkInfo",
    "Indicator",
    "Level",
    "LevelLabel",
    "LevelScale",
    "Mapping",
    "Projected",
    "ScaleLevel",
    "Source",
    "Status",
    "Text",
    "find_crosswalk",
    "list_crosswalks",
    "list_frameworks",
    "list_scales",
    "load_crosswalk",
    "load_framework",
    "load_scale",
    "validate_crosswalk_file",
    "validate_framework_file",
    "validate_scale_file",
]
