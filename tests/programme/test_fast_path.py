"""The programme report's fast path (issue 15's speed work) gives what the old path gave: the per-area and "to work
on" entries read from the store's side table equal those parsed from the result JSON (both back ends), the unit
model's fit, redraws and level probabilities equal the old implementation's (tests/programme/reference_grid.py) to
single precision, and the whole report's tables equal those the old unit model gives."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pytest

from digicomp.bank import load_bank
from digicomp.bundled import bundled_path
from digicomp.programme import build_report, read_sessions, scale_of_banks
from digicomp.programme import estimate as estimate_module
from digicomp.programme.population import GridModel
from digicomp.programme.units import UnitTree
from digicomp.store import ServedItem, SessionRecord, open_store
from tests.programme import reference_grid

CUTS = np.array([-1.0, 0.0, 1.2])


@pytest.fixture(scope="module")
def bank():
    return load_bank(bundled_path("item_banks", "civil-service"))


def records(bank, n: int, units: list[str], seed: int = 0) -> list[SessionRecord]:
    """Finished sessions of ``n`` persons (a tenth retested) with per-area rows and "to work on" lists."""
    rng = np.random.default_rng(seed)
    out = []
    unit_mean = rng.normal(0, 0.7, len(units))
    for k in range(n):
        person = k if k < 0.9 * n else int(rng.integers(0, int(0.9 * n)))
        u = person % len(units)
        theta = float(rng.normal(unit_mean[u], 0.8))
        se = float(rng.uniform(0.25, 0.45))
        areas = [
            {"area": a, "theta": round(theta + float(rng.normal(0, 0.4)), 4), "se": 0.5, "n_items": int(j % 3)}
            for j, a in enumerate(bank.areas)
            if rng.random() < 0.8
        ]
        work = [{"competence": c, "theta": round(theta - float(rng.uniform(0.1, 1)), 3)} for c in bank.competences[:3]]
        out.append(
            SessionRecord(
                session_id=f"s{k}",
                person_id=f"p{person}",
                bank_fingerprint=bank.fingerprint,
                design_hash=None,
                items=(ServedItem(1, bank.ids[0], 1),),
                finished_at=f"2026-{1 + k % 10:02d}-10T09:00:00+00:00",
                theta=theta,
                se=se,
                level=None,
                result={"theta": theta, "se": se, "areas": areas, "to_work_on": work},
                unit=units[u],
            )
        )
    return out


def json_entries(store, key: str, code: str) -> set[tuple]:
    """The old path: (session id, code, θ, SE, items) parsed from each finished session's result JSON."""
    out = set()
    for sid, text in store._read("SELECT session_id, result FROM sessions WHERE status = 'finished'"):
        for e in json.loads(text).get(key) or []:
            out.add((sid, e[code], e["theta"], e.get("se"), e.get("n_items", 1)))
    return out


def test_side_table_gives_the_entries_the_json_gave(store_url, bank):
    units = ["U0", "U1", "U2"]
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.put_units([{"unit": u, "parent": None, "name_vi": u, "name_en": u, "headcount": None} for u in units])
        store.write_many(records(bank, 300, units))
        sessions = read_sessions(store)
        want_areas = json_entries(store, "areas", "area")
        want_work = json_entries(store, "to_work_on", "competence")
    # each session row of the report back to its session id: by person, then finish time (ties in written order)
    sid_of_row = {}
    keyed = sorted(records(bank, 300, units), key=lambda r: (r.person_id, r.finished_at))
    person_sorted = sorted({r.person_id for r in keyed})
    assert sessions.persons == person_sorted
    for row, rec in enumerate(keyed):
        sid_of_row[row] = rec.session_id
        assert sessions.theta[row] == rec.theta
    a, w = sessions.areas, sessions.to_work_on
    got_areas = {
        (sid_of_row[int(r)], a.codes[c], float(t), float(s), int(n))
        for r, c, t, s, n in zip(a.row, a.code, a.theta, a.se, a.n_items)
    }
    got_work = {(sid_of_row[int(r)], w.codes[c], float(t), None, 1) for r, c, t in zip(w.row, w.code, w.theta)}
    assert got_areas == want_areas and len(want_areas) > 1000
    assert got_work == want_work and len(want_work) == 900


