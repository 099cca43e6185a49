"""Pydantic schema shared by frameworks, level scales and crosswalks: bilingual text and provenance.

Every node that states a fact carries a provenance ``status`` and ``source`` (keys into the document's
``sources`` bibliography), so unverified content can ship without posing as official.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Status = Literal["official", "third_party", "inferred", "placeholder"]
"""official: seen in the issuer's text; third_party: only unofficial copies; inferred: this project's reading
or proposal; placeholder: stands in for content that is not public yet."""

STATUS_RANK = {"official": 0, "third_party": 1, "inferred": 2, "placeholder": 3}
LANGS = ("vi", "en")

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
SourceKeys = Annotated[list[NonEmpty], Field(min_length=1)]
Problem = tuple[list["str | int"], str]
"""A cross-reference problem: the node location (as pydantic writes it) and the message."""

_LANG_TAG = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


class Strict(BaseModel):
    """Base of every schema model: unknown keys are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


class Text(BaseModel):
    """A human-facing text in Vietnamese and English; further languages may be added as ``xx: ...``."""

    model_config = ConfigDict(extra="allow")

    vi: NonEmpty
    en: NonEmpty

    @model_validator(mode="after")
    def _extra_languages_are_language_tags(self) -> Text:
        for key, value in (self.model_extra or {}).items():
            if not _LANG_TAG.match(key):
                raise ValueError(f"unknown key {key!r}: a text has vi, en (and other language tags)")
            if not isinstance(value, str) or not value:
                raise ValueError(f"translation {key!r} must be non-empty text")
        return self

    def get(self, lang: str = "vi") -> str:
        """The text in ``lang``; the English text when that language is not given."""
        if lang in LANGS:
            return getattr(self, lang)
        return (self.model_extra or {}).get(lang, self.en)


class Source(Strict):
    """One entry of a document's bibliography: who issued what, when, and where it can be read."""

    title: Text
    issuer: Text | None = None
    document: NonEmpty | None = None
    date: dt.date | None = None
    url: NonEmpty | None = None
    note: Text | None = None


def source_problems(doc: Strict) -> list[Problem]:
    """Every ``source`` key names an entry of ``doc.sources``; official nodes cite an identified document."""
    known = set(doc.sources)  # type: ignore[attr-defined]
    problems: list[Problem] = []

    def visit(node: object, loc: list[str | int]) -> None:
        if isinstance(node, Strict):
            for name in type(node).model_fields:
                value = getattr(node, name)
                key = type(node).model_fields[name].alias or name
                if name == "source" and value is not None:
                    bib = doc.sources  # type: ignore[attr-defined]
                    if getattr(node, "status", None) == "official" and not any(
                        bib[ref].document for ref in value if ref in known
                    ):
                        problems.append(
                            (
                                [*loc, "status"],
                                "status 'official' needs a source that names its "
                                "document (document: ...); otherwise use third_party or inferred",
                            )
                        )
                    problems.extend(
                        (
                            [*loc, key, j],
                            f"source {ref!r} is not defined under 'sources' (defined: "
                            f"{', '.join(sorted(known)) or 'none'})",
                        )
                        for j, ref in enumerate(value)
                        if ref not in known
                    )
                elif name != "sources":
                    visit(value, [*loc, key])
        elif isinstance(node, list):
            for j, item in enumerate(node):
                visit(item, [*loc, j])

    visit(doc, [])
    return problems
