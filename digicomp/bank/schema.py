"""The item-bank file schema (pydantic): what one bank YAML file may contain, checked item by item.

Checks that need the whole bank (unique ids, enemies) or its framework live in :mod:`digicomp.bank.checks`
and :mod:`digicomp.bank.validate`; parameter ranges are checked by :mod:`digicomp.models`.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints, model_validator

from digicomp.models.names import canonical_item_record, model_name

DICHOTOMOUS_MODELS = frozenset({"Rasch", "1PL", "2PL", "3PL", "4PL"})
POLYTOMOUS_MODELS = frozenset({"GRM", "GPCM", "PCM"})
ModelName = Annotated[Literal["Rasch", "1PL", "2PL", "3PL", "4PL", "GRM", "GPCM", "PCM"], BeforeValidator(model_name)]
ItemKind = Literal[
    "multiple_choice", "self_assessment", "multiple_response", "ordering", "matching", "short_answer", "rated_task"
]
NEW_FORMATS = frozenset({"multiple_response", "ordering", "matching", "short_answer", "rated_task"})
"""Item formats beyond multiple choice; their structure is checked by :mod:`digicomp.bank.formats`."""
RATED = frozenset({"rated_task"})
"""Formats scored by a human rater against a rubric: never given by an adaptive test, which scores as it goes."""
ScoringRule = Literal["keys_minus_wrong", "all_or_nothing", "adjacent_pairs", "count_correct"]
Normalization = Literal[
    "strip", "casefold", "collapse_spaces", "strip_diacritics", "strip_leading_dot", "key_chord", "web_address"
]
NO_LOWER_ASYMPTOTE = frozenset({"Rasch", "1PL", "2PL"})
"""Dichotomous models whose lower asymptote c is 0 (a c other than 0 would be silently ignored)."""
NO_UPPER_ASYMPTOTE = frozenset({"Rasch", "1PL", "2PL", "3PL"})
"""Dichotomous models whose upper asymptote d is 1."""

Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]
Number = Annotated[float, Strict()]
"""A number written as a YAML number (an int or a float): not ``true``, not ``"1.5"``."""
NonNegative = Annotated[float, Strict(), Field(ge=0)]
Count = Annotated[int, Strict(), Field(ge=1)]
"""A whole number ≥ 1 written as a YAML integer (``level: true`` is not level 1)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Multilingual(BaseModel):
    """Base of texts: keys beyond vi and en are further languages, each a non-empty string."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="after")
    def _extra_languages_are_text(self) -> _Multilingual:
        for lang, value in (self.model_extra or {}).items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"language {lang!r} must be a non-empty string")
        return self


class Text(_Multilingual):
    """A human-facing text: Vietnamese and English required, further languages allowed as more keys."""

    vi: NonEmpty
    en: NonEmpty


class Option(_Multilingual):
    """One answer option of a multiple-choice item: an id (A, B, ...) and its text per language."""

    id: Ident
    vi: NonEmpty
    en: NonEmpty


class Media(_Strict):
    """A picture, audio or video shown with the stem; ``src`` is relative to the bank file."""

    src: NonEmpty
    kind: Literal["image", "audio", "video"] = "image"
    alt: Text | None = None


class Params(_Strict):
    """Item parameters in the file form a, b, c, d (b a list of thresholds/steps for polytomous models).

    A multidimensional item gives ``a`` as a list (one slope per bank dimension) and mirt's ``intercept``
    instead of ``b`` (a list d1.. for polytomous models); see :mod:`digicomp.bank.dimensions`.
    """

    a: Number | list[Number] | None = None
    b: Number | list[Number] | None = None
    c: Number | None = None
    d: Number | None = None
    intercept: Number | list[Number] | None = None

    @property
    def multidimensional(self) -> bool:
        """True for a slope vector with an intercept (mirt's slope-intercept form)."""
        return isinstance(self.a, list)

    @property
    def location(self) -> float | list[float]:
        """``b`` of a unidimensional item, ``intercept`` of a multidimensional one."""
        return self.intercept if self.multidimensional else self.b

    @model_validator(mode="after")
    def _one_form(self) -> Params:
        if self.multidimensional:
            if self.b is not None or self.intercept is None:
                raise ValueError("a list-valued 'a' (one slope per dimension) needs 'intercept' (mirt's d), not 'b'")
            if not self.a:
                raise ValueError("'a' lists one slope per dimension; got an empty list")
        elif self.intercept is not None:
            raise ValueError("'intercept' goes with a list-valued 'a' (one slope per dimension); use 'b' with one 'a'")
        elif self.b is None:
            raise ValueError("'b' is missing (or give 'a' as a list with 'intercept' for a multidimensional item)")
        return self


class Provisional(_Strict):
    """Expert-set parameters, from the rule named here (described in the bank's ``rules``)."""

    status: Literal["provisional"]
    rule: Ident


class Calibrated(_Strict):
    """Parameters estimated from ``n`` responses on ``date``, with their standard errors."""

    status: Literal["calibrated"]
    n: Count
    date: datetime.date
    se: dict[Literal["a", "b", "c", "d", "intercept"], NonNegative | list[NonNegative]]
    method: NonEmpty | None = None


class Imported(_Strict):
    """Parameters taken from a parameter table whose provenance is only its ``source``."""

    status: Literal["imported"]
    source: NonEmpty


Calibration = Annotated[Provisional | Calibrated | Imported, Field(discriminator="status")]


class Scoring(_Strict):
    """How a raw answer of a multiple-response, ordering or matching item becomes a score category."""

    rule: ScoringRule


class ShortAnswer(_Strict):
    """The accepted answers of a short-answer item and how a typed answer is normalised before comparing."""

    kind: Literal["number", "text"]
    accepted: Annotated[list[Number | NonEmpty], Field(min_length=1)]
    tolerance: NonNegative | None = None
    normalize: list[Normalization] | None = None


class Criterion(_Multilingual):
    """One rubric criterion of a rated task: what earns its full ``points`` (1 or 2) and, for 2, what earns 1."""

    id: Ident
    points: Annotated[int, Strict(), Field(ge=1, le=2)]
    vi: NonEmpty
    en: NonEmpty
    partial: Text | None = None

    @model_validator(mode="after")
    def _partial_for_two_points(self) -> Criterion:
        if self.points == 2 and self.partial is None:
            raise ValueError(f"criterion {self.id!r} is worth 2 points: 'partial' says what earns 1")
        if self.points == 1 and self.partial is not None:
            raise ValueError(f"criterion {self.id!r} is worth 1 point: it has no 'partial'")
        return self


class Source(_Strict):
    """A law, decree or official document an item depends on, and when the item must be reviewed against it."""

    title: NonEmpty | Text
    url_or_ref: NonEmpty
    review_by: datetime.date | None = None


class Item(_Strict):
    """One item: identity, framework tags, model and parameters, provenance, and (optionally) content."""

    id: Ident
    type: ItemKind | None = None
    competence: Ident | None = None
    level: Count | None = None
    model: ModelName
    params: Params
    calibration: Calibration
    stem: Text | None = None
    options: list[Option] | None = None
    key: Ident | None = None
    categories: list[Text] | None = None
    explanation: Text | None = None
    enemies: list[Ident] | None = None
    media: Media | None = None
    flags: list[NonEmpty] | None = None
    keys: list[Ident] | None = None
    key_order: list[Ident] | None = None
    premises: list[Option] | None = None
    choices: list[Option] | None = None
    key_map: dict[Ident, Ident] | None = None
    scoring: Scoring | None = None
    answer: ShortAnswer | None = None
    rubric: list[Criterion] | None = None
    sources: list[Source] | None = None
    review_by: datetime.date | None = None

    # mirt's names too; Rasch on a polytomous item is the partial credit model (digicomp.models.names)
    _model_name = model_validator(mode="before")(canonical_item_record)

    @property
    def kind(self) -> str:
        """'multiple_choice', 'self_assessment', or 'parameters' (no content), declared or implied."""
        if self.type is not None:
            return self.type
        if self.categories is not None:
            return "self_assessment"
        if self.options is not None:
            return "multiple_choice"
        return "parameters"

    @model_validator(mode="after")
    def _content_matches_kind(self) -> Item:
        kind = self.kind
        if kind == "parameters":
            fields = ("stem", "key", *CONTENT_FIELDS, "explanation", "media")
            present = [f for f in fields if getattr(self, f) is not None]
            if present:
                raise ValueError(
                    f"an item without options or categories cannot have {', '.join(present)} "
                    "(declare the item's 'type' for a multiple_response, ordering, matching, short_answer or "
                    "rated_task item)"
                )
        else:
            if self.stem is None:
                raise ValueError(f"a {kind} item needs a 'stem'")
            if self.competence is None:
                raise ValueError(f"a {kind} item needs a 'competence'")
        if kind == "multiple_choice":
            self._check_multiple_choice()
        elif kind == "self_assessment":
            self._check_self_assessment()
        return self

    def _check_multiple_choice(self) -> None:
        stray = [f for f in CONTENT_FIELDS if getattr(self, f) is not None]
        if stray:
            raise ValueError(
                f"{', '.join(stray)}: not fields of a multiple_choice item "
                "(declare the item's 'type' for another format)"
            )
        if self.categories is not None or not self.options or len(self.options) < 2:
            raise ValueError("a multiple_choice item needs at least 2 'options' and no 'categories'")
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"option ids must be unique, got {ids}")
        if self.key not in ids:
            raise ValueError(f"'key' must be one of the option ids {ids}, got {self.key!r}")
        if self.level is None:
            raise ValueError("a multiple_choice item needs its intended 'level'")
        if self.model not in DICHOTOMOUS_MODELS:
            raise ValueError(f"a multiple_choice item needs a dichotomous model, got {self.model!r}")

    def _check_self_assessment(self) -> None:
        stray = [f for f in CONTENT_FIELDS if getattr(self, f) is not None]
        if stray:
            raise ValueError(f"{', '.join(stray)}: not fields of a self_assessment item")
        if self.options is not None or self.key is not None:
            raise ValueError("a self_assessment item has 'categories', not 'options' or 'key'")
        if not self.categories or len(self.categories) < 2:
            raise ValueError("a self_assessment item needs at least 2 'categories', lowest first")
        if self.model not in POLYTOMOUS_MODELS:
            raise ValueError(f"a self_assessment item needs a polytomous model (GRM, GPCM, PCM), got {self.model!r}")
        loc, name = self.params.location, "intercept" if self.params.multidimensional else "b"
        if isinstance(loc, list) and len(loc) != len(self.categories) - 1:
            raise ValueError(
                f"{len(self.categories)} categories need {len(self.categories) - 1} thresholds in params.{name}, "
                f"got {len(loc)}"
            )

    @model_validator(mode="after")
    def _params_shape_matches_model(self) -> Item:
        polytomous = self.model in POLYTOMOUS_MODELS
        loc, name = self.params.location, "intercept" if self.params.multidimensional else "b"
        if polytomous and not isinstance(loc, list):
            raise ValueError(f"model {self.model} needs params.{name} as a list of thresholds")
        if not polytomous and isinstance(loc, list):
            raise ValueError(f"model {self.model} needs params.{name} as one number")
        if polytomous and (self.params.c is not None or self.params.d is not None):
            raise ValueError(f"model {self.model} has no params c or d")
        if self.model in NO_LOWER_ASYMPTOTE and self.params.c not in (None, 0):
            raise ValueError(
                f"model {self.model} has no lower asymptote, got params.c = {self.params.c}; use 3PL (or 4PL) or drop c"
            )
        if self.model in NO_UPPER_ASYMPTOTE and self.params.d not in (None, 1):
            raise ValueError(
                f"model {self.model} has no upper asymptote, got params.d = {self.params.d}; use 4PL or drop d"
            )
        return self

    @model_validator(mode="after")
    def _standard_errors_match_params(self) -> Item:
        if not isinstance(self.calibration, Calibrated):
            return self
        for name, se in self.calibration.se.items():
            value = getattr(self.params, name)
            if value is None and name in ("c", "d"):
                raise ValueError(f"calibration.se.{name} is given but params.{name} is not")
            if value is None:
                continue
            if isinstance(value, list) != isinstance(se, list) or (isinstance(se, list) and len(se) != len(value)):
                raise ValueError(f"calibration.se.{name} must have the shape of params.{name}")
        return self


