"""Provenance rules of the linter: legal documents cited in an item, its ``sources`` and their review-by dates.

An item that depends on a law, decree or official document names it in ``sources`` with a ``review_by`` date (on
the source or on the item); the linter finds citations in the text (``law_references``), items citing a document
without a review-by date (``law-review-date``) or without listing it in ``sources`` (``law-source``), and review-by
dates that have passed (``review-overdue``, an error: the item may state a rule that no longer holds).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from digicomp.bank.lint.catalog import Finding
from digicomp.bank.lint.catalog import finding as _finding
from digicomp.bank.lint.words import _DOC_NUMBER, _LAW_EN, _LAW_TYPE, _YEAR, LANGS, _nfc
from digicomp.bank.schema import Item


def law_references(text: str, lang: str) -> list[str]:
    """Legal documents cited in ``text``: a document type with its number, or a law by its name (and year)."""
    text = _nfc(text)
    if lang != "vi":
        return _distinct(" ".join(m.group(0).split()) for m in _LAW_EN.finditer(text))
    refs = []
    for m in _LAW_TYPE.finditer(text):
        words = text[m.end() :].split()[:12]
        if words and words[0] == "số":
            words = words[1:]
        if words and _DOC_NUMBER.match(words[0]):
            refs.append(f"{m.group(0)} {_DOC_NUMBER.match(words[0]).group(0)}")
        elif words and words[0][:1].isupper() and m.group(0) in ("Luật", "Bộ luật"):
            refs.append(f"{m.group(0)} {_law_name(words)}")
    return _distinct(refs)


_NAME_ENDS = frozenset(
    "và có cho theo cấm yêu quy đã được là thì mới hiệu của về với khi nêu đang vẫn sẽ không chưa bổ sửa thay tại từ "
    "trong giao đều nhưng nên do bởi vì này đó".split()
)


def _law_name(words: list[str]) -> str:
    """A law's name from the words after 'Luật': up to a year or number, a clause word or punctuation."""
    name = [words[0].strip(',.;:!?()“”"')]
    for w in words[1:12]:
        bare = w.strip(',.;:!?()“”"')
        if _YEAR.match(bare) or _DOC_NUMBER.match(bare):
            name.append(bare)
            break
        if bare in ("năm", "số"):
            continue
        if not bare[:1].islower() or bare in _NAME_ENDS:
            break
        name.append(bare)
        if bare != w:
            break
    return " ".join(name)


def _distinct(values: Any) -> list[str]:
    out: list[str] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def review_dates(item: Item) -> list[tuple[str, datetime.date | None]]:
    """(what, review-by date or None) of the item itself (when it gives one) and of each of its sources."""
    data = item.model_dump(mode="json", exclude_none=True)
    out: list[tuple[str, datetime.date | None]] = []
    if data.get("review_by"):
        out.append(("the item", _date(data["review_by"])))
    for source in data.get("sources") or []:
        title = source.get("title")
        name = title if isinstance(title, str) else (title or {}).get("vi") or source.get("url_or_ref")
        out.append((f"source {name!r}", _date(source["review_by"]) if source.get("review_by") else None))
    return out


def _date(value: Any) -> datetime.date:
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value))


def review_by(item: Item) -> str | None:
    """The item's review-by date if it carries one: its own ``review_by``, else the earliest of its sources'."""
    dates = review_dates(item)
    if dates and dates[0][0] == "the item":
        return dates[0][1].isoformat()
    given = [d for _, d in dates if d is not None]
    return min(given).isoformat() if given else None


def _cited(item: Item) -> list[str]:
    """Legal documents the item's texts cite, rubric criteria included (Vietnamese first; English when the Vietnamese
    cites none)."""
    texts = [item.stem, *(item.options or []), *(item.premises or []), *(item.choices or [])]
    texts += [item.explanation] if item.explanation else []
    for criterion in item.rubric or []:  # a rated task's rubric may rest a point on a law
        texts += [criterion] + ([criterion.partial] if criterion.partial else [])
    refs: list[str] = []
    for lang in LANGS:
        for t in texts:
            if t is not None:
                refs += [r for r in law_references(getattr(t, lang), lang) if r not in refs]
        if refs:
            break
    return refs


def provenance_findings(items: Sequence[Item], today: datetime.date | None = None) -> list[Finding]:
    """Citations without a review-by date or a source, sources without a review-by date, dates that have passed."""
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    out: list[Finding] = []
    for item in items:
        if item.stem is None:
            continue
        refs = _cited(item)
        cited = "; ".join(refs[:4]) + ("; …" if len(refs) > 4 else "")
        dates = review_dates(item)
        item_date = dates[0][1] if dates and dates[0][0] == "the item" else None
        undated = [what for what, d in dates if d is None]
        if undated and item_date is None:
            out.append(_finding(item.id, "law-review-date", f"{', '.join(undated)} has no review-by date"))
        elif refs and not dates:
            out.append(_finding(item.id, "law-review-date", f"cites {cited} but carries no review-by date"))
        if refs and not item.sources:
            out.append(_finding(item.id, "law-source", f"cites {cited} but lists no 'sources'"))
        passed = [f"{what} (review by {d.isoformat()})" for what, d in dates if d is not None and d < today]
        if passed:
            out.append(
                _finding(
                    item.id,
                    "review-overdue",
                    f"{'; '.join(passed)}: the date has passed (today {today.isoformat()}); re-check the item "
                    "against its sources and set a new date",
                )
            )
    return out
