"""The shadow-test assembler: the reduced model and the closed-form last item find the full model's optimum."""

from __future__ import annotations

import numpy as np
import pytest

from digicomp.assembly import AssemblySpec, ShadowAssembler, build_model

SPEC = AssemblySpec(
    constraints=[
        {"area": "*", "min": 1, "max": 4},
        {"level_band": "*", "min": 2},
        {"area": ["1", "2"], "level_band": "highly_specialised", "min": 1},
    ]
)


def value_at(bank, theta):
    return bank.params.information(np.array([theta]))[0]


TIGHT = AssemblySpec(
    constraints=[
        {"area": "*", "min": 2, "max": 3},
        {"level_band": "*", "min": 4},
        {"area": ["1", "2"], "level_band": "highly_specialised", "min": 2},
    ]
)


@pytest.mark.parametrize("spec", [SPEC, TIGHT], ids=["loose", "tight"])
@pytest.mark.parametrize("greedy", [False, True], ids=["milp", "greedy-first"])
def test_the_fast_paths_find_the_full_optimum(bank, spec, greedy):
    """The reduced model, the integral LP relaxation and the greedy certificate give the full MILP's optimum."""
    model = build_model(bank, spec, 20)
    reduced = ShadowAssembler(model, candidates=30, greedy=greedy)
    full = ShadowAssembler(model, candidates=0, greedy=False, relax=False)  # one full MILP per step
    rng = np.random.default_rng(3)
    for _ in range(25):
        theta = rng.normal()
        start = full.solve(value_at(bank, rng.normal()), np.zeros(bank.n_items, bool), np.ones(bank.n_items, bool))
        given = np.zeros(bank.n_items, bool)
        given[rng.choice(np.flatnonzero(start), size=rng.integers(0, 19), replace=False)] = True
        v = value_at(bank, theta)
        usable = ~given
        a = reduced.solve(v, given, usable, incumbent=start)
        b = full.solve(v, given, usable)
        assert a is not None and b is not None
        assert (a & given).sum() == given.sum()
        assert model.violations(a)[0] == 0 and model.violations(b)[0] == 0
        assert v[a].sum() == pytest.approx(v[b].sum(), rel=1e-7)
    assert reduced.stats.full == 0 and full.stats.lp == 0
    if greedy:
        assert reduced.stats.greedy > 0
    else:
        assert reduced.stats.reduced == 25 and reduced.stats.lp > 0


def test_the_last_item_in_closed_form_is_the_milp_optimum(bank):
    model = build_model(bank, SPEC, 12)
    shadow = ShadowAssembler(model, candidates=0, greedy=False, relax=False)
    rng = np.random.default_rng(4)
    for _ in range(10):
        v = value_at(bank, rng.normal())
        test = shadow.solve(v, np.zeros(bank.n_items, bool), np.ones(bank.n_items, bool))
        given = test.copy()
        given[rng.choice(np.flatnonzero(test))] = False  # one item left
        closed = shadow._last_item(v, given, ~given)
        milp = shadow._milp(v, given, np.ones(bank.n_items, bool))
        assert v[closed].sum() == pytest.approx(v[milp].sum(), rel=1e-9)
        assert model.violations(closed)[0] == 0


def test_identical_inputs_share_one_solve(bank):
    shadow = ShadowAssembler(build_model(bank, SPEC, 15))
    v = value_at(bank, 0.3)
    a = shadow.solve(v, np.zeros(bank.n_items, bool), np.ones(bank.n_items, bool))
    b = shadow.solve(v.copy(), np.zeros(bank.n_items, bool), np.ones(bank.n_items, bool))
    assert shadow.stats.memo == 1 and (a == b).all()


def test_no_test_exists_gives_none(bank):
    spec = AssemblySpec(constraints=[{"area": "1", "min": 3}])
    shadow = ShadowAssembler(build_model(bank, spec, 10), candidates=0)
    usable = np.ones(bank.n_items, bool)
    usable[bank.area_index == bank.areas.index("1")] = False  # area 1 items all unavailable
    assert shadow.solve(value_at(bank, 0.0), np.zeros(bank.n_items, bool), usable) is None
    assert shadow.stats.infeasible == 1
