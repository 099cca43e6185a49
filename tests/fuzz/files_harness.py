"""The file-loader fuzz harness shared by the hypothesis tests, the atheris run and the corpus replay.

Three entry points, each taking the raw bytes of one file:

- ``yaml``: a YAML document of any kind (framework, level scale, crosswalk, item bank, CAT design), through
  ``digicomp validate`` (:func:`digicomp.commands.validate.validate_path`) and the loader of its kind, then a
  three-item adaptive session on a bank the loader accepted;
- ``csv``: a response file, through :func:`digicomp.io.read_responses` (format detected, and forced long and wide)
  and the calibration input :func:`digicomp.calibration.data.as_responses` built from what was read (the file
  reader :func:`digicomp.calibrate` uses);
- ``param_table``: a parameter table, through :func:`digicomp.io.param_table.read_param_table`, then an adaptive
  session on the accepted items and a write/read round trip.

:func:`run` returns ``"ok"`` or the name of the DigicompError raised, and lets any other exception through: the
promise under test is "a DigicompError naming what and where, never anything else". What succeeds must also be
sound (``validate`` finding nothing means the loader accepts the file; accepted response codes lie in
0..MAX_CODE; accepted parameters give a session that runs and a table that reads back the same).

A corpus entry is one input file under ``corpus/<entry>/`` plus its line in ``corpus/<entry>/_expected.json``:
``{"file name": {"finding": what broke, "expect": "ok" or the DigicompError class, "message": a fragment}}``.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from digicomp.errors import DigicompError

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
ENTRIES = ("yaml", "csv", "param_table")
REPO = HERE.parent.parent
SEED_FILES = {
    "yaml": [
        REPO / "tests/bank/fixtures/mini.yaml",
        REPO / "tests/framework/fixtures/valid/mini.yaml",
        REPO / "tests/framework/fixtures/valid/scale-3.yaml",
        REPO / "tests/framework/fixtures/valid/mini--digcomp-2.2.yaml",
        REPO / "examples/designs/kl-map-sprt.yaml",
        REPO / "examples/designs/civil-service-pretest.yaml",
    ],
}
SEED_TEXTS = {
    "csv": [
        "person,item,response\np1,i1,1\np1,i2,0\np2,i1,0\np2,i3,2\np3,i2,1\np3,i3,1\n",
        "person,i1,i2,i3\np1,1,0,\np2,0,1,2\np3,,1,0\np4,1,1,1\n",
    ],
    "param_table": [
        "item,itemtype,a1,d,g,u\ni1,2PL,1.2,0.3,0,1\ni2,3PL,0.8,-0.5,0.2,1\ni3,4PL,1.5,1.0,0.1,0.95\n",
        "item,a,b,c,d\ni1,1.0,-0.5,0,1\ni2,1.4,0.2,0.15,1\ni3,0.7,1.1,0,1\n",
        "item,itemtype,a1,d1,d2,d3\ni1,graded,1.1,2.0,0.0,-1.5\ni2,gpcm,0.9,0.5,0.2,-0.4\n",
    ],
}
TOKENS = [
    b"!!int 1e3",
    b"!!float abc",
    b"!!bool maybe",
    b"!!timestamp x",
    b"!!binary x",
    b"!!set {a}",
    b"!!str",
    b"&a ",
    b"*a",
    b"<<: *a",
    b"[",
    b"]",
    b"{",
    b"}",
    b": ",
    b"- ",
    b"\n",
    b"\n  ",
    b"'",
    b'"',
    b"#",
    b"~",
    b"9" * 5000,
    b"1e308",
    b"-1e308",
    b"-.inf",
    b".nan",
    b"true",
    b"null",
    b"-7",
    b"1e30",
    b"9" * 20,
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"NA",
    b",",
    b",,",
    b"\r\n",
    b"\t",
    b"1.5",
    b"-1",
    b"inf",
    b"kind: item_bank\n",
    b"kind: framework\n",
    b"kind: cat_design\n",
    b"kind: level_scale\n",
    b"kind: crosswalk\n",
    b"model: 2PL",
    b"model: Rasch",
    b"model: GRM",
    b"c: 0.3",
    b"d: 0.5",
    b"level: true",
    b"se: {a: -1}",
    b"status: official",
    b"source: [nowhere]",
    b"a1",
    b"b",
    b"g",
    b"u",
    b"d1",
    b"itemtype",
    b"graded",
]


def _scratch() -> Path:
    """One scratch folder per process, holding the level scale the framework seeds refer to."""
    folder = _scratch_folder()
    scale = folder / "scale-3.yaml"
    if not scale.exists():
        scale.write_bytes((REPO / "tests/framework/fixtures/valid/scale-3.yaml").read_bytes())
        (folder / "mini.yaml").write_bytes((REPO / "tests/framework/fixtures/valid/mini.yaml").read_bytes())
    return folder


@cache
def _scratch_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="digicomp-fuzz-files-"))


@cache
def seeds(entry: str) -> tuple[bytes, ...]:
    """Valid inputs of ``entry`` that mutations start from."""
    if entry in SEED_FILES:
        from digicomp.framework import load_framework

        bundled = load_framework("vn-civil-service").version  # the bank fixture names an older version
        return tuple(
            path.read_bytes().replace(b'version: "1.0"', f'version: "{bundled}"'.encode()) for path in SEED_FILES[entry]
        )
    return tuple(text.encode() for text in SEED_TEXTS[entry])


def mutate(seed: bytes, edits: list[tuple[int, float, int, bytes]]) -> bytes:
    """Apply byte edits ``(op, where in 0..1, length, payload)``: 0 insert, 1 replace, 2 delete, 3 duplicate."""
    data = bytearray(seed)
    for op, where, length, payload in edits:
        at = int(where * len(data))
        if op == 0:
            data[at:at] = payload
        elif op == 1:
            data[at : at + max(len(payload), 1)] = payload
        elif op == 2:
            del data[at : at + length]
        else:
            data[at:at] = data[at : at + length] * 3
    return bytes(data)


# ---------------------------------------------------------------------- entry points
def run(entry: str, data: bytes, name: str = "input") -> str:
    """Feed ``data`` to ``entry``; ``"ok"`` or the DigicompError's class name (anything else propagates)."""
    outcome, _ = run_with_message(entry, data, name)
    return outcome