def simulated(n: int = 4000, n_units: int = 40, seed: int = 5):
    rng = np.random.default_rng(seed)
    unit = rng.integers(0, n_units, n)
    unit[unit == 7] = 8  # a unit without persons keeps the pooled start
    mean = rng.normal(0, 0.8, n_units)
    theta = rng.normal(mean[unit], 0.7)
    se = rng.uniform(0.2, 0.6, n)
    se[:5] = 0.02  # precise persons: a unit's density can underflow under their likelihood
    eap = (theta + rng.normal(0, se)) / (1 + se**2)
    return eap, se, unit, n_units


def test_unit_model_equals_the_old_implementation():
    eap, se, unit, n_units = simulated()
    new = GridModel.fit(eap, se, unit, n_units, CUTS)
    old = reference_grid.GridModel.fit(eap, se, unit, n_units, CUTS)
    np.testing.assert_allclose(new.g, old.g, atol=1e-6)
    np.testing.assert_allclose(new.at_or_above(), old.at_or_above(), atol=1e-5)
    for seed in (1, 2):
        g_new, g_old = new.redraw(np.random.default_rng(seed)), old.redraw(np.random.default_rng(seed))
        np.testing.assert_allclose(g_new, g_old, atol=1e-6)
        np.testing.assert_allclose(new.at_or_above(g_new), old.at_or_above(g_old), atol=1e-5)
    rng = np.random.default_rng(9)
    other = rng.integers(0, n_units, 300)
    e2, s2 = rng.normal(0, 1, 300), rng.uniform(0.2, 0.5, 300)
    np.testing.assert_allclose(new.at_or_above_for(e2, s2, other), old.at_or_above_for(e2, s2, other), atol=1e-5)
    assert np.ptp(new.at_or_above()[:, 2]) > 0.5  # the probabilities compared are not all alike


def test_block_expected_counts_follow_the_formula_and_a_lost_member_counts_by_likelihood():
    # the batched E-step against the formula person by person: Σ_i w_i M_ic d_uc / Σ_c' M_ic' d_uc', and a member
    # whose unit has no density where their likelihood is counts by their likelihood alone
    from digicomp.programme.blocks import Blocks

    rng = np.random.default_rng(4)
    sizes = [3, 9, 12, 40]  # several size classes: several blocks, with padding
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    n, cells, draws = sum(sizes), 7, 3
    unit = np.repeat(np.arange(len(sizes)), sizes)
    mass = rng.random((n, cells)).astype(np.float32)
    mass[5] = 0.0
    mass[5, :2] = (0.7, 0.3)  # a member of unit 1 whose likelihood lies in cells 0-1 only
    density = rng.random((cells, draws, len(sizes))).astype(np.float32)
    density[:2, 1, 1] = 0.0  # in draw 1, unit 1 has no density there: that member's normaliser is 0
    weight = rng.poisson(1.0, (draws, n)).astype(float)
    weight[1, 5] = 2.0
    blocks = Blocks.build(mass, starts)
    got = blocks.expected_counts(density, blocks.weights(weight, draws))
    want = np.zeros((cells, draws, len(sizes)))
    for r in range(draws):
        for i in range(n):
            joint = mass[i].astype(float) * density[:, r, unit[i]]
            own = joint / joint.sum() if joint.sum() > 0 else mass[i] / mass[i].sum()
            want[:, r, unit[i]] += weight[r, i] * own
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert want[0, 1, 1] > 1.0  # the lost member's likelihood (0.7 × weight 2) is in the comparison


