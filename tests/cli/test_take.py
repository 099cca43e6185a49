"""``digicomp take`` driven with scripted stdin: a whole test, bad keys, pause and resume, Ctrl-C, errors."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest
import yaml

from ._run import ENV, ROOT, assert_one_line_error, digicomp

ANSWERS = "2\n1\n3\n4\n" * 10  # more answers than the longest test (30 items)


@pytest.fixture(scope="module")
def mc(tmp_path_factory) -> list[str]:
    """``--design`` of take's default design without the bundled bank's items of other formats than multiple choice:
    these scripts answer by option number (the other formats' prompts are tested in test_take_formats.py)."""
    from digicomp.bank import load_bank
    from digicomp.commands.take import TAKE_DESIGN

    bank = load_bank("civil-service")
    others = [i for i, kind in zip(bank.ids, bank.kind) if kind not in ("multiple_choice", "self_assessment")]
    design = {"kind": "cat_design", **TAKE_DESIGN, "content": {**TAKE_DESIGN["content"], "exclude": {"ids": others}}}
    path = tmp_path_factory.mktemp("take") / "mc-design.yaml"
    path.write_text(yaml.safe_dump(design, allow_unicode=True), encoding="utf-8")
    return ["--design", str(path)]


def answered(state_path) -> list[str]:
    return json.loads(state_path.read_text(encoding="utf-8"))["session"]["items"]


def test_a_whole_test_ends_with_a_level_per_area_and_writes_the_result(tmp_path, mc):
    out = tmp_path / "result.json"
    proc = digicomp("take", *mc, "--seed", "7", "--out", str(out), input=ANSWERS)
    assert proc.returncode == 0, proc.stderr
    assert "Câu 1" in proc.stdout and "Chọn phương án (1–4)" in proc.stdout
    assert "KẾT QUẢ" in proc.stdout and "Trình độ chung:" in proc.stdout and "Theo lĩnh vực:" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["format"] == "digicomp.result/1" and result["finished"]
    assert result["level"]["name"].upper() in proc.stdout
    assert result["level"]["description"]
    assert len(result["path"]) == result["n_items"] == len(result["items"])
    assert [p["item"] for p in result["path"]] == [i["item"] for i in result["items"]]
    assert {a["area"] for a in result["areas"]} == {str(a) for a in range(8)}  # design: >= 1 item per area
    assert all(c.get("name") for c in result["to_work_on"])


def test_english_interface_and_text(tmp_path, mc):
    proc = digicomp("take", *mc, "--lang", "en", "--seed", "7", input=ANSWERS)
    assert proc.returncode == 0, proc.stderr
    assert "Question 1" in proc.stdout and "Your answer (1–4)" in proc.stdout and "Overall level:" in proc.stdout


def test_bad_keystrokes_are_refused_and_asked_again(tmp_path, mc):
    state = tmp_path / "s.json"
    proc = digicomp("take", *mc, "--seed", "7", "--state", str(state), input="x\n0\n5\n\n-1\n2\nB\n")
    assert proc.stdout.count("Chưa hợp lệ: hãy gõ một số từ 1 đến 4") == 5
    saved = json.loads(state.read_text(encoding="utf-8"))["session"]
    assert saved["answers"] == ["B", "B"]  # "2" is option B; a letter is accepted too


def test_closed_stdin_keeps_the_state_and_a_rerun_resumes_to_the_same_test(tmp_path, mc):
    state, out = tmp_path / "s.json", tmp_path / "r.json"
    first = digicomp("take", *mc, "--seed", "11", "--state", str(state), input="2\n1\n3\n4\n2\n")
    assert first.returncode == 1
    assert "Đầu vào đã đóng" in first.stderr and str(state) in first.stderr and "Traceback" not in first.stderr
    assert len(answered(state)) == 5
    second = digicomp("take", "--state", str(state), "--out", str(out), input=ANSWERS[10:])
    assert second.returncode == 0, second.stderr
    assert "đã trả lời 5 câu" in second.stdout and "Câu 6" in second.stdout and "Câu 1\n" not in second.stdout
    resumed = json.loads(out.read_text(encoding="utf-8"))
    whole = tmp_path / "whole.json"
    straight = digicomp("take", *mc, "--seed", "11", "--out", str(whole), input=ANSWERS)
    assert straight.returncode == 0
    assert resumed["items"] == json.loads(whole.read_text(encoding="utf-8"))["items"]
    again = digicomp("take", "--state", str(state), input="")
    assert again.returncode == 0 and "đã hoàn thành" in again.stdout and "KẾT QUẢ" in again.stdout


def test_q_pauses_with_exit_130_and_restart_starts_over(tmp_path, mc):
    state = tmp_path / "s.json"
    proc = digicomp("take", *mc, "--seed", "3", "--state", str(state), input="1\n1\nq\n")
    assert proc.returncode == 130 and "Đã tạm dừng" in proc.stderr
    assert len(answered(state)) == 2
    proc = digicomp("take", *mc, "--seed", "3", "--state", str(state), "--restart", input="1\nq\n")
    assert proc.returncode == 130 and len(answered(state)) == 1


def test_ctrl_c_keeps_the_state(tmp_path, mc):
    state = tmp_path / "s.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "digicomp.cli", "take", *mc, "--seed", "5", "--state", str(state)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
        cwd=ROOT,
    )
    proc.stdin.write(b"1\n2\n")
    proc.stdin.flush()
    seen, deadline = b"", time.monotonic() + 60
    while seen.count("Chọn phương án".encode()) < 3 and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            seen += os.read(proc.stdout.fileno(), 65536)
    assert seen.count("Chọn phương án".encode()) == 3, seen.decode(errors="replace")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err.decode() and "Đã tạm dừng" in err.decode()
    assert len(answered(state)) == 2


def test_json_output_is_the_result_document(mc):
    proc = digicomp("take", *mc, "--seed", "7", "--json", input=ANSWERS)
    doc = json.loads(proc.stdout[proc.stdout.index("{\n") :])
    assert doc["format"] == "digicomp.result/1" and doc["level"]["id"]


def test_bad_inputs_fail_with_one_line(tmp_path, mc):
    assert_one_line_error(digicomp("take", "--bank", "no-such-bank", input=""))
    junk = tmp_path / "junk.json"
    junk.write_text("not json", encoding="utf-8")
    assert_one_line_error(digicomp("take", "--state", str(junk), input=""))
    state = tmp_path / "s.json"
    digicomp("take", *mc, "--seed", "1", "--state", str(state), input="1\n")
    assert_one_line_error(digicomp("take", "--state", str(state), "--bank", "public-security", input=""))
    doc = json.loads(state.read_text(encoding="utf-8"))
    doc["session"]["scores"][0] = 1 - doc["session"]["scores"][0]
    state.write_text(json.dumps(doc), encoding="utf-8")
    assert_one_line_error(digicomp("take", "--state", str(state), input=""))
    assert digicomp("take", "--lang", "fr").returncode == 2


def test_json_output_is_only_the_result_document(tmp_path, mc):
    out = tmp_path / "r.json"
    proc = digicomp("take", *mc, "--lang", "en", "--seed", "7", "--json", "--out", str(out), input=ANSWERS)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)  # the whole of stdout parses: no questions, no prompts
    assert doc == json.loads(out.read_text(encoding="utf-8"))
    assert "Question 1" in proc.stderr and "Your answer (1–4)" in proc.stderr
