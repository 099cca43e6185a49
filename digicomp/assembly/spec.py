"""The assembly spec (``kind: assembly_spec``): what a test form (or a shadow test) must contain, as a YAML file.

Constraints are filters over the bank's item attributes (``area``, ``competence``, ``level_band``, ``item_type``)
with a ``min`` and/or ``max`` count; a filter value ``"*"`` expands to one constraint per value the bank has
(``{area: "*", level_band: "*", min: 1}`` is a whole area-by-level blueprint). Every problem of a file is
reported at once, as ``FILE:LINE: node: message``; problems against a bank (unknown areas, items) are found by
:func:`digicomp.assembly.model.spec_problems`.
"""

from __future__ import annotations

import math
from os import PathLike
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from digicomp.assembly.errors import AssemblyError
from digicomp.io.yamlfile import LineMap, error_lines, load_yaml, problem, raise_problems

ATTRIBUTES = ("area", "competence", "level_band", "item_type")
"""Item attributes a constraint may filter on."""

Count = Annotated[int, Field(ge=0)]
Values = str | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Constraint(_Strict):
    """At least ``min`` and at most ``max`` items among those matching every given attribute.

    An attribute is one value, a list (any of them) or ``"*"`` (one constraint per value); no attribute at all
    counts every item (a length range). ``name`` labels the constraint in diagnoses.
    """

    name: str | None = None
    area: Values | None = None
    competence: Values | None = None
    level_band: Values | None = None
    item_type: Values | None = None
    min: Count | None = None
    max: Count | None = None

    @model_validator(mode="after")
    def _a_limit_below_the_other(self) -> Constraint:
        if self.min is None and self.max is None:
            raise ValueError("a constraint needs a 'min', a 'max' or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min = {self.min} exceeds max = {self.max}")
        for attr in ATTRIBUTES:
            value = getattr(self, attr)
            if isinstance(value, list) and ("*" in value or not value):
                raise ValueError(f"{attr}: '*' stands alone (one constraint per value); a list names values")
        return self

    def filters(self) -> dict[str, Values]:
        """The attributes this constraint filters on."""
        return {a: getattr(self, a) for a in ATTRIBUTES if getattr(self, a) is not None}


class Objective(_Strict):
    """What the forms optimise at the θ points ``at`` (``cuts``: the bank's cut scores, or a list of θ).

    ``minimax_target``: minimise the largest deviation of any form's information from ``target`` at any point
    (van der Linden 2005, ch. 5); ``target: auto`` is the largest information every form can reach at once.
    ``max_information``: maximise the smallest information over points and forms (maximin).
    """

    type: Literal["minimax_target", "max_information"] = "minimax_target"
    at: Literal["cuts"] | list[float] = "cuts"
    target: Literal["auto"] | list[Annotated[float, Field(gt=0)]] = "auto"

    @model_validator(mode="after")
    def _target_fits_points(self) -> Objective:
        if isinstance(self.at, list):
            if not self.at:
                raise ValueError("at: give at least one θ point (or 'cuts')")
            if any(not math.isfinite(t) or abs(t) > 20 for t in self.at):
                raise ValueError(f"at = {self.at}: θ points must be finite numbers within ±20")
        if self.type == "max_information" and self.target != "auto":
            raise ValueError("target applies only to type 'minimax_target'")
        if isinstance(self.target, list) and isinstance(self.at, list) and len(self.target) != len(self.at):
            raise ValueError(f"target has {len(self.target)} values for {len(self.at)} θ points in 'at'")
        return self


class Exclude(_Strict):
    """Items never used: by id, by flag, or by item type."""

    ids: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    item_types: list[str] = Field(default_factory=list)


class Overlap(_Strict):
    """At most ``max`` items shared by any two forms."""

    max: Count = 0


class Exposure(_Strict):
    """Each item in at most ``max_forms`` of the forms assembled together."""

    max_forms: Annotated[int, Field(ge=1)] = 1


