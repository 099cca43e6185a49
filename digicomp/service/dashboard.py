"""The dashboard page of ``digicomp serve``: the programme report of the service's own store, authorised per unit.

The same estimates and the same renderer as ``digicomp progress --html`` (:func:`digicomp.programme.build_report`,
:func:`digicomp.reporting.programme.programme_sections`), over the units of the service configuration and the
sessions the service stored, with the configuration's optional targets file. An administrator sees every unit
(and the persons without one); a manager sees only their units and the units below them: the rows of other units
are left out of the report before it is rendered (each unit's figures depend only on its own subtree's persons,
so what a manager sees is what the whole report says of those units).
"""

from __future__ import annotations

from typing import Any

from digicomp.programme import (
    LevelScale,
    ProgrammeError,
    ProgrammeReport,
    Target,
    UnitTree,
    build_report,
    load_targets,
    read_sessions,
    scale_of_banks,
)
from digicomp.programme.scale import bank_labels
from digicomp.service.config import ConfigError, ServiceConfig
from digicomp.service.errors import ApiError


class Dashboard:
    """What the dashboard needs from the configuration, checked once when the app is built.

    ConfigError when the units do not form a tree or the targets file is unreadable or names an unknown level or
    unit (the message names the file and line).
    """

    def __init__(self, config: ServiceConfig, engines: dict[str, Any]) -> None:
        self.config = config
        rows = [u.model_dump() for u in config.units]
        try:
            self.tree = UnitTree.from_rows(rows, "service configuration units") if rows else None
        except ProgrammeError as exc:
            raise ConfigError(str(exc)) from None
        self.scales: dict[str, LevelScale] = {}
        for engine in engines.values():
            bank, prior = engine.bank, engine.design.scoring.prior
            if bank.scale.levels and len(bank.cut_scores):
                self.scales[bank.fingerprint] = LevelScale(
                    tuple(bank.scale.levels), bank.cut_scores.astype(float), prior.mean, prior.sd, bank_labels(bank)
                )
        self.bank_refs = [d.bank for d in config.designs]
        self.targets: list[Target] = []
        if config.targets is not None:
            if self.tree is None:
                raise ConfigError(f"targets: {config.targets}: targets need units (the configuration has none)")
            if not self.scales:
                raise ConfigError(f"targets: {config.targets}: no offered test reports levels, so no target applies")
            try:
                self.targets = load_targets(config.targets, next(iter(self.scales.values())), self.tree)
            except ProgrammeError as exc:
                raise ConfigError(f"targets: {exc}") from None

    def scale(self, fingerprints: set[str]) -> LevelScale:
        """The level scale of the stored sessions' bank versions: the offered tests', else matched by fingerprint
        among the bundled banks and the configured bank files (sessions of an earlier bank version)."""
        known = [self.scales[f] for f in fingerprints if f in self.scales]
        if len(known) == len(fingerprints) and known:
            first = known[0]
            if all(s.levels == first.levels and (s.cuts == first.cuts).all() for s in known):
                return first
        prior = next(iter(self.scales.values()), None)
        mean, sd = (prior.prior_mean, prior.prior_sd) if prior else (0.0, 1.0)
        return scale_of_banks(fingerprints, self.bank_refs, mean, sd)

    def read(self, store: Any) -> tuple[Any, dict[str, str]] | None:
        """The finished sessions and person links of ``store`` (None: no session is finished yet)."""
        if self.tree is None:
            raise ApiError(404, "no_units", "the service has no units: the dashboard reports by unit")
        try:
            return read_sessions(store), store.person_units()
        except ProgrammeError as exc:
            if "no finished session" in str(exc):  # read_sessions' refusal of an empty store: nothing to show yet
                return None
            raise ApiError(409, "programme_error", f"the stored results cannot be reported: {exc}") from None

    def report(self, data: tuple[Any, dict[str, str]], unit: str | None, allowed: set[str] | None, lang: str):
        """The programme report of ``data`` (from :meth:`read`) narrowed to ``unit`` (its subtree) and to the
        ``allowed`` units (None: all, with the persons without a unit).

        ApiError 409 ``programme_error`` when the stored data cannot be reported (e.g. a bank version that no
        configured bank matches, a person in a unit the configuration no longer has), with the reason.
        """
        sessions, links = data
        try:
            scale = self.scale(set(sessions.bank))
            report = build_report(sessions, self.tree, scale, links=links, targets=self.targets, unit=unit, lang=lang)
        except ProgrammeError as exc:
            raise ApiError(409, "programme_error", f"the stored results cannot be reported: {exc}") from None
        return restrict(report, allowed) if allowed is not None else report


def restrict(report: ProgrammeReport, allowed: set[str]) -> ProgrammeReport:
    """``report`` with only the rows of the ``allowed`` units (a manager's view). The store-wide counts of the
    summary are replaced by the persons assessed in the allowed units (``meta['scoped_persons']``)."""
    units = [u for u in report.units if u["unit"] in allowed]
    tops = [u for u in units if u["parent"] not in allowed]
    meta = {
        **report.meta,
        "sessions": None,
        "persons": None,
        "persons_without_unit": None,
        "scoped_persons": sum(u["assessed"] for u in tops),
    }
    labels = dict(meta.get("labels") or {})
    labels["units"] = {k: v for k, v in (labels.get("units") or {}).items() if k in allowed}
    meta["labels"] = labels

    def keep(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [r for r in rows if r["unit"] in allowed]

    return ProgrammeReport(
        meta=meta,
        units=units,
        shares=keep(report.shares),
        targets=keep(report.targets),
        needs=keep(report.needs),
        retests=keep(report.retests),
        monthly=keep(report.monthly),
    )
