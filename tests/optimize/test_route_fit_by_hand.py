"""`fit_route` on paired outcomes made by hand (three single-model graphs, 8 fit and 6 test items): the router is
chosen on the fit items only and reported on the test items, against the run's best graph (its source, not the
highest score), with the paired difference router - best, the FLOPs ratio, the per-stage checks on each split,
and the single model picked on fit accuracy (its test figure is not what picks it)."""
from __future__ import annotations

import pytest

from rolegraph.evaluate.result import EvalResult, ItemScore
from rolegraph.graphs.analysis import MATH_PROFILE, node_flops_units
from rolegraph.graphs.builder import Graph
from rolegraph.models.pool import ModelPool
from rolegraph.optimize import route_fit as rf
from rolegraph.optimize.cascade import Outcomes

POOL = ModelPool.builtin()
SPECS = {
    "single-1b": Graph("single-1b").node("a", "solver", "sim/llama-3.2-1b").build(),
    "single-3b": Graph("single-3b").node("a", "solver", "sim/llama-3.2-3b").build(),
    "best": Graph("best").node("a", "solver", "sim/llama-3.1-8b").build(),
}
FLOPS = {name: sum(node_flops_units(spec, POOL, MATH_PROFILE).values()) for name, spec in SPECS.items()}
SOURCE = {"single-1b": "single", "single-3b": "single", "best": "best"}

# name: (scores, agreement); the 1B model's nodes "agree" on some items (a signal its stop rule can read)
FIT = {
    "single-1b": ([1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5]),  # 0.5; right exactly where it agrees
    "single-3b": ([1, 1, 1, 1, 1, 0, 0, 0], [None] * 8),  # 0.625
    "best": ([1, 1, 1, 1, 1, 1, 0, 0], [None] * 8),  # 0.75
}
TEST = {
    "single-1b": ([1, 1, 1, 0, 1, 0], [1, 1, 0.5, 0.5, 1, 0.5]),  # 4/6
    "single-3b": ([0, 0, 0, 0, 0, 1], [None] * 6),  # 1/6: the better single on fit items, the worse on test
    "best": ([1, 1, 1, 0, 0, 1], [None] * 6),  # 4/6
}


def outcomes(split: dict) -> list[Outcomes]:
    out = []
    for name, (scores, agreement) in split.items():
        items = [ItemScore(item_id=f"{name}{i}", score=s, answer="1", agreement=a, latency_s=1.0)
                 for i, (s, a) in enumerate(zip(scores, agreement))]
        result = EvalResult(task="gsm", graph_name=name, items=items, n=len(items),
                            accuracy=sum(scores) / len(scores), flops_units=FLOPS[name], simulated=True,
                            simulation="simulated")
        out.append(Outcomes(name, SOURCE[name], SPECS[name], result))
    return out


@pytest.fixture
def fit(monkeypatch):
    monkeypatch.setattr(rf, "run_meta", lambda run_dir: (POOL, "math"))

    def go(**kwargs):
        return rf.fit_route("unused", outcomes=(outcomes(FIT), outcomes(TEST)), plurality=False, guard_z=0.0,
                            **kwargs)

    return go


def test_the_router_is_chosen_on_fit_items_and_reported_on_test_items(fit):
    r = fit()
    # best fit accuracy 0.75, less the 0.01 tolerance: the cheapest chain reaching 0.74 is the 1B model stopping
    # where its nodes agree (items 0-3, all right) and the best graph answering the rest (4-7: 1, 1, 0, 0)
    assert r.target["value"] == pytest.approx(0.74)
    assert r.stages == ["single-1b", "best"] and r.rules[0] == "answer parsed and agreement >= 1.00"
    assert (r.fit.n, r.fit.accuracy, r.fit.shares) == (8, pytest.approx(0.75), [0.5, 0.5])
    assert r.fit.flops_units == pytest.approx(FLOPS["single-1b"] + 0.5 * FLOPS["best"])
    # on test: the 1B model stops on items 0, 1, 4 (1, 1, 1), the best graph answers 2, 3, 5 (1, 0, 1)
    assert (r.test.n, r.test.accuracy, r.test.shares) == (6, pytest.approx(5 / 6), [0.5, 0.5])
    assert r.best_name == "best"
    assert (r.best_fit.n, r.best_fit.accuracy) == (8, pytest.approx(0.75))
    assert (r.best_test.n, r.best_test.accuracy) == (6, pytest.approx(4 / 6))
    assert r.best_test.flops_units == pytest.approx(FLOPS["best"])
    assert r.vs_best["diff"] == pytest.approx(5 / 6 - 4 / 6)  # router - best, item by item
    assert r.vs_best["ci95"][0] <= 1 / 6 <= r.vs_best["ci95"][1]
    assert r.flops_ratio == pytest.approx((FLOPS["single-1b"] + 0.5 * FLOPS["best"]) / FLOPS["best"])
    assert r.flops_ratio < 1


def test_stage_checks_are_per_split(fit):
    r = fit()
    fit_checks = [(c.share, c.accuracy, c.best_accuracy) for c in r.stage_fit]
    test_checks = [(c.share, c.accuracy, c.best_accuracy) for c in r.stage_test]
    assert fit_checks == [(0.5, 1.0, 1.0), (0.5, 0.5, 0.5)]
    assert test_checks == [(0.5, 1.0, pytest.approx(2 / 3)), (0.5, pytest.approx(2 / 3), pytest.approx(2 / 3))]


def test_the_single_model_reported_is_picked_on_fit_items(fit):
    r = fit()
    assert r.single_name == "single-3b"  # 0.625 on fit items beats 0.5, though it is far worse on test items
    assert r.single_test.accuracy == pytest.approx(1 / 6) and r.single_test.n == 6


def test_max_stages_allows_chains_of_that_many_stages(fit):
    assert fit(max_stages=2).stages == ["single-1b", "best"]
    assert fit(max_stages=1).stages == ["best"]  # no single graph but the best reaches 0.74


def test_a_flops_target_takes_the_most_accurate_chain_within_it(fit):
    r = fit(target_flops=FLOPS["single-3b"] + 1e-6)
    # 0.625 is the most within the 3B model's FLOPs: the 3B model alone, or for less the 1B model escalating to it
    # (items 0-3 from the 1B model, 4-7 from the 3B: 1, 0, 0, 0), which wins the tie on FLOPs
    assert r.stages == ["single-1b", "single-3b"] and r.fit.accuracy == pytest.approx(0.625)
    assert r.fit.flops_units == pytest.approx(FLOPS["single-1b"] + 0.5 * FLOPS["single-3b"])
    assert r.test.accuracy == pytest.approx(4 / 6)  # 1B on items 0, 1, 4 (1, 1, 1), 3B on 2, 3, 5 (0, 0, 1)
