"""``digicomp take``: sit an adaptive test in the terminal, in Vietnamese (default) or English.

One question at a time with numbered options; the session state is saved after every answer (``--state``) so
an interrupted test resumes where it stopped; at the end the level overall and per area, what the level means
and the competences to work on; ``--out`` writes the result document (:mod:`digicomp.reporting.result`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from digicomp.errors import DigicompError

STATE_FORMAT = "digicomp.take/1"

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
        from digicomp.reporting.i18n import t

        while True:
            item = self.session.next_item()
            if item is None:
                return 0
            try:
                answer = self._ask(item)
            except KeyboardInterrupt:
                self.say()
                answer = "pause"
            if answer in ("pause", "eof"):
                self._save()
                if answer == "eof":
                    sys.stderr.write(t("input_closed", self.lang) + "\n")
                pause = "paused" if self.state_path else "paused_no_state"
                sys.stderr.write(t(pause, self.lang, path=self.state_path) + "\n")
                return 1 if answer == "eof" else 130
            self.session.record(item.id, answer)
            self._save()

    def _ask(self, item: Any) -> Any:
        """Show ``item`` and read a valid answer: an option id, a category, or 'pause' / 'eof'."""
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
        choices = item.options if item.options else item.categories or []
        for i, choice in enumerate(choices, 1):
            self.say(f"  {i:>2}. " + wrap(_text(choice, lang), indent="      ")[6:])
        k = len(choices)
        if k == 0:  # a content-free bank: the answer is the category number
            k = int(bank.params.n_categories[bank.index_of(item.id)])
        while True:
            self.say(t("prompt", lang, k=k), end="")
            line = self.stdin.readline()
            if line == "":
                self.say()
                return "eof"
            key = line.strip().lower()
            if key in ("q", "quit", "thoát", "thoat"):
                return "pause"
            pick = _pick(key, item, k)
            if pick is not None:
                return pick
            self.say(t("bad_key", lang, k=k))

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
