"""The CAT design file (``kind: cat_design``): pydantic schema, loading with line numbers, and its hash."""

from __future__ import annotations

import hashlib
import json
from os import PathLike
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from digicomp.cat.seeding import Seeding
from digicomp.errors import DesignError, DigicompError
from digicomp.io.yamlfile import load_yaml, validate_model, validation_problems

Positive = Annotated[float, Field(gt=0)]
Rate = Annotated[float, Field(gt=0, le=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Pretest(_Strict):
    """A short non-adaptive start: ``n`` items chosen at random, or the listed ``items`` in order."""

    n: Annotated[int, Field(ge=1)]
    rule: Literal["random", "fixed"] = "random"
    items: list[str] | None = None

    @model_validator(mode="after")
    def _fixed_needs_items(self) -> Pretest:
        if self.rule == "fixed" and not self.items:
            raise ValueError("a fixed pretest needs the 'items' to give, in order")
        return self


class Start(_Strict):
    """Where the test starts: θ̂ before any answer, and an optional pretest."""

    theta: float = 0.0
    pretest: Pretest | None = None


class Selection(_Strict):
    """The item selection rule and its options."""

    rule: Literal["mfi", "mlwi", "mpwi", "mepv", "kl", "klp", "astrat", "random", "custom"] = "mfi"
    kl_radius: Positive | None = None
    strata: Annotated[int, Field(ge=1)] | None = None
    stage_lengths: list[Annotated[int, Field(ge=1)]] | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _options_fit_rule(self) -> Selection:
        if self.rule == "custom" and not self.name:
            raise ValueError("rule 'custom' needs the 'name' of a rule registered with digicomp.cat.register_rule")
        if (self.strata or self.stage_lengths) and self.rule != "astrat":
            raise ValueError("'strata' and 'stage_lengths' apply only to rule 'astrat'")
        return self


class Exposure(_Strict):
    """Exposure control: method and its settings."""

    method: Literal["none", "randomesque", "sympson_hetter", "item_eligibility", "progressive_restricted"] = "none"
    k: Annotated[int, Field(ge=1)] | None = None
    r_max: Rate | None = None
    parameters: dict[str, Rate] | str | None = None

    @model_validator(mode="after")
    def _settings_fit_method(self) -> Exposure:
        if self.method == "randomesque" and self.k is None:
            raise ValueError("randomesque needs 'k' (choose among the k best items)")
        if self.method in ("item_eligibility", "progressive_restricted") and self.r_max is None:
            raise ValueError(f"{self.method} needs 'r_max', the target maximum exposure rate")
        if self.method == "sympson_hetter" and self.parameters is None:
            raise ValueError(
                "sympson_hetter needs 'parameters' (item id -> K in (0, 1], or a CSV path); "
                "compute them with digicomp.cat.calibrate_sympson_hetter"
            )
        return self


class Constraint(_Strict):
    """Limits for one area or competence (``group`` is its code)."""

    group: str
    min: Annotated[int, Field(ge=0)] | None = None
    max: Annotated[int, Field(ge=0)] | None = None
    target: Rate | None = None

    @model_validator(mode="after")
    def _min_below_max(self) -> Constraint:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min = {self.min} exceeds max = {self.max}")
        return self


class Exclude(_Strict):
    """Items never given: by id, or carrying any of these flags."""

    ids: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)


class Content(_Strict):
    """Content balancing over areas or competences."""

    by: Literal["area", "competence"] = "area"
    method: Literal["none", "mpi", "kingsbury_zara"] = "none"
    constraints: list[Constraint] = Field(default_factory=list)
    exclude: Exclude = Field(default_factory=Exclude)
    self_assessment: bool = False
    enemies: bool = True


class PriorSpec(_Strict):
    """Normal prior on θ."""

    mean: float = 0.0
    sd: Positive = 1.0


class Scoring(_Strict):
    """The estimator, its prior and the quadrature grid."""

    method: Literal["EAP", "MAP", "ML", "WLE"] = "EAP"
    prior: PriorSpec = Field(default_factory=PriorSpec)
    points: Annotated[int, Field(ge=3)] = 61
    range: tuple[float, float] = (-6.0, 6.0)


class Rule(_Strict):
    """One stopping rule; exactly one key."""

    se: Positive | None = None
    classification: Rate | None = None
    ci: Positive | None = None
    sprt: dict[str, float] | None = None
    min_info: Positive | None = None

    @model_validator(mode="after")
    def _one_key(self) -> Rule:
        given = [k for k, v in self.__dict__.items() if v is not None]
        if len(given) != 1:
            raise ValueError(f"a stopping rule has exactly one of se, classification, ci, sprt, min_info; got {given}")
        if self.sprt is not None and not set(self.sprt) <= {"cut", "delta", "alpha", "beta"}:
            raise ValueError(f"sprt keys are cut, delta, alpha, beta; got {sorted(self.sprt)}")
        return self


class Stop(_Strict):
    """Stopping: rules combined by ``combine``, within [min_items, max_items]."""

    combine: Literal["any", "all"] = "any"
    min_items: Annotated[int, Field(ge=0)] = 0
    max_items: Annotated[int, Field(ge=1)] = 40
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _min_below_max(self) -> Stop:
        if self.min_items > self.max_items:
            raise ValueError(f"min_items = {self.min_items} exceeds max_items = {self.max_items}")
        return self


class Report(_Strict):
    """What the report contains."""

    levels: bool = True
    areas: bool = True
    audit: bool = True
    area_min_items: Annotated[int, Field(ge=1)] = 5
    area_max_se: Positive = 0.6
    language: str = "vi"


class Design(_Strict):
    """A whole CAT design (``kind: cat_design``)."""

    kind: Literal["cat_design"] = "cat_design"
    id: str = "design"
    description: str | None = None
    bank: str | None = None
    start: Start = Field(default_factory=Start)
    selection: Selection = Field(default_factory=Selection)
    exposure: Exposure = Field(default_factory=Exposure)
    content: Content = Field(default_factory=Content)
    scoring: Scoring = Field(default_factory=Scoring)
    stop: Stop = Field(default_factory=Stop)
    report: Report = Field(default_factory=Report)
    seeding: Seeding | None = None

    @model_validator(mode="after")
    def _content_fits_length(self) -> Design:
        total_min = sum(c.min or 0 for c in self.content.constraints)
        if total_min > self.stop.max_items:
            raise ValueError(
                f"content minimums add up to {total_min} items, more than stop.max_items = {self.stop.max_items}"
            )
        return self

    @property
    def hash(self) -> str:
        """``sha256:<hex>`` of the canonical JSON of the design (what a resumed session must match)."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_design(path: str | PathLike[str]) -> Design:
    """Read and validate a design file; DesignError lists every problem as FILE:LINE: key: message."""
    data, linemap = load_yaml(path, DesignError)
    if not isinstance(data, dict) or data.get("kind") != "cat_design":
        kind = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise DesignError(f"{path}:1: kind: expected 'cat_design', got {kind!r}")
    return validate_model(Design, data, path, linemap, DesignError)


def design_from(value: Design | dict | str | PathLike[str]) -> Design:
    """A Design from a Design, a plain dict (as the YAML holds) or a file path."""
    if isinstance(value, Design):
        return value
    if isinstance(value, dict):
        try:
            return Design.model_validate({"kind": "cat_design", **value})
        except ValidationError as exc:
            found = validation_problems(exc, "design", {}, Design)
            raise DesignError("design: " + "; ".join(p.split(": ", 1)[1] for p in found)) from None
    return load_design(value)


def validate_file(path: str | PathLike[str]) -> list[str]:
    """Problems of the design at ``path`` (schema, bank, and the engine it builds) as lines; [] when valid."""
    try:
        design = load_design(path)
    except DigicompError as exc:
        return list(getattr(exc, "problems", [str(exc)]))
    if design.bank is None:
        return []
    try:
        from digicomp.cat.engine import AdaptiveTest

        AdaptiveTest.from_yaml(path)
    except DigicompError as exc:
        return [f"{path}: {line}" for line in str(exc).splitlines()]
    return []


def resolve_bank_ref(design: Design, base: Path | None) -> str | Path | None:
    """The design's ``bank:`` as a bundled id or a path resolved against the design file's folder."""
    ref = design.bank
    if ref is None:
        return None
    if ref.endswith((".yaml", ".yml", ".csv")) or "/" in ref:
        p = Path(ref)
        return p if p.is_absolute() or base is None else base / p
    return ref