CONTENT_FIELDS = ("keys", "key_order", "premises", "choices", "key_map", "scoring", "answer", "rubric")
"""Content fields of the newer formats (multiple_response, ordering, matching, short_answer, rated_task)."""


class CutSource(_Strict):
    """Where the cut scores come from: a provisional rule, a standard-setting study, or empirical data."""

    status: Literal["provisional", "standard_setting", "empirical"]
    rule: Ident | None = None
    description: Text | None = None


class Scale(_Strict):
    """The bank's θ scale: D, the reporting levels (band ids of the framework scale) and cut scores."""

    D: Annotated[float, Field(gt=0)] = 1.0
    levels: list[Ident] | None = None
    cut_scores: list[float] | None = None
    cut_source: CutSource | None = None

    @model_validator(mode="after")
    def _cuts_fit_levels(self) -> Scale:
        levels = self.levels or []
        cuts = self.cut_scores or []
        if len(set(levels)) != len(levels):
            raise ValueError(f"'levels' must be unique, got {levels}")
        if levels and len(cuts) != len(levels) - 1:
            raise ValueError(f"{len(levels)} levels need {len(levels) - 1} cut_scores (one fewer), got {len(cuts)}")
        if cuts and not levels:
            raise ValueError("cut_scores need the 'levels' they separate")
        if any(lo >= hi for lo, hi in zip(cuts, cuts[1:])):
            raise ValueError(f"cut_scores must be strictly increasing, got {cuts}")
        if cuts and self.cut_source is None:
            raise ValueError("cut_scores need a 'cut_source' saying where they came from")
        return self


