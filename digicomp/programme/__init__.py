"""Programme reporting: how many people in each organisational unit have reached each level, with honest intervals.

``load_units`` / ``load_persons`` / ``load_targets`` read the programme's files, ``read_sessions`` the store, and
``build_report`` gives a :class:`ProgrammeReport` (shares at or above each level per unit and area with 95%
intervals, the naive count beside them, targets, training needs, retests, monthly progress). See docs/programme.md.
"""

from digicomp.programme.build import ProgrammeReport, build_report
from digicomp.programme.data import Sessions, fill_likelihoods, read_sessions, read_sessions_scores
from digicomp.programme.errors import ProgrammeError
from digicomp.programme.estimate import ShareEstimates, estimate_shares
from digicomp.programme.scale import LevelScale, scale_of_banks
from digicomp.programme.targets import Target, load_targets
from digicomp.programme.units import UNASSIGNED, UnitTree, load_persons, load_units

__all__ = [
    "UNASSIGNED",
    "LevelScale",
    "ProgrammeError",
    "ProgrammeReport",
    "Sessions",
    "ShareEstimates",
    "Target",
    "UnitTree",
    "build_report",
    "estimate_shares",
    "load_persons",
    "load_targets",
    "load_units",
    "fill_likelihoods",
    "read_sessions",
    "read_sessions_scores",
    "scale_of_banks",
]
