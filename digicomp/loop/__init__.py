"""The assessment loop: stored sessions → recalibration (pretest items, drift checks) → a new bank version."""

from digicomp.loop.drift import DriftRow
from digicomp.loop.recalibrate import Recalibration, next_version, recalibrate

__all__ = ["DriftRow", "Recalibration", "next_version", "recalibrate"]
