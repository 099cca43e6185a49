"""``AdaptiveTest``: a bank and a design composed into the batch core; starts and resumes sessions.

Also ``validate_file`` for design files, since checking a design against its bank means building this engine.
"""

from __future__ import annotations

import csv
import secrets
import warnings
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.bank import ItemBank, load_bank
from digicomp.cat import multidim as mcat
from digicomp.cat.content import ContentControl
from digicomp.cat.core import CatCore
from digicomp.cat.design import Design, Problem, design_from, load_design, read_design, resolve_bank_ref
from digicomp.cat.draws import person_keys, session_key
from digicomp.cat.estimation import build_estimator
from digicomp.cat.exposure import ExposureLedger, build_exposure
from digicomp.cat.replay import ReplayGuard
from digicomp.cat.seeding import SeedPlan, seeding_candidates, seeding_problems
from digicomp.cat.selection import Rule, build_rule, random_rule
from digicomp.cat.session import Session, item_content
from digicomp.cat.state import BatchState
from digicomp.cat.stopping import (
    SPRT,
    ConfidenceClassification,
    MinInformation,
    PosteriorClassification,
    StandardError,
    Stopper,
)
from digicomp.cat.tables import Tables
from digicomp.errors import BankError, DesignDeprecationWarning, DesignError, DigicompError, SessionError
from digicomp.io.yamlfile import format_path, problem
from digicomp.models import ItemParameters
from digicomp.scoring.quadrature import NormalPrior


def as_bank(bank: Any) -> Any:
    """An ItemBank from an ItemBank, ItemParameters, a bundled bank id, a bank YAML path or a parameter CSV."""
    if isinstance(bank, ItemBank):
        return bank
    if isinstance(bank, ItemParameters):
        return ItemBank.from_item_parameters(bank)
    if isinstance(bank, (str, PathLike)):
        if str(bank).endswith(".csv"):
            return ItemBank.from_params(bank)
        return load_bank(bank)
    raise BankError(f"expected an ItemBank, ItemParameters, a bank id or a path, got {type(bank).__name__}")


class AdaptiveTest:
    """An adaptive test: ``AdaptiveTest(bank, design)``; ``start()`` a session, ``resume(state)`` one saved.

    Holds only immutable tables and configuration (plus a locked exposure ledger), so one engine may serve
    many sessions from many threads. ``hmac_key`` (bytes) signs saved states and refuses unsigned or altered ones;
    ``replay_guard`` (:mod:`digicomp.cat.replay`) gives each session a nonce and refuses a state older than the
    newest one its session reached (a replayed signed state).
    """

    def __init__(
        self,
        bank: Any,
        design: Design | dict | str | PathLike[str] | None = None,
        *,
        hmac_key: bytes | None = None,
        ledger: ExposureLedger | None = None,
        rules: dict[str, Rule] | None = None,
        replay_guard: ReplayGuard | None = None,
    ) -> None:
        self.design: Design = design_from(design if design is not None else Design())
        self.bank = as_bank(bank)
        problems = bank_problems(self.bank, self.design)
        if problems:
            lines = [f"{format_path(loc)}: {msg}" for loc, msg in problems]
            head = [f"design {self.design.id!r} on bank {self.bank.id!r}: {len(lines)} problems"] * (len(lines) > 1)
            raise DesignError("\n  ".join(head + lines))
        self.hmac_key = hmac_key
        self.replay_guard = replay_guard
        self.ledger = ledger or ExposureLedger(self.bank.n_items)
        self.seeding: SeedPlan | None = SeedPlan.build(self.bank, self.design.seeding) if self.design.seeding else None
        self.core: CatCore = _build_core(self.bank, self.design, self.ledger, rules or {})
        self._content: dict[int, dict[str, Any]] = {}

    @classmethod
    def from_yaml(cls, path: str | PathLike[str], bank: Any = None, **kwargs: Any) -> AdaptiveTest:
        """Engine from a design file.

        The bank is the design's ``bank:`` (bundled id, bank YAML or parameter CSV) unless ``bank`` is given.
        """
        design = load_design(path)
        if bank is None:
            bank = resolve_bank_ref(design, Path(path).parent)
            if bank is None:
                raise DesignError(f"{path}: bank: the design names no bank; pass one to AdaptiveTest.from_yaml")
        return cls(bank, design, **kwargs)

    # ------------------------------------------------------------------ identity
    @property
    def fingerprint(self) -> str:
        """The bank's fingerprint (saved states carry it)."""
        return self.bank.fingerprint

    @property
    def design_hash(self) -> str:
        """The design's hash (saved states carry it)."""
        return self.design.hash

    def __repr__(self) -> str:
        return f"AdaptiveTest(bank={self.bank.id!r}, design={self.design.id!r}, items={self.bank.n_items})"

    def item_content(self, j: int) -> dict[str, Any]:
        """What a session shows of bank item j (see ``session.ItemView``), dumped once per item and kept.

        Shared between sessions: callers copy it before handing it out (the bank is immutable, so the cache
        never goes stale; a race between threads only dumps an item twice).
        """
        content = self._content.get(j)
        if content is None:
            content = self._content[j] = item_content(self.bank, j)
        return content

    # ------------------------------------------------------------------ sessions and batches
    def start(
        self, person_id: str | None = None, seed: int | tuple[int, int] | None = None, audit: bool | None = None
    ) -> Session:
        """A new live session; ``seed`` (or ``(seed, person index)``) fixes its random draws."""
        key = session_key(_check_seed(seed))
        audit = self.design.report.audit if audit is None else audit
        session = Session(self, person_id, key, audit)
        if self.replay_guard is not None:
            session.nonce = secrets.token_hex(16)
        return session

    def resume(self, state: str | dict, *, trusted: bool = False) -> Session:
        """The session saved by ``session.to_json()`` (text or parsed dict), replayed and checked step by step.

        Refused for another bank or design (StateMismatchError) and for any state this engine could not have
        written (TamperedStateError naming the field); never another exception. ``trusted=True`` is for states
        that never left the caller's control (a service's own database): the replay records the answers without
        re-deriving each item choice (several times faster; the schema, identity and answer scores are still
        checked; a session that keeps an audit trail is replayed in full). Never pass it for a state a client held.
        """
        return Session.from_state(self, state, trusted=trusted)

    def new_batch(self, n: int, seed: int, audit: bool = False, persons: NDArray | None = None) -> BatchState:
        """Lock-step state of ``n`` persons; person i draws as ``start(seed=(seed, i))`` would."""
        idx = np.arange(n) if persons is None else np.asarray(persons)
        return self.core.new_batch(person_keys(seed, idx), audit=audit)


