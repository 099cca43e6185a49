"""What a paper sitting needs from an assembled form: the form as a bank subset, its key, and its scoring table.

The scoring table maps each sum score (number correct, with partial-credit items adding their category) to the
EAP of θ given that score and its posterior SD (Thissen, Pommerich, Billeaud & Williams 1995), from the score
distribution given θ by the Lord–Wingersky (1984) recursion (:mod:`digicomp.scoring.sum_score`), and to the
reporting level holding that EAP (the bank's cut scores; a θ on a cut is in the level above, as everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.assembly.errors import AssemblyError
from digicomp.levels import level_index, level_probabilities
from digicomp.scoring.quadrature import NormalPrior
from digicomp.scoring.sum_score import sum_score_table


@dataclass(frozen=True)
class ScoringTable:
    """Per sum score 0..S: θ (EAP given the score), SE (posterior SD), level id and the level probabilities."""

    score: NDArray[np.int64]
    theta: NDArray[np.float64]
    se: NDArray[np.float64]
    level: list[str | None]
    level_probabilities: NDArray[np.float64]
    levels: list[str]
    reliability: float

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per sum score (what the CSV and the booklet show)."""
        out = []
        for s in range(self.score.size):
            row = {"score": int(self.score[s]), "theta": float(self.theta[s]), "se": float(self.se[s])}
            if self.levels:
                row["level"] = self.level[s]
                row.update({f"p_{lv}": float(p) for lv, p in zip(self.levels, self.level_probabilities[s])})
            out.append(row)
        return out

    def lookup(self, sums: NDArray[np.int64]) -> list[dict[str, Any]]:
        """The rows of these sum scores; AssemblyError for a sum outside 0..S."""
        sums = np.asarray(sums, np.int64)
        if sums.size and (sums.min() < 0 or sums.max() > self.score[-1]):
            raise AssemblyError(f"sum scores must lie in 0..{int(self.score[-1])}")
        rows = self.rows()
        return [rows[int(s)] for s in sums]


def scoring_table(bank: Any, items: NDArray[np.intp] | None = None, prior: NormalPrior | None = None) -> ScoringTable:
    """The sum-score table of the form made of ``items`` (default: the whole bank, e.g. a form's subset bank)."""
    prior = prior or NormalPrior()
    table = sum_score_table(bank.params, items=items, prior=prior)
    cuts = np.asarray(bank.cut_scores, float)
    levels = list(bank.scale.levels or []) if cuts.size else []
    if cuts.size and len(levels) != cuts.size + 1:
        levels = [f"level {k + 1}" for k in range(cuts.size + 1)]
    # posterior of θ on the table's grid given each score: P(s | θ_q) times the prior's weights
    weights = np.exp(-0.5 * ((table.points - prior.mean) / prior.sd) ** 2)
    joint = table.likelihood.T * weights[None, :]
    post = joint / joint.sum(axis=1, keepdims=True)
    probs = level_probabilities(post, table.points, cuts) if cuts.size else np.zeros((table.score.size, 0))
    lv = [levels[k] for k in level_index(table.eap, cuts)] if cuts.size else [None] * table.score.size
    return ScoringTable(table.score, table.eap, table.sd, lv, probs, levels, table.reliability)


def form_bank_data(bank: Any, items: NDArray[np.intp], form_id: str, title: dict[str, str] | None = None) -> dict:
    """The bank file of one form: the bank's header and the form's items in the given order.

    Enemies are left out (a form holds no two enemies, and enemies outside the form would name missing items).
    """
    data = bank.to_dict()
    data["id"] = form_id
    if title is not None:
        data["title"] = title
    chosen = []
    for j in items:
        item = dict(data["items"][int(j)])
        item.pop("enemies", None)
        chosen.append(item)
    data["items"] = chosen
    return data


def answer_key(bank: Any, items: NDArray[np.intp]) -> list[dict[str, Any]]:
    """Per position (1-based) the item id, its type and its key as text a marker can read."""
    out = []
    for pos, j in enumerate(items, start=1):
        item = bank.items[int(j)]
        out.append({"position": pos, "item": item.id, "type": item.kind, "key": key_text(item)})
    return out


def key_text(item: Any) -> str:
    """The correct answer of an item as short text: an option id, ids joined by '+', an order, pairs, answers."""
    kind = item.kind
    if kind == "multiple_choice":
        return str(item.key)
    if kind == "multiple_response":
        return "+".join(item.keys)
    if kind == "ordering":
        return " > ".join(item.key_order)
    if kind == "matching":
        number = {p.id: k for k, p in enumerate(item.premises, start=1)}  # as the booklet numbers them
        return ", ".join(f"{number[p]}-{c}" for p, c in sorted(item.key_map.items(), key=lambda pc: number[pc[0]]))
    if kind == "short_answer":
        answer = item.answer
        accepted = " | ".join(str(a) for a in (answer.accepted or []))
        return accepted + (f" (± {answer.tolerance:g})" if answer.tolerance else "")
    if kind == "rated_task":  # full marks in the sheet's notation: each criterion at its maximum
        return ",".join(f"{c.id}={c.points}" for c in item.rubric)
    return ""


