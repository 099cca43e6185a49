"""Rater scores of rated tasks: read, checked against the bank's rubrics, resolved into one score, and agreement.

A ratings file is a long CSV ``person,item,rater,criterion,points``: one row per criterion a rater scored. Every
rater of a response scores every criterion of the item's rubric, in whole points 0..the criterion's maximum; every
problem of the file is reported at once, by line. Two or more raters of one response either agree on every
criterion (their rating stands), or the ``adjudicator``'s rating decides, or, under rule ``lower``, each criterion
takes the lowest of the raters' points. Left undecided, the disagreements are an error that lists each one, so that
nothing is scored by a guess. The resolved totals are the item scores 0..K that ``digicomp score`` and
``digicomp calibrate`` read (long format, ``person,item,response``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from digicomp.analysis.agreement import Agreement, agreement
from digicomp.bank.schema import Item
from digicomp.errors import ResponseError
from digicomp.io.csvfile import read_csv_rows

COLUMNS = ("person", "item", "rater", "criterion", "points")
RULES = ("adjudicate", "lower")
_SHOWN = 25
"""Problems listed in full in one error message (the count of the rest follows)."""


@dataclass(frozen=True)
class Ratings:
    """Per (person, item) the raters in file order and each rater's points per criterion."""

    by_response: dict[tuple[str, str], dict[str, dict[str, int]]]
    where: str


@dataclass(frozen=True)
class Resolved:
    """One score per rated response: ``(person, item, score, how)`` with how single/agreed/adjudicated/lower."""

    rows: list[tuple[str, str, int, str]]
    agreement: dict[str, Agreement]
    criteria: dict[str, dict[str, float]] = field(default_factory=dict)
    overall: Agreement | None = None

    def to_dict(self) -> dict[str, Any]:
        """The agreement report as plain JSON data (per item, per criterion, overall) with the resolution counts."""
        how = [r[3] for r in self.rows]
        return {
            "responses": len(self.rows),
            "resolution": {h: how.count(h) for h in ("single", "agreed", "adjudicated", "lower")},
            "overall": None if self.overall is None else self.overall.to_dict(),
            "items": {
                item: {**a.to_dict(), "criteria_exact": self.criteria.get(item, {})}
                for item, a in self.agreement.items()
            },
        }


def read_ratings(source: Any, bank: Any) -> Ratings:
    """Read a ratings CSV (path or text buffer) against ``bank``'s rated tasks; every problem reported at once."""
    rows, where = read_csv_rows(source, ResponseError, "ratings file")
    if not rows:
        raise ResponseError(f"{where}: no ratings (need a header {','.join(COLUMNS)} and rows)")
    header = [h.strip().lower() for h in rows[0][1]]
    missing = [c for c in COLUMNS if c not in header]
    if missing or len(header) != len(set(header)):
        raise ResponseError(
            f"{where}:1: a ratings file has the columns {', '.join(COLUMNS)} once each; missing {missing or 'none'}"
        )
    col = [header.index(c) for c in COLUMNS]
    items = {item.id: item for item in bank.spec.items}
    problems: list[str] = []
    out: dict[tuple[str, str], dict[str, dict[str, int]]] = {}
    seen: dict[tuple[str, str, str, str], int] = {}
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            problems.append(f"{where}:{line}: {len(cells)} fields for {len(header)} columns")
            continue
        person, item_id, rater, criterion, points = (cells[k].strip() for k in col)
        problem = _row_problem(items, bank.id, person, item_id, rater, criterion, points)
        if problem:
            problems.append(f"{where}:{line}: {problem}")
            continue
        first = seen.setdefault((person, item_id, rater, criterion), line)
        if first != line:
            problems.append(
                f"{where}:{line}: rater {rater!r} scored {criterion!r} of {item_id!r} for {person!r} "
                f"again (first on line {first})"
            )
            continue
        out.setdefault((person, item_id), {}).setdefault(rater, {})[criterion] = int(points)
    for (person, item_id), raters in out.items():
        rubric = [c.id for c in items[item_id].rubric]
        for rater, points in raters.items():
            left = [c for c in rubric if c not in points]
            if left:
                problems.append(f"{where}: rater {rater!r} gave {person!r} on {item_id!r} no points for {left}")
    _raise(problems, "the ratings file")
    return Ratings(out, where)


