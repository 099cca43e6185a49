"""Pretest items seeded into live tests: uncalibrated items given at random positions, stored but not scored.

A design's ``seeding`` section names the candidate items (by id or flag) and how many each test taker gets.
Which candidates and which positions (among the first ``within`` of the test) are counter-based draws from the
session key, so a resumed session and a lock-step batch give the same plan. Seeded items never enter the
posterior, the selection or the stopping rules; candidates are kept out of adaptive selection altogether.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, model_validator

from digicomp.cat.draws import uniforms
from digicomp.errors import DesignError
from digicomp.io.yamlfile import format_path

STREAM_SEEDING = 8
"""Draw stream of the seeding plan (after the streams of digicomp.cat.draws)."""


class Seeding(BaseModel):
    """Design section ``seeding``: give ``n`` of the candidate pretest items at random positions 1..``within``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    n: Annotated[int, Field(ge=1)]
    items: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    within: Annotated[int, Field(ge=1)] = 10

    @model_validator(mode="after")
    def _candidates_and_room(self) -> Seeding:
        if not self.items and not self.flags:
            raise ValueError("seeding needs the candidate pretest 'items' (ids) or the 'flags' that mark them")
        if self.within < self.n:
            raise ValueError(f"within = {self.within} leaves no room for n = {self.n} seeded items")
        return self


def seeding_problems(bank: Any, spec: Seeding) -> list[tuple[tuple[str | int, ...], str]]:
    """Every place where ``spec`` does not fit ``bank``: unknown items, fewer candidates than ``n``."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    known = set(bank.ids)
    for k, item_id in enumerate(spec.items):
        if item_id not in known:
            out.append((("seeding", "items", k), f"bank {bank.id!r} has no item {item_id!r}"))
    n = _candidates(bank, spec).sum()
    if n < spec.n and not out:  # unknown items already explain a shortfall
        out.append((("seeding",), f"bank {bank.id!r} has {n} candidate pretest items, fewer than n = {spec.n}"))
    return out


def _candidates(bank: Any, spec: Seeding) -> NDArray[np.bool_]:
    """Per bank item: a candidate pretest item (named, or carrying one of the flags)."""
    chosen = np.isin(np.array(bank.ids, dtype=object), spec.items) if spec.items else np.zeros(bank.n_items, bool)
    if spec.flags:
        chosen |= np.array([bool(set(it.flags or []) & set(spec.flags)) for it in bank.spec.items])
    return chosen


def seeding_candidates(bank: Any, spec: Seeding) -> NDArray[np.intp]:
    """Bank positions of the candidate pretest items, in bank order (DesignError naming every problem)."""
    problems = seeding_problems(bank, spec)
    if problems:
        raise DesignError("; ".join(f"{format_path(loc)}: {msg}" for loc, msg in problems))
    return np.flatnonzero(_candidates(bank, spec))


@dataclass(frozen=True)
class SeedPlan:
    """The candidates and rules of a design's seeding, ready to draw each person's plan."""

    candidates: NDArray[np.intp]
    n: int
    within: int

    @classmethod
    def build(cls, bank: Any, spec: Seeding) -> SeedPlan:
        """The plan of ``spec`` over ``bank`` (DesignError for unknown items or too few candidates)."""
        return cls(seeding_candidates(bank, spec), spec.n, spec.within)

    def draw(self, keys: NDArray[np.uint64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """Per person key (N,): the seeded items' bank positions and 1-based test positions, each (N, n), increasing."""
        keys = np.asarray(keys, dtype=np.uint64)
        u = uniforms(keys, np.zeros(keys.size, np.int64), STREAM_SEEDING, np.arange(self.candidates.size))
        items = self.candidates[np.argsort(u, axis=1, kind="stable")[:, : self.n]]
        v = uniforms(keys, np.ones(keys.size, np.int64), STREAM_SEEDING, np.arange(self.within))
        positions = np.sort(np.argsort(v, axis=1, kind="stable")[:, : self.n], axis=1) + 1
        return items, positions