def sheet_answer(item: Any, text: str) -> Any:
    """An answer as written on a paper answer sheet, in the form the bank's scoring takes.

    Multiple response ``A+C`` (or ``A,C``); ordering ``C>A>D>B`` (or commas); matching ``1-C,2-F`` by premise
    number or id (or ``C,F,...`` in premise order); rated task ``c1=2,c2=1`` (the rater's points per criterion);
    single choice and short answer as written.
    """
    kind = item.kind
    text = text.strip()
    if kind == "rated_task":
        return _rating(text)
    if kind == "multiple_response":
        return [p.strip() for p in text.replace(",", "+").split("+") if p.strip()]
    if kind == "ordering":
        return [p.strip() for p in text.replace(",", ">").split(">") if p.strip()]
    if kind == "matching":
        premises = [p.id for p in item.premises]
        out = {}
        for k, part in enumerate(p.strip() for p in text.split(",")):
            if "-" in part:
                left, right = (s.strip() for s in part.split("-", 1))
                left = premises[int(left) - 1] if left.isdigit() and 0 < int(left) <= len(premises) else left
            else:
                left, right = (premises[k] if k < len(premises) else str(k + 1)), part
            out[left] = right
        return out
    return text


def score_sheets(
    bank: Any, table: ScoringTable, header: list[str], rows: list[list[str]], where: str = "sheets"
) -> list[dict[str, Any]]:
    """Score paper answer sheets of the form ``bank`` (a form's subset bank, items in form order).

    ``header``: ``person`` then one column per item, named by item id or by position 1..n; ``rows`` the sheets.
    A blank answer scores 0 (as on paper); an answer the item cannot take (an option it lacks, two bubbles on a
    single-choice item) also scores 0 and is listed in the row's ``invalid`` column, never dropped silently.
    """
    from digicomp.bank.scoring import score as content_score
    from digicomp.errors import ResponseError

    if not header or header[0].strip().lower() != "person":
        raise AssemblyError(f"{where}:1: the first column must be 'person', then one column per item")
    ids = list(bank.ids)
    cols = []
    for c, name in enumerate(header[1:], start=2):
        name = name.strip()
        if name in ids:
            cols.append(ids.index(name))
        elif name.isdigit() and 1 <= int(name) <= len(ids):
            cols.append(int(name) - 1)
        else:
            raise AssemblyError(
                f"{where}:1: column {c} {name!r} is neither an item of form {bank.id!r} nor 1..{len(ids)}"
            )
    missing = sorted(set(range(len(ids))) - set(cols))
    if missing or len(set(cols)) != len(cols):
        raise AssemblyError(
            f"{where}:1: the sheet needs each of the form's {len(ids)} items once "
            f"(missing positions {[m + 1 for m in missing]})"
        )
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise AssemblyError(f"{where}:{line}: {len(row)} cells for {len(header)} columns")
    unrated = [
        f"{where}:{line}: position {j + 1} ({ids[j]})"
        for line, row in enumerate(rows, start=2)
        for j, cell in zip(cols, row[1:])
        if bank.is_rated[j] and not cell.strip()
    ]
    if unrated:  # a blank is 0 on paper, but a task not yet rated is not a task answered wrongly
        raise AssemblyError("rated tasks without their rating (c1=2,c2=1,...): " + "; ".join(unrated))
    out = []
    for row in rows:
        total, invalid = 0, []
        for j, cell in zip(cols, row[1:]):
            if not cell.strip():
                continue
            item = bank.items[j]
            try:
                total += int(content_score(item, sheet_answer(item, cell))[1])
            except (ResponseError, ValueError, IndexError):
                invalid.append(str(j + 1))
        result = table.lookup(np.array([total]))[0]
        out.append(
            {
                "person": row[0],
                "sum_score": total,
                "theta": result["theta"],
                "se": result["se"],
                "level": result.get("level"),
                "invalid": " ".join(invalid),
            }
        )
    return out


def _rating(text: str) -> dict[str, Any]:
    """``c1=2,c2=1`` (commas or semicolons) as {criterion: points}; points stay text when not a whole number,
    so that scoring names the criterion and the value."""
    out: dict[str, Any] = {}
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if part:
            name, _, value = (s.strip() for s in part.partition("="))
            out[name] = int(value) if value.isdigit() else value
    return out
