"""Raw answers joined to a bank's keys: the input of classical item and distractor analysis.

A pilot's answers come as a long CSV ``person,item,response`` (or any iterable of (person, item, answer) rows, such
as the response store's answers): the response cell holds the raw answer, an option id for a multiple-choice
item, JSON for the formats answered with a list or a mapping (``["a","c"]``, ``{"p1":"x"}``), the typed text for a
short answer, the category number for a self-assessment or parameter-only item. Each answer is scored by the bank
(:func:`digicomp.bank.scoring.score`, the one place where an answer becomes a score), so every format scores as it
does in a live test; single-choice answers also keep which option was chosen, for the distractor tables.

Identical (item, cell) pairs are scored once: a pilot repeats the same few answers per item many times.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.analysis.classical import ClassicalAnalysis, classical_analysis, proportion_totals
from digicomp.analysis.distractors import NominalOptionTable, OptionTable, distractor_analysis, nominal_distractors
from digicomp.bank.formats import max_score
from digicomp.bank.scoring import score as score_answer
from digicomp.errors import ResponseError
from digicomp.io.csvfile import read_csv_rows

COLUMNS = ("person", "item", "response")


@dataclass
class ScoredAnswers:
    """Scores (persons × items, NaN = not answered) and, for single-choice items, the option chosen.

    ``choices`` holds the position of the chosen option in ``options[j]`` (-1: not answered, or not a single-choice
    item); ``keys`` the key's position (-1 for items without one); ``unanswered`` the bank items nobody answered
    (left out of the matrices, listed here rather than dropped silently).
    """

    person_ids: list[str]
    item_ids: list[str]
    scores: NDArray[np.float64]
    max_scores: NDArray[np.float64]
    choices: NDArray[np.intp]
    options: list[list[str]]
    keys: NDArray[np.intp]
    unanswered: list[str] = field(default_factory=list)


def read_answers(source: Any) -> list[tuple[str, str, str, Any]]:
    """(where, person, item, raw answer) of every row of a long answers CSV (path or text buffer).

    ``where`` is ``file:line`` for messages. A cell starting with ``[`` or ``{`` is read as JSON.
    """
    rows, where = read_csv_rows(source, ResponseError, "answers file")
    if not rows:
        raise ResponseError(f"{where}: no answers (need a header person,item,response and rows)")
    header = [h.strip().lower() for h in rows[0][1]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ResponseError(f"{where}:{rows[0][0]}: an answers file needs the columns person, item, response; "
                            f"missing {', '.join(missing)}")
    col = {c: header.index(c) for c in COLUMNS}
    out = []
    for line, cells in rows[1:]:
        if len(cells) != len(header):
            raise ResponseError(f"{where}:{line}: the row has {len(cells)} fields, the header has {len(header)}")
        cell = cells[col["response"]].strip()
        if cell[:1] in ("[", "{"):
            try:
                answer: Any = json.loads(cell)
            except json.JSONDecodeError as exc:
                raise ResponseError(f"{where}:{line}: response {cell!r} is not valid JSON ({exc.msg})") from None
        else:
            answer = cell
        out.append((f"{where}:{line}", cells[col["person"]].strip(), cells[col["item"]].strip(), answer))
    return out


def answers_from_store(store: Any, bank: Any, statuses: tuple[str, ...] = ("finished",)) -> list[tuple]:
    """(where, session id, item, raw answer) of every stored response to this version of ``bank``.

    Sessions of these ``statuses`` only, as :meth:`ResponseStore.read_responses` reads them; ``where`` names the
    store and the session. A response stored without its raw answer (an old record) is a ResponseError: its option
    cannot be recovered for the distractor tables.
    """
    fp = bank.fingerprint
    marks = ", ".join("?" * len(statuses))
    sql = (
        "SELECT s.session_id, r.position, r.item_id, r.answer FROM responses r JOIN sessions s ON s.ref = "
        f"r.session_ref WHERE s.bank_fingerprint = ? AND s.status IN ({marks}) ORDER BY s.ref, r.position"
    )
    rows = []
    for session, position, item, answer in store.stream(sql, (fp, *statuses)):
        where = f"{store.url}: session {session!r}, position {position}"
        if answer is None:
            raise ResponseError(f"{where}: item {item!r} was stored without its raw answer")
        rows.append((where, str(session), str(item), json.loads(answer)))
    return rows


def _category(item: Any, answer: Any, where: str) -> int:
    """A self-assessment or parameter-only item is answered with its category number."""
    text = str(answer).strip()
    if not text.isdigit():
        raise ResponseError(f"{where}: item {item.id!r} is answered with its category number, got {answer!r}")
    k = int(text)
    top = max_score(item)
    if top is not None and k > top:
        raise ResponseError(f"{where}: item {item.id!r}: category {k} is above its highest, {top}")
    return k


def score_answers(bank: Any, answers: Iterable[tuple[str, str, str, Any]]) -> ScoredAnswers:
    """Score (where, person, item, answer) rows against ``bank``; a bad row is a ResponseError naming where.

    Items keep the bank's order (those nobody answered are listed in ``unanswered``); persons their first
    appearance. A (person, item) pair answered twice is refused.
    """
    rows = list(answers)
    bank_ids = [it.id for it in bank]
    by_id = {it.id: it for it in bank}
    answered = {r[2] for r in rows}
    unknown = sorted(answered - set(by_id))
    if unknown:
        first = next(r for r in rows if r[2] == unknown[0])
        raise ResponseError(f"{first[0]}: item {unknown[0]!r} is not in bank {bank.id!r}"
                            f"{f' (and {len(unknown) - 1} more unknown items)' if len(unknown) > 1 else ''}")
    item_ids = [i for i in bank_ids if i in answered]
    col = {i: j for j, i in enumerate(item_ids)}
    persons: dict[str, int] = {}
    for r in rows:
        persons.setdefault(r[1], len(persons))
    P, J = len(persons), len(item_ids)
    items = [by_id[i] for i in item_ids]
    single = [it.kind == "multiple_choice" for it in items]
    options = [[o.id for o in it.options] if s else [] for it, s in zip(items, single)]
    keys = np.array([opts.index(it.key) if s else -1 for it, s, opts in zip(items, single, options)], dtype=np.intp)
    tops = [max_score(it) for it in items]
    scores = np.full((P, J), np.nan)
    choices = np.full((P, J), -1, dtype=np.intp)
    seen: dict[tuple[int, int], str] = {}
    cache: dict[tuple[int, str], tuple[float, int]] = {}
    for where, person, item_id, answer in rows:
        p, j = persons[person], col[item_id]
        if (p, j) in seen:
            raise ResponseError(f"{where}: person {person!r} answered item {item_id!r} already at {seen[p, j]}")
        seen[p, j] = where
        key = (j, json.dumps(answer, ensure_ascii=False, sort_keys=False))
        hit = cache.get(key)
        if hit is None:
            item = items[j]
            try:
                if item.kind in ("self_assessment", "parameters"):
                    hit = (float(_category(item, answer, where)), -1)
                else:
                    _, s = score_answer(item, answer)
                    hit = (float(s), options[j].index(answer) if single[j] else -1)
            except ResponseError as exc:
                raise ResponseError(f"{where}: {exc}") from None
            cache[key] = hit
        scores[p, j], choices[p, j] = hit
    observed_top = np.nanmax(np.where(np.isnan(scores), 0.0, scores), axis=0) if P else np.zeros(J)
    max_scores = np.array([t if t else max(o, 1.0) for t, o in zip(tops, observed_top)], dtype=float)
    unanswered = [i for i in bank_ids if i not in answered]
    return ScoredAnswers(list(persons), item_ids, scores, max_scores, choices, options, keys, unanswered)


def item_analysis(
    bank: Any, answers: Any, *, n_groups: int = 5, **options: Any
) -> tuple[ScoredAnswers, ClassicalAnalysis, OptionTable]:
    """Classical item statistics and distractor tables of a pilot, from its raw answers and ``bank``'s keys.

    ``answers``: a long CSV (path or buffer) or rows as :func:`read_answers` gives them. ``options`` go to
    :func:`digicomp.analysis.classical_analysis` (``min_r``, ``min_p``, ``max_p``, ``level``).
    """
    rows = read_answers(answers) if isinstance(answers, (str, bytes)) or hasattr(answers, "read") or hasattr(
        answers, "__fspath__"
    ) else answers
    data = score_answers(bank, rows)
    classical = classical_analysis(data.scores, item_ids=data.item_ids, max_scores=data.max_scores, **options)
    mcq = np.flatnonzero(data.keys >= 0)
    table = distractor_analysis(
        data.choices[:, mcq],
        [data.options[j] for j in mcq],
        data.keys[mcq],
        data.scores,
        item_ids=[data.item_ids[j] for j in mcq],
        max_scores=data.max_scores,
        n_groups=n_groups,
        score_columns=mcq,
    )
    return data, classical, table


def nominal_item_analysis(
    data: ScoredAnswers, *, min_share: float = 0.05, **options: Any
) -> tuple[Any, NominalOptionTable, dict[str, str]]:
    """The nominal response model on the options chosen for the multiple-choice items of ``data``, and its
    distractor table (:func:`digicomp.analysis.nominal_distractors`).

    An item some option of which nobody chose cannot be fitted (that option's parameters would be infinite): it is
    left out and listed, with the reason, in the returned dict (item id → why). ``options`` go to
    :func:`digicomp.calibration.calibrate_nominal`. Returns (calibration, option table, excluded items); the
    calibration's categories of an item are its options in the order of the table's rows for it (weakest distractor
    first, key last).
    """
    from digicomp.calibration.nominal import calibrate_nominal
    from digicomp.responses import Responses

    excluded: dict[str, str] = {}
    use = []
    for j in np.flatnonzero(data.keys >= 0):
        counts = np.bincount(data.choices[:, j][data.choices[:, j] >= 0], minlength=len(data.options[j]))
        never = [data.options[j][k] for k in np.flatnonzero(counts == 0)]
        if never:
            excluded[data.item_ids[j]] = f"option(s) {', '.join(never)} never chosen"
        else:
            use.append(int(j))
    if not use:
        raise ResponseError("no multiple-choice item with every option chosen: the nominal model cannot be fitted")
    # category order per item: the option whose choosers score lowest first (ak = 0), the key last (ak = m - 1), so
    # that mirt's identification puts a1 on the key's contrast with the weakest distractor (positive and well
    # determined) rather than on whichever options happen to be first and last
    prop = proportion_totals(data.scores, data.max_scores)[2]
    choices = np.full((data.choices.shape[0], len(use)), np.nan)
    names, perms = [], []
    for c, j in enumerate(use):
        col = data.choices[:, j]
        m = len(data.options[j])
        seen = col >= 0
        strength = np.bincount(col[seen], np.nan_to_num(prop[seen]), m) / np.bincount(col[seen], minlength=m)
        others = [k for k in np.argsort(strength, kind="stable") if k != data.keys[j]]
        perm = [*others, int(data.keys[j])]
        inverse = np.argsort(perm)
        choices[seen, c] = inverse[col[seen]]
        names.append([data.options[j][k] for k in perm])
        perms.append(perm)
    answered = ~np.isnan(choices).all(axis=1)
    resp = Responses.from_dense(choices[answered], item_ids=[data.item_ids[j] for j in use])
    cal = calibrate_nominal(resp, **options)
    keys = np.array([len(p) - 1 for p in perms], dtype=np.intp)
    table = nominal_distractors(cal.params, keys, names, min_peak=min_share)
    return cal, table, excluded
