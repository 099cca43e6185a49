"""The Framework: areas -> competences on a shared level scale, with this framework's level labels."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from os import PathLike
from typing import Literal

from pydantic import Field, PrivateAttr

from digicomp.framework.scale import Band, LevelScale
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


class LevelLabel(Strict):
    """This framework's label on one level of the shared scale (e.g. level 3 = TC1 in Circular 02/2025)."""

    level: int = Field(ge=1)
    label: Code
    name: Text
    descriptor: Text
    status: Status
    source: SourceKeys
    note: Text | None = None


class Indicator(Strict):
    """A per-level indicator of a competence (``1.1.TC1a``); status/source default to the competence's."""

    code: Code
    level: Code
    text: Text
    status: Status | None = None
    source: SourceKeys | None = None


class Competence(Strict):
    """A competence with a stable language-neutral code (``1.1``), its name, description and indicators."""

    code: Code
    name: Text
    description: Text
    status: Status
    source: SourceKeys
    note: Text | None = None
    related: list[Code] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    _area: str = PrivateAttr(default="")

    @property
    def area(self) -> str:
        """Code of the area this competence belongs to."""
        return self._area


class Area(Strict):
    """An area (DigComp) or domain (miền, Circular 02/2025) grouping competences; never empty."""

    code: Code
    name: Text
    description: Text
    status: Status
    source: SourceKeys
    note: Text | None = None
    competences: list[Competence] = Field(min_length=1)


@dataclass(frozen=True)
class Level:
    """A level as reports need it: number, band, this framework's label and texts, the scale's dimensions."""

    level: int
    label: str
    band: Band
    name: Text
    descriptor: Text
    complexity: Text
    autonomy: Text
    cognitive: Text
    status: str


class Framework(Strict):
    """A digital-competence framework document (``kind: framework``) bound to its level scale."""

    kind: Literal["framework"]
    id: Code
    version: NonEmpty
    title: Text
    description: Text
    status: Status
    source: SourceKeys
    note: Text | None = None
    sources: dict[NonEmpty, Source]
    level_scale: NonEmpty
    levels: list[LevelLabel] = Field(min_length=1)
    areas: list[Area] = Field(min_length=1)
    _scale: LevelScale | None = PrivateAttr(default=None)

    def model_post_init(self, __context: object) -> None:
        """Tell every competence its area code."""
        for area in self.areas:
            for comp in area.competences:
                comp._area = area.code

    # -- structure ------------------------------------------------------------------------------------------
    @property
    def competences(self) -> list[Competence]:
        """All competences in framework order (area by area)."""
        return [c for a in self.areas for c in a.competences]

    @property
    def codes(self) -> list[str]:
        """All competence codes in framework order."""
        return [c.code for a in self.areas for c in a.competences]

    def area(self, code: str) -> Area:
        """The area ``code``; KeyError naming the known areas otherwise."""
        for area in self.areas:
            if area.code == code:
                return area
        known = ", ".join(a.code for a in self.areas)
        raise KeyError(f"framework {self.id!r} has no area {code!r} (areas: {known})")

    def competence(self, code: str) -> Competence:
        """The competence ``code``; KeyError naming the framework otherwise."""
        for comp in self.competences:
            if comp.code == code:
                return comp
        raise KeyError(f"framework {self.id!r} has no competence {code!r}")

    def area_of(self, code: str) -> Area:
        """The area that holds competence ``code``."""
        return self.area(self.competence(code).area)

    # -- levels ---------------------------------------------------------------------------------------------
    @property
    def scale(self) -> LevelScale:
        """The level scale this framework labels (bound by the loader)."""
        if self._scale is None:
            raise RuntimeError(f"framework {self.id!r} was built without its level scale; use load_framework")
        return self._scale

    @property
    def bands(self) -> list[Band]:
        """The bands of the scale, in order."""
        return list(self.scale.bands)

    @property
    def level_list(self) -> list[Level]:
        """Every level of the scale with this framework's label, in order."""
        return [self.level(lab.level) for lab in sorted(self.levels, key=lambda x: x.level)]

    def level(self, level: int | str) -> Level:
        """A level by number (3) or by this framework's label ('TC1')."""
        for lab in self.levels:
            if lab.level == level or lab.label == level:
                scale_level = self.scale.level(lab.level)
                return Level(
                    level=lab.level,
                    label=lab.label,
                    band=self.scale.band(scale_level.band),
                    name=lab.name,
                    descriptor=lab.descriptor,
                    complexity=scale_level.complexity,
                    autonomy=scale_level.autonomy,
                    cognitive=scale_level.cognitive,
                    status=lab.status,
                )
        known = ", ".join(x.label for x in self.levels)
        raise KeyError(f"framework {self.id!r} has no level {level!r} (labels: {known})")

    def band_of(self, level: int | str) -> Band:
        """The band holding a level given by number or label."""
        return self.level(level).band

    def describe_level(self, level: int | str, lang: str = "vi") -> tuple[str, str]:
        """(label with name, descriptor) of a level in ``lang``, e.g. ('TC1 — Trung cấp 1', 'Tự mình ...')."""
        lv = self.level(level)
        return f"{lv.label} — {lv.name.get(lang)}", lv.descriptor.get(lang)

    def describe_band(self, band_id: str, lang: str = "vi") -> tuple[str, str]:
        """(name, description) of a band in ``lang``."""
        band = self.scale.band(band_id)
        return band.name.get(lang), band.description.get(lang)

    # -- export ---------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain data equal to the YAML document (defaults omitted, keys in schema order)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    def to_yaml(self, path: str | PathLike[str]) -> None:
        """Write the framework as YAML; loading the file gives an equal framework (lossless round trip)."""
        from digicomp.io.yamlfile import dump_yaml

        dump_yaml(self.to_dict(), path)

    def to_csv(self, path: str | PathLike[str]) -> None:
        """Write one UTF-8 CSV row per competence: area, code, names and descriptions in vi/en, provenance."""
        fields = [
            "framework",
            "version",
            "area_code",
            "area_name_vi",
            "area_name_en",
            "code",
            "name_vi",
            "name_en",
            "description_vi",
            "description_en",
            "status",
            "source",
        ]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            for area in self.areas:
                for comp in area.competences:
                    writer.writerow(
                        {
                            "framework": self.id,
                            "version": self.version,
                            "area_code": area.code,
                            "area_name_vi": area.name.vi,
                            "area_name_en": area.name.en,
                            "code": comp.code,
                            "name_vi": comp.name.vi,
                            "name_en": comp.name.en,
                            "description_vi": comp.description.vi,
                            "description_en": comp.description.en,
                            "status": comp.status,
                            "source": ";".join(comp.source),
                        }
                    )