def validate_file(path: str | PathLike[str]) -> list[str]:
    """Every problem of the design at ``path`` as ``FILE:LINE: key: message`` lines (schema, the checks across
    sections, and against its bank: items, groups, cut scores, seeding); [] when valid.

    The checks against the bank run on the sections that passed the schema, so one pass shows every problem.
    """
    try:
        design, linemap, problems = read_design(path)
    except DigicompError as exc:
        return list(getattr(exc, "problems", [str(exc)]))
    ref = resolve_bank_ref(design, Path(path).parent)
    if ref is None:
        return problems
    try:
        bank = as_bank(ref)
    except DigicompError as exc:
        return problems + [problem(path, linemap, "bank", f"cannot load the bank: {exc}")]
    found = bank_problems(bank, design)
    problems = problems + [problem(path, linemap, loc, msg) for loc, msg in found]
    if problems:
        return problems
    try:  # what only building the engine finds (a rule's settings against the bank's size)
        with warnings.catch_warnings():  # the file's warnings were given when it was read above
            warnings.simplefilter("ignore", DesignDeprecationWarning)
            AdaptiveTest(bank, design)
    except DigicompError as exc:
        return [f"{path}: {line}" for line in str(exc).splitlines()]
    return []


def bank_problems(bank: Any, design: Design) -> list[Problem]:
    """Every place where ``design`` does not fit ``bank``: unknown items, groups the bank lacks, classification
    without cut scores, a bad Sympson-Hetter K table, seeding (all at once, each with its node path)."""
    out: list[Problem] = []
    known = set(bank.ids)

    def need(loc: tuple[str | int, ...], item_id: str) -> None:
        if item_id not in known:
            out.append((loc, f"bank {bank.id!r} has no item {item_id!r}"))

    first = design.start.first_items
    for pos, item_id in enumerate(first.items or [] if first is not None else []):
        need(("start", "first_items", "items", pos), item_id)
        if item_id in known and bank.is_rated[bank.index_of(item_id)]:
            msg = f"item {item_id!r} is a rated task: a rater scores it after the test, so no adaptive test gives it"
            out.append((("start", "first_items", "items", pos), msg))
    ex = design.exposure
    if ex.method == "sympson_hetter":
        try:
            given = _read_k_table(ex.parameters) if isinstance(ex.parameters, str) else ex.parameters
        except DesignError as exc:
            out.append((("exposure", "parameters"), str(exc)))
            given = {}
        for item_id, value in given.items():
            need(("exposure", "parameters"), item_id)
            if not 0 < value <= 1:
                msg = f"item {item_id!r} has K = {value}; expected a number in (0, 1]"
                out.append((("exposure", "parameters"), msg))
    spec = design.content
    for k, item_id in enumerate(spec.exclude.ids):
        need(("content", "exclude", "ids", k), item_id)
    if spec.constraints:
        try:
            names = _groups(bank, spec.by)[1]
        except DigicompError as exc:
            out.append((("content", "by"), f"{spec.by!r}: {exc}"))
        else:
            for i, c in enumerate(spec.constraints):
                if c.group not in names:
                    out.append(
                        (
                            ("content", "constraints", i, "group"),
                            f"{c.group!r} is not a{'n' if spec.by == 'area' else ''} {spec.by} of bank {bank.id!r} "
                            f"(has: {', '.join(names) or 'none'})",
                        )
                    )
    if bank.cut_scores.size == 0:
        for i, r in enumerate(design.stop.rules):
            if r.classification is not None or r.ci is not None or r.sprt is not None:
                out.append((("stop", "rules", i), f"classification rules need cut scores; bank {bank.id!r} has none"))
    if design.seeding is not None:
        out += seeding_problems(bank, design.seeding)
    from digicomp.cat.shadow import shadow_problems

    return out + shadow_problems(bank, design) + mcat.design_problems(bank, design)


