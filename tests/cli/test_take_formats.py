"""``digicomp take`` with every item format, driven by scripted stdin: how each is shown, the raw answers it sends,
and the re-prompts on malformed input."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from digicomp.bank import load_bank
from digicomp.bank.scoring import score
from digicomp.cat import AdaptiveTest
from digicomp.commands.take import TerminalTest, design_for

from ._run import digicomp

NEW = ("multiple_response", "ordering", "matching", "short_answer")

FORMATS = Path(__file__).parents[1] / "bank" / "fixtures" / "formats.yaml"
ORDER = ["f-mc", "f-mr", "f-mr-aon", "f-ord", "f-match", "f-num", "f-text", "f-hotline"]
DESIGN = {
    "kind": "cat_design",
    "id": "formats-fixed",
    "start": {"first_items": {"n": 8, "rule": "fixed", "items": ORDER}},
    "stop": {"max_items": 8},
    "report": {"levels": True, "areas": False, "audit": True},
}
SCRIPT = [
    "A",  # f-mc: option id A (the key)
    "A,Z",  # f-mr: no option Z -> asked again
    "A,A",  # twice -> asked again
    "a c d",  # ids in any case, spaces as separators: the keys
    "-",  # f-mr-aon: nothing chosen
    "C A D",  # f-ord: B missing -> asked again
    "cadb",  # the key order, one-letter ids run together
    "4",  # f-match p1: only 3 choices -> asked again
    "X",  # p1
    "3",  # p2 by number: Z
    "z",  # p3
    "1.000",  # f-num: ambiguous -> asked again
    "6,5",  # Vietnamese decimal comma
    "",  # f-text: empty -> asked again
    " .PDF ",
    "cứu hoả",  # f-hotline: accepted without diacritics and case
]


def _run(tmp_path: Path, lines: list[str], *extra: str):
    design = tmp_path / "design.yaml"
    design.write_text(yaml.safe_dump(DESIGN), encoding="utf-8")
    state = tmp_path / "state.json"
    proc = digicomp(
        "take",
        "--bank",
        str(FORMATS),
        "--design",
        str(design),
        "--seed",
        "1",
        "--state",
        str(state),
        *extra,
        input="\n".join(lines) + "\n",
    )
    return proc, state


def test_each_format_is_asked_in_its_own_form_and_sends_its_raw_answer(tmp_path):
    proc, state = _run(tmp_path, SCRIPT)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Hình kèm theo: " in out and "phishing.svg" in out and "đường dẫn rút gọn" in out
    assert "  A. Đường dẫn rút gọn" in out and "(ví dụ A,C; '-' nếu không chọn phương án nào)" in out
    assert out.count("Chưa hợp lệ: không có phương án 'Z'") == 1
    assert out.count("Chưa hợp lệ: A được gõ hai lần") == 1
    assert out.count("Chưa hợp lệ: còn thiếu B. Gõ đủ 4 mã bước") == 1
    assert out.count("Chưa hợp lệ: hãy gõ một mã (X, Y, Z) hoặc một số từ 1 đến 3") == 1
    assert out.count("Chưa hợp lệ: '1.000' chưa đọc được thành một số") == 1
    assert out.count("Chưa có câu trả lời") == 1
    assert "  (1) Danh sách cán bộ" in out and "  (3) Thông báo tuyển dụng" in out
    saved = json.loads(state.read_text(encoding="utf-8"))["session"]
    assert saved["items"] == ORDER
    assert saved["answers"] == [
        "A",
        ["A", "C", "D"],
        [],
        ["C", "A", "D", "B"],
        {"p1": "X", "p2": "Z", "p3": "Z"},
        "6,5",
        ".PDF",
        "cứu hoả",
    ]
    # the key everywhere except the matching's p3 and the all-or-nothing item answered with nothing
    assert saved["scores"] == [1, 3, 0, 3, 2, 1, 1, 1]


def test_the_ordering_steps_are_shown_shuffled_the_same_way_after_a_pause(tmp_path):
    proc, state = _run(tmp_path, SCRIPT[:5] + ["q"])
    assert proc.returncode == 130
    first = proc.stdout.split("Sắp xếp các bước ký số văn bản.")[1].split("Gõ mã các bước")[0]
    shown = [line.strip()[0] for line in first.strip().splitlines()]
    assert sorted(shown) == ["A", "B", "C", "D"]
    again = digicomp("take", "--state", str(state), input="q\n")
    assert again.returncode == 130
    second = again.stdout.split("Sắp xếp các bước ký số văn bản.")[1].split("Gõ mã các bước")[0]
    assert second == first


def test_english_prompts(tmp_path):
    proc, _ = _run(tmp_path, SCRIPT, "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert "Picture: " in proc.stdout and "Choose every right option" in proc.stdout
    assert "Not valid: there is no 'Z'" in proc.stdout and "Type the steps' ids in the right order" in proc.stdout
    assert "Your answer (a number; ',' or '.' as the decimal mark)" in proc.stdout


class _Answering:
    """A stdin that answers whatever item the terminal test serves, in that item's format (one valid line per
    prompt: an option, one choice per matching premise, every step of an ordering, a number as text)."""

    def __init__(self) -> None:
        self.test = None
        self.lines = 0

    def readline(self) -> str:
        self.lines += 1
        view = self.test.session.next_item()
        if view.kind == "ordering":
            return " ".join(o["id"] for o in view.options) + "\n"
        if view.kind == "matching":
            return view.choices[0]["id"] + "\n"
        if view.kind in ("multiple_response", "multiple_choice"):
            return view.options[self.lines % len(view.options)]["id"] + "\n"
        return "1\n"


@pytest.mark.parametrize("bank_id", ["civil-service", "public-security"])
def test_a_default_test_on_a_bundled_bank_runs_through_every_format_it_holds(bank_id, tmp_path):
    bank = load_bank(bank_id)
    firsts = [next(i for i, k in zip(bank.ids, bank.kind) if k == kind) for kind in NEW if kind in set(bank.kind)]
    design = design_for(None, "vi")
    design["start"] = {"first_items": {"n": len(firsts), "rule": "fixed", "items": firsts}}
    engine = AdaptiveTest(bank, design)
    stdin, stdout = _Answering(), io.StringIO()
    test = TerminalTest(engine, engine.start(seed=3), bank_id, design, "vi", str(tmp_path / "s.json"), stdin, stdout)
    stdin.test = test
    assert test.sit(resumed=False, out=None, as_json=False) == 0
    session = test.session
    assert session.finished and session.items[: len(firsts)] == firsts
    assert stdin.lines == len(session.items) + sum(  # no prompt was asked twice: each line was a valid answer
        len(bank.item(i).premises) - 1 for i in session.items if bank.item(i).kind == "matching"
    )
    saved = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["session"]
    for item_id, answer, got in zip(saved["items"], saved["answers"], saved["scores"]):
        assert score(bank.item(item_id), answer)[1] == got
    assert "KẾT QUẢ" in stdout.getvalue()
