"""Raw answers joined to a bank's keys: the input of classical item and distractor analysis.

A pilot's answers come as a long CSV ``person,item,response`` (or any iterable of (where, person, item, answer)
rows, such as the response store's answers): the response cell holds the raw answer, an option id for a
multiple-choice item, JSON for the formats answered with a list or a mapping (``["a","c"]``, ``{"p1":"x"}``), the
typed text for a short answer, the category number for a self-assessment or parameter-only item. Scoring is
:func:`digicomp.face.pilot.score_answers`, the one vectorised scorer (``digicomp analyze`` uses it too), which
scores the other formats by the bank (:func:`digicomp.bank.scoring.score`) so each format scores as in a live test;
multiple-choice answers also keep which option was chosen, for the distractor tables.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from digicomp.analysis.classical import ClassicalAnalysis, classical_analysis, proportion_totals
from digicomp.analysis.distractors import NominalOptionTable, OptionTable, distractor_analysis, nominal_distractors
from digicomp.errors import ResponseError
from digicomp.face.pilot import ScoredAnswers, score_answers
from digicomp.io.csvfile import read_csv_rows

__all__ = [
    "ScoredAnswers",
    "answers_from_store",
    "item_analysis",
    "nominal_item_analysis",
    "read_answers",
    "score_answers",
]

COLUMNS = ("person", "item", "response")


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
        raise ResponseError(
            f"{where}:{rows[0][0]}: an answers file needs the columns person, item, response; "
            f"missing {', '.join(missing)}"
        )
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


def item_analysis(
    bank: Any, answers: Any, *, n_groups: int = 5, **options: Any
) -> tuple[ScoredAnswers, ClassicalAnalysis, OptionTable]:
    """Classical item statistics and distractor tables of a pilot, from its raw answers and ``bank``'s keys.

    ``answers``: a long or wide CSV (path or buffer) or rows as :func:`read_answers` gives them. ``options`` go to
    :func:`digicomp.analysis.classical_analysis` (``min_r``, ``min_p``, ``max_p``, ``level``).
    """
    data = score_answers(bank, answers)
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