def _check_seed(seed: Any) -> Any:
    """``seed`` unchanged if it is None, a non-negative integer or a pair (seed, person index) of them."""
    parts = seed if isinstance(seed, (tuple, list)) and len(seed) == 2 else (seed,)
    if seed is None or all(
        isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and 0 <= v < 2**63 for v in parts
    ):
        return seed
    raise SessionError(f"seed must be a non-negative integer below 2**63 or a pair (seed, person index), got {seed!r}")


# ---------------------------------------------------------------------- building the core
def _build_core(bank: Any, design: Design, ledger: ExposureLedger, rules: dict[str, Rule]) -> CatCore:
    sc = design.scoring
    prior = NormalPrior(sc.prior.mean, sc.prior.sd)
    tables = Tables.build(bank.params, prior, sc.points, tuple(sc.range))
    max_len = design.stop.max_items
    sel = design.selection
    # a multidimensional bank: cat.multidim's rules, estimator and stopping rules
    model = mcat.Model.of_bank(bank) if getattr(bank, "dims", None) is not None else None
    if sel.rule == "custom" and sel.name in rules:
        rule = rules[sel.name]
    elif sel.rule == "shadow":
        from digicomp.cat.shadow import build_shadow_rule

        rule = build_shadow_rule(bank, design, _content(bank, design).allowed)
    elif model is not None and sel.rule != "random":
        rule = mcat.build_rule(sel.rule, model)
    else:
        rule = build_rule(sel.rule, tables, max_len, **sel.model_dump(exclude={"rule"}))
    pretest_rule, n_pre = None, 0
    first = design.start.first_items
    if first is not None:
        n_pre = first.n
        pretest_rule = random_rule if first.rule == "random" else _fixed_rule(bank, first.items)
    ex = design.exposure
    options = ex.model_dump(exclude={"method"})
    if ex.method == "sympson_hetter":
        options["parameters"] = _sympson_hetter_parameters(bank, ex.parameters)
    exposure = build_exposure(ex.method, bank.n_items, ledger, **options)
    content = _content(bank, design)
    estimator = build_estimator(sc.method, prior) if model is None else mcat.MultidimEstimator(model)
    stops = _stop_rules(bank, design) if model is None else mcat.stop_rules(bank, design, model)
    waits = content
    if sel.rule == "shadow":  # variable length: also wait for the shadow constraints' minimums
        from digicomp.cat.shadow import ShadowMinimums

        waits = ShadowMinimums.of(content, rule)
    stopper = Stopper(tuple(stops), design.stop.combine, design.stop.min_items, max_len, waits)
    extra = {} if model is None else {"model": model}
    return (CatCore if model is None else mcat.MultidimCore)(  # type: ignore[call-arg]
        tables,
        rule,
        sel.rule,
        pretest_rule,
        n_pre,
        exposure,
        content,
        estimator,
        stopper,
        design.start.theta,
        _enemies(bank, design),
        ledger,
        **extra,
    )