class AssemblySpec(_Strict):
    """A whole assembly spec (``kind: assembly_spec``)."""

    kind: Literal["assembly_spec"] = "assembly_spec"
    id: str = "spec"
    description: str | None = None
    bank: str | None = None
    length: Annotated[int, Field(ge=1)] | None = None
    objective: Objective = Field(default_factory=Objective)
    constraints: list[Constraint] = Field(default_factory=list)
    include: list[str] = Field(default_factory=list)
    exclude: Exclude = Field(default_factory=Exclude)
    enemies: bool = True
    overlap: Overlap | None = None
    exposure: Exposure | None = None

    @field_validator("include")
    @classmethod
    def _include_once(cls, value: list[str]) -> list[str]:
        twice = sorted({i for i in value if value.count(i) > 1})
        if twice:
            raise ValueError(f"lists {twice} more than once")
        return value

    @model_validator(mode="after")
    def _fits_length(self) -> AssemblySpec:
        problems = length_problems(self)
        if problems:
            raise ValueError("; ".join(msg for _, msg in problems))
        return self


Problem = tuple[tuple[str | int, ...], str]


def length_problems(spec: AssemblySpec) -> list[Problem]:
    """Limits that no form of ``spec.length`` items can meet, found without the bank (all of them)."""
    out: list[Problem] = []
    if spec.length is None:
        return out
    if len(spec.include) > spec.length:
        out.append((("include",), f"{len(spec.include)} items must be included in a form of length {spec.length}"))
    for i, c in enumerate(spec.constraints):
        if c.min is not None and c.min > spec.length:
            out.append((("constraints", i, "min"), f"min = {c.min} is more than the length {spec.length}"))
    overlap = spec.overlap
    if overlap is not None and overlap.max > spec.length:
        out.append((("overlap", "max"), f"overlap.max = {overlap.max} is more than the length {spec.length}"))
    return out


PLACEHOLDER = Constraint(name="(invalid)", max=10**9)
"""Stands in for a constraint that failed the schema, so the checks of the others keep their list positions."""


def check_spec_data(data: object, path: str | PathLike[str], linemap: LineMap) -> tuple[AssemblySpec | None, list[str]]:
    """The spec and every schema problem of ``data`` at once, as ``FILE:LINE: node: message`` lines.

    When the whole fails, each section (and each constraint) is validated on its own, so one bad constraint hides
    neither another's problems nor the checks across sections, which run on what passed; the spec returned is
    built from that (a failed constraint replaced by :data:`PLACEHOLDER`, which limits nothing).
    """
    try:
        return AssemblySpec.model_validate(data), []
    except ValidationError as exc:
        errors = [err for err in exc.errors() if err["loc"]]
        whole = [err for err in exc.errors() if not err["loc"]]
    problems = error_lines(errors, path, linemap, AssemblySpec, data)
    if not isinstance(data, dict):
        return None, problems + error_lines(whole, path, linemap, AssemblySpec, data)
    passed: dict[str, object] = {}
    for name, field in AssemblySpec.model_fields.items():
        if name not in data:
            continue
        value = data[name]
        if name == "constraints" and isinstance(value, list):
            kept = []
            for entry in value:
                try:
                    kept.append(Constraint.model_validate(entry))
                except ValidationError:
                    kept.append(PLACEHOLDER)
            passed[name] = kept
            continue
        try:
            passed[name] = TypeAdapter(field.annotation).validate_python(value)
        except ValidationError:
            continue
    spec = AssemblySpec.model_construct(**passed)
    for loc, msg in length_problems(spec):
        line = problem(path, linemap, loc, msg)
        if line not in problems:
            problems.append(line)
    return spec, problems


def read_spec(path: str | PathLike[str]) -> tuple[AssemblySpec | None, LineMap, list[str]]:
    """(spec, line map, every schema problem) of an assembly spec file; bad YAML or another kind raise at once."""
    data, linemap = load_yaml(path, AssemblyError)
    if not isinstance(data, dict) or data.get("kind") != "assembly_spec":
        kind = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise AssemblyError(f"{path}:1: kind: expected 'assembly_spec', got {kind!r}")
    spec, problems = check_spec_data(data, path, linemap)
    return spec, linemap, problems


def load_spec(path: str | PathLike[str]) -> AssemblySpec:
    """Read and validate an assembly spec file; AssemblyError lists every problem as FILE:LINE: node: message."""
    spec, _, problems = read_spec(path)
    if problems or spec is None:
        raise_problems(AssemblyError, path, problems or [f"{path}:1: (document): empty spec"])
    return spec
