"""A rule on the typed answers of numeric short-answer items: one number that answers too many of them.

A short answer's model has no guessing floor (no ``c``): a typed number is assumed not to be guessed. When one value
answers a large share of a bank's numeric items (the count of "how many of these …" items is often 2 or 3), a
candidate who types it to every such item scores that share without reading them: a guessing floor the model does
not know, and a cue a test-wise candidate learns. The share is compared with the guessing rate of a four-option
multiple-choice item.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from digicomp.bank.lint.catalog import Finding
from digicomp.bank.lint.catalog import finding as _finding
from digicomp.bank.schema import Item

GUESS_SHARE = 0.25
"""A number typed to every numeric short answer may score at most this share (a four-option guess)."""
MIN_NUMERIC = 8
"""Banks with fewer numeric short-answer items are not judged (one shared answer among a few is no pattern)."""


def common_number_findings(items: Sequence[Item]) -> list[Finding]:
    """Each numeric short answer that the bank's most rewarding single number answers, if it answers too many."""
    numeric = [it for it in items if it.kind == "short_answer" and it.answer is not None and it.answer.kind == "number"]
    if len(numeric) < MIN_NUMERIC:
        return []
    candidates = np.unique([float(v) for it in numeric for v in it.answer.accepted])
    # scores[i, j]: typing candidate j answers item i (within the item's tolerance, as scoring reads it)
    scores = np.zeros((len(numeric), candidates.size), dtype=bool)
    for i, it in enumerate(numeric):
        tol = it.answer.tolerance or 0.0
        accepted = np.array([float(v) for v in it.answer.accepted])
        slack = tol + 1e-9 * np.maximum(1.0, np.abs(accepted))
        scores[i] = (np.abs(candidates[:, None] - accepted[None, :]) <= slack[None, :]).any(axis=1)
    hits = scores.sum(axis=0)
    best = int(np.argmax(hits))
    share = hits[best] / len(numeric)
    if share <= GUESS_SHARE:
        return []
    value = f"{candidates[best]:g}"
    message = (
        f"typing {value} answers {hits[best]} of the bank's {len(numeric)} numeric short answers ({share:.0%}, "
        f"above the {GUESS_SHARE:.0%} of a four-option guess); vary the answers of such items"
    )
    return [_finding(it.id, "common-number", message) for i, it in enumerate(numeric) if scores[i, best]]