def test_a_person_where_their_unit_has_no_density_is_placed_by_their_likelihood():
    eap, se, unit, n_units = simulated()
    eap[0], se[0] = -2.0, 0.02  # a precise low result ...
    new = GridModel.fit(eap, se, unit, n_units, CUTS)
    old = reference_grid.GridModel.fit(eap, se, unit, n_units, CUTS)
    g = new.g.copy()
    g[unit[0]] = 0.0
    g[unit[0], -3:] = 1 / 3  # ... in a unit whose distribution lies only far above it
    got = new.at_or_above_many([new.g, g])[1]
    np.testing.assert_allclose(got, old.at_or_above(g), atol=1e-5)
    assert got[0, 1] < 1e-6  # the likelihood decides: below the lowest cut, not at the top with the unit
    assert np.median(got[unit == unit[0], -1]) > 0.99  # while its persons whose likelihood reaches up follow it


@pytest.mark.parametrize("accelerate", [False, True])
def test_redraws_iterated_together_equal_redraws_one_at_a_time(accelerate):
    # the batched E-step (every draw in the same block products) against each draw alone from the same weights
    eap, se, unit, n_units = simulated()
    model = GridModel.fit(eap, se, unit, n_units, CUTS, accelerate=accelerate)
    together = model.redraws(np.random.default_rng(3), 4, 6)
    rng = np.random.default_rng(3)
    alone = [model.redraw(rng, 6) for _ in range(4)]
    for a, b in zip(together, alone):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert min(np.abs(a - model.g).max() for a in together) > 1e-3  # the redraws moved: a comparison, not a no-op
    assert np.abs(together[0] - together[1]).max() > 1e-3  # and each had its own weights


class _PlainReference(reference_grid.GridModel):
    """The reference unit model, taking the fast model's smoothing switch (only the plain smoothing it has)."""

    @classmethod
    def fit(cls, *args, smooth_log: bool = False, **kw):
        assert not smooth_log
        return super().fit(*args, **kw)


def test_report_tables_equal_those_of_the_old_unit_model(store_url, bank, monkeypatch):
    units = [f"U{k}" for k in range(6)]
    rows = [{"unit": "P", "parent": None, "name_vi": "P", "name_en": "P", "headcount": None}]
    rows += [
        {"unit": u, "parent": "P", "name_vi": u, "name_en": u, "headcount": 200 if u == "U1" else None} for u in units
    ]
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.put_units(rows)
        store.write_many(records(bank, 500, units, seed=3))
        sessions = read_sessions(store)
    tree = UnitTree.from_rows(rows)
    scale = scale_of_banks(set(sessions.bank))
    as_of = datetime.date(2026, 11, 30)
    # the reference knows only the plain smoothing, so both runs use it (the log-density smoothing the report uses
    # by default is checked against closed forms in test_area_conditioning.py)
    monkeypatch.setitem(estimate_module.estimate_shares.__kwdefaults__, "smooth_log", False)
    new = build_report(sessions, tree, scale, as_of=as_of).to_dict()
    monkeypatch.setattr(estimate_module, "GridModel", _PlainReference)
    old = build_report(sessions, tree, scale, as_of=as_of).to_dict()
    for table in ("units", "shares", "monthly", "training_needs", "retests"):
        assert len(new[table]) == len(old[table]) > 0, table
        for a, b in zip(new[table], old[table]):
            assert a.keys() == b.keys()
            for key in a:
                if isinstance(a[key], float) and isinstance(b[key], float):
                    assert a[key] == pytest.approx(b[key], abs=2e-4), (table, a, key)
                else:
                    assert a[key] == b[key], (table, a, key)


def test_work_beside_the_areas_sees_every_table_but_the_area_shares_as_they_end(store_url, bank):
    # what build_report hands to while_areas_run (e.g. the plots of digicomp progress) is the final report but for
    # the per-area share rows, which are appended after it
    import copy

    units = [f"U{k}" for k in range(4)]
    rows = [{"unit": "P", "parent": None, "name_vi": "P", "name_en": "P", "headcount": None}]
    rows += [{"unit": u, "parent": "P", "name_vi": u, "name_en": u, "headcount": None} for u in units]
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.put_units(rows)
        store.write_many(records(bank, 300, units, seed=4))
        sessions = read_sessions(store)
    seen = []
    report = build_report(
        sessions,
        UnitTree.from_rows(rows),
        scale_of_banks(set(sessions.bank)),
        as_of=datetime.date(2026, 11, 30),
        while_areas_run=lambda partial: seen.append(copy.deepcopy(partial.to_dict())),
    ).to_dict()
    assert len(seen) == 1
    partial = seen[0]
    for table in ("meta", "units", "monthly", "targets", "training_needs", "retests"):
        assert partial[table] == report[table], table
    assert partial["shares"] == [r for r in report["shares"] if r["area"] is None]
    assert len(report["shares"]) > len(partial["shares"]) > 0  # the area rows came after


