"""Put a multiple-response item's options in its seeded random order (docs/content-review.md, "Twenty-seventh pass").

    python tools/option_order.py DRAFT.yaml            # reorder a draft in place once; prints the letter change
    python tools/option_order.py DRAFT.yaml --check OLD.yaml
                                                       # is DRAFT.yaml OLD.yaml reordered, with only option
                                                       # letters changed in its explanation? It lists
                                                       # the letters kept that the order moves

Writers list the statements they have in mind as right first, which `digicomp lint`'s ``multi-key-position`` test
catches. Every multiple-response item of the bundled banks has its options in the order ``new_letters`` gives (a
permutation seeded by the item id), and new items should be put in it before their review. The option letters an
explanation uses must then be changed by someone who reads it (a drive "D", a column "C" or the English article
"A" stay): ``explanation_problems`` accepts a changed explanation only if every other character is unchanged.
"""

from __future__ import annotations

import argparse
import random
import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

KEEP_ORDER = frozenset({"ps-3.3-12", "ps-4.3-05"})
"""Items whose options are named by the scenario's own letters ("Photo A", "Officer A"): their order stays."""

LETTER = re.compile(r"(?<![A-Za-zÀ-ỹĐđ0-9_\-/\\$:])([A-F])(?![A-Za-zÀ-ỹĐđ0-9_\-/\\$])(?!:\\)")
"""A standalone capital A-F (not part of a word, a cell reference such as $A$1, or a drive path such as D:\\)."""


def new_letters(item: dict[str, Any]) -> dict[str, str]:
    """Each option letter of ``item`` and the letter it takes in the item's seeded random order."""
    ids = [option["id"] for option in item["options"]]
    if item["id"] in KEEP_ORDER:
        return {letter: letter for letter in ids}
    order = ids[:]
    random.Random(f"multiple-response-order:{item['id']}").shuffle(order)
    return {old: ids[place] for place, old in enumerate(order)}


def explanation_problems(old: str, new: str, letters: dict[str, str]) -> str | None:
    """Why ``new`` is not ``old`` with some option letters changed by ``letters`` (None when it is)."""
    before, after = LETTER.split(old), LETTER.split(new)
    if len(before) != len(after):
        return "the text differs beyond single letters"
    for k, (a, b) in enumerate(zip(before, after)):
        if k % 2 == 0 and a != b:
            return f"the text differs: {a[-40:]!r} became {b[-40:]!r}"
        if k % 2 == 1 and b not in (a, letters[a]):
            return f"letter {a} became {b}; it may only stay or become {letters[a]}"
    return None


def kept_letters(old: str, new: str, letters: dict[str, str]) -> list[str]:
    """The letters ``new`` keeps from ``old`` although the reordering moves them, each with its context: either not
    an option letter (a drive, a column, the article "A") or one missed in the relabelling. Assumes the texts pass
    ``explanation_problems``."""
    before, parts = LETTER.split(old), LETTER.split(new)
    return [
        f"{parts[k - 1][-30:]}[{letter}]{parts[k + 1][:20]} (would become {letters[letter]})"
        for k in range(1, len(parts), 2)
        if (letter := parts[k]) == before[k] and letters.get(letter, letter) != letter
    ]


def reorder(item: dict[str, Any], explanation: dict[str, str] | None = None) -> dict[str, Any]:
    """``item`` with its options in their seeded order, relettered, its keys mapped and ``explanation`` (the one
    whose letters were changed to match; the item's own if None)."""
    letters = new_letters(item)
    old_of = {new: old for old, new in letters.items()}
    by_id = {option["id"]: option for option in item["options"]}
    out = dict(item)
    out["options"] = [dict(by_id[old_of[option["id"]]], id=option["id"]) for option in item["options"]]
    out["keys"] = sorted(letters[key] for key in item["keys"])
    if explanation is not None:
        out["explanation"] = dict(explanation)
    return out


def _read(path: Path) -> dict[str, Any]:
    return yaml.safe_load(unicodedata.normalize("NFC", path.read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("draft", type=Path, help="a multiple-response item in the bank's writer form")
    parser.add_argument("--check", type=Path, metavar="OLD", help="check DRAFT against the item before reordering")
    args = parser.parse_args(argv)
    draft = _read(args.draft)
    if draft.get("type") != "multiple_response":
        parser.error(f"{args.draft}: not a multiple-response item")
    if args.check:
        old = _read(args.check)
        expected = reorder(old, draft["explanation"])
        problems = [f"{field} differ" for field in ("options", "keys") if expected[field] != draft[field]]
        problems += [
            f"explanation ({lang}): {why}"
            for lang in ("vi", "en")
            if (why := explanation_problems(old["explanation"][lang], draft["explanation"][lang], new_letters(old)))
        ]
        print("\n".join(problems) or "OK")
        if not problems:  # letters left as they were: fine for a drive or the article, a slip for an option
            for lang in ("vi", "en"):
                for where in kept_letters(old["explanation"][lang], draft["explanation"][lang], new_letters(old)):
                    print(f"kept ({lang}): {where}; confirm it does not name an option")
        return 1 if problems else 0
    letters = new_letters(draft)
    reordered = reorder(draft)
    args.draft.write_text(yaml.safe_dump(reordered, allow_unicode=True, sort_keys=False, width=110), encoding="utf-8")
    print("letters old→new:", " ".join(f"{a}→{b}" for a, b in letters.items()), "; keys now", reordered["keys"])
    print("Change the option letters in the explanation to match, then check with --check against the old file.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
