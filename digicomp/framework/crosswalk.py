"""Crosswalks: many-to-many links between two frameworks' competences; results projected across them.

A mapping ``from -> to`` with relation ``broader`` reads "the from-competence is broader than the to one".
Projection (``Crosswalk.project``) gives each target competence the weighted mean of the source values mapped
to it, each mapping weighted by how much the two competences share (``RELATION_WEIGHTS``); see
docs/frameworks.md.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pydantic import Field

from digicomp.framework.schema import (
    STATUS_RANK,
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

Relation = Literal["exact", "close", "partial", "broader", "narrower"]

RELATION_WEIGHTS: dict[str, float] = {
    "exact": 1.0,
    "close": 0.8,
    "broader": 0.6,
    "narrower": 0.6,
    "partial": 0.4,
}
"""Default weight of a mapping in a projection: the share of meaning the two competences are taken to have in
common. Broader/narrower: one contains the other, so a result on one is only partly evidence on the other."""

_INVERSE: dict[str, str] = {
    "exact": "exact",
    "close": "close",
    "partial": "partial",
    "broader": "narrower",
    "narrower": "broader",
}


class Endpoint(Strict):
    """One side of a crosswalk: a framework id (bundled) or a YAML path relative to the crosswalk file."""

    framework: NonEmpty
    version: NonEmpty | None = None


class Mapping(Strict):
    """One competence-to-competence link; status/source default to the crosswalk's."""

    from_: Code = Field(alias="from")
    to: Code
    relation: Relation
    note: Text | None = None
    status: Status | None = None
    source: SourceKeys | None = None


@dataclass(frozen=True)
class Projected:
    """A projected value on one target competence, with the evidence it rests on."""

    value: float | NDArray[np.float64]
    weight: float
    sources: tuple[tuple[str, str], ...]
    """(source competence code, relation) pairs that contributed."""


class Crosswalk(Strict):
    """A crosswalk document (``kind: crosswalk``) mapping competences of ``from`` onto ``to``."""

    kind: Literal["crosswalk"]
    id: Code
    version: NonEmpty
    title: Text
    description: Text
    from_: Endpoint = Field(alias="from")
    to: Endpoint
    status: Status
    source: SourceKeys
    note: Text | None = None
    sources: dict[NonEmpty, Source]
    mappings: list[Mapping] = Field(min_length=1)

    def targets(self, code: str) -> list[Mapping]:
        """Mappings leaving source competence ``code``."""
        return [m for m in self.mappings if m.from_ == code]

    def reversed(self) -> Crosswalk:
        """The same crosswalk read from ``to`` to ``from`` (broader and narrower swap)."""
        data = self.model_dump(by_alias=True)
        data["from"], data["to"] = data["to"], data["from"]
        data["id"] = f"{self.to.framework}--{self.from_.framework}"
        for m in data["mappings"]:
            m["from"], m["to"] = m["to"], m["from"]
            m["relation"] = _INVERSE[m["relation"]]
        return Crosswalk.model_validate(data)

    def project_detailed(
        self, result: MappingABC[str, ArrayLike], weights: MappingABC[str, float] | None = None
    ) -> dict[str, Projected]:
        """Project per-competence values (θ, level, score; scalars or per-person arrays) onto ``to``.

        Each target gets sum_i w_i x_i / sum_i w_i over the mapped source competences present in ``result``,
        w_i = weights[relation_i]; a weight of 0 ignores that relation. Targets with no weighted source in
        ``result`` are absent from the output;
        :meth:`unmapped` lists the source codes that had nowhere to go.
        """
        table = dict(RELATION_WEIGHTS if weights is None else weights)
        bad = {r: table.get(r) for r in _INVERSE if not isinstance(table.get(r), (int, float)) or table[r] < 0}
        if bad:
            from digicomp.errors import FrameworkError

            raise FrameworkError(
                f"projection weights need a number >= 0 for every relation {list(_INVERSE)}; got {bad}"
            )
        grouped: dict[str, list[tuple[str, str]]] = {}
        for m in self.mappings:
            if m.from_ in result and table[m.relation] > 0:
                grouped.setdefault(m.to, []).append((m.from_, m.relation))
        out: dict[str, Projected] = {}
        for target, pairs in grouped.items():
            w = np.array([table[rel] for _, rel in pairs], dtype=float)
            x = np.stack([np.asarray(result[code], dtype=float) for code, _ in pairs])
            value = np.tensordot(w, x, axes=1) / w.sum()
            out[target] = Projected(
                value=float(value) if value.ndim == 0 else value, weight=float(w.sum()), sources=tuple(pairs)
            )
        return out

    def unmapped(self, result: MappingABC[str, ArrayLike]) -> list[str]:
        """Codes in ``result`` that no mapping leaves from: they cannot contribute to a projection."""
        mapped = {m.from_ for m in self.mappings}
        return sorted(code for code in result if code not in mapped)

    def project(
        self, result: MappingABC[str, ArrayLike], weights: MappingABC[str, float] | None = None
    ) -> dict[str, float | NDArray[np.float64]]:
        """Per-competence values on ``from`` -> values on ``to`` (weighted mean; :meth:`project_detailed`)."""
        return {code: p.value for code, p in self.project_detailed(result, weights).items()}

    def to_dict(self) -> dict:
        """Plain data equal to the YAML document."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def crosswalk_problems(cw: Crosswalk, from_codes: list[str] | None, to_codes: list[str] | None) -> list[Problem]:
    """Codes exist in their frameworks, pairs are unique, sources defined, no mapping above its status."""
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for i, m in enumerate(cw.mappings):
        loc: list[str | int] = ["mappings", i]
        sides = (("from", m.from_, from_codes, cw.from_), ("to", m.to, to_codes, cw.to))
        for key, code, codes, side in sides:
            if codes is not None and code not in codes:
                msg = f"competence {code!r} is not defined in framework {side.framework!r}"
                problems.append(([*loc, key], msg))
        if (m.from_, m.to) in seen:
            problems.append((loc, f"duplicate mapping {m.from_!r} -> {m.to!r}"))
        seen.add((m.from_, m.to))
        if m.status is not None and STATUS_RANK[m.status] < STATUS_RANK[cw.status] and m.source is None:
            problems.append(
                (
                    [*loc, "status"],
                    f"status {m.status!r} is stronger than the crosswalk's "
                    f"{cw.status!r}; cite the source that supports it",
                )
            )
    problems += source_problems(cw)
    return problems
