"""tools/option_order.py: the seeded order of a multiple-response item's options and the check of its explanation."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("option_order", ROOT / "tools" / "option_order.py")
option_order = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(option_order)

TEXTS = ["Ổ D vẫn còn", "Tài khoản còn", "Phần mềm bị gỡ", "Thư mục bị xoá", "Tệp còn", "Máy in bị gỡ"]


def _item(item_id: str = "cs-9.9-01", n: int = 5, keys=("A", "C", "E")) -> dict:
    return {
        "id": item_id,
        "type": "multiple_response",
        "options": [{"id": "ABCDEF"[j], "vi": TEXTS[j], "en": f"statement {j}"} for j in range(n)],
        "keys": list(keys),
        "explanation": {"vi": "A đúng, ổ D còn nguyên (C); B sai.", "en": "A is right; drive D stays (C); B is wrong."},
    }


@given(st.text(alphabet="abcdefghij-.0123456789", min_size=1, max_size=12), st.integers(2, 6))
def test_the_new_letters_are_a_seeded_permutation(suffix, n):
    item = _item(f"ps-1.1-{suffix}", n=n, keys=("A",))
    letters = option_order.new_letters(item)
    assert sorted(letters) == sorted(letters.values()) == list("ABCDEF"[:n])
    assert option_order.new_letters(item) == letters


def test_reordering_keeps_each_statement_with_its_key_status():
    item = _item()
    out = option_order.reorder(item)
    keyed = {o["vi"] for o in item["options"] if o["id"] in item["keys"]}
    assert {o["vi"] for o in out["options"] if o["id"] in out["keys"]} == keyed
    assert [o["id"] for o in out["options"]] == list("ABCDE") and len(out["keys"]) == 3
    assert option_order.new_letters({**item, "id": "ps-3.3-12"}) == {x: x for x in "ABCDE"}


def test_the_explanation_check_allows_only_option_letters_to_change():
    letters = {"A": "B", "B": "C", "C": "A", "D": "E", "E": "D"}
    old = "A đúng, ổ D còn nguyên (C); B sai. A sector in column D:\\HoSo."
    good = "B đúng, ổ D còn nguyên (A); C sai. A sector in column D:\\HoSo."
    assert option_order.explanation_problems(old, good, letters) is None
    assert "may only stay or become" in option_order.explanation_problems(old, good.replace("(A)", "(E)"), letters)
    assert "text differs" in option_order.explanation_problems(old, good.replace("còn nguyên", "bị xoá"), letters)
    assert "beyond single letters" in option_order.explanation_problems(old, good + " (D)", letters)
    # the drive D and the article "A" stay: listed for a reader to confirm, as is an option letter missed ("B sai")
    assert option_order.kept_letters(old, good, letters) == [
        " đúng, ổ [D] còn nguyên ( (would become E)",
        " sai. [A] sector in column D: (would become B)",
    ]
    missed = option_order.kept_letters(old, good.replace("C sai", "B sai"), letters)
    assert "); [B] sai.  (would become C)" in missed and len(missed) == 3


def test_the_command_reorders_a_draft_and_checks_the_relettered_explanation(tmp_path, capsys):
    item = {**_item(), "explanation": {"vi": "A đúng (C); B sai.", "en": "A is right (C); B is wrong."}}
    old, draft = tmp_path / "old.yaml", tmp_path / "draft.yaml"
    for path in (old, draft):
        path.write_text(yaml.safe_dump(item, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert option_order.main([str(draft)]) == 0
    letters = option_order.new_letters(item)
    reordered = yaml.safe_load(draft.read_text(encoding="utf-8"))
    assert reordered["keys"] == sorted(letters[k] for k in item["keys"])
    for lang in ("vi", "en"):  # every letter of these texts refers to an option
        reordered["explanation"][lang] = option_order.LETTER.sub(
            lambda m: letters[m.group(1)], item["explanation"][lang]
        )
    draft.write_text(yaml.safe_dump(reordered, allow_unicode=True, sort_keys=False), encoding="utf-8")
    capsys.readouterr()
    assert option_order.main([str(draft), "--check", str(old)]) == 0 and capsys.readouterr().out.strip() == "OK"
    # an option letter left unchanged passes the check but is listed
    slip = dict(reordered, explanation=dict(reordered["explanation"], en=item["explanation"]["en"]))
    draft.write_text(yaml.safe_dump(slip, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert option_order.main([str(draft), "--check", str(old)]) == 0
    out = capsys.readouterr().out.splitlines()
    moved = [x for x in "ABC" if letters[x] != x]
    assert out[0] == "OK" and len(out) == 1 + len(moved) and all(line.startswith("kept (en): ") for line in out[1:])
    # a changed word, or options left in the old order, is named
    reordered["explanation"]["en"] = reordered["explanation"]["en"].replace("right", "correct")
    draft.write_text(yaml.safe_dump(reordered, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert option_order.main([str(draft), "--check", str(old)]) == 1
    assert "explanation (en): the text differs" in capsys.readouterr().out
    draft.write_text(yaml.safe_dump(item, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert option_order.main([str(draft), "--check", str(old)]) == 1
    assert "options differ" in capsys.readouterr().out
