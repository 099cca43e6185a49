"""Coverage-guided fuzzing of ``resume()`` and ``record()`` with atheris (libFuzzer); the long release run.

    python tests/fuzz/atheris_state.py -max_total_time=600 /tmp/fuzz-state-work

Each input is decoded into a harness case (see state_harness.py): a damaged real state, raw text or bytes, or an
answer to record. Anything but success or a DigicompError is a finding: the case is written as
``fuzz-findings/state-<hash>.json`` (add ``finding`` and ``expect`` and move it to ``corpus/state/`` to keep it
as a regression input) and the exception is raised so libFuzzer stops and keeps the crashing input too.
Not collected by pytest (the name does not start with ``test_``). See README.md.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import atheris

with atheris.instrument_imports(include=["digicomp"]):
    sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[2])]  # the harness; tests.banks
    from state_harness import ENGINES, content_bank, params_bank, run_case

FINDINGS = Path("fuzz-findings")
ENGINE_NAMES = sorted(ENGINES)
IDS = list(params_bank().ids) + list(content_bank().ids) + ["item0", "q99"]
FIELDS = ["format", "bank", "design", "person", "key", "items", "scores", "answers", "pending", "stop_reason"]
FIELDS += ["seeded", "ineligible", "signature", "extra", "item", "position", "answer", "score"]
HEX = list("0123456789abcdefABCDEF-")
WORDS = ["A", "B", "C", "D", "no_items", "max_items", "se", "", "digicomp.session/1", "0" * 16, "f" * 64]


def value(fdp: atheris.FuzzedDataProvider, depth: int = 0) -> Any:
    """A JSON value (possibly nested, possibly with non-finite floats or lone surrogates) from the input."""
    kind = fdp.ConsumeIntInRange(0, 11)
    if kind == 0:
        return None
    if kind == 1:
        return fdp.ConsumeBool()
    if kind == 2:
        return fdp.ConsumeIntInRange(-2, 5)
    if kind == 3:
        return fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 12))
    if kind == 4:
        return fdp.ConsumeFloat()
    if kind == 5:
        return fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 24))
    if kind == 6:
        return fdp.PickValueInList(IDS)
    if kind == 7:
        return fdp.PickValueInList(WORDS)
    if kind == 8:
        return "".join(fdp.PickValueInList(HEX) for _ in range(fdp.ConsumeIntInRange(0, 20)))
    if kind == 9 and depth < 4:
        return [value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4))]
    if kind == 10 and depth < 4:
        return {fdp.PickValueInList(FIELDS): value(fdp, depth + 1) for _ in range(fdp.ConsumeIntInRange(0, 4))}
    return fdp.ConsumeUnicode(2)


def case_from(data: bytes) -> dict[str, Any]:
    """The harness case an input stands for."""
    fdp = atheris.FuzzedDataProvider(data)
    case: dict[str, Any] = {"engine": fdp.PickValueInList(ENGINE_NAMES)}
    mode = fdp.ConsumeIntInRange(0, 9)
    if mode == 0:
        case["bytes_hex"] = fdp.ConsumeBytes(fdp.remaining_bytes()).hex()
        return case
    if mode == 1:
        case["text"] = fdp.ConsumeUnicode(fdp.remaining_bytes())
        return case
    case["base"] = {
        "seed": fdp.ConsumeIntInRange(0, 40),
        "answers": fdp.ConsumeIntInRange(0, 12),
        "serve_next": fdp.ConsumeBool(),
    }
    if mode == 2:
        item = "$served" if fdp.ConsumeBool() else value(fdp)
        answer = value(fdp)
        if fdp.ConsumeBool():
            dtype = fdp.PickValueInList(["int8", "int32", "int64", "uint8", "uint64", "float32", "float64", "bool"])
            answer = {"numpy": dtype, "value": fdp.ConsumeIntInRange(0, 4)}
        case["record"] = {"item": item, "answer": answer}
        return case
    mutations = []
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        op = fdp.PickValueInList(["set", "set", "delete", "append"])
        path: list[Any] = [fdp.PickValueInList(FIELDS)]
        for _ in range(fdp.ConsumeIntInRange(0, 2)):
            path.append(fdp.ConsumeIntInRange(-2, 12) if fdp.ConsumeBool() else fdp.PickValueInList(FIELDS))
        mutations.append([op, path, value(fdp)])
    case["mutations"] = mutations
    case["sign"] = fdp.ConsumeBool()
    return case


def test_one_input(data: bytes) -> None:
    """Run the case of ``data``; save it as a finding before re-raising anything but a DigicompError."""
    case = case_from(data)
    try:
        run_case(case)
    except Exception:
        text = json.dumps(case, indent=1)  # ASCII: lone surrogates and non-finite floats survive the round trip
        FINDINGS.mkdir(exist_ok=True)
        path = FINDINGS / f"state-{hashlib.sha256(text.encode()).hexdigest()[:12]}.json"
        path.write_text(text + "\n", encoding="utf-8")
        print(f"\nfinding saved as {path}", file=sys.stderr)
        raise


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
