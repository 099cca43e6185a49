"""Recalibration from the response store into a new bank version, with drift checks and provenance.

``mode="pretest"`` estimates the items seeded as pretest items with every operational item held at its bank
value (fixed-parameter calibration, so the new items land on the bank's scale). ``mode="all"`` re-estimates
every item freely and links the result to the bank's scale over the operational items (Stocking & Lord 1983).
Either way the operational items are checked for drift, and the new bank version says where it came from.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration import CalibrationResult
from digicomp.calibration.linking import Linking, link, transform
from digicomp.errors import BankError, CalibrationError, ConvergenceWarning, DataWarning
from digicomp.face.calibration import calibrate
from digicomp.loop.drift import (
    DriftCheck,
    DriftRow,
    drift_rows,
    flat_values,
    jackknife_se,
    leave_one_out_linkings,
    linked_se,
)
from digicomp.responses import Responses
from digicomp.store.base import ResponseStore, StoredResponses

MODES = ("pretest", "all")
BAYES_MODELS = ("3PL", "4PL")
"""With ``priors="auto"`` a calibration freeing items of these models uses ``priors="bayes"``: their asymptotes are
barely identified by adaptive tests (each item is given to people near its difficulty), and without priors the
free drift calibration of a 3PL bank typically runs out of EM cycles with no valid standard errors."""


@dataclass
class Recalibration:
    """The outcome: the new bank version, the calibration behind it, the drift table and the provenance."""

    bank: Any
    result: CalibrationResult
    mode: str
    free_items: list[str]
    drift: list[DriftRow] = field(default_factory=list)
    linking: Linking | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    drift_check: DriftCheck | None = None
    drift_result: CalibrationResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> list[str]:
        """Operational items flagged for drift (Benjamini–Hochberg over items at ``drift_fdr``)."""
        return list(self.drift_check.flagged) if self.drift_check is not None else []

    @property
    def converged(self) -> bool:
        """Whether every calibration behind this version converged (the estimate and the drift check's)."""
        return self.result.converged and (self.drift_result is None or self.drift_result.converged)

    def write(self, path: str | PathLike[str]) -> tuple[Path, Path]:
        """Write the bank YAML at ``path`` and its provenance (JSON) beside it as ``<stem>.provenance.json``.

        Items' media files are copied beside it (same relative paths) when ``path`` is in another folder than the
        source bank, so the new version loads; a different file already at a media path is a BankError.
        """
        path = Path(path)
        self.bank.to_yaml(path)  # its media files go beside it
        side = path.with_name(path.stem + ".provenance.json")
        side.write_text(json.dumps(self.provenance, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path, side

    def summary(self) -> str:
        """A few readable lines: what was estimated from how much data, and which items drifted."""
        p = self.provenance["data"]
        lines = [
            f"bank {self.bank.id} {self.provenance['source_bank']['version']} -> {self.bank.version} "
            f"({self.mode}): {len(self.free_items)} items estimated from {p['n_responses']} responses in "
            f"{p['n_sessions']} sessions; {_status(self.result)}"
        ]
        if self.drift_result is not None and self.drift_result is not self.result:
            lines.append(f"drift calibration (free, linked): {_status(self.drift_result)}")
        check = self.drift_check
        if check is not None and check.rows:
            listed = f": {', '.join(check.flagged[:20])}" if check.flagged else ""
            lines.append(
                f"drift: {len(check.flagged)} of {check.n_items} operational items flagged at false discovery "
                f"rate {check.fdr:g} (expected false flags <= {check.expected_false_flags:.2f}){listed}"
            )
        lines += [f"note: {n}" for n in self.notes]
        if not self.converged:
            lines.append("NOT CONVERGED: do not publish this version (raise --max-iter, use --priors bayes)")
        return "\n".join(lines)


def next_version(version: str) -> str:
    """The version after ``version``: its last number plus one ("0.1" → "0.2", "3" → "4", "beta" → "beta.1")."""
    m = re.search(r"(\d+)(?!.*\d)", version)
    if m is None:
        return f"{version}.1"
    return f"{version[: m.start()]}{int(m.group(1)) + 1}{version[m.end() :]}"


def recalibrate(
    store: ResponseStore,
    bank: Any,
    *,
    mode: str = "pretest",
    statuses: tuple[str, ...] = ("finished",),
    drift: bool = True,
    drift_fdr: float = 0.05,
    version: str | None = None,
    date: datetime.date | None = None,
    progress: Callable[[int, float, float], None] | None = None,
    min_responses: int = 200,
    record: bool = True,
    **options: Any,
) -> Recalibration:
    """Calibrate ``bank`` (an ItemBank) from its stored sessions and build its next version.

    ``options`` go to :func:`digicomp.calibrate` (``priors``, ``quadpts``, ``tol``, ``max_iter``);
    ``priors="auto"`` (the default) means "bayes" when a freed item is 3PL/4PL (see BAYES_MODELS), else none.
    Drift is tested per operational item with the linking error included and the false discovery rate over items
    held at ``drift_fdr`` (:mod:`digicomp.loop.drift`).
    ``record`` also writes the provenance into the store's ``recalibrations`` table. Free calibrations (drift
    checks, ``mode="all"``) use only items with at least ``min_responses`` responses: an adaptive test gives some
    items so rarely that their estimates would not exist; those items keep their bank values.
    """
    if mode not in MODES:
        raise CalibrationError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
    if not 0 < drift_fdr < 1:
        raise CalibrationError(f"drift_fdr = {drift_fdr!r}: expected a false discovery rate between 0 and 1")
    stored = store.read_responses(bank, statuses=statuses)
    if stored.other_versions:
        n = sum(stored.other_versions.values())
        warnings.warn(
            f"{store.url}: {n} stored sessions of other bank versions are not used (their parameters "
            f"differ from {bank.id} {bank.version}): {stored.other_versions}",
            DataWarning,
            stacklevel=2,
        )
    ids = stored.responses.item_ids
    models = {i: str(bank.params.models[bank.index_of(i)]) for i in ids}
    pretest = [i for i in ids if i in set(stored.pretest_items)]
    operational = [i for i in ids if i not in set(pretest)]
    if options.get("priors", "auto") == "auto":
        freed = ids if mode == "all" or drift else pretest
        options["priors"] = "bayes" if any(models[i] in BAYES_MODELS for i in freed) else None
    kwargs = dict(options, D=bank.params.D, progress=progress)
    kwargs["min_responses"] = min_responses
    free_fit, linking = None, None
    if mode == "pretest":
        if not pretest:
            raise CalibrationError(
                f"{store.url}: the sessions of bank {bank.id} {bank.version} have no pretest items; "
                "recalibrate with mode='all' (--all) instead"
            )
        fixed = bank.params.subset(bank.index_of(operational)) if operational else None
        result = calibrate(stored.responses, models, fixed=fixed, **_options(kwargs))
        free = pretest
    else:
        free_fit, linking, link_se = _free_linked(stored, bank, models, operational, kwargs)
        result, free = free_fit, list(free_fit.params.ids)
    check, notes = None, []
    if drift and operational:
        if free_fit is None:
            free_fit, linking, link_se = _free_linked(stored, bank, models, operational, kwargs)
        check = _drift(bank, free_fit, operational, link_se, drift_fdr)
        if not check.rows:
            notes.append(_no_drift_table(free_fit))
            warnings.warn(f"{store.url}: {notes[-1]}", DataWarning, stacklevel=2)
    new_bank = _new_version(result.to_bank(bank, date=date), version or next_version(str(bank.version)))
    out = Recalibration(
        new_bank,
        result,
        mode,
        free,
        check.rows if check else [],
        linking,
        drift_check=check,
        drift_result=free_fit if drift and operational else None,
        notes=notes,
    )
    if out.drift_result is not None and not out.drift_result.converged and out.drift_result is not result:
        warnings.warn(
            f"{store.url}: the drift check's free calibration did not converge; its table is not reliable",
            ConvergenceWarning,
            stacklevel=2,
        )
    out.provenance = _provenance(store, bank, new_bank, out, stored, options.get("priors"))
    if record:
        store.record_recalibration(bank.fingerprint, new_bank.fingerprint, mode, out.provenance)
    return out


def _free_linked(
    stored: StoredResponses, bank: Any, models: dict[str, str], operational: list[str], kwargs: dict[str, Any]
) -> tuple[CalibrationResult, Linking, dict[tuple[str, str], float]]:
    """Items with enough responses estimated freely (latent N(0, 1)), then linked to the bank's scale over the
    operational ones among them (Stocking & Lord 1983); with the jackknife linking error of each linked parameter."""
    resp = stored.responses
    counts = resp.counts_per_item()
    keep = np.flatnonzero(counts >= kwargs["min_responses"])
    if keep.size < 2:
        raise CalibrationError(
            f"only {keep.size} items have at least {kwargs['min_responses']} responses; a free "
            "calibration needs more (lower min_responses or collect more sessions)"
        )
    if keep.size < resp.n_items:
        resp = _items_subset(resp, keep)
    fit = calibrate(resp, {i: models[i] for i in resp.item_ids}, **_options(kwargs))
    common = [i for i in operational if i in set(resp.item_ids)]
    if len(common) < 2:
        raise CalibrationError(
            f"linking to the bank's scale needs 2 operational items with at least "
            f"{kwargs['min_responses']} responses; found {len(common)}"
        )
    target = bank.params.subset(bank.index_of(common))
    linking = link(fit.params, target, "stocking-lord")
    linked = dataclasses.replace(
        fit, params=linking.transform(fit.params), se={i: linked_se(s, linking) for i, s in fit.se.items()}
    )
    return linked, linking, _linking_error(fit, bank, linking)


def _linking_error(fit: CalibrationResult, bank: Any, linking: Linking) -> dict[tuple[str, str], float]:
    """Jackknife SE of every linked file-form parameter over the linking items (each left out in turn)."""
    target = bank.params.subset(bank.index_of(list(linking.common)))
    replicates = [
        flat_values(transform(fit.params, A, B).to_file_form())
        for A, B in leave_one_out_linkings(fit.params, target, linking)
    ]
    return jackknife_se(replicates)


def _options(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k != "min_responses"}


def _items_subset(resp: Responses, keep: NDArray[np.intp]) -> Responses:
    """``resp`` restricted to the items at positions ``keep`` (every person kept)."""
    remap = np.full(resp.n_items, -1, np.intp)
    remap[keep] = np.arange(keep.size)
    mask = remap[resp.item] >= 0
    return Responses(
        resp.person[mask],
        remap[resp.item[mask]],
        resp.value[mask],
        resp.n_persons,
        keep.size,
        resp.person_ids,
        [resp.item_ids[k] for k in keep],
    )


def _drift(
    bank: Any, linked: CalibrationResult, operational: list[str], link_se: dict[tuple[str, str], float], fdr: float
) -> DriftCheck:
    old = [r for r in bank.params.to_file_form() if r["id"] in set(operational)]
    old_se = {}
    for i in operational:
        calib = bank.item(i).calibration
        if getattr(calib, "status", None) == "calibrated":
            old_se[i] = dict(calib.se)
    return drift_rows(old, old_se, linked.params.to_file_form(), linked.se, link_se, fdr)


def _no_drift_table(fit: CalibrationResult) -> str:
    """Why a drift check produced no rows."""
    if fit.se_method == "failed" or not fit.se:
        why = "its free calibration has no standard errors (information not positive definite)"
    else:
        why = "no operational item of the free calibration has standard errors"
    hint = "" if fit.converged else f"; that calibration did not converge in {fit.iterations} EM cycles"
    return f"drift NOT tested: {why}{hint} (try priors='bayes' or more sessions)"


def _status(res: CalibrationResult) -> str:
    """'converged in N EM cycles' or 'NOT converged after N EM cycles'."""
    if res.converged:
        return f"converged in {res.iterations} EM cycles"
    return f"NOT converged after {res.iterations} EM cycles"


def _new_version(bank: Any, version: str) -> Any:
    from digicomp.bank import ItemBank
    from digicomp.bank.schema import BankFile

    data = bank.to_dict()
    data["version"] = version
    try:
        return ItemBank(BankFile.model_validate(data), media_root=bank.media_root)
    except ValueError as exc:
        raise BankError(
            f"bank {bank.id!r} version {version!r}: the recalibrated bank does not validate: {exc}"
        ) from None


def _provenance(
    store: ResponseStore, bank: Any, new_bank: Any, out: Recalibration, stored: StoredResponses, priors: Any
) -> dict[str, Any]:
    res = out.result
    return {
        "made_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "store": store.url,
        "mode": out.mode,
        "source_bank": {"id": bank.id, "version": str(bank.version), "fingerprint": bank.fingerprint},
        "new_bank": {"id": new_bank.id, "version": str(new_bank.version), "fingerprint": new_bank.fingerprint},
        "data": stored.provenance(),
        "estimated_items": out.free_items,
        "fixed_items": int(res.fixed.sum()),
        "calibration": {
            "loglik": res.loglik,
            "iterations": res.iterations,
            "converged": res.converged,
            "latent_mean": res.latent_mean,
            "latent_sd": res.latent_sd,
            "se_method": res.se_method,
            "excluded_items": res.excluded_items,
            "priors": priors or "none",
        },
        "drift_calibration": None
        if out.drift_result is None
        else {
            "iterations": out.drift_result.iterations,
            "converged": out.drift_result.converged,
            "se_method": out.drift_result.se_method,
        },
        "converged": out.converged,
        "linking": out.linking.to_dict() if out.linking is not None else None,
        "drift": None if out.drift_check is None else {**out.drift_check.to_dict(), "notes": out.notes},
    }
