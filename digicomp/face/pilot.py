"""Pilot data joined to a bank: raw answers scored with the bank's keys, and person groups from a CSV.

A pilot file is long (``person,item,response``) or wide (``person`` then one column per item); an empty cell is
"not administered". A multiple-choice item's answer must be one of its option ids and is scored by its key; a
self-assessment item or an item without content (parameters only) takes its category 0..K-1 as given (an item
without options and key given a letter cannot be scored); the other formats go through the bank's own scoring
(:mod:`digicomp.bank.scoring`, list and mapping answers as JSON cells). Every refusal names the file and line.

This is the vectorised counterpart of :func:`digicomp.face.analysis.score_answers` for ``digicomp analyze``: the
cells are split in one pass and each distinct (item, answer) pair is scored once (a 600,000-row pilot in ~2 s,
where the row-by-row reader takes ~11 s on the same machine).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import DigicompError
from digicomp.io.csvfile import read_csv_rows
from digicomp.models import ItemParameters
from digicomp.responses import Responses


class PilotError(DigicompError, ValueError):
    """A pilot or person file that does not fit the bank or the responses."""


@dataclass
class PilotData:
    """Scored pilot responses aligned with the bank's items (those answered, in bank order)."""

    responses: Responses  # scored categories, persons × items
    scores: NDArray[np.float64]  # dense scores, NaN = not administered
    choices: NDArray[np.intp]  # position of the chosen option (-1: not answered or not multiple choice)
    options: list[list[str]]
    keys: NDArray[np.intp]  # position of the key (-1: no key)
    params: ItemParameters  # the bank's parameters of these items
    kinds: list[str]
    source: str
    not_in_pilot: list[str] = field(default_factory=list)  # bank items nobody was given


def read_pilot(path: Any, bank: Any) -> PilotData:
    """Read and score a pilot response file against ``bank`` (an ItemBank)."""
    body_lines, header, cells, where = _read_rows(path)
    header = [c.strip() for c in header]
    if not header or header[0].lower() != "person":
        raise PilotError(f"{where}:{body_lines[0] - 1 if body_lines.size else 1}: the first column must be 'person'")
    width = len(header)
    cells = np.char.strip(cells)
    if [h.lower() for h in header] == ["person", "item", "response"]:
        person, item, answer, line = cells[:, 0], cells[:, 1], cells[:, 2], body_lines
    else:
        items = np.array(header[1:], dtype=str)
        person = np.repeat(cells[:, 0], width - 1)
        item = np.tile(items, cells.shape[0])
        answer = cells[:, 1:].ravel()
        line = np.repeat(body_lines, width - 1)
    given = answer != ""
    person, item, answer, line = person[given], item[given], answer[given], line[given]
    if person.size == 0:
        raise PilotError(f"{where}: no response in the file")
    empty = np.flatnonzero(person == "")
    if empty.size:
        raise PilotError(f"{where}:{line[empty[0]]}: empty person id")
    bank_ids = [it.id for it in bank.items]
    names, i_code = np.unique(item, return_inverse=True)
    unknown = [k for k, i in enumerate(names.tolist()) if i not in bank]
    if unknown:
        k = int(np.flatnonzero(np.isin(i_code, unknown))[0])
        raise PilotError(
            f"{where}:{line[k]}: item {str(item[k])!r} is not in bank {bank.id!r} "
            f"({len(unknown)} unknown item id(s) in all)"
        )
    present = set(names.tolist())
    ids = [i for i in bank_ids if i in present]
    pos = {i: j for j, i in enumerate(ids)}
    j_of_name = np.array([pos[i] for i in names.tolist()], dtype=np.intp)
    j_idx = j_of_name[i_code]
    bank_items = [bank[i] for i in ids]
    params = bank.params.subset(bank.index_of(ids))
    kinds = [it.kind for it in bank_items]
    options = [[o.id for o in it.options] if it.kind == "multiple_choice" else [] for it in bank_items]
    keys = np.array([opts.index(it.key) if opts else -1 for opts, it in zip(options, bank_items)], dtype=np.intp)
    # score each distinct (item, answer) pair once
    answers, a_code = np.unique(answer, return_inverse=True)
    pair = j_idx.astype(np.int64) * answers.size + a_code
    uniq, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
    u_score = np.empty(uniq.size, dtype=np.int64)
    u_choice = np.full(uniq.size, -1, dtype=np.intp)
    K = params.n_categories
    for u in np.argsort(first, kind="stable"):  # in file order: a refusal names the first bad line
        k = int(first[u])
        j = int(j_idx[k])
        u_score[u], u_choice[u] = _score_one(
            bank_items[j], kinds[j], options[j], int(K[j]), str(answer[k]), where, int(line[k])
        )
    score, choice = u_score[inverse], u_choice[inverse]
    pids, p_idx = np.unique(person, return_inverse=True)
    key = p_idx.astype(np.int64) * len(ids) + j_idx
    order = np.argsort(key, kind="stable")
    dup = np.flatnonzero(np.diff(key[order]) == 0)
    if dup.size:
        k = int(order[dup[0] + 1])
        raise PilotError(f"{where}:{line[k]}: person {str(person[k])!r} answered item {str(item[k])!r} a second time")
    n, J = pids.size, len(ids)
    scores = np.full((n, J), np.nan)
    scores[p_idx, j_idx] = score
    choices = np.full((n, J), -1, dtype=np.intp)
    choices[p_idx, j_idx] = choice
    resp = Responses(p_idx[order], j_idx[order], score[order], n, J, pids.tolist(), ids)
    return PilotData(
        resp, scores, choices, options, keys, params, kinds, where, [i for i in bank_ids if i not in present]
    )


