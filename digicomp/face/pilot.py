"""Raw pilot answers scored with a bank's keys (the one scorer), and person groups from a CSV.

Answers come as a CSV file (long ``person,item,response``, or wide: ``person`` then one column per item) or as
rows ``(where, person, item, answer)`` from elsewhere (:func:`digicomp.face.analysis.read_answers`, the response
store). An empty answer is "not administered". A multiple-choice item's answer must be one of its option ids and is
scored by its key; a self-assessment item or an item without content (parameters only) takes its category 0..K-1
as given (an item without options and key given a letter cannot be scored); the other formats (multiple response,
ordering, matching, short answer) go through the bank's own scoring (:mod:`digicomp.bank.scoring`, list and mapping
answers as JSON). Every refusal names ``file:line`` (or the row's ``where``).

Vectorised: the rows are grouped by item and answer (``np.unique`` over codes); multiple-choice answers are looked
up among their item's options in one sorted search, category answers checked against their item's range in one
comparison, and only each distinct (item, answer) pair of the other formats is passed to the bank's scoring.
No Python loop runs over the rows (a 600,000-row pilot file in well under 2 s).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.errors import DigicompError, ResponseError
from digicomp.io.csvfile import read_csv_rows
from digicomp.models import ItemParameters
from digicomp.responses import Responses


class PilotError(ResponseError):
    """A pilot or person file (or answer rows) that does not fit the bank or the responses."""


@dataclass
class ScoredAnswers:
    """Scored pilot answers aligned with the bank's items (those answered, in bank order; persons in the order
    of their first answer).

    ``choices`` holds the position of the chosen option in ``options[j]`` (-1: not answered, or not a
    multiple-choice item); ``keys`` the key's position (-1 for items without one); ``not_in_pilot`` the bank items
    nobody answered (left out of the matrices, listed rather than dropped silently).
    """

    responses: Responses  # scored categories, persons × items
    scores: NDArray[np.float64]  # dense scores, NaN = not administered
    choices: NDArray[np.intp]
    options: list[list[str]]
    keys: NDArray[np.intp]
    params: ItemParameters  # the bank's parameters of these items
    kinds: list[str]
    source: str
    not_in_pilot: list[str] = field(default_factory=list)

    @property
    def person_ids(self) -> list[str]:
        return list(self.responses.person_ids)

    @property
    def item_ids(self) -> list[str]:
        return list(self.responses.item_ids)

    @property
    def max_scores(self) -> NDArray[np.float64]:
        """Highest score of each item (its categories − 1, from the bank's parameters)."""
        return (self.params.n_categories - 1).astype(float)

    @property
    def unanswered(self) -> list[str]:
        """The bank items nobody answered (same as ``not_in_pilot``)."""
        return self.not_in_pilot


PilotData = ScoredAnswers  # the name ``digicomp analyze`` has used


@dataclass
class _Table:
    """Answer rows as string arrays, with a way to name a row's place in the source for messages."""

    person: NDArray[np.str_]
    item: NDArray[np.str_]
    answer: NDArray[np.str_]
    where: Callable[[int], str]
    source: str


def read_pilot(path: Any, bank: Any) -> ScoredAnswers:
    """Read and score a pilot response file against ``bank`` (an ItemBank): :func:`score_answers` of a file."""
    return score_answers(bank, path)


def score_answers(bank: Any, answers: Any) -> ScoredAnswers:
    """Score raw answers against ``bank``'s keys; a bad answer is a PilotError (a ResponseError) naming where.

    ``answers``: a CSV path or text buffer (long ``person,item,response`` or wide), or an iterable of
    ``(where, person, item, answer)`` rows whose answers are strings or JSON-like values (lists, mappings,
    numbers). Refused: an item not in the bank, an answer that is not one of a multiple-choice item's options, a
    category outside a self-assessment or parameter-only item's range (or a letter for an item without options and
    key), an answer the bank's scoring rejects, a person answering an item twice.
    """
    table = _file_table(answers) if _is_file(answers) else _row_table(answers)
    return _score(bank, table)


def _is_file(answers: Any) -> bool:
    return isinstance(answers, (str, bytes)) or hasattr(answers, "read") or hasattr(answers, "__fspath__")


def _row_table(answers: Iterable[Any]) -> _Table:
    """Rows (where, person, item, answer) as string arrays; non-string answers as JSON text (None: not given)."""
    rows = answers if isinstance(answers, list) else list(answers)
    if not rows:
        raise PilotError("no answers given (rows of where, person, item, answer)")
    try:
        wheres, persons, items, raw = zip(*rows, strict=True)
    except (TypeError, ValueError):
        bad = next((r for r in rows if not isinstance(r, (tuple, list)) or len(r) != 4), rows[0])
        raise PilotError(f"an answer row must be (where, person, item, answer), got {bad!r}") from None
    answer = [a if type(a) is str else "" if a is None else json.dumps(a, ensure_ascii=False) for a in raw]
    where = list(map(str, wheres))
    source = where[0].rsplit(":", 1)[0] if where else "rows"
    return _Table(
        np.char.strip(np.array(persons, dtype=str)),
        np.char.strip(np.array(items, dtype=str)),
        np.char.strip(np.array(answer, dtype=str)),
        where.__getitem__,
        source,
    )


def _file_table(path: Any) -> _Table:
    """The rows of a long or wide answers CSV as string arrays, each with its file line."""
    body_lines, header, cells, where = _read_rows(path)
    header = [c.strip() for c in header]
    low = [h.lower() for h in header]
    if not header or low[0] not in ("person",) and not {"person", "item", "response"} <= set(low):
        raise PilotError(
            f"{where}:{body_lines[0] - 1 if body_lines.size else 1}: the first column must be 'person' "
            "(or the columns person, item, response)"
        )
    width = len(header)
    cells = np.char.strip(cells)
    if {"person", "item", "response"} <= set(low):
        person, item, answer = (cells[:, low.index(c)] for c in ("person", "item", "response"))
        line = body_lines
    else:
        items = np.array(header[1:], dtype=str)
        person = np.repeat(cells[:, 0], width - 1)
        item = np.tile(items, cells.shape[0])
        answer = cells[:, 1:].ravel()
        line = np.repeat(body_lines, width - 1)
    return _Table(person, item, answer, lambda k: f"{where}:{line[k]}", where)


_MC, _CATEGORY, _OTHER = 0, 1, 2


def _score(bank: Any, t: _Table) -> ScoredAnswers:
    """Score the rows of ``t``: group them by item and answer, check and score each group at once."""
    given = np.flatnonzero(t.answer != "")  # row numbers of the source, for messages
    person, item, answer = t.person[given], t.item[given], t.answer[given]
    if given.size == 0:
        raise PilotError(f"{t.source}: no response")

    def at(k: int) -> str:
        return t.where(int(given[k]))

    empty = np.flatnonzero(person == "")
    if empty.size:
        raise PilotError(f"{at(empty[0])}: empty person id")
    bank_ids = [it.id for it in bank.items]
    names, i_code = np.unique(item, return_inverse=True)
    unknown = [k for k, i in enumerate(names.tolist()) if i not in bank]
    if unknown:
        k = int(np.flatnonzero(np.isin(i_code, unknown))[0])
        raise PilotError(
            f"{at(k)}: item {str(item[k])!r} is not in bank {bank.id!r} ({len(unknown)} unknown item id(s) in all)"
        )
    present = set(names.tolist())
    ids = [i for i in bank_ids if i in present]
    pos = {i: j for j, i in enumerate(ids)}
    j_idx = np.array([pos[i] for i in names.tolist()], dtype=np.intp)[i_code]
    items = [bank[i] for i in ids]
    params = bank.params.subset(bank.index_of(ids))
    K = np.asarray(params.n_categories, dtype=np.int64)
    kinds = [it.kind for it in items]
    options = [[o.id for o in it.options] if kind == "multiple_choice" else [] for it, kind in zip(items, kinds)]
    keys = np.array([opts.index(it.key) if opts else -1 for opts, it in zip(options, items)], dtype=np.intp)
    family = np.array(
        [
            _MC if k == "multiple_choice" else _CATEGORY if k in ("self_assessment", "parameters") else _OTHER
            for k in kinds
        ],
        dtype=np.int8,
    )
    vocab, a_code = np.unique(answer, return_inverse=True)
    row_family = family[j_idx]
    score = np.zeros(answer.size, dtype=np.int64)
    choice = np.full(answer.size, -1, dtype=np.intp)
    errors: list[tuple[int, str]] = []  # (row, message) of the first bad row of each family
    mc = np.flatnonzero(row_family == _MC)
    if mc.size:
        errors += _score_choices(mc, j_idx, a_code, vocab, options, keys, items, score, choice)
    cat = np.flatnonzero(row_family == _CATEGORY)
    if cat.size:
        errors += _score_categories(cat, j_idx, a_code, vocab, K, items, kinds, score)
    other = np.flatnonzero(row_family == _OTHER)
    if other.size:
        errors += _score_others(other, j_idx, a_code, vocab, items, score)
    if errors:
        k, msg = min(errors)
        raise PilotError(f"{at(k)}: {msg}")
    # persons in the order of their first answer
    pids, p_first, p_code = np.unique(person, return_index=True, return_inverse=True)
    rank = np.argsort(p_first, kind="stable")
    new = np.empty(rank.size, dtype=np.intp)
    new[rank] = np.arange(rank.size)
    p_idx = new[p_code.ravel()]
    J = len(ids)
    cell = p_idx.astype(np.int64) * J + j_idx
    order = np.argsort(cell, kind="stable")
    dup = np.flatnonzero(np.diff(cell[order]) == 0)
    if dup.size:
        d = dup[np.argmin(order[dup + 1])]  # the earliest second answer in the source
        k, k0 = int(order[d + 1]), int(order[d])
        raise PilotError(
            f"{at(k)}: person {str(person[k])!r} answered item {str(item[k])!r} a second time, already at {at(k0)}"
        )
    n = rank.size
    scores = np.full((n, J), np.nan)
    scores[p_idx, j_idx] = score
    choices = np.full((n, J), -1, dtype=np.intp)
    choices[p_idx, j_idx] = choice
    resp = Responses(p_idx[order], j_idx[order], score[order], n, J, pids[rank].tolist(), ids)
    return ScoredAnswers(
        resp, scores, choices, options, keys, params, kinds, t.source, [i for i in bank_ids if i not in present]
    )


def _score_choices(rows, j_idx, a_code, vocab, options, keys, items, score, choice) -> list[tuple[int, str]]:
    """Multiple-choice rows: each answer looked up among its item's options (one sorted search); scored by the key."""
    V = vocab.size
    mc_items = [j for j, opts in enumerate(options) if opts]
    flat = [o for j in mc_items for o in options[j]]
    opt_item = np.repeat(np.array(mc_items, dtype=np.int64), [len(options[j]) for j in mc_items])
    opt_pos = np.concatenate([np.arange(len(options[j])) for j in mc_items])
    ids = np.array(flat, dtype=str)
    common = np.promote_types(vocab.dtype, ids.dtype)  # no truncation of a longer option id
    v = np.searchsorted(vocab.astype(common), ids.astype(common)) if flat else np.zeros(0, dtype=np.intp)
    known = v < V
    known[known] = vocab[v[known]] == ids[known]
    table = opt_item[known] * V + v[known]  # (item, answer) codes that are options
    sort = np.argsort(table)
    table, opt_pos = table[sort], opt_pos[known][sort]
    code = j_idx[rows].astype(np.int64) * V + a_code[rows]
    at = np.minimum(np.searchsorted(table, code), max(table.size - 1, 0))
    ok = table[at] == code if table.size else np.zeros(code.size, dtype=bool)
    if not ok.all():
        k = int(rows[np.flatnonzero(~ok)[0]])
        j = int(j_idx[k])
        return [(k, f"item {items[j].id!r}: answer {str(vocab[a_code[k]])!r} is not one of its options {options[j]}")]
    choice[rows] = opt_pos[at]
    score[rows] = choice[rows] == keys[j_idx[rows]]
    return []


def _score_categories(rows, j_idx, a_code, vocab, K, items, kinds, score) -> list[tuple[int, str]]:
    """Self-assessment and parameter-only rows: the category number, checked against the item's range at once."""
    used = np.unique(a_code[rows])
    value = np.full(vocab.size, np.nan)
    for u in used.tolist():  # each distinct answer text once
        try:
            value[u] = float(vocab[u])
        except ValueError:
            pass
    x = value[a_code[rows]]
    top = K[j_idx[rows]]
    bad = ~np.isfinite(x) | (x != np.round(x)) | (x < 0) | (x >= top)
    if bad.any():
        k = int(rows[np.flatnonzero(bad)[0]])
        j, text, Kj = int(j_idx[k]), str(vocab[a_code[k]]), int(K[j_idx[k]])
        if np.isnan(value[a_code[k]]):
            what = "has no options or key in the bank" if kinds[j] == "parameters" else "is a self-assessment item"
            return [(k, f"item {items[j].id!r} {what}: its answer {text!r} cannot be scored (give the score category "
                        f"0..{Kj - 1})")]  # fmt: skip
        return [(k, f"item {items[j].id!r}: score {text!r} is outside its categories 0..{Kj - 1}")]
    score[rows] = x.astype(np.int64)
    return []


def _score_others(rows, j_idx, a_code, vocab, items, score) -> list[tuple[int, str]]:
    """Multiple response, ordering, matching, short answer: the bank's scoring once per distinct (item, answer)."""
    from digicomp.bank.scoring import score as bank_score

    pair = j_idx[rows].astype(np.int64) * vocab.size + a_code[rows]
    uniq, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
    value = np.empty(uniq.size, dtype=np.int64)
    for u in np.argsort(first, kind="stable").tolist():  # in source order: a refusal names the first bad row
        k = int(rows[first[u]])
        item, text = items[int(j_idx[k])], str(vocab[a_code[k]])
        raw: Any = text
        if text[:1] in ("[", "{"):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                return [(k, f"item {item.id!r}: answer {text!r} is not valid JSON ({exc.msg})")]
        try:
            value[u] = int(bank_score(item, raw)[1])
        except DigicompError as exc:
            return [(k, str(exc))]
    score[rows] = value[inverse.ravel()]
    return []


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
