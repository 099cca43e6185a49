"""Level scales shared between frameworks: ordered levels grouped in bands (DigComp 2.1: 8 levels in 4)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from digicomp.framework.schema import (
    Code,
    NonEmpty,
    Problem,
    Source,
    SourceKeys,
    Status,
    Strict,
    Text,
    source_problems,
)


class Band(Strict):
    """A group of consecutive levels (DigComp: foundation, intermediate, advanced, highly specialised)."""

    id: Code
    name: Text
    description: Text
    status: Status
    source: SourceKeys
    note: Text | None = None


class ScaleLevel(Strict):
    """One level of a scale, with the three DigComp dimensions that grow from level to level."""

    level: int = Field(ge=1)
    band: Code
    complexity: Text
    autonomy: Text
    cognitive: Text
    status: Status
    source: SourceKeys
    note: Text | None = None


class LevelScale(Strict):
    """A level scale document (``kind: level_scale``); frameworks put their own labels on its levels."""

    kind: Literal["level_scale"]
    id: Code
    version: NonEmpty
    title: Text
    description: Text
    status: Status
    source: SourceKeys
    note: Text | None = None
    sources: dict[NonEmpty, Source]
    bands: list[Band] = Field(min_length=1)
    levels: list[ScaleLevel] = Field(min_length=1)

    def band(self, band_id: str) -> Band:
        """The band ``band_id``; KeyError naming the known bands otherwise."""
        for band in self.bands:
            if band.id == band_id:
                return band
        known = ", ".join(b.id for b in self.bands)
        raise KeyError(f"scale {self.id!r} has no band {band_id!r} (bands: {known})")

    def level(self, level: int) -> ScaleLevel:
        """The level numbered ``level``; KeyError naming the range otherwise."""
        for item in self.levels:
            if item.level == level:
                return item
        raise KeyError(f"scale {self.id!r} has no level {level!r} (levels 1..{len(self.levels)})")


def scale_problems(scale: LevelScale) -> list[Problem]:
    """Cross-reference checks pydantic cannot express: numbering, band references and contiguity, sources."""
    problems: list[Problem] = []
    band_ids = [b.id for b in scale.bands]
    for i, band in enumerate(scale.bands):
        if band.id in band_ids[:i]:
            problems.append((["bands", i, "id"], f"duplicate band id {band.id!r}"))
    for i, level in enumerate(scale.levels):
        if level.level != i + 1:
            msg = f"levels must be numbered 1, 2, 3... in order; expected {i + 1}"
            problems.append((["levels", i, "level"], msg))
        if level.band not in band_ids:
            problems.append(
                (["levels", i, "band"], f"band {level.band!r} is not defined (bands: {', '.join(band_ids)})")
            )
    order = [band_ids.index(lv.band) for lv in scale.levels if lv.band in band_ids]
    if order != sorted(order):
        problems.append((["levels"], "a band's levels must be consecutive, bands in the order listed"))
    for i, band in enumerate(scale.bands):
        if band.id not in {lv.band for lv in scale.levels}:
            problems.append((["bands", i, "id"], f"band {band.id!r} has no level"))
    problems += source_problems(scale)
    return problems
