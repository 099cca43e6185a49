"""The item formats beyond multiple choice: which fields each needs, its scoring rules, and its score categories.

``multiple_response`` (choose all that apply), ``ordering`` (put the steps in order), ``matching`` (pair each
premise with a choice), ``short_answer`` (a typed answer with a declared normalisation) and ``rated_task`` (a piece of
work scored by a rater against a rubric of criteria worth 1 or 2 points each). The structure checks
return ``(location, message)`` pairs like :mod:`digicomp.bank.checks`, every problem of every item at once.
"""

from __future__ import annotations

from collections import Counter

from digicomp.bank.schema import DICHOTOMOUS_MODELS, POLYTOMOUS_MODELS, BankFile, Criterion, Item, Option

Problem = tuple[tuple[str | int, ...], str]

RULES: dict[str, tuple[str, ...]] = {
    "multiple_response": ("keys_minus_wrong", "all_or_nothing"),
    "ordering": ("adjacent_pairs", "all_or_nothing"),
    "matching": ("count_correct", "all_or_nothing"),
}
"""The scoring rules each partial-credit format accepts; the first is the default."""

NEEDS: dict[str, tuple[str, ...]] = {
    "multiple_response": ("options", "keys"),
    "ordering": ("options", "key_order"),
    "matching": ("premises", "choices", "key_map"),
    "short_answer": ("answer",),
    "rated_task": ("rubric",),
}
"""The content fields each new format must have."""

_ALL_CONTENT = (
    "options",
    "key",
    "categories",
    "keys",
    "key_order",
    "premises",
    "choices",
    "key_map",
    "scoring",
    "answer",
    "rubric",
)

SIZES: dict[str, tuple[tuple[str, int, int], ...]] = {
    "multiple_response": (("options", 4, 6),),
    "ordering": (("options", 3, 6),),
    "matching": (("premises", 3, 6), ("choices", 2, 6)),
    "short_answer": (),
    "rated_task": (("rubric", 2, 8),),
}
"""(field, fewest, most) entries of each format's lists."""


def rule_of(item: Item) -> str | None:
    """The item's scoring rule (declared, or its format's default); None for formats without one."""
    if item.kind not in RULES:
        return None
    return item.scoring.rule if item.scoring is not None else RULES[item.kind][0]


def max_score(item: Item) -> int | None:
    """K, the highest score category the item's format and rule give (scores run 0..K); None without content."""
    kind = item.kind
    if kind in ("multiple_choice", "short_answer") or rule_of(item) == "all_or_nothing":
        return 1
    if kind == "self_assessment":
        return len(item.categories or []) - 1
    if kind == "multiple_response":
        return len(item.keys or [])
    if kind == "ordering":
        return len(item.options or []) - 1
    if kind == "matching":
        return len(item.premises or [])
    if kind == "rated_task":
        return sum(c.points for c in item.rubric or [])
    return None


def format_problems(bank: BankFile) -> list[Problem]:
    """Structure problems of every new-format item of ``bank``."""
    problems: list[Problem] = []
    for i, item in enumerate(bank.items):
        if item.kind in NEEDS:
            problems += item_problems(item, ("items", i))
    return problems


def item_problems(item: Item, at: tuple[str | int, ...]) -> list[Problem]:
    """Everything wrong with one new-format item: fields, sizes, ids, key, rule, model and parameters."""
    kind, name = item.kind, f"item {item.id!r}"
    out: list[Problem] = []
    allowed = set(NEEDS[kind]) | ({"scoring"} if kind in RULES else set())
    for field in _ALL_CONTENT:
        if getattr(item, field) is not None and field not in allowed:
            out.append(((*at, field), f"{name}: {field!r} is not a field of a {kind} item (it has {_listing(kind)})"))
    missing = [f for f in NEEDS[kind] if getattr(item, f) is None]
    for field in missing:
        out.append((at, f"{name}: a {kind} item needs {field!r}"))
    if item.level is None:
        out.append((at, f"{name}: a {kind} item needs its intended 'level'"))
    for field, low, high in SIZES[kind]:
        values = getattr(item, field)
        if values is not None:
            if not low <= len(values) <= high:
                out.append(((*at, field), f"{name}: a {kind} item has {low} to {high} {field}, got {len(values)}"))
            out += _unique_ids(values, (*at, field), name)
    if item.scoring is not None and kind in RULES and item.scoring.rule not in RULES[kind]:
        out.append(
            (
                (*at, "scoring", "rule"),
                f"{name}: rule {item.scoring.rule!r} does not score a {kind} item; use {' or '.join(RULES[kind])}",
            )
        )
    elif not missing:
        out += _key_problems(item, at, name)
        out += _model_problems(item, at, name)
    return out


def _listing(kind: str) -> str:
    fields = NEEDS[kind] + (("scoring",) if kind in RULES else ())
    return ", ".join(repr(f) for f in fields)


