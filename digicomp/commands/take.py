"""``digicomp take``: sit an adaptive test in the terminal, in Vietnamese (default) or English.

One question at a time with numbered options; the session state is saved after every answer (``--state``) so
an interrupted test resumes where it stopped; at the end the level overall and per area, what the level means
and the competences to work on; ``--out`` writes the result document (:mod:`digicomp.reporting.result`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from digicomp.errors import DigicompError

STATE_FORMAT = "digicomp.take/1"
PAUSE, EOF = object(), object()
"""What a prompt returns when the test taker pauses (q, Ctrl-C) or input is closed."""
QUIT = ("q", "quit", "thoát", "thoat")

MESSAGES: dict[str, dict[str, str]] = {
    "media": {"vi": "Hình kèm theo: {path}", "en": "Picture: {path}"},
    "prompt_multi": {
        "vi": "Chọn mọi phương án đúng, cách nhau bằng dấu phẩy (ví dụ A,C; '-' nếu không chọn phương án nào): ",
        "en": "Choose every right option, separated by commas (e.g. A,C; '-' for none): ",
    },
    "bad_multi": {
        "vi": "Chưa hợp lệ: {why}. Gõ mã các phương án đã chọn, ví dụ {example} (hoặc q để tạm dừng).",
        "en": "Not valid: {why}. Type the ids of the options you choose, e.g. {example} (or q to pause).",
    },
    "prompt_order": {
        "vi": "Gõ mã các bước theo đúng thứ tự, cách nhau bằng dấu cách (ví dụ {example}): ",
        "en": "Type the steps' ids in the right order, separated by spaces (e.g. {example}): ",
    },
    "bad_order": {
        "vi": "Chưa hợp lệ: {why}. Gõ đủ {n} mã bước, mỗi mã một lần (hoặc q để tạm dừng).",
        "en": "Not valid: {why}. Type all {n} step ids, each once (or q to pause).",
    },
    "match_intro": {
        "vi": "Với mỗi mục dưới đây, gõ mã (hoặc số thứ tự) của lựa chọn phù hợp:",
        "en": "For each entry below, type the id (or number) of the matching choice:",
    },
    "bad_choice": {
        "vi": "Chưa hợp lệ: hãy gõ một mã ({ids}) hoặc một số từ 1 đến {k} (hoặc q để tạm dừng).",
        "en": "Not valid: type one id ({ids}) or a number from 1 to {k} (or q to pause).",
    },
    "prompt_text": {"vi": "Câu trả lời: ", "en": "Your answer: "},
    "prompt_number": {
        "vi": "Câu trả lời (một số; dấu thập phân là ',' hoặc '.'): ",
        "en": "Your answer (a number; ',' or '.' as the decimal mark): ",
    },
    "bad_number": {
        "vi": "Chưa hợp lệ: {typed!r} chưa đọc được thành một số. Gõ số không có dấu phân cách hàng nghìn, "
        "ví dụ 1000 hoặc 2,5 (hoặc q để tạm dừng).",
        "en": "Not valid: {typed!r} cannot be read as one number. Type it without thousands separators, "
        "e.g. 1000 or 2.5 (or q to pause).",
    },
    "empty": {
        "vi": "Chưa có câu trả lời: hãy gõ câu trả lời (hoặc q để tạm dừng).",
        "en": "No answer yet: type your answer (or q to pause).",
    },
    "too_long": {
        "vi": "Câu trả lời quá dài (tối đa {n} ký tự).",
        "en": "Too long (at most {n} characters).",
    },
    "nothing": {"vi": "chưa gõ mã nào", "en": "no id typed"},
    "unknown": {"vi": "không có phương án {id!r}", "en": "there is no {id!r}"},
    "twice": {"vi": "{id} được gõ hai lần", "en": "{id} is typed twice"},
    "missing": {"vi": "còn thiếu {ids}", "en": "{ids} missing"},
}
"""Prompts and refusals of the multiple-response, ordering, matching and short-answer questions."""

TAKE_DESIGN: dict[str, Any] = {
    "id": "take-default",
    "description": "Terminal test: MPWI, randomesque k = 3, at least 1 item per area, level at 90% or SE < 0.35",
    "selection": {"rule": "mpwi"},
    "exposure": {"method": "randomesque", "k": 3},
    "content": {"by": "area", "constraints": [{"group": str(a), "min": 1} for a in range(8)]},
    "scoring": {"method": "EAP"},
    "stop": {"combine": "any", "min_items": 12, "max_items": 30, "rules": [{"classification": 0.9}, {"se": 0.35}]},
    "report": {"levels": True, "areas": True, "audit": True},
}
"""The default design of ``take`` and ``demo`` (the bundled banks' areas are 0–7)."""

TAKE_DESCRIPTION = {
    "vi": "chọn câu theo thông tin có trọng số hậu nghiệm (MPWI), ngẫu nhiên trong 3 câu tốt nhất, ít nhất 1 câu "
    "mỗi lĩnh vực, dừng khi xác định được bậc với xác suất 90% hoặc sai số chuẩn dưới 0,35",
    "en": TAKE_DESIGN["description"],
}
"""The default design's description in each interface language."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "take",
        help="sit an adaptive test in the terminal (Vietnamese or English)",
        description="Sit an adaptive digital-competence test: one question at a time, answer by number. "
        "With --state FILE the test is saved after every answer and resumes from FILE when run again.",
    )
    p.add_argument("--bank", default=None, help="bundled bank id or bank YAML (default civil-service)")
    p.add_argument("--design", metavar="DESIGN.yaml", help="CAT design file (default: the built-in terminal design)")
    p.add_argument("--lang", choices=["vi", "en"], default=None, help="language (default vi, or the saved test's)")
    p.add_argument("--state", metavar="FILE", help="save progress here after every answer; resume from it")
    p.add_argument("--restart", action="store_true", help="discard the saved test in --state and start again")
    p.add_argument("--out", metavar="RESULT.json", help="write the result document here at the end")
    p.add_argument("--person", help="test taker id stored in the result")
    p.add_argument("--seed", type=int, help="seed of the test's random choices (default: fresh)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print only the result document, as JSON, on stdout (the questions and prompts go to stderr)",
    )
    p.set_defaults(run=run)


def design_for(design_path: str | None, lang: str) -> dict[str, Any]:
    """The design as plain data (saved with the state): the file's or the built-in one, reporting in ``lang``."""
    if design_path:
        from digicomp.cat.design import load_design

        data = load_design(design_path).model_dump(mode="json")
    else:
        data = json.loads(json.dumps(TAKE_DESIGN))
    data["bank"] = None
    data["report"] = {**data.get("report", {}), "language": lang}
    return data


def run(args: argparse.Namespace) -> int:
    from digicomp.cat import AdaptiveTest

    saved = _read_state(args.state) if args.state and not args.restart else None
    if saved is not None:
        if args.bank and args.bank != saved["bank"]:
            raise DigicompError(
                f"{args.state}: the saved test uses bank {saved['bank']!r}, not {args.bank!r}; "
                "use --restart to start a new test"
            )
        bank_ref, design, lang = saved["bank"], saved["design"], args.lang or saved["lang"]
    else:
        bank_ref, lang = args.bank or "civil-service", args.lang or "vi"
        design = design_for(args.design, lang)
    engine = AdaptiveTest(bank_ref, design)
    if saved is not None:
        session = engine.resume(saved["session"])
    else:
        session = engine.start(person_id=args.person, seed=args.seed)
    # with --json stdout carries only the result document; the questions and prompts go to stderr
    talk = sys.stderr if args.json else sys.stdout
    test = TerminalTest(engine, session, bank_ref, design, lang, args.state, sys.stdin, talk, results=sys.stdout)
    return test.sit(resumed=saved is not None, out=args.out, as_json=args.json)


class TerminalTest:
    """One test sat at the terminal: asks, reads answers, saves the state, shows the result."""

    def __init__(
        self,
        engine: Any,
        session: Any,
        bank_ref: str,
        design: dict,
        lang: str,
        state_path: str | None,
        stdin: TextIO,
        stdout: TextIO,
        results: TextIO | None = None,
    ) -> None:
        self.engine, self.session, self.bank_ref, self.design = engine, session, bank_ref, design
        self.lang, self.state_path, self.stdin, self.stdout = lang, state_path, stdin, stdout
        self.results = results or stdout

    def say(self, text: str = "", end: str = "\n") -> None:
        """Print to the terminal at once (the prompt must show before the answer is read)."""
        self.stdout.write(text + end)
        self.stdout.flush()

    def sit(self, resumed: bool, out: str | None, as_json: bool) -> int:
        """Run the test to its end (or a pause); returns the exit code."""
        from digicomp.reporting.i18n import t

        lang = self.lang
        done_before = self.session.finished
        if done_before:
            self.say(t("already_done", lang, path=self.state_path))
        else:
            self._header(resumed)
            code = self._ask_all()
            if code:
                return code
        return self._finish(out, as_json, header=not done_before)

    def _header(self, resumed: bool) -> None:
        from digicomp.reporting.i18n import t
        from digicomp.reporting.result import _framework, _provisional
        from digicomp.reporting.text import wrap

        lang, bank = self.lang, self.engine.bank
        fw = _framework(bank)
        title = t("title", lang) + (f" — {fw.title.get(lang)}" if fw is not None else "")
        self.say(title)
        self.say("=" * min(len(title), 78))
        bank_title = _text(bank.spec.title.model_dump(), lang) if bank.spec.title is not None else bank.id
        self.say(f"{t('bank', lang)}: {bank_title} ({bank.id} {bank.version})")
        if _provisional(bank):
            self.say(wrap(t("provisional", lang), indent=""))
        self.say(wrap(t("intro", lang), indent=""))
        if resumed:
            self.say(t("resuming", lang, path=self.state_path, n=len(self.session.items)))
        elif self.state_path:
            self.say(t("saving_to", lang, path=self.state_path))
        self._save()

    def _ask_all(self) -> int:
        """Ask until the test ends; 0 when it ended, 1 (input closed) or 130 (interrupt / q) when paused."""
        from digicomp.cat.errors import InvalidAnswerError
        from digicomp.reporting.i18n import t

        while True:
            item = self.session.next_item()
            if item is None:
                return 0
            try:
                answer = self._ask(item)
            except KeyboardInterrupt:
                self.say()
                answer = PAUSE
            if answer is PAUSE or answer is EOF:
                self._save()
                if answer is EOF:
                    sys.stderr.write(t("input_closed", self.lang) + "\n")
                pause = "paused" if self.state_path else "paused_no_state"
                sys.stderr.write(t(pause, self.lang, path=self.state_path) + "\n")
                return 1 if answer is EOF else 130
            try:
                self.session.record(item.id, answer)
            except InvalidAnswerError as exc:  # the prompts check each format first; the server has the last word
                self.say(str(exc))
                continue
            self._save()

    def _line(self, prompt: str) -> Any:
        """One line typed after ``prompt``, stripped; PAUSE for q, EOF when input is closed."""
        self.say(prompt, end="")
        line = self.stdin.readline()
        if line == "":
            self.say()
            return EOF
        text = line.strip()
        return PAUSE if text.lower() in QUIT else text

    def _ask(self, item: Any) -> Any:
        """Show ``item`` and read a valid raw answer in its format, or PAUSE / EOF."""
        from digicomp.reporting.i18n import t
        from digicomp.reporting.text import wrap

        lang, bank = self.lang, self.engine.bank
        self.say()
        heading = t("question", lang, n=item.position)
        if item.competence is not None:
            heading += f"  ·  {item.competence} {_competence_name(bank, item.competence, lang)}"
        self.say(heading)
        if item.stem:
            self.say(wrap(_text(item.stem, lang), indent=""))
        if item.media:
            self._show_media(item.media)
        ask = {
            "multiple_response": self._ask_multiple_response,
            "ordering": self._ask_ordering,
            "matching": self._ask_matching,
            "short_answer": self._ask_short_answer,
        }.get(item.kind)
        if ask is not None:
            return ask(item)
        choices = item.options if item.options else item.categories or []
        for i, choice in enumerate(choices, 1):
            self.say(f"  {i:>2}. " + wrap(_text(choice, lang), indent="      ")[6:])
        k = len(choices)
        if k == 0:  # a content-free bank: the answer is the category number
            k = int(bank.params.n_categories[bank.index_of(item.id)])
        while True:
            key = self._line(t("prompt", lang, k=k))
            if key is PAUSE or key is EOF:
                return key
            pick = _pick(key.lower(), item, k)
            if pick is not None:
                return pick
            self.say(t("bad_key", lang, k=k))

    def _show_media(self, media: dict) -> None:
        """The picture's file (relative to the bank file) and its text alternative: a terminal shows no image."""
        source = self.engine.bank.source
        path = (source.parent / media["src"]) if source is not None else Path(media["src"])
        self.say(_say("media", self.lang, path=path))
        if media.get("alt"):
            self.say("  " + _text(media["alt"], self.lang))

    def _list(self, entries: list[dict]) -> None:
        """Options (or choices) each with its id: the id is what the answer is typed with."""
        from digicomp.reporting.text import wrap

        width = max(len(e["id"]) for e in entries)
        for e in entries:
            head = f"  {e['id']:>{width}}. "
            self.say(head + wrap(_text(e, self.lang), indent=" " * len(head))[len(head) :])

    def _ask_multiple_response(self, item: Any) -> Any:
        """Every option with its id; the answer is the ids chosen ("A,C"), '-' for none."""
        ids = [o["id"] for o in item.options]
        self._list(item.options)
        while True:
            line = self._line(_say("prompt_multi", self.lang))
            if line is PAUSE or line is EOF:
                return line
            chosen, why = _ids_typed(line, ids, self.lang, allow_none=True)
            if why is None and len(set(chosen)) != len(chosen):
                why = _say("twice", self.lang, id=next(c for c in chosen if chosen.count(c) > 1))
            if why is None:
                return chosen
            self.say(_say("bad_multi", self.lang, why=why, example=",".join(ids[:2])))

    def _ask_ordering(self, item: Any) -> Any:
        """The steps shuffled (the same way on every resume), each with its id; the answer is every id in order."""
        import random

        steps = list(item.options)
        random.Random(f"{self.session.key}:{item.id}").shuffle(steps)
        ids = [o["id"] for o in steps]
        self._list(steps)
        while True:
            line = self._line(_say("prompt_order", self.lang, example=" ".join(ids)))
            if line is PAUSE or line is EOF:
                return line
            order, why = _ids_typed(line, ids, self.lang, allow_none=False)
            if why is None:
                twice = [i for i in ids if order.count(i) > 1]
                missing = [i for i in ids if i not in order]
                if twice:
                    why = _say("twice", self.lang, id=twice[0])
                elif missing:
                    why = _say("missing", self.lang, ids=" ".join(missing))
            if why is None:
                return order
            self.say(_say("bad_order", self.lang, why=why, n=len(ids)))

    def _ask_matching(self, item: Any) -> Any:
        """The choices with their ids, then one prompt per premise: the choice's id (or number)."""
        from digicomp.reporting.text import wrap

        ids = [c["id"] for c in item.choices]
        self._list(item.choices)
        self.say(_say("match_intro", self.lang))
        pairs: dict[str, str] = {}
        for n, premise in enumerate(item.premises, 1):
            head = f"  ({n}) "
            self.say(head + wrap(_text(premise, self.lang), indent=" " * len(head))[len(head) :])
            while True:
                line = self._line("      → ")
                if line is PAUSE or line is EOF:
                    return line
                picked, why = _ids_typed(line, ids, self.lang, allow_none=False)
                if why is None and len(picked) == 1:
                    pairs[premise["id"]] = picked[0]
                    break
                self.say(_say("bad_choice", self.lang, ids=", ".join(ids), k=len(ids)))
        return pairs

    def _ask_short_answer(self, item: Any) -> Any:
        """Free text; a number item checks the number can be read (one decimal mark, no thousands separators)."""
        from digicomp.bank.scoring import MAX_TEXT, parse_number

        number = item.answer_kind == "number"
        while True:
            line = self._line(_say("prompt_number" if number else "prompt_text", self.lang))
            if line is PAUSE or line is EOF:
                return line
            if not line:
                self.say(_say("empty", self.lang))
                continue
            if len(line) > MAX_TEXT:
                self.say(_say("too_long", self.lang, n=MAX_TEXT))
                continue
            if number:
                try:
                    parse_number(line, "answer")
                except DigicompError:
                    self.say(_say("bad_number", self.lang, typed=line))
                    continue
            return line

    def _save(self) -> None:
        """Write the state file atomically (a crash mid-write never leaves half a file)."""
        if not self.state_path:
            return
        doc = {
            "format": STATE_FORMAT,
            "bank": str(self.bank_ref),
            "design": self.design,
            "lang": self.lang,
            "session": json.loads(self.session.to_json()),
        }
        path = Path(self.state_path)
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:
            raise DigicompError(f"{self.state_path}: cannot save the test state: {exc.strerror or exc}") from None

    def _finish(self, out: str | None, as_json: bool, header: bool) -> int:
        from digicomp.reporting.i18n import t
        from digicomp.reporting.result import build_result, write_json
        from digicomp.reporting.text import result_text

        result = build_result(self.session, self.lang, bank_source=str(self.bank_ref))
        if out:
            write_json(result, out)
        if as_json:
            self.results.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
            self.results.flush()
        else:
            self.say()
            self.say(result_text(result, self.lang))
        if out:
            sys.stderr.write(t("result_written", self.lang, path=out) + "\n")
        return 0


def _ids_typed(line: str, ids: list[str], lang: str, allow_none: bool) -> tuple[list[str], str | None]:
    """The ids typed on ``line`` (ids in any case, or 1-based numbers, separated by commas or spaces; one-letter ids
    also run together), and why the line cannot be read (None when it can); '-' alone is the empty choice when
    ``allow_none``."""
    tokens = [tok for tok in re.split(r"[,;\s]+", line) if tok]
    if allow_none and tokens == ["-"]:
        return [], None
    if not tokens:
        return [], _say("nothing", lang)
    upper = {i.upper(): i for i in ids}
    out = []
    for tok in tokens:
        if tok.upper() in upper:
            out.append(upper[tok.upper()])
        elif tok.isdigit() and 1 <= int(tok) <= len(ids):
            out.append(ids[int(tok) - 1])
        elif len(tok) > 1 and all(c.upper() in upper for c in tok):  # one-letter ids run together: "CADB"
            out += [upper[c.upper()] for c in tok]
        else:
            return [], _say("unknown", lang, id=tok)
    return out, None


def answer_text(answer: Any, kind: str | None = None) -> str:
    """A raw answer as typed at the terminal: "A,C" (multiple response), "C A D B" (ordering), "p1=X p2=Y"."""
    if isinstance(answer, dict):
        return " ".join(f"{p}={c}" for p, c in answer.items())
    if isinstance(answer, list):
        return (" " if kind == "ordering" else ",").join(answer) or "-"
    return str(answer)


def _say(key: str, lang: str, **fields: Any) -> str:
    """A message of the newer formats' prompts in ``lang`` (Vietnamese when ``lang`` has none)."""
    entry = MESSAGES[key]
    return (entry.get(lang) or entry["vi"]).format(**fields)


def _pick(key: str, item: Any, k: int) -> Any:
    """The answer a keystroke stands for (option id for multiple choice, category index otherwise), or None."""
    if item.options:
        ids = [o["id"] for o in item.options]
        if key.isdigit() and 1 <= int(key) <= k:
            return ids[int(key) - 1]
        upper = [i.upper() for i in ids]
        return ids[upper.index(key.upper())] if key.upper() in upper else None
    if key.isdigit() and 1 <= int(key) <= k:
        return int(key) - 1
    return None


def _text(node: dict, lang: str) -> str:
    """A multilingual text node in ``lang`` (else Vietnamese, else any)."""
    return node.get(lang) or node.get("vi") or next((v for v in node.values() if isinstance(v, str)), "")


def _competence_name(bank: Any, code: str, lang: str) -> str:
    try:
        return bank.framework.competence(code).name.get(lang)
    except (DigicompError, KeyError):
        return ""


def _read_state(path: str) -> dict[str, Any] | None:
    """The saved test in ``path``, or None when the file does not exist yet."""
    p = Path(path)
    if not p.exists():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DigicompError(
            f"{path}: not a saved test (cannot read it as JSON: {exc}); use --restart to overwrite it"
        ) from None
    missing = [k for k in ("bank", "design", "lang", "session") if not isinstance(doc, dict) or k not in doc]
    if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT or missing:
        raise DigicompError(
            f"{path}: not a saved test of 'digicomp take' (format {STATE_FORMAT!r} with "
            f"bank, design, lang, session); use --restart to overwrite it"
        )
    return doc
