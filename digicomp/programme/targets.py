"""Programme targets: a level, a share and a date, for one unit or for every unit, and how each unit stands.

A target file is YAML::

    targets:
      - {level: intermediate, share: 0.8, date: 2026-12-31}          # every unit
      - {level: advanced, share: 0.3, date: 2026-06-30, unit: HN}    # one unit (and it alone)

Status of a unit against a target, with p = P(true share ≥ target share) from the share's interval:
``met`` when p ≥ 0.95; after the date otherwise ``missed``; before it ``on track`` when the share projected to
the date (linear trend of the monthly estimates, or the current share with fewer than two months) reaches the
target and p ≥ 0.05, else ``at risk``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from os import PathLike

from digicomp.io.yamlfile import load_yaml
from digicomp.programme.errors import ProgrammeError
from digicomp.programme.scale import LevelScale
from digicomp.programme.units import UnitTree

MET_PROBABILITY = 0.95


@dataclass(frozen=True)
class Target:
    """≥ ``share`` of persons at ``level`` or above by ``date``, in ``unit`` (None: every unit)."""

    level: str
    share: float
    date: datetime.date
    unit: str | None = None
    line: int = 0


def load_targets(path: str | PathLike[str], scale: LevelScale, tree: UnitTree) -> list[Target]:
    """The targets of a YAML file; an unknown level or unit, a share outside (0, 1] or a bad date names the line."""
    data, lines = load_yaml(path, ProgrammeError)
    items = data.get("targets") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise ProgrammeError(f"{path}:1: expected a list of targets under 'targets:'")
    base = "targets" if isinstance(data, dict) else ""
    out = []
    for i, t in enumerate(items):
        node = f"{base}[{i}]"
        line = lines.get(node, 1)
        where = f"{path}:{line}: target {i + 1}"
        if not isinstance(t, dict):
            raise ProgrammeError(f"{where}: expected a mapping with level, share, date (and optionally unit)")
        unknown = sorted(set(t) - {"level", "share", "date", "unit"})
        if unknown:
            raise ProgrammeError(f"{where}: unknown key {unknown[0]!r}; expected level, share, date, unit")
        for key in ("level", "share", "date"):
            if key not in t:
                raise ProgrammeError(f"{where}: missing {key!r}")
        level = str(t["level"])
        if level not in scale.levels:
            raise ProgrammeError(f"{where}: level {level!r} is not one of the levels {', '.join(scale.levels)}")
        share = t["share"]
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share <= 1:
            raise ProgrammeError(f"{where}: share {share!r}: expected a proportion in (0, 1], e.g. 0.8")
        date = t["date"]
        if isinstance(date, str):
            try:
                date = datetime.date.fromisoformat(date)
            except ValueError:
                date = None
        if not isinstance(date, datetime.date):
            raise ProgrammeError(f"{where}: date {t['date']!r}: expected a date YYYY-MM-DD")
        unit = t.get("unit")
        if unit is not None and str(unit) not in tree.index:
            raise ProgrammeError(f"{where}: unit {unit!r} is not in the unit tree")
        out.append(Target(level, float(share), date, None if unit is None else str(unit), line))
    return out


def status(p_meets: float, projected: float, target: Target, as_of: datetime.date) -> str:
    """``met``, ``missed``, ``on track`` or ``at risk`` (see the module docstring)."""
    if p_meets != p_meets:  # NaN: nobody assessed
        return "no data"
    if p_meets >= MET_PROBABILITY:
        return "met"
    if as_of > target.date:
        return "missed"
    return "on track" if projected >= target.share and p_meets >= 0.05 else "at risk"
