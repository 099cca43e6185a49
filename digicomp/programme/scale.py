"""The reporting levels and cut scores the stored results were scored against, found from the banks that made them.

Shares need the cut scores on θ and the scoring prior; the store keeps only each bank version's fingerprint, so the
bank files are matched by fingerprint: the bundled banks are tried first, then the files given (``--bank``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.programme.errors import ProgrammeError


@dataclass(frozen=True)
class LevelScale:
    """Level ids (lowest first), cut scores between them, the scoring prior N(prior_mean, prior_sd²), and the names
    of the levels, areas and competences in each language (``labels``: kind → code → {vi, en}; from the bank's
    framework, empty when it has none) that a report shows instead of the codes."""

    levels: tuple[str, ...]
    cuts: NDArray[np.float64]
    prior_mean: float = 0.0
    prior_sd: float = 1.0
    labels: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def index(self, level: str) -> int:
        """Position of ``level`` (ProgrammeError listing the levels when unknown)."""
        if level not in self.levels:
            raise ProgrammeError(f"level {level!r} is not one of the levels {', '.join(self.levels)}")
        return self.levels.index(level)

    def next_cut(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """The cut just above each θ (θ itself at the top level): the bar a learner works toward."""
        i = np.searchsorted(self.cuts, theta, side="right")
        return np.where(i < self.cuts.size, self.cuts[np.minimum(i, self.cuts.size - 1)], theta)


def scale_of_banks(
    fingerprints: Iterable[str],
    banks: Iterable[str] = (),
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    store: Any = None,
) -> LevelScale:
    """The one level scale of the bank versions ``fingerprints`` (bundled banks, then ``banks`` paths or ids).

    With a ``store``, each version's scale is read from it where an earlier report kept it and its bank and
    framework files have not changed since (:func:`kept_scale`), and kept there once derived: loading the bank's
    YAML took 0.4–0.6 s of every report. A fingerprint no bank matches, or bank versions with different levels or
    cuts, is a ProgrammeError.
    """
    wanted = sorted(set(fingerprints))
    found = {}
    if store is not None:
        found = {fp: s for fp in wanted if (s := kept_scale(store, fp, prior_mean, prior_sd)) is not None}
    to_load = [f for f in wanted if f not in found]
    for fp, (src, bank) in _matching(to_load, banks) if to_load else ():
        if not bank.scale.levels or not np.size(bank.cut_scores):
            raise ProgrammeError(f"{src}: bank {bank.id!r} has no reporting levels; shares need levels and cuts")
        found[fp] = LevelScale(
            tuple(bank.scale.levels), np.asarray(bank.cut_scores, float), prior_mean, prior_sd, bank_labels(bank)
        )
        if store is not None:
            keep_scale(store, fp, bank, found[fp])
    missing = [f for f in wanted if f not in found]
    if missing:
        raise ProgrammeError(
            f"sessions were scored with bank version {missing[0]} ({len(missing)} version(s) unmatched), which no "
            "bundled bank and no --bank file is; give that bank's file with --bank"
        )
    scales = list(found.values())
    for fp, s in found.items():  # labels may differ between versions (wording); the first bank's are shown
        if s.levels != scales[0].levels or not np.array_equal(s.cuts, scales[0].cuts):
            raise ProgrammeError(
                f"bank version {fp} reports levels {s.levels} at cuts {s.cuts.tolist()}, another "
                f"{scales[0].levels} at {scales[0].cuts.tolist()}: shares across them would not mean one thing"
            )
    return scales[0]


def _key(fingerprint: str) -> str:
    return f"level-scale/{fingerprint}"


def _signature(path: Path) -> list[Any]:
    """What tells a file changed: its resolved path, modification time (ns) and size."""
    st = path.stat()
    return [str(path.resolve()), st.st_mtime_ns, st.st_size]


def kept_scale(store: Any, fingerprint: str, prior_mean: float = 0.0, prior_sd: float = 1.0) -> LevelScale | None:
    """The scale of bank version ``fingerprint`` as an earlier report kept it in ``store``, if the files it came from
    (the bank's, the framework's, its level scale's) are unchanged and the same digicomp wrote it; else None."""
    from digicomp import __version__

    text = store.get_derived(_key(fingerprint))
    if text is None:
        return None
    try:
        kept = json.loads(text)
        if kept["digicomp"] != __version__:
            return None
        if any(_signature(Path(path)) != [path, *sig] for path, *sig in kept["files"]):
            return None
        return LevelScale(tuple(kept["levels"]), np.asarray(kept["cuts"], float), prior_mean, prior_sd, kept["labels"])
    except (ValueError, KeyError, TypeError, OSError):  # damaged, or a file gone: derive it again
        return None


def keep_scale(store: Any, fingerprint: str, bank: Any, scale: LevelScale) -> bool:
    """Keep ``scale`` (of ``bank``, version ``fingerprint``) in ``store`` with the signatures of the files it came
    from; False (nothing kept) for a bank not read from a file or a store that refuses the write."""
    from digicomp import __version__
    from digicomp.errors import DigicompError

    if bank.source is None:
        return False
    try:
        files = [Path(bank.source)]
        if bank.spec.framework is not None:
            from digicomp.framework.loader import source_files

            files += source_files(bank.spec.framework.id, bank.framework.level_scale)
        signed = [_signature(f) for f in files]
    except (DigicompError, OSError, AttributeError):
        return False
    kept = {
        "digicomp": __version__,
        "files": signed,
        "levels": list(scale.levels),
        "cuts": scale.cuts.tolist(),
        "labels": scale.labels,
    }
    return bool(store.put_derived(_key(fingerprint), json.dumps(kept, ensure_ascii=False)))


def _matching(wanted: list[str], banks: Iterable[str]) -> Any:
    """(fingerprint, (source, bank)) of the first bank matching each wanted fingerprint: the ``banks`` given (paths
    or ids), then the bundled banks; banks are loaded one by one until every fingerprint is matched."""
    from digicomp.bank import load_bank
    from digicomp.bundled import bundled_path, list_bundled

    seen: set[str] = set()
    sources = [str(b) for b in banks] + [f"bundled:{b}" for b in list_bundled("item_banks")]
    for src in sources:
        if len(seen) == len(wanted):
            return
        if src.startswith("bundled:"):
            path = bundled_path("item_banks", src[8:])
        else:
            path = Path(src) if Path(src).exists() else bundled_path("item_banks", src)
        bank = load_bank(path)
        if bank.fingerprint in wanted and bank.fingerprint not in seen:
            seen.add(bank.fingerprint)
            yield bank.fingerprint, (src, bank)


def find_banks(fingerprints: Iterable[str], banks: Iterable[str] = ()) -> dict[str, Any]:
    """{fingerprint: ItemBank} of the bank versions among ``fingerprints`` that the ``banks`` given (paths or ids) or
    the bundled banks match (those no bank matches are left out)."""
    return {fp: bank for fp, (_, bank) in _matching(sorted(set(fingerprints)), banks)}


def bank_labels(bank: Any) -> dict[str, dict[str, dict[str, str]]]:
    """Names of ``bank``'s levels, areas and competences per language, from its framework:
    ``{"levels": {id: {"vi": ..., "en": ...}}, "areas": {...}, "competences": {...}}``.

    A bank without a loadable framework gives empty maps (a report then shows the codes, as it must).
    """
    from digicomp.errors import DigicompError

    out: dict[str, dict[str, dict[str, str]]] = {"levels": {}, "areas": {}, "competences": {}}
    if bank.spec.framework is None:
        return out
    try:
        fw = bank.framework
    except (DigicompError, KeyError, OSError):
        return out

    def both(text: Any) -> dict[str, str]:
        return {lang: text.get(lang) for lang in ("vi", "en") if text.get(lang)}

    for level in bank.scale.levels or []:
        try:
            names = {lang: fw.describe_band(level, lang)[0] for lang in ("vi", "en")}
        except (KeyError, ValueError, DigicompError):
            continue
        out["levels"][level] = {lang: n for lang, n in names.items() if n}
    for area in fw.areas:
        out["areas"][area.code] = both(area.name)
    for comp in fw.competences:
        out["competences"][comp.code] = both(comp.name)
    return out
