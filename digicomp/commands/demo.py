"""``digicomp demo``: the main job in one command, on the bundled civil-service framework and bank.

A few simulated people of different ability sit the adaptive test of ``digicomp take``; for each, the questions,
the answers, the θ̂ path and the level are printed. Then a small simulation study of the same design.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy loads when the demo runs, not when `digicomp --help` lists the commands
    import numpy as np

DEMO_THETAS = (-1.8, -0.5, 0.6, 1.8)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run adaptive tests for simulated people, then a small simulation study (bundled defaults)",
        description="Demonstration on the bundled civil-service framework and bank: simulated people of "
        "different ability sit the adaptive test of 'digicomp take' (questions, answers, θ path, level), "
        "then a small Monte Carlo study of the design.",
    )
    p.add_argument("--bank", default="civil-service", help="bundled bank id or bank YAML (default civil-service)")
    p.add_argument("--lang", choices=["vi", "en"], default="vi", help="language (default vi)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the simulated answers (default 2026)")
    p.add_argument(
        "--thetas",
        type=float,
        nargs="+",
        default=list(DEMO_THETAS),
        metavar="θ",
        help=f"true abilities of the simulated people (default {' '.join(map(str, DEMO_THETAS))})",
    )
    p.add_argument("--study-size", type=int, default=500, help="simulees in the study (default 500; 0 skips it)")
    p.add_argument("--json", action="store_true", help="print the people's result documents (and study) as JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from digicomp.cat import AdaptiveTest
    from digicomp.commands.take import design_for
    from digicomp.reporting.result import build_result

    engine = AdaptiveTest(args.bank, design_for(None, args.lang))
    rng = np.random.default_rng(args.seed)
    if not args.json:
        print_intro(engine, len(args.thetas), args.lang)
    results = []
    for i, theta in enumerate(args.thetas):
        session = engine.start(person_id=f"demo-{i + 1}", seed=(args.seed, i))
        answers = sit(session, theta, rng)
        result = build_result(session, args.lang, bank_source=args.bank)
        result["true_theta"] = theta
        results.append(result)
        if not args.json:
            print_person(engine, result, answers, args.lang)
    study = run_study(engine, args) if args.study_size > 0 else None
    if args.json:
        doc = {"people": results, "study": json.loads(study.to_json()) if study is not None else None}
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    elif study is not None:
        print_study(study, args.lang)
    return 0


def print_intro(engine: Any, n_people: int, lang: str) -> None:
    """What the demo is about to show: framework, bank, design."""
    from digicomp.commands.take import TAKE_DESCRIPTION, TAKE_DESIGN
    from digicomp.reporting.result import _framework, _provisional
    from digicomp.reporting.text import wrap

    bank, design = engine.bank, engine.design
    about = TAKE_DESCRIPTION[lang] if design.id == TAKE_DESIGN["id"] else design.description
    fw = _framework(bank)
    where = f"{fw.title.get(lang)} ({fw.id})" if fw is not None else bank.id
    if lang == "en":
        lines = [
            f"digicomp demo: {n_people} simulated people sit an adaptive test on {where}, bank {bank.id} "
            f"{bank.version} ({bank.n_items} items), design {design.id!r}: {about}."
        ]
        if _provisional(bank):
            lines.append("The bank's parameters are provisional (expert-set), so levels are illustrative.")
    else:
        lines = [
            f"digicomp demo: {n_people} người mô phỏng làm bài kiểm tra thích ứng theo {where}, ngân hàng "
            f"{bank.id} {bank.version} ({bank.n_items} câu), thiết kế {design.id!r}: {about}."
        ]
        if _provisional(bank):
            lines.append("Tham số câu hỏi là tạm thời (do chuyên gia ước định), nên bậc chỉ mang tính minh họa.")
    for line in lines:
        print(wrap(line, indent=""))
    print()


def sit(session: Any, theta: float, rng: np.random.Generator) -> list[str]:
    """Answer every item as a person of ability ``theta`` would under the bank's model; the options chosen."""
    import numpy as np

    bank = session.engine.bank
    chosen = []
    while (item := session.next_item()) is not None:
        j = bank.index_of(item.id)
        spec = bank.item(item.id)
        if spec.kind == "multiple_choice":
            p_right = float(bank.params.prob(np.array([theta]))[0, j, 1])
            wrong = [o["id"] for o in item.options if o["id"] != spec.key]
            answer = spec.key if rng.random() < p_right else wrong[rng.integers(len(wrong))]
        else:  # the other formats: a category drawn from the model, answered in the item's own form
            from digicomp.bank.scoring import answer_for

            probs = bank.params.prob(np.array([theta]))[0, j, : int(bank.params.n_categories[j])]
            answer = answer_for(spec, int(rng.choice(probs.size, p=probs / probs.sum())))
        session.record(item.id, answer)
        chosen.append(answer)
    return chosen


def print_person(engine: Any, result: dict[str, Any], answers: list[str], lang: str) -> None:
    """One simulated person's test: each question, the answer, θ̂ ± SE after it, then the θ̂ path and level."""
    from digicomp.commands.take import _text, answer_text
    from digicomp.reporting.i18n import t
    from digicomp.reporting.text import path_line, percent, wrap

    bank = engine.bank
    head = (
        f"{result['person']}: θ = {result['true_theta']:+.2f}"
        if lang == "en"
        else f"{result['person']}: năng lực thật θ = {result['true_theta']:+.2f}"
    )
    print(head)
    print("-" * len(head))
    for i, (step, answer) in enumerate(zip(result["path"], answers), 1):
        stem = _text(bank.item(step["item"]).stem.model_dump(), lang)
        stem = stem if len(stem) <= 44 else stem[:43] + "…"
        mark = "✓" if step["score"] else "✗"
        shown = answer_text(answer)
        print(f"  {i:>2}. {step['item']:<11} {stem:<44}  {shown} {mark}  θ̂ = {step['theta']:+.2f} ± {step['se']:.2f}")
    print(wrap(f"{t('theta_path', lang)}: {path_line(result['path'], engine.design.start.theta)}", indent="  "))
    level = result.get("level", {})
    prob = level.get("probability")
    where = f" ({t('certainty', lang, p=percent(prob))})" if prob is not None else ""
    print(
        f"  {t('overall', lang)}: {level.get('name') or level.get('id')}{where}; "
        f"θ̂ = {result['theta']:+.2f} ± {result['se']:.2f}, {result['n_items']} "
        f"{'items' if lang == 'en' else 'câu'}"
    )
    print()


def run_study(engine: Any, args: argparse.Namespace) -> Any:
    """A small Monte Carlo study of the demo design, against the best fixed form of the same mean length."""
    from digicomp.simulation import simulate

    return simulate(engine, n=args.study_size, seed=args.seed)


def print_study(study: Any, lang: str) -> None:
    """The study's side-by-side summary table."""
    from digicomp.reporting.i18n import t

    print(t("study", lang))
    print("=" * len(t("study", lang)))
    print(study.summary())