def run_with_message(entry: str, data: bytes, name: str = "input") -> tuple[str, str]:
    """(outcome, message of the DigicompError or ``""``) of feeding ``data`` to ``entry``."""
    suffix = ".yaml" if entry == "yaml" else ".csv"
    path = _scratch() / f"{entry}-{name}{suffix}"
    path.write_bytes(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            {"yaml": _yaml, "csv": _responses, "param_table": _param_table}[entry](path)
    except DigicompError as exc:
        return type(exc).__name__, str(exc)
    finally:
        path.unlink(missing_ok=True)
    return "ok", ""


def _yaml(path: Path) -> None:
    """``digicomp validate`` on the file, then the loader of its kind; validate's silence means the loader agrees."""
    from digicomp.commands.validate import validate_path
    from digicomp.io.yamlfile import load_yaml

    problems = validate_path(path)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
    try:
        data, _ = load_yaml(path)
    except DigicompError:
        assert problems, "validate found nothing, but the file does not load as YAML"
        raise
    kind = data.get("kind") if isinstance(data, dict) else None
    loader = _loader(kind if isinstance(kind, str) else "")
    if loader is None:
        assert problems, "a document of no known kind must be reported"
        raise DigicompError("\n".join(problems))
    try:
        loaded = loader(path)
    except DigicompError:
        assert problems, f"validate found nothing, the {kind} loader refused the file"
        raise
    if kind == "item_bank":
        _play(loaded)
    if problems:
        raise DigicompError("\n".join(problems))


def _play(bank: Any) -> None:
    """A three-item adaptive session on a bank the loader accepted (first option, or the middle category)."""
    from digicomp.cat import AdaptiveTest

    session = AdaptiveTest(bank).start(seed=0)
    for _ in range(3):
        item = session.next_item()
        if item is None:
            break
        if item.options:
            answer: Any = item.options[0]["id"]
        elif item.categories:
            answer = len(item.categories) // 2
        else:
            answer = 1
        session.record(item.id, answer)


def _loader(kind: str) -> Any:
    """The loader of a document kind (None for an unknown kind)."""
    if kind == "item_bank":
        from digicomp.bank import load_bank

        return load_bank
    if kind == "cat_design":
        from digicomp.cat.design import load_design

        return load_design
    if kind in ("framework", "level_scale", "crosswalk"):
        from digicomp import framework

        return {
            "framework": framework.load_framework,
            "level_scale": framework.load_scale,
            "crosswalk": framework.load_crosswalk,
        }[kind]
    return None


def _responses(path: Path) -> None:
    """The response file in every format; accepted codes are 0..MAX_CODE and calibration's input keeps them all."""
    from digicomp.calibration.data import as_responses
    from digicomp.io.responses import MAX_CODE, read_responses

    first: DigicompError | None = None
    for fmt in ("long", "wide"):
        try:
            resp = read_responses(path, fmt=fmt)
        except DigicompError as exc:
            first = first or exc
            continue
        assert resp.value.size == 0 or (resp.value.min() >= 0 and resp.value.max() <= MAX_CODE)
    resp = read_responses(path)
    assert as_responses(resp).n_observed == resp.n_observed
    try:  # the scoring path: items in a bank's order
        ordered = read_responses(path, item_ids=["i1", "i2", "i3", "i4", "item", "response"])
    except DigicompError:
        pass
    else:
        assert ordered.n_observed == resp.n_observed
    if first is not None and resp.n_observed == 0:
        raise first


def _param_table(path: Path) -> None:
    """The table's items run an adaptive session and survive a write/read round trip."""
    from digicomp.bank import ItemBank
    from digicomp.io.param_table import TO_MIRT, read_param_table, write_param_table

    params = read_param_table(path)
    _play(ItemBank.from_item_parameters(params))
    again = read_param_table(write_param_table(params, path.with_name(path.stem + "-again.csv")))
    assert again.ids == params.ids  # models as a mirt table names them (mirt has no 1PL itemtype: it writes 2PL)
    assert [TO_MIRT[m] for m in again.models] == [TO_MIRT[m] for m in params.models]
    np.testing.assert_allclose(again.slope, params.slope, rtol=1e-12)
    assert again.n_categories.tolist() == params.n_categories.tolist()
    width = int(params.n_categories.max()) - 1 if params.n_items else 0
    np.testing.assert_allclose(again.intercepts[:, :width], params.intercepts[:, :width], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- corpus
def corpus_cases(entry: str) -> list[tuple[str, bytes, dict[str, str]]]:
    """(file name, bytes, expectation) of every regression input of ``entry``."""
    folder = CORPUS / entry
    expected = json.loads((folder / "_expected.json").read_text(encoding="utf-8"))
    cases = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("_"):
            continue
        assert path.name in expected, f"{path} has no line in _expected.json"
        cases.append((path.name, path.read_bytes(), expected[path.name]))
    missing = sorted(set(expected) - {name for name, _, _ in cases})
    assert not missing, f"_expected.json names missing files: {missing}"
    return cases