def framework_problems(fw: Framework, scale: LevelScale | None) -> list[Problem]:
    """Cross-reference checks: unique codes inside their area, references defined, levels on the scale."""
    problems: list[Problem] = []
    seen_areas: set[str] = set()
    seen: dict[str, str] = {}
    for i, area in enumerate(fw.areas):
        if area.code in seen_areas:
            problems.append((["areas", i, "code"], f"duplicate area code {area.code!r}"))
        seen_areas.add(area.code)
        for j, comp in enumerate(area.competences):
            loc: list[str | int] = ["areas", i, "competences", j, "code"]
            if comp.code in seen:
                msg = f"duplicate competence code {comp.code!r} (also in area {seen[comp.code]})"
                problems.append((loc, msg))
            seen.setdefault(comp.code, area.code)
            if not comp.code.startswith(area.code + "."):
                msg = f"competence code {comp.code!r} should start with its area code {area.code!r} and '.'"
                problems.append((loc, msg))
    labels = [lab.label for lab in fw.levels]
    for i, area in enumerate(fw.areas):
        for j, comp in enumerate(area.competences):
            problems += _competence_problems(comp, ["areas", i, "competences", j], seen, labels)
    problems += _level_problems(fw, scale)
    problems += source_problems(fw)
    return problems


def _competence_problems(
    comp: Competence, loc: list[str | int], codes: dict[str, str], labels: list[str]
) -> list[Problem]:
    """A competence's related codes exist; its indicators use defined levels and unique, well-formed codes."""
    problems: list[Problem] = []
    for k, ref in enumerate(comp.related):
        if ref not in codes:
            problems.append(([*loc, "related", k], f"competence {ref!r} is referenced but not defined"))
        elif ref == comp.code:
            problems.append(([*loc, "related", k], "a competence cannot be related to itself"))
    seen: set[str] = set()
    for k, ind in enumerate(comp.indicators):
        where: list[str | int] = [*loc, "indicators", k]
        if ind.level not in labels:
            msg = f"level {ind.level!r} is referenced but not defined (labels: {', '.join(labels)})"
            problems.append(([*where, "level"], msg))
        prefix = f"{comp.code}.{ind.level}"
        if not ind.code.startswith(prefix):
            msg = f"indicator code {ind.code!r} should start with {prefix!r} (competence.level)"
            problems.append(([*where, "code"], msg))
        if ind.code in seen:
            problems.append(([*where, "code"], f"duplicate indicator code {ind.code!r}"))
        seen.add(ind.code)
    return problems


def _level_problems(fw: Framework, scale: LevelScale | None) -> list[Problem]:
    """Each scale level gets exactly one label; labels are unique; no label on a level the scale lacks."""
    problems: list[Problem] = []
    numbers = {lv.level for lv in scale.levels} if scale else None
    seen_levels: set[int] = set()
    seen_labels: set[str] = set()
    for i, lab in enumerate(fw.levels):
        if numbers is not None and lab.level not in numbers:
            msg = (
                f"level {lab.level} is referenced but not defined in scale {fw.level_scale!r} "
                f"(levels {min(numbers)}..{max(numbers)})"
            )
            problems.append((["levels", i, "level"], msg))
        if lab.level in seen_levels:
            problems.append((["levels", i, "level"], f"level {lab.level} is labelled twice"))
        if lab.label in seen_labels:
            problems.append((["levels", i, "label"], f"duplicate level label {lab.label!r}"))
        seen_levels.add(lab.level)
        seen_labels.add(lab.label)
    missing = sorted(numbers - seen_levels) if numbers is not None else []
    if missing:
        msg = f"scale {fw.level_scale!r} levels {missing} have no label in this framework"
        problems.append((["levels"], msg))
    return problems
