"""The CAT design file (``kind: cat_design``): pydantic schema, loading with line numbers, and its hash."""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from os import PathLike
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from digicomp.assembly.spec import Constraint as AssemblyConstraint
from digicomp.cat.seeding import Seeding
from digicomp.errors import DesignDeprecationWarning, DesignError
from digicomp.io.yamlfile import (
    LineMap,
    error_lines,
    format_path,
    line_of,
    load_yaml,
    problem,
    raise_problems,
    validation_problems,
)

Positive = Annotated[float, Field(gt=0)]
Rate = Annotated[float, Field(gt=0, le=1)]

MAX_THETA = 20.0
"""Largest |θ| a design's grid may reach: ten SDs past any plausible person on a N(0, 1) scale."""

MAX_POINTS = 1001
"""Most quadrature points a design may ask for: far past any accuracy gain (61 is the usual), and the tables
(items × categories × points) and the posterior of every person in a batch stay within memory."""

SPRT_KEYS = {"cut", "delta", "alpha", "beta"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class FirstItems(_Strict):
    """A short non-adaptive start: ``n`` items chosen at random, or the listed ``items`` in order.

    Scored like every other item; not to be confused with the seeded, unscored pretest items of ``seeding``.
    """

    n: Annotated[int, Field(ge=1)]
    rule: Literal["random", "fixed"] = "random"
    items: list[str] | None = None

    @model_validator(mode="after")
    def _fixed_needs_items(self) -> FirstItems:
        if self.rule == "fixed" and not self.items:
            raise ValueError("rule 'fixed' needs the 'items' to give, in order")
        if self.rule == "fixed" and len(self.items) != self.n:
            raise ValueError(f"n = {self.n} but {len(self.items)} items are listed; rule 'fixed' gives exactly these")
        if self.rule == "random" and self.items is not None:
            raise ValueError("'items' apply only to rule 'fixed' (rule 'random' draws from the whole bank)")
        if self.items is not None and len(set(self.items)) != len(self.items):
            twice = sorted({i for i in self.items if self.items.count(i) > 1})
            raise ValueError(f"items lists {twice} more than once; each item is given at most once")
        return self


Pretest = FirstItems
"""The old name of :class:`FirstItems` (the design key ``start.pretest``)."""


class Start(_Strict):
    """Where the test starts: θ̂ before any answer, and optional first items before adaptive selection."""

    theta: float = 0.0
    first_items: FirstItems | None = None

    @model_validator(mode="before")
    @classmethod
    def _renamed_pretest(cls, data: object) -> object:
        """Accept the old key ``pretest`` for ``first_items``, with a DesignDeprecationWarning."""
        if not isinstance(data, dict) or "pretest" not in data:
            return data
        if "first_items" in data:
            raise ValueError("give start.first_items only: start.pretest is its old name")
        warnings.warn(
            "design key start.pretest is now start.first_items (the first items before adaptive selection, "
            "scored as usual; seeded unscored pretest items are 'seeding'); rename it, the old key will go",
            DesignDeprecationWarning,
            stacklevel=2,
        )
        data = dict(data)
        data["first_items"] = data.pop("pretest")
        return data


class Shadow(_Strict):
    """Options of the shadow-test rule (van der Linden & Reese 1998; see :mod:`digicomp.cat.shadow`).

    ``constraints`` are assembly-spec constraints (area, competence, level_band, item_type filters with min/max
    counts; see :mod:`digicomp.assembly.spec`) met by every shadow test on top of the ``content`` limits;
    ``objective`` ``information`` is Fisher information at θ̂, ``posterior`` its expectation over the posterior;
    ``candidates`` the reduced model's size (0: every usable item in every program).
    """

    constraints: list[AssemblyConstraint] = Field(default_factory=list)
    objective: Literal["information", "posterior"] = "information"
    candidates: Annotated[int, Field(ge=0)] = 60


class Selection(_Strict):
    """The item selection rule and its options."""

    rule: Literal[
        "mfi",
        "mlwi",
        "mpwi",
        "mepv",
        "kl",
        "klp",
        "astrat",
        "random",
        "custom",
        "d_optimality",
        "bayesian_d_optimality",
        "a_optimality",
        "shadow",
    ] = "mfi"
    kl_radius: Positive | None = None
    strata: Annotated[int, Field(ge=1)] | None = None
    stage_lengths: list[Annotated[int, Field(ge=1)]] | None = None
    name: str | None = None
    shadow: Shadow | None = None

    @model_validator(mode="after")
    def _options_fit_rule(self) -> Selection:
        if self.shadow is not None and self.rule != "shadow":
            raise ValueError(f"'shadow' options apply only to rule 'shadow', not {self.rule!r}")
        if self.rule == "custom" and not self.name:
            raise ValueError("rule 'custom' needs the 'name' of a rule registered with digicomp.cat.register_rule")
        if (self.strata or self.stage_lengths) and self.rule != "astrat":
            raise ValueError("'strata' and 'stage_lengths' apply only to rule 'astrat'")
        if self.kl_radius is not None and self.rule != "kl":
            raise ValueError(f"'kl_radius' applies only to rule 'kl' (the interval θ̂ ± r/√n), not {self.rule!r}")
        if self.name is not None and self.rule != "custom":
            raise ValueError(f"'name' applies only to rule 'custom' (a registered rule), not {self.rule!r}")
        return self


class Exposure(_Strict):
    """Exposure control: method and its settings."""

    method: Literal["none", "randomesque", "sympson_hetter", "item_eligibility", "progressive_restricted"] = "none"
    k: Annotated[int, Field(ge=1)] | None = None
    r_max: Rate | None = None
    parameters: dict[str, Rate] | str | None = None

    @model_validator(mode="after")
    def _settings_fit_method(self) -> Exposure:
        takes = {"randomesque": {"k"}, "item_eligibility": {"r_max"}, "progressive_restricted": {"r_max"}}
        takes["sympson_hetter"] = {"parameters"}
        stray = [key for key in ("k", "r_max", "parameters") if getattr(self, key) is not None]
        stray = [key for key in stray if key not in takes.get(self.method, set())]
        if stray:
            verb = "does" if len(stray) == 1 else "do"
            raise ValueError(f"{', '.join(stray)} {verb} not apply to method {self.method!r}")
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
    """Content balancing over areas or competences.

    Targets steer by ``method`` (kingsbury_zara or mpi); the groups without a target share what the targets
    leave, 1 − Σ targets (see :mod:`digicomp.cat.content`).
    """

    by: Literal["area", "competence"] = "area"
    method: Literal["none", "mpi", "kingsbury_zara"] = "none"
    constraints: list[Constraint] = Field(default_factory=list)
    exclude: Exclude = Field(default_factory=Exclude)
    self_assessment: bool = False
    enemies: bool = True

    @field_validator("constraints")
    @classmethod
    def _one_constraint_per_group(cls, value: list[Constraint]) -> list[Constraint]:
        first: dict[str, int] = {}
        for i, c in enumerate(value):
            if c.group in first:
                raise ValueError(
                    f"constraints[{i}] repeats group {c.group!r} of constraints[{first[c.group]}]; "
                    "give each group's min, max and target in one entry"
                )
            first[c.group] = i
        return value

    @model_validator(mode="after")
    def _targets_fit_method(self) -> Content:
        targeted = [c for c in self.constraints if c.target is not None]
        if targeted and self.method == "none":
            raise ValueError(
                f"group {targeted[0].group!r} has a target, but method is 'none' (targets would be ignored); "
                "choose method kingsbury_zara or mpi, or drop the targets"
            )
        if self.method != "none" and not targeted:
            raise ValueError(f"method {self.method!r} steers toward targets, but no constraint has a 'target'")
        total = math.fsum(c.target for c in targeted)
        if total > 1 + 1e-9:
            shares = ", ".join(f"{c.group}: {c.target:g}" for c in targeted)
            raise ValueError(f"targets add up to {total:g} ({shares}); they are shares of the test and must sum to ≤ 1")
        return self


class PriorSpec(_Strict):
    """Normal prior on θ."""

    mean: float = 0.0
    sd: Positive = 1.0


class Scoring(_Strict):
    """The estimator, its prior and the quadrature grid."""

    method: Literal["EAP", "MAP", "ML", "WLE"] = "EAP"
    prior: PriorSpec = Field(default_factory=PriorSpec)
    points: Annotated[int, Field(ge=3, le=MAX_POINTS)] = 61
    range: tuple[float, float] = (-6.0, 6.0)

    @field_validator("range")
    @classmethod
    def _range_increases(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] < value[1]:
            raise ValueError(f"range = {list(value)}: the grid's low end must be below its high end")
        if max(abs(value[0]), abs(value[1])) > MAX_THETA:
            raise ValueError(f"range = {list(value)}: θ on the bank's scale lies within ±{MAX_THETA:g}")
        return value

    @model_validator(mode="after")
    def _prior_on_the_grid(self) -> Scoring:
        lo, hi = self.range
        if not lo < self.prior.mean < hi:
            raise ValueError(f"prior.mean = {self.prior.mean:g} lies outside the grid's range [{lo:g}, {hi:g}]")
        return self


class Rule(_Strict):
    """One stopping rule; exactly one key."""

    se: Positive | None = None
    classification: Rate | None = None
    ci: Positive | None = None
    sprt: dict[str, float] | None = None
    min_info: Positive | None = None
    area_se: Positive | None = None
    area_classification: Rate | None = None

    @model_validator(mode="after")
    def _one_key(self) -> Rule:
        given = [k for k, v in self.__dict__.items() if v is not None]
        if len(given) != 1:
            raise ValueError(
                "a stopping rule has exactly one of se, classification, ci, sprt, min_info, area_se, "
                f"area_classification; got {given}"
            )
        if self.sprt is not None:
            _check_sprt(self.sprt)
        return self


def _check_sprt(sprt: dict[str, float]) -> None:
    """ValueError naming the first SPRT setting out of range (Wald's bounds need 0 < α, β < 0.5 and δ > 0)."""
    if not set(sprt) <= SPRT_KEYS:
        raise ValueError(f"sprt keys are cut, delta, alpha, beta; got {sorted(sprt)}")
    for key in ("alpha", "beta"):
        if key in sprt and not 0 < sprt[key] < 0.5:
            raise ValueError(f"sprt.{key} = {sprt[key]:g}: an error rate must lie in (0, 0.5)")
    if "delta" in sprt and not sprt["delta"] > 0:
        raise ValueError(f"sprt.delta = {sprt['delta']:g}: the half-width of the indifference region must be > 0")
    if "cut" in sprt and not math.isfinite(sprt["cut"]):
        raise ValueError(f"sprt.cut = {sprt['cut']}: a cut score must be a finite number on the θ scale")


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
    language: Literal["vi", "en"] = "vi"


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
        found = length_problems(self.start, self.content, self.stop)
        if found:
            raise ValueError("; ".join(f"{format_path(loc)}: {msg}" for loc, msg in found))
        return self

    @property
    def hash(self) -> str:
        """``sha256:<hex>`` of the canonical JSON of the design (what a resumed session must match).

        ``start.first_items`` is hashed under its old name ``pretest``, so renaming the key kept every hash.
        """
        data = self.model_dump(mode="json")
        data["start"]["pretest"] = data["start"].pop("first_items")
        if data["selection"]["shadow"] is None:  # the shadow rule came later: unset, unhashed
            del data["selection"]["shadow"]
        for rule in data["stop"]["rules"]:  # the per-area rules (multidimensional banks) came later: unset, unhashed
            for key in ("area_se", "area_classification"):
                if rule[key] is None:
                    del rule[key]
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


Problem = tuple[tuple[str | int, ...], str]
"""A problem of a design: the node path it is about and the message."""


def length_problems(start: Start, content: Content, stop: Stop) -> list[Problem]:
    """First items and content limits that do not fit the test length ``stop.max_items`` (all of them)."""
    length = stop.max_items
    out: list[Problem] = []
    first = start.first_items
    if first is not None and first.n > length:
        out.append((("start", "first_items"), f"first_items.n = {first.n} is more than stop.max_items = {length}"))
    total_min = sum(c.min or 0 for c in content.constraints)
    if total_min > length:
        msg = f"content minimums add up to {total_min} items, more than stop.max_items = {length}"
        out.append((("content", "constraints"), msg))
    for i, c in enumerate(content.constraints):
        if c.target is None:
            continue
        share = c.target * length
        where = ("content", "constraints", i)
        if c.max is not None and c.max < math.floor(share + 1e-9):
            msg = (
                f"group {c.group!r}: target {c.target:g} of stop.max_items = {length} is {share:g} items, "
                f"more than its max = {c.max}"
            )
            out.append((where, msg))
        if c.min is not None and c.min > math.ceil(share - 1e-9):
            msg = (
                f"group {c.group!r}: min = {c.min} items is more than its target {c.target:g} of stop.max_items = "
                f"{length} ({share:g} items); lower the min or raise the target"
            )
            out.append((where, msg))
    return out


SECTIONS = ("start", "content", "stop")
"""The sections :func:`length_problems` reads."""


def check_design_data(data: dict, path: str | PathLike[str], linemap: LineMap) -> tuple[Design, list[str]]:
    """The design and every schema problem of design ``data`` at once, as ``FILE:LINE: path: message`` lines.

    Pydantic reports every field's problem but runs the checks across sections only when all sections pass;
    so each section is validated on its own, the checks across sections run on the sections that passed, and
    the design returned is built from those (failed sections at their defaults, for the checks against a bank).
    """
    try:
        return Design.model_validate(data), []
    except ValidationError as exc:
        errors = [err for err in exc.errors() if err["loc"]]  # the checks across sections: run below, located
    passed: dict[str, object] = {}
    for name, spec in Design.model_fields.items():
        if name in data:
            try:
                passed[name] = TypeAdapter(spec.annotation).validate_python(data[name])
            except ValidationError:
                continue
    design = Design.model_construct(**passed)
    problems = error_lines(errors, path, linemap, Design, data)
    if all(name in passed for name in SECTIONS if name in data):
        problems += [
            problem(path, linemap, loc, msg) for loc, msg in length_problems(design.start, design.content, design.stop)
        ]
    return design, problems


def read_design(path: str | PathLike[str]) -> tuple[Design, LineMap, list[str]]:
    """(design, line map, every schema problem) of a design file (see :func:`check_design_data`).

    Malformed YAML and a document of another kind raise DesignError at once.
    """
    data, linemap = load_yaml(path, DesignError)
    if not isinstance(data, dict) or data.get("kind") != "cat_design":
        kind = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise DesignError(f"{path}:1: kind: expected 'cat_design', got {kind!r}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        design, problems = check_design_data(data, path, linemap)
    for message in dict.fromkeys((str(w.message), w.category) for w in caught):  # each once, though checked twice
        text, category = message
        if issubclass(category, DesignDeprecationWarning):  # renamed keys: say where in the file
            warnings.warn(f"{path}:{line_of(linemap, 'start.pretest')}: {text}", category, stacklevel=3)
        else:
            warnings.warn(text, category, stacklevel=3)
    return design, linemap, problems


def load_design(path: str | PathLike[str]) -> Design:
    """Read and validate a design file; DesignError lists every problem as FILE:LINE: key: message."""
    design, _, problems = read_design(path)
    if problems:
        raise_problems(DesignError, path, problems)
    return design


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


def resolve_bank_ref(design: Design, base: Path | None) -> str | Path | None:
    """The design's ``bank:`` as a bundled id or a path resolved against the design file's folder."""
    ref = design.bank
    if ref is None:
        return None
    if ref.endswith((".yaml", ".yml", ".csv")) or "/" in ref:
        p = Path(ref)
        return p if p.is_absolute() or base is None else base / p
    return ref