def _fixed_rule(bank: Any, items: list[str]) -> Rule:
    """First-items rule giving ``items`` in order: criterion −position for listed items, −inf otherwise."""
    crit = np.full(bank.n_items, -np.inf)
    crit[[bank.index_of(item_id) for item_id in items]] = -np.arange(len(items))
    return lambda ctx: np.broadcast_to(crit, (ctx.n, crit.size))


def _sympson_hetter_parameters(bank: Any, given: dict[str, float] | str) -> NDArray[np.float64]:
    """K per bank item from a mapping or a CSV (columns ``item``, ``k``); items not named get K = 1."""
    if isinstance(given, str):
        given = _read_k_table(given)
    k = np.ones(bank.n_items)
    for item_id, value in given.items():
        k[bank.index_of(item_id)] = value
    return k


def _read_k_table(path: str) -> dict[str, float]:
    """{item: K} from a CSV with columns ``item``, ``k``; DesignError naming the file and line of a bad row."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DesignError(f"cannot read the K table {path!r}: {exc}") from None
    out: dict[str, float] = {}
    for line, row in enumerate(rows, start=2):
        try:
            item_id, value = row["item"], float(row["k"])
        except (KeyError, TypeError, ValueError):
            raise DesignError(f"{path}:{line}: expected columns item,k with k a number in (0, 1]") from None
        if item_id in out:
            raise DesignError(f"{path}:{line}: item {item_id!r} is listed twice")
        out[item_id] = value
    return out


def _groups(bank: Any, by: str) -> tuple[NDArray[np.intp], list[str]]:
    """Per item its area/competence position, and the group codes; no groups for content-free banks."""
    if bank.spec.framework is None:
        return np.full(bank.n_items, -1, np.intp), []
    if by == "competence":
        return bank.competence_index, list(bank.competences)
    return bank.area_index, list(bank.areas)


def _content(bank: Any, design: Design) -> ContentControl:
    spec = design.content
    allowed = np.ones(bank.n_items, bool)
    if not spec.self_assessment:
        allowed &= bank.kind != "self_assessment"
    allowed &= ~bank.is_rated  # a rater scores them later; a CAT scores as it goes
    for item_id in spec.exclude.ids:
        allowed[bank.index_of(item_id)] = False
    if spec.exclude.flags:
        flagged = np.array([bool(set(it.flags or []) & set(spec.exclude.flags)) for it in bank.spec.items])
        allowed &= ~flagged
    if design.seeding is not None:
        allowed[seeding_candidates(bank, design.seeding)] = False  # pretest items are seeded, never selected
    if not spec.constraints:
        group, names = np.full(bank.n_items, -1, np.intp), []
    else:
        group, names = _groups(bank, spec.by)
    G = len(names)
    lo, hi, tgt = np.full(G, np.nan), np.full(G, np.nan), np.full(G, np.nan)
    for c in spec.constraints:
        g = names.index(c.group)
        lo[g] = np.nan if c.min is None else c.min
        hi[g] = np.nan if c.max is None else c.max
        tgt[g] = np.nan if c.target is None else c.target
    return ContentControl(np.asarray(group, np.intp), names, lo, hi, tgt, spec.method, allowed)


def _enemies(bank: Any, design: Design) -> NDArray[np.bool_] | None:
    pairs = getattr(bank, "enemy_pairs", np.zeros((0, 2), np.intp))
    if not design.content.enemies or pairs.size == 0:
        return None
    adj = np.zeros((bank.n_items, bank.n_items), bool)
    adj[pairs[:, 0], pairs[:, 1]] = True
    adj[pairs[:, 1], pairs[:, 0]] = True
    return adj


def _stop_rules(bank: Any, design: Design) -> list:
    cuts = bank.cut_scores
    out: list = []
    for i, r in enumerate(design.stop.rules):
        if r.area_se is not None or r.area_classification is not None:
            raise DesignError(f"stop.rules[{i}]: per-area rules need a multidimensional bank; {bank.id!r} has none")
        if r.se is not None:
            out.append(StandardError(r.se))
        elif r.min_info is not None:
            out.append(MinInformation(r.min_info))
        else:
            if r.classification is not None:
                out.append(PosteriorClassification(cuts, r.classification))
            elif r.ci is not None:
                out.append(ConfidenceClassification(cuts, r.ci))
            else:
                s = r.sprt
                at = np.array([s["cut"]]) if "cut" in s else cuts
                out.append(SPRT.build(bank.params, at, s.get("delta", 0.3), s.get("alpha", 0.05), s.get("beta", 0.05)))
    return out