def _unique_ids(values: list[Option] | list[Criterion], at: tuple[str | int, ...], name: str) -> list[Problem]:
    seen: set[str] = set()
    out: list[Problem] = []
    for j, v in enumerate(values):
        if v.id in seen:
            out.append(((*at, j, "id"), f"{name}: id {v.id!r} is used twice in {at[-1]!r}"))
        seen.add(v.id)
    return out


def _key_problems(item: Item, at: tuple[str | int, ...], name: str) -> list[Problem]:
    """The key names known ids, each once, and (multiple response) is neither empty nor every option."""
    out: list[Problem] = []
    if item.kind in ("multiple_response", "ordering"):
        field = "keys" if item.kind == "multiple_response" else "key_order"
        ids = [o.id for o in item.options]
        key = getattr(item, field)
        counts = Counter(key)
        for j, k in enumerate(key):
            if k not in ids:
                out.append(((*at, field, j), f"{name}: {field} names {k!r}, which is not an option id {ids}"))
            elif counts[k] > 1 and key.index(k) != j:
                out.append(((*at, field, j), f"{name}: {field} names {k!r} twice"))
        if item.kind == "multiple_response" and not 1 <= len(counts) < len(ids):
            out.append(((*at, field), f"{name}: keys must name at least 1 option and fewer than all {len(ids)}"))
        left = [i for i in ids if i not in counts]
        if item.kind == "ordering" and left:
            out.append(((*at, field), f"{name}: key_order must give every option exactly once; it lacks {left}"))
    elif item.kind == "matching":
        premises = [p.id for p in item.premises]
        choices = [c.id for c in item.choices]
        for p, c in item.key_map.items():
            if p not in premises:
                out.append(((*at, "key_map", p), f"{name}: key_map names {p!r}, which is not a premise id {premises}"))
            if c not in choices:
                out.append(((*at, "key_map", p), f"{name}: key_map pairs {p!r} with {c!r}, not a choice id {choices}"))
        left = [p for p in premises if p not in item.key_map]
        if left:
            out.append(((*at, "key_map"), f"{name}: key_map must pair every premise; it lacks {left}"))
    elif item.kind == "short_answer":
        out += _accepted_problems(item, at, name)
    return out


def _accepted_problems(item: Item, at: tuple[str | int, ...], name: str) -> list[Problem]:
    """Numbers for ``kind: number`` (with a tolerance, no normalisations), strings for ``kind: text``."""
    ans, out = item.answer, []
    want = (int, float) if ans.kind == "number" else str
    for j, value in enumerate(ans.accepted):
        if isinstance(value, bool) or not isinstance(value, want):
            what = "a number" if ans.kind == "number" else "a string (quote it: '113')"
            out.append(((*at, "answer", "accepted", j), f"{name}: a {ans.kind} answer accepts {what}, got {value!r}"))
    if ans.kind == "number" and ans.normalize is not None:
        out.append(((*at, "answer", "normalize"), f"{name}: normalize applies to text answers, not numbers"))
    if ans.kind == "text" and ans.tolerance is not None:
        out.append(((*at, "answer", "tolerance"), f"{name}: tolerance applies to number answers, not text"))
    if ans.kind == "text" and not out:
        from digicomp.bank.scoring import normalize_text

        for j, value in enumerate(ans.accepted):
            if not normalize_text(value, ans.normalize or ()):
                out.append(((*at, "answer", "accepted", j), f"{name}: {value!r} is empty once normalised"))
    return out


def _model_problems(item: Item, at: tuple[str | int, ...], name: str) -> list[Problem]:
    """The model fits the score categories the rule gives: dichotomous for 0/1, else len(params.b) == K."""
    k = max_score(item)
    rule = rule_of(item)
    model, b = item.model, getattr(item.params, "location", item.params.b)
    if item.kind == "short_answer" and item.params.c not in (None, 0):
        return [
            (
                (*at, "params", "c"),
                f"{name}: a short_answer item has no guessing floor; params.c must be 0 or absent, got {item.params.c}",
            )
        ]
    if k == 1 and model in DICHOTOMOUS_MODELS:
        return []
    if k == 1 and (item.kind == "short_answer" or rule == "all_or_nothing"):
        return [((*at, "model"), f"{name}: {_how(item)} scores 0/1 and needs a dichotomous model, got {model}")]
    if model not in POLYTOMOUS_MODELS:
        return [
            (
                (*at, "model"),
                f"{name}: {_how(item)} gives scores 0..{k}; it needs a polytomous model (GPCM, GRM, PCM) with {k} "
                f"values in params.b, or scoring rule all_or_nothing with a dichotomous model; got {model}",
            )
        ]
    if isinstance(b, list) and len(b) != k:
        return [
            (
                (*at, "params", "b"),
                f"{name}: {_how(item)} gives scores 0..{k} ({k + 1} categories), so params.b needs {k} values, "
                f"got {len(b)}",
            )
        ]
    return []


def _how(item: Item) -> str:
    rule = rule_of(item)
    return f"a {item.kind} item" if rule is None else f"rule {rule} on a {item.kind} item"