def _read_rows(path: Any) -> tuple[NDArray[np.int64], list[str], NDArray[np.str_], str]:
    """(line of each body row, header, body cells (rows, width), name) of a CSV file.

    A file without quotes, blank lines or CR is split in one pass over the whole text (a 600,000-row pilot in
    well under a second); anything else goes through :func:`read_csv_rows`. A row of another width than the
    header is a PilotError naming its line.
    """
    where = str(path)
    lines: list[int] | NDArray[np.int64]
    if not hasattr(path, "read"):
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise PilotError(f"{where}: cannot read the response file ({exc.strerror or exc})") from None
        text = None
        if b'"' not in raw and b"\x00" not in raw and b"\r" not in raw:
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = None
        if text is not None and text.strip() and not re.search(r"\n[ \t]*\n", text.strip("\n")):
            offset = len(text) - len(text.lstrip("\n"))
            body = text.strip("\n").split("\n")
            header = body[0].split(",")
            width = len(header)
            flat = ",".join(body[1:]).split(",") if len(body) > 1 else []
            if len(flat) == width * (len(body) - 1):
                lines = np.arange(2 + offset, 1 + offset + len(body), dtype=np.int64)
                return lines, header, np.array(flat, dtype=str).reshape(-1, width), where
    rows, where = read_csv_rows(path, PilotError, "response file")
    if not rows:
        raise PilotError(f"{where}: the response file is empty")
    header = rows[0][1]
    width = len(header)
    for ln, r in rows[1:]:
        if len(r) != width:
            raise PilotError(f"{where}:{ln}: expected {width} cells as the header ({', '.join(header)}), got {len(r)}")
    lines = np.array([ln for ln, _ in rows[1:]], dtype=np.int64)
    cells = np.array([r for _, r in rows[1:]], dtype=str).reshape(-1, width)
    return lines, header, cells, where