def _row_problem(
    items: dict[str, Item], bank_id: str, person: str, item_id: str, rater: str, criterion: str, points: str
) -> str | None:
    if not person or not rater:
        return "person and rater must not be empty"
    item = items.get(item_id)
    if item is None:
        return f"item {item_id!r} is not in bank {bank_id!r}"
    if item.kind != "rated_task":
        return f"item {item_id!r} is a {item.kind} item, not a rated task"
    maxima = {c.id: c.points for c in item.rubric}
    if criterion not in maxima:
        return f"item {item_id!r} has no criterion {criterion!r} (its rubric: {list(maxima)})"
    if not points.isdigit() or int(points) > maxima[criterion]:
        return (
            f"criterion {criterion!r} of {item_id!r} is scored 0..{maxima[criterion]} in whole points, got {points!r}"
        )
    return None


def _raise(problems: list[str], what: str) -> None:
    if problems:
        more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise ResponseError(f"{len(problems)} problem(s) in {what}: " + "; ".join(problems[:_SHOWN]) + more)


def resolve(ratings: Ratings, bank: Any, adjudicator: str | None = None, rule: str = "adjudicate") -> Resolved:
    """One score per rated response, and the agreement of each response's first two raters (not the adjudicator).

    Disagreements (any criterion scored differently) go to the ``adjudicator``'s rating when there is one, else by
    ``rule``: ``lower`` takes each criterion's lowest points; ``adjudicate`` leaves them undecided, which is an
    error listing every one of them.
    """
    if rule not in RULES:
        raise ResponseError(f"unknown resolution rule {rule!r}; expected one of {', '.join(RULES)}")
    rows: list[tuple[str, str, int, str]] = []
    pairs: dict[str, list[tuple[dict[str, int], dict[str, int]]]] = {}
    undecided: list[str] = []
    for (person, item_id), raters in ratings.by_response.items():
        judge = raters.get(adjudicator) if adjudicator is not None else None
        others = [points for rater, points in raters.items() if rater != adjudicator]
        if len(others) >= 2:
            pairs.setdefault(item_id, []).append((others[0], others[1]))
        if not others:
            points, how = judge, "adjudicated"
        elif len(others) == 1:
            points, how = others[0], "single"
        elif all(p == others[0] for p in others[1:]):
            points, how = others[0], "agreed"
        elif judge is not None:
            points, how = judge, "adjudicated"
        elif rule == "lower":
            points, how = {c: min(p[c] for p in others) for c in others[0]}, "lower"
        else:
            undecided.append(f"{person!r} on {item_id!r} (raters {', '.join(r for r in raters if r != adjudicator)})")
            continue
        rows.append((person, item_id, sum(points.values()), how))
    if undecided:
        _raise(
            [f"raters disagree on {u}" for u in undecided],
            f"{ratings.where} (give an adjudicator's rating, --adjudicator RATER, or --resolve lower)",
        )
    return Resolved(rows, *_agreement(pairs, bank))


def _agreement(
    pairs: dict[str, list[tuple[dict[str, int], dict[str, int]]]], bank: Any
) -> tuple[dict[str, Agreement], dict[str, dict[str, float]], Agreement | None]:
    """Per item the agreement on totals and the exact agreement per criterion; overall exact and adjacent."""
    per_item, per_criterion = {}, {}
    firsts, seconds = [], []
    for item_id in sorted(pairs):
        rubric = bank.item(item_id).rubric
        a = np.array([[p[c.id] for c in rubric] for p, _ in pairs[item_id]])
        b = np.array([[q[c.id] for c in rubric] for _, q in pairs[item_id]])
        k = sum(c.points for c in rubric)
        per_item[item_id] = agreement(a.sum(axis=1), b.sum(axis=1), k + 1)
        per_criterion[item_id] = {c.id: round(float(np.mean(a[:, j] == b[:, j])), 4) for j, c in enumerate(rubric)}
        firsts.append(a.sum(axis=1))
        seconds.append(b.sum(axis=1))
    if not firsts:
        return per_item, per_criterion, None
    x, y = np.concatenate(firsts), np.concatenate(seconds)
    diff = np.abs(x - y)
    return (
        per_item,
        per_criterion,
        Agreement(int(x.size), float(np.mean(diff == 0)), float(np.mean(diff <= 1)), float("nan")),
    )