def test_a_session_without_its_scores_row_is_named_not_dropped(store_url, bank):
    from digicomp.programme import ProgrammeError

    with open_store(store_url) as store:
        store.register_bank(bank)
        store.put_units([{"unit": "U0", "parent": None, "name_vi": "U", "name_en": "U", "headcount": None}])
        store.write_many(records(bank, 20, ["U0"]))
        ref = store._read("SELECT ref FROM sessions WHERE session_id = 's3'")[0][0]
        with store._transaction() as cur:
            cur.execute(store._sql("DELETE FROM session_scores WHERE session_ref = ?"), (ref,))
        with pytest.raises(ProgrammeError, match=r"1 finished session\(s\), e.g. of person 'p3' .*fill_scores"):
            read_sessions(store)
        assert store.fill_scores() == 1
        assert read_sessions(store).n == 20


def _report_while_scores_are_read(store, sessions, rows):
    """build_report started on a thread while this one reads the per-area entries (what digicomp progress does):
    the report thread's future, ended (its result or its error), and what the reading raised (None)."""
    from concurrent.futures import ThreadPoolExecutor

    from digicomp.programme import read_sessions_scores

    raised = None
    with ThreadPoolExecutor(1) as builder:
        building = builder.submit(
            build_report,
            sessions,
            UnitTree.from_rows(rows),
            scale_of_banks(set(sessions.bank)),
            as_of=datetime.date(2026, 11, 30),
        )
        try:
            read_sessions_scores(store, sessions)
        except Exception as exc:
            raised = exc
        building.exception(timeout=600)  # the report thread must end either way (a deadlock guard, not a speed limit)
    return building, raised


def test_a_report_begun_before_the_area_entries_are_read_equals_the_serial_one(store_url, bank):
    units = [f"U{k}" for k in range(4)]
    rows = [{"unit": "P", "parent": None, "name_vi": "P", "name_en": "P", "headcount": None}]
    rows += [{"unit": u, "parent": "P", "name_vi": u, "name_en": u, "headcount": 150} for u in units]
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.put_units(rows)
        store.write_many(records(bank, 300, units, seed=5))
        serial = read_sessions(store)
        pending = read_sessions(store, scores=False)
        assert not pending.scores.done()
        building, raised = _report_while_scores_are_read(store, pending, rows)
        assert raised is None
        beside = building.result().to_dict()
    alone = build_report(
        serial, UnitTree.from_rows(rows), scale_of_banks(set(serial.bank)), as_of=datetime.date(2026, 11, 30)
    ).to_dict()
    assert beside == alone
    assert any(r["area"] is not None for r in beside["shares"]) and beside["training_needs"]


def test_a_failed_read_of_the_area_entries_fails_the_report_begun_beside_it(store_url, bank):
    from digicomp.programme import ProgrammeError

    rows = [{"unit": "U0", "parent": None, "name_vi": "U", "name_en": "U", "headcount": None}]
    with open_store(store_url) as store:
        store.register_bank(bank)
        store.put_units(rows)
        store.write_many(records(bank, 40, ["U0"]))
        ref = store._read("SELECT ref FROM sessions WHERE session_id = 's5'")[0][0]
        with store._transaction() as cur:
            cur.execute(store._sql("DELETE FROM session_scores WHERE session_ref = ?"), (ref,))
        sessions = read_sessions(store, scores=False)  # the sessions alone read as before
        building, raised = _report_while_scores_are_read(store, sessions, rows)
    assert isinstance(raised, ProgrammeError) and "e.g. of person 'p5'" in str(raised)
    assert building.exception() is raised  # the report's thread ended with the same error, not waiting forever