class FrameworkRef(_Strict):
    """The framework (id and version) whose competences and levels the items are tagged with."""

    id: Ident
    version: NonEmpty


class Dimension(_Strict):
    """One latent dimension of a multidimensional bank: a framework area, or the general factor."""

    id: Ident
    name: Text
    area: Ident | None = None
    general: Literal[True] | None = None

    @model_validator(mode="after")
    def _area_or_general(self) -> Dimension:
        if (self.area is None) == (self.general is None):
            raise ValueError("a dimension stands for exactly one of a framework 'area' or the 'general' factor")
        return self


class Latent(_Strict):
    """The latent distribution used for scoring: multivariate normal with this correlation matrix and mean."""

    correlation: list[list[Number]]
    mean: list[Number] | None = None


class Overall(_Strict):
    """The reported overall result: one dimension (the general factor) or a weighted composite of dimensions."""

    dimension: Ident | None = None
    weights: dict[Ident, Annotated[float, Strict(), Field(gt=0)]] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Overall:
        if (self.dimension is None) == (self.weights is None):
            raise ValueError("'overall' has exactly one of 'dimension' or 'weights'")
        if self.weights is not None and not self.weights:
            raise ValueError("'overall.weights' names at least one dimension")
        return self


class BankFile(_Strict):
    """A whole item-bank file (``kind: item_bank``)."""

    kind: Literal["item_bank"]
    id: Ident
    version: NonEmpty
    title: Text | None = None
    description: Text | None = None
    framework: FrameworkRef | None = None
    scale: Scale
    rules: dict[Ident, Text] | None = None
    dimensions: Annotated[list[Dimension], Field(min_length=2)] | None = None
    latent: Latent | None = None
    overall: Overall | None = None
    items: Annotated[list[Item], Field(min_length=1)]

    @model_validator(mode="after")
    def _tags_need_framework(self) -> BankFile:
        if self.framework is None and any(item.competence is not None for item in self.items):
            raise ValueError("items tagged with competences need the bank's 'framework' (id and version)")
        return self

    @model_validator(mode="after")
    def _dimensions_block_complete(self) -> BankFile:
        given = [k for k in ("dimensions", "latent", "overall") if getattr(self, k) is not None]
        if given and len(given) < 3:
            missing = sorted({"dimensions", "latent", "overall"} - set(given))
            raise ValueError(f"a multidimensional bank needs 'dimensions', 'latent' and 'overall'; missing {missing}")
        if given and self.scale.D != 1.0:
            raise ValueError(
                f"a multidimensional bank uses mirt's logit a·θ + intercept: scale.D must be 1.0, got {self.scale.D:g}"
            )
        return self
