"""Multidimensional adaptive testing: selection criteria against brute force, sessions = batch rows, resumable
signed state, per-area stopping, content and enemy controls, refusals, the per-dimension report."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from digicomp.bank import ItemBank, load_bank
from digicomp.bank.checks import self_contained
from digicomp.bank.schema import BankFile
from digicomp.cat import AdaptiveTest, TamperedStateError
from digicomp.cat.context import StepContext
from digicomp.errors import DesignError
from digicomp.models import multidim
from digicomp.simulation.multidim import MultidimResponder

AREAS = ("1", "2", "3")


def mbank_data(n: int = 90, seed: int = 5, rho: float = 0.6, enemies: bool = True) -> dict[str, Any]:
    """A between-item bank on areas 1-3 of vn-civil-service: 3PL items and a few GPCM items, content-free."""
    rng = np.random.default_rng(seed)
    items = []
    for j in range(n):
        k = j % 3
        a = [0.0, 0.0, 0.0]
        a[k] = float(rng.uniform(0.8, 2.0))
        item: dict[str, Any] = {"id": f"m{j:03d}", "competence": f"{AREAS[k]}.1", "model": "3PL"}
        if j % 10 == 9:
            item["model"] = "GPCM"
            item["params"] = {"a": a, "intercept": sorted(rng.normal(0, 1, 2).round(3).tolist())}
        else:
            item["params"] = {"a": a, "intercept": float(rng.normal(0, 1.5)), "c": 0.15}
        item["calibration"] = {"status": "provisional", "rule": "r"}
        items.append(item)
    if enemies:
        items[0]["enemies"] = ["m003"]
    R = np.full((3, 3), rho) + (1 - rho) * np.eye(3)
    return {
        "kind": "item_bank",
        "id": "mcat-test",
        "version": "1",
        "framework": {"id": "vn-civil-service", "version": "0.1.0"},
        "scale": {
            "D": 1.0,
            "levels": ["foundation", "intermediate", "advanced", "highly_specialised"],
            "cut_scores": [-1.2, 0.0, 1.2],
            "cut_source": {"status": "provisional", "rule": "r"},
        },
        "rules": {"r": {"vi": "Tạm thời", "en": "Provisional"}},
        "dimensions": [
            {"id": f"area-{a}", "name": {"vi": f"Lĩnh vực {a}", "en": f"Area {a}"}, "area": a} for a in AREAS
        ],
        "latent": {"correlation": R.tolist()},
        "overall": {"weights": {f"area-{a}": 1.0 for a in AREAS}},
        "items": items,
    }


@pytest.fixture(scope="module")
def mbank() -> ItemBank:
    data = mbank_data()
    spec = BankFile.model_validate(data)
    assert self_contained(spec) == []
    return ItemBank(spec)


def run_batch(engine: AdaptiveTest, n: int, seed: int, theta: np.ndarray):
    state = engine.new_batch(n, seed)
    bank = engine.bank
    engine.core.run(state, MultidimResponder(bank.mparams, theta, np.arange(bank.n_items)))
    return state


def context_after(engine: AdaptiveTest, steps: int, n: int = 6, seed: int = 3) -> StepContext:
    """A step context of ``n`` persons who answered ``steps`` items."""
    bank = engine.bank
    theta = np.random.default_rng(seed).normal(size=(n, 3))
    state = engine.new_batch(n, seed)
    respond = MultidimResponder(bank.mparams, theta, np.arange(bank.n_items))
    for _ in range(steps):
        rows, items = engine.core.select(state)
        engine.core.record(state, rows, items, respond(state, rows, items))
    ctx = StepContext(engine.core.tables, state, state.active, engine.core.max_length)
    ctx.eligible = engine.core.eligible(ctx)
    return ctx


def _information(bank: ItemBank, theta: np.ndarray) -> np.ndarray:
    m = bank.mparams
    return multidim.information(theta, m.a, m.intercepts, m.c, m.u, m.models)  # (n, J, K, K)


@pytest.mark.parametrize("rule", ["d_optimality", "bayesian_d_optimality", "a_optimality"])
def test_criteria_are_the_determinant_and_trace_gains_by_brute_force(mbank, rule):
    engine = AdaptiveTest(mbank, {"selection": {"rule": rule}, "stop": {"max_items": 20}})
    ctx = context_after(engine, steps=4)
    got = engine.core.rule(ctx)
    theta = ctx.state.mtheta[ctx.rows]
    info = _information(mbank, theta)
    prec = np.linalg.inv(mbank.dims.correlation)
    for i, row in enumerate(ctx.rows):
        given = ctx.state.sequence[row][ctx.state.sequence[row] >= 0]
        M = info[i, given].sum(axis=0) + (1e-4 * np.eye(3) if rule == "d_optimality" else prec)
        if rule == "a_optimality":
            want = np.trace(np.linalg.inv(M)) - np.array([np.trace(np.linalg.inv(M + inf)) for inf in info[i]])
        else:
            want = np.array([np.linalg.slogdet(M + inf)[1] for inf in info[i]]) - np.linalg.slogdet(M)[1]
        open_ = ctx.eligible[i]  # the criterion of items this person may not be given is never read
        np.testing.assert_allclose(got[i, open_], want[open_], rtol=1e-7, atol=1e-10)


def test_posterior_kl_is_the_mean_kl_over_the_laplace_points(mbank):
    engine = AdaptiveTest(mbank, {"selection": {"rule": "klp"}, "stop": {"max_items": 20}})
    ctx = context_after(engine, steps=3, n=3)
    got = engine.core.rule(ctx)
    rule = engine.core.rule
    m = mbank.mparams
    for i, row in enumerate(ctx.rows):
        mode, cov = ctx.state.mtheta[row], ctx.state.mcov[row]
        pts = mode + rule.z @ np.linalg.cholesky(cov).T
        p_hat = np.exp(multidim.log_prob(mode[None], m.a, m.intercepts, m.c, m.u, m.models))[0]
        lp = multidim.log_prob(pts, m.a, m.intercepts, m.c, m.u, m.models)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.nansum(np.where(p_hat > 0, p_hat * (np.log(p_hat) - lp), 0.0), axis=-1).mean(axis=0)
        np.testing.assert_allclose(got[i], kl, rtol=1e-9, atol=1e-12)
        assert np.all(got[i] >= -1e-12)


def test_a_live_session_is_a_batch_of_one(mbank):
    engine = AdaptiveTest(mbank, {"selection": {"rule": "bayesian_d_optimality"}, "stop": {"max_items": 12}})
    theta = np.random.default_rng(1).normal(size=(4, 3))
    batch = run_batch(engine, 4, seed=9, theta=theta)
    for i in range(4):
        session = engine.start(seed=(9, i))
        for pos in range(int(batch.n_given[i])):
            item = session.next_item()
            assert item.id == mbank.ids[batch.sequence[i, pos]]
            session.record(item.id, int(batch.responses[i, pos]))
        assert session.finished and session.stop_reason == batch.stop_reason[i]
        np.testing.assert_allclose(session.state.mtheta[0], batch.mtheta[i], atol=1e-9)
        np.testing.assert_allclose(session.state.mcov[0], batch.mcov[i], atol=1e-9)


def test_signed_state_resumes_and_refuses_tampering(mbank):
    engine = AdaptiveTest(mbank, {"selection": {"rule": "a_optimality"}, "stop": {"max_items": 15}}, hmac_key=b"k")
    session = engine.start(person_id="p1", seed=4)
    for step in range(5):
        item = session.next_item()
        session.record(item.id, step % 2)
    pending = session.next_item().id
    text = session.to_json()
    again = engine.resume(text)
    assert again.next_item().id == pending
    np.testing.assert_allclose(again.state.mtheta, session.state.mtheta, atol=1e-12)
    assert again.report()["dimensions"] == session.report()["dimensions"]
    data = json.loads(text)
    data["scores"][2] = 1 - data["scores"][2]
    with pytest.raises(TamperedStateError):
        engine.resume(json.dumps(data))


@pytest.mark.parametrize(
    ("rule", "value"), [("area_se", 0.5), ("area_classification", 0.7)], ids=["area_se", "area_classification"]
)
def test_per_area_stopping_holds_for_every_area_when_it_fires(mbank, rule, value):
    design = {
        "selection": {"rule": "bayesian_d_optimality"},
        "stop": {"min_items": 3, "max_items": 40, "rules": [{rule: value}]},
    }
    engine = AdaptiveTest(mbank, design)
    theta = np.random.default_rng(2).multivariate_normal(np.zeros(3), mbank.dims.correlation, 40)
    st = run_batch(engine, 40, seed=5, theta=theta)
    fired = st.stop_reason == rule
    assert fired.any()
    sd = np.sqrt(np.einsum("pkk->pk", st.mcov))
    if rule == "area_se":
        assert np.all(sd[fired].max(axis=1) < value)
    else:
        from scipy.special import ndtr

        edges = np.array([-np.inf, -1.2, 0.0, 1.2, np.inf])
        probs = np.diff(ndtr((edges - st.mtheta[..., None]) / sd[..., None]), axis=-1)
        assert np.all(probs[fired].max(axis=2).min(axis=1) >= value)
    # one step earlier the rule did not hold (else the test would have stopped there): lengths vary
    assert len(set(st.n_given[fired].tolist())) > 1


def test_content_limits_exclusions_and_enemies_still_apply(mbank):
    design = {
        "selection": {"rule": "d_optimality"},
        "content": {"by": "area", "constraints": [{"group": "1", "max": 2}], "exclude": {"ids": ["m001", "m004"]}},
        "stop": {"min_items": 15, "max_items": 15},
    }
    engine = AdaptiveTest(mbank, design)
    st = run_batch(engine, 30, seed=2, theta=np.zeros((30, 3)))
    area = mbank.area_index[st.sequence]
    assert np.all((area == mbank.areas.index("1")).sum(axis=1) <= 2)
    given = {mbank.ids[j] for j in st.sequence.ravel() if j >= 0}
    assert not given & {"m001", "m004"}
    both = st.administered[:, mbank.index_of("m000")] & st.administered[:, mbank.index_of("m003")]
    assert not both.any()


def test_refusals_name_the_rule(mbank, cbank):
    with pytest.raises(DesignError, match="'mfi' is a unidimensional rule"):
        AdaptiveTest(mbank, {"selection": {"rule": "mfi"}})
    with pytest.raises(DesignError, match="'sprt' is a unidimensional rule"):
        AdaptiveTest(mbank, {"selection": {"rule": "d_optimality"}, "stop": {"rules": [{"sprt": {"delta": 0.3}}]}})
    with pytest.raises(DesignError, match="scored by EAP or MAP, not 'WLE'"):
        AdaptiveTest(mbank, {"selection": {"rule": "d_optimality"}, "scoring": {"method": "WLE"}})
    with pytest.raises(DesignError, match="prior is its latent distribution"):
        AdaptiveTest(mbank, {"selection": {"rule": "d_optimality"}, "scoring": {"prior": {"mean": 0, "sd": 2}}})
    with pytest.raises(DesignError, match="per-area rules need a multidimensional bank"):
        AdaptiveTest(cbank, {"stop": {"rules": [{"area_se": 0.5}]}})
    # every misfit at once, each at its key
    with pytest.raises(DesignError) as exc:
        AdaptiveTest(
            mbank, {"selection": {"rule": "mpwi"}, "stop": {"rules": [{"min_info": 0.1}]}, "scoring": {"method": "ML"}}
        )
    text = str(exc.value)
    assert "3 problems" in text and "selection.rule: 'mpwi'" in text and "stop.rules[0]: 'min_info'" in text
    assert "scoring.method: a multidimensional bank is scored by EAP or MAP, not 'ML'" in text
    with pytest.raises(DesignError, match="selection.rule: 'a_optimality' needs a multidimensional bank"):
        AdaptiveTest(cbank, {"selection": {"rule": "a_optimality"}})


def test_report_gives_every_dimension_a_level_with_probabilities(mbank):
    engine = AdaptiveTest(mbank, {"selection": {"rule": "bayesian_d_optimality"}, "stop": {"max_items": 12}})
    session = engine.start(seed=2)
    while (item := session.next_item()) is not None:
        session.record(item.id, 1)
    report = session.report()
    assert [d["dimension"] for d in report["dimensions"]] == ["area-1", "area-2", "area-3"]
    # the audit shows every dimension's estimate before each choice (prior at step 1)
    first = report["audit"][0]["dimensions"]
    assert [d["theta"] for d in first] == [0.0, 0.0, 0.0] and [d["se"] for d in first] == [1.0, 1.0, 1.0]
    assert len(report["audit"]) == 12 and all(len(a["dimensions"]) == 3 for a in report["audit"])
    for d in report["dimensions"] + [report]:
        assert abs(sum(d["level_probabilities"].values()) - 1) < 1e-3
    assert sum(d["n_items"] for d in report["dimensions"]) == 12
    # all answers right: every area and the overall sit above the prior mean
    assert all(d["theta"] > 0 for d in report["dimensions"]) and report["theta"] > 0
    # the per-area rows every report reader knows (digicomp take, HTML) carry the same levels and probabilities
    assert [(a["area"], a["level"], a["level_probabilities"]) for a in report["areas"]] == [
        (d["area"], d["level"], d["level_probabilities"]) for d in report["dimensions"]
    ]
    below = {r["area"] for r in report["dimensions"] if r["theta"] < 1.2 and report["theta"] < 1.2}
    assert {w["competence"].split(".")[0] for w in report["to_work_on"]} <= below


def test_the_bundled_mcat_design_runs_on_its_bank():
    engine = AdaptiveTest.from_yaml("examples/designs/civil-service-mcat.yaml")
    bank = engine.bank
    assert bank.dims.n == 8 and engine.design.stop.max_items == 30
    theta = np.random.default_rng(0).multivariate_normal(np.zeros(8), bank.dims.correlation, 5)
    st = run_batch(engine, 5, seed=1, theta=theta)
    assert np.all(st.n_given == 30)
    counts = np.stack([(bank.area_index[st.sequence] == g).sum(axis=1) for g in range(8)], axis=1)
    assert np.all(counts >= 2)  # the design's minimum per area


def test_bundled_area_bank_is_between_item_and_provisional():
    derived = load_bank("examples/banks/civil-service-areas.yaml")
    R = derived.dims.correlation
    np.testing.assert_allclose(R[~np.eye(8, dtype=bool)], 0.8)
    assert all(item.calibration.status == "provisional" for item in derived.items)
    loads = derived.mparams.a > 0
    assert np.all(loads.sum(axis=1) == 1) and np.all(loads[np.arange(derived.n_items), derived.area_index])


def test_the_derivation_script_puts_each_item_on_its_area(tmp_path):
    """examples/make_area_bank.py on the bundled bank as it is now: slope = provisional a on the item's area,
    intercept = -a·b (GPCM: -a·Σb), c and d kept; the result loads as a valid bank."""
    import sys
    from pathlib import Path

    from digicomp.io.yamlfile import dump_yaml

    sys.path.insert(0, str(Path(__file__).parents[2] / "examples"))
    from make_area_bank import derive

    dump_yaml(derive(), tmp_path / "areas.yaml")
    derived = load_bank(tmp_path / "areas.yaml")
    base = load_bank("civil-service")
    for j, item_id in enumerate(derived.ids):
        src, new = base.item(item_id).params, derived.items[j].params
        a = np.array(new.a)
        assert a[derived.area_index[j]] == src.a and np.count_nonzero(a) == 1
        want = -src.a * (np.cumsum(src.b) if derived.items[j].model == "GPCM" else np.asarray(src.b))
        np.testing.assert_allclose(new.intercept, want, atol=1e-6)
        assert (new.c, new.d) == (src.c, src.d)


def test_bifactor_bank_general_factor_is_the_overall_and_areas_stop_alone():
    """A general factor plus areas: the overall is the general factor; area_se reads the area dimensions only."""
    data = mbank_data(n=60, enemies=False)
    data["dimensions"].insert(0, {"id": "g", "name": {"vi": "Chung", "en": "General"}, "general": True})
    data["latent"]["correlation"] = np.eye(4).tolist()
    data["overall"] = {"dimension": "g"}
    for item in data["items"]:
        item["params"]["a"] = [0.9] + [0.6 * (x > 0) for x in item["params"]["a"]]
    bank = ItemBank(BankFile.model_validate(data))
    assert self_contained(bank.spec) == []
    design = {
        "selection": {"rule": "a_optimality"},
        "stop": {"min_items": 4, "max_items": 30, "rules": [{"area_se": 0.8}]},
    }
    engine = AdaptiveTest(bank, design)
    st = run_batch(engine, 20, seed=3, theta=np.random.default_rng(1).normal(size=(20, 4)))
    np.testing.assert_allclose(st.theta, st.mtheta[:, 0])  # the overall composite is the general factor
    fired = st.stop_reason == "area_se"
    assert fired.any()
    sd = np.sqrt(np.einsum("pkk->pk", st.mcov))
    assert np.all(sd[fired, 1:].max(axis=1) < 0.8)
    session = engine.start(seed=1)
    while (item := session.next_item()) is not None:
        session.record(item.id, 1)
    report = session.report()
    assert report["dimensions"][0]["general"] and report["theta"] == report["dimensions"][0]["theta"]
    assert [a["area"] for a in report["areas"]] == list(AREAS)