def _score_one(item: Any, kind: str, options: list[str], K: int, answer: str, where: str, line: int) -> tuple:
    """(score, option position) of one raw answer; PilotError naming the file line when it cannot be scored.

    Multiple choice: the option id against the key. Self-assessment and parameter-only items: the category number.
    Other formats (multiple response, ordering, matching, short answer): the bank's own scoring
    (:func:`digicomp.bank.scoring.score`), list and mapping answers written as JSON in the cell.
    """
    if kind == "multiple_choice":
        if answer not in options:
            raise PilotError(f"{where}:{line}: item {item.id!r}: answer {answer!r} is not one of its options {options}")
        return int(answer == item.key), options.index(answer)
    if kind in ("self_assessment", "parameters"):
        try:
            value = float(answer)
        except ValueError:
            what = "has no options or key in the bank" if kind == "parameters" else "is a self-assessment item"
            raise PilotError(
                f"{where}:{line}: item {item.id!r} {what}: its answer {answer!r} cannot be scored (give the score "
                f"category 0..{K - 1})"
            ) from None
        if value != int(value) or not 0 <= value < K:
            raise PilotError(f"{where}:{line}: item {item.id!r}: score {answer!r} is outside its categories 0..{K - 1}")
        return int(value), -1
    import json

    from digicomp.bank.scoring import score as bank_score

    raw: Any = answer
    if answer[:1] in ("[", "{"):
        try:
            raw = json.loads(answer)
        except json.JSONDecodeError as exc:
            raise PilotError(
                f"{where}:{line}: item {item.id!r}: answer {answer!r} is not valid JSON ({exc.msg})"
            ) from None
    try:
        return int(bank_score(item, raw)[1]), -1
    except DigicompError as exc:
        raise PilotError(f"{where}:{line}: {exc}") from None


def read_groups(path: Any, column: str, person_ids: list[str], min_persons: int = 100) -> tuple[NDArray, dict]:
    """One group label per person (in ``person_ids`` order) from a ``person,<column>...`` CSV.

    Refused (PilotError naming the file and line): no ``person`` or ``column`` column, an empty label, a person
    listed twice, persons of the responses missing from the file, a group with fewer than ``min_persons``
    persons. Persons of the file without responses are returned in the notes, not an error.
    """
    rows, where = read_csv_rows(path, PilotError, "person file")
    if not rows:
        raise PilotError(f"{where}: the person file is empty")
    header = [c.strip() for c in rows[0][1]]
    if "person" not in header:
        raise PilotError(f"{where}:{rows[0][0]}: no 'person' column (header: {', '.join(header)})")
    if column not in header:
        raise PilotError(f"{where}:{rows[0][0]}: no column {column!r} (header: {', '.join(header)})")
    pc, gc = header.index("person"), header.index(column)
    label: dict[str, str] = {}
    for ln, r in rows[1:]:
        if len(r) <= max(pc, gc):
            raise PilotError(f"{where}:{ln}: expected {len(header)} cells as the header")
        p, g = r[pc].strip(), r[gc].strip()
        if p in label:
            raise PilotError(f"{where}:{ln}: person {p!r} is listed a second time")
        if not g:
            raise PilotError(f"{where}:{ln}: person {p!r} has no {column!r}")
        label[p] = g
    missing = [p for p in person_ids if p not in label]
    if missing:
        raise PilotError(
            f"{where}: {len(missing)} person(s) of the responses are not in the person file (first: "
            f"{', '.join(map(repr, missing[:5]))})"
        )
    groups = np.array([label[p] for p in person_ids], dtype=object)
    names, counts = np.unique(groups.astype(str), return_counts=True)
    small = [(str(g), int(c)) for g, c in zip(names, counts) if c < min_persons]
    if small:
        listed = ", ".join(f"{g!r} ({c})" for g, c in small)
        raise PilotError(
            f"{where}: column {column!r}: group(s) {listed} have fewer than {min_persons} persons with responses "
            "(merge them or lower --min-group)"
        )
    if names.size < 2:
        raise PilotError(f"{where}: column {column!r} has one group ({str(names[0])!r}); DIF needs at least two")
    extra = sorted(set(label) - set(person_ids))
    return groups.astype(str), {"persons_without_responses": extra, "sizes": dict(zip(names.tolist(), counts.tolist()))}
