"""Paired outcomes at the end of a search and a router fitted on them: the fit's numbers on the test items are
exactly what evaluating the router file gives (the cascade arithmetic is the runtime's), targets are honoured,
and the fit never looks at test items."""
from __future__ import annotations

import asyncio

import numpy as np
import pytest

from rolegraph.errors import SearchError
from rolegraph.evaluate.runner import evaluate
from rolegraph.evaluate.store import ResultsStore
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import graph_hash
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_io import load_spec, save_router
from rolegraph.models.hub import ModelHub
from rolegraph.optimize.cascade import CascadeCosts, Chain, Outcomes, evaluate_chain
from rolegraph.optimize.paired import FIT, PAIRED_SET, TEST, candidates, results_path, sub_votes
from rolegraph.optimize.route_fit import all_points, fit_route, load_outcomes, rule_grid, select
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

from tests.optimize.helpers import run, tiny_config, tiny_space

TASK_SIZE = 240
FIT_ITEMS = 60
TEST_ITEMS = 40


@pytest.fixture(scope="module")
def routed_run(tmp_path_factory, pool):
    """A finished tiny search with its paired outcomes (module-scoped: searched once)."""
    base = tmp_path_factory.mktemp("routed")
    task = get_task("gsm", size=TASK_SIZE)
    config = tiny_config(iterations=3, samples=3, test_items=TEST_ITEMS, route_items=FIT_ITEMS)
    space = tiny_space(pool, budget=42.0, max_nodes=5)
    result = run(pool, base / "home", task, "agent-reinforce", space=space, config=config, out=base / "run")
    return base / "run", base / "home", task, result


def test_a_search_stores_paired_outcomes_of_its_front(routed_run):
    run_dir, _, task, result = routed_run
    with ResultsStore(results_path(run_dir)) as store:
        fit, test = store.paired(PAIRED_SET, FIT), store.paired(PAIRED_SET, TEST)
        sources = {r.source for r in fit}
        assert {"best", "single"} <= sources and {r.graph_hash for r in fit} == {r.graph_hash for r in test}
        assert len({r.items_hash for r in fit}) == 1 and len({r.items_hash for r in test}) == 1
        assert all(r.n == FIT_ITEMS for r in fit) and all(r.n == TEST_ITEMS for r in test)
        best = next(r for r in fit if r.source == "best")
        assert best.graph_hash == graph_hash(result.best_graph)
        fit_ids = {it.item_id for it in store.load(fit[0].run_id).items}
        test_ids = {it.item_id for it in store.load(test[0].run_id).items}
    assert not fit_ids & test_ids  # never fitted on test items
    assert test_ids == {it.id for it in task.items("test")[:TEST_ITEMS]}
    assert fit_ids <= {it.id for it in task.items("validation") + task.items("train")}


def _evaluate(router, task, items, pool, home):
    async def go():
        hub = ModelHub(pool, Settings(home=home))
        try:
            return await evaluate(router, task, items, hub=hub, progress=False)
        finally:
            await hub.aclose()

    return asyncio.run(go())


def test_routers_evaluate_exactly_as_the_stored_outcomes_say(routed_run, pool):
    """A cascade's test point composed from stored outcomes equals a real evaluation of its router file: for a
    hand-made two-stage cascade (a vote escalating to the best graph) and for what fit_route chooses."""
    from rolegraph.graphs.analysis import MATH_PROFILE
    from rolegraph.graphs.router import StopRule

    from rolegraph.optimize.cascade import plurality_outcomes

    run_dir, home, task, _ = routed_run
    fit_all, test_all = load_outcomes(run_dir)
    best = next(i for i, o in enumerate(fit_all) if o.source == "best")
    voters = [i for i, o in enumerate(test_all) if i != best and not np.isnan(o.agreement).all()]
    if not voters:  # the front holds no other vote: the best graph's own plurality stage is the first stage
        fit_all.append(plurality_outcomes(fit_all[best], pool, MATH_PROFILE))
        test_all.append(plurality_outcomes(test_all[best], pool, MATH_PROFILE))
        voters = [len(test_all) - 1]
    voter = voters[0]
    test = list(test_all)
    chain = Chain((voter, best), (StopRule(min_agreement=1.0),))
    composed = evaluate_chain(chain, test, CascadeCosts(test, pool, MATH_PROFILE), [test[voter].passes(chain.rules[0])])
    assert 0 < composed.shares[0] < 1
    items = task.items("test")[:TEST_ITEMS]
    cases = [(chain.router(fit_all), composed.accuracy, composed.flops_units, composed.dollars, composed.shares)]
    for fit in [fit_route(run_dir, target_flops=f) for f in (8.0, 20.0)] + [fit_route(run_dir)]:
        cases.append((fit.router, fit.test.accuracy, fit.test.flops_units, fit.test.dollars, fit.test.shares))
    for router, accuracy, flops, dollars, shares in cases:
        res = _evaluate(load_spec(save_router(router, run_dir / "r.yaml")), task, items, pool, home)
        assert res.accuracy == pytest.approx(accuracy)
        assert res.flops_units == pytest.approx(flops)
        assert res.cost_usd / res.n == pytest.approx(dollars)
        assert [sum(1 for it in res.items if it.stage == i + 1) / res.n for i in range(len(shares))] == pytest.approx(
            shares)


def test_targets_are_honoured_on_the_fit_items(routed_run):
    run_dir, *_ = routed_run
    for target in (6.0, 15.0, 30.0):
        fit = fit_route(run_dir, target_flops=target)
        assert fit.fit.flops_units <= target + 1e-9
    low = fit_route(run_dir, target_accuracy=0.3)
    assert low.fit.accuracy >= 0.3 and low.target == {"kind": "accuracy", "value": 0.3, "tolerance": None}
    default = fit_route(run_dir, tolerance=0.0)
    assert default.fit.accuracy >= default.best_fit.accuracy - 1e-12
    assert default.fit.flops_units <= default.best_fit.flops_units + 1e-9
    with pytest.raises(SearchError, match="no cascade reaches accuracy"):
        fit_route(run_dir, target_accuracy=1.01)
    with pytest.raises(SearchError, match="fits 0.1 FLOPs units"):
        fit_route(run_dir, target_flops=0.1)
    with pytest.raises(SearchError, match="not both"):
        fit_route(run_dir, target_flops=5, target_accuracy=0.5)


def test_each_stage_is_reported_beside_the_best_graph_on_the_items_it_answered(routed_run):
    """Per stage, on fit and test items: the share it answered, its accuracy there and the best graph's on the same
    items; weighted by the shares they must add up to the router's and the best graph's accuracies."""
    run_dir, *_ = routed_run
    for target in (6.0, 15.0, 30.0):
        fit = fit_route(run_dir, target_flops=target)
        for checks, router, best in ((fit.stage_fit, fit.fit, fit.best_fit), (fit.stage_test, fit.test, fit.best_test)):
            assert len(checks) == len(fit.stages)
            assert [c.share for c in checks] == pytest.approx(router.shares)
            assert sum(c.share * (c.accuracy or 0.0) for c in checks) == pytest.approx(router.accuracy)
            assert sum(c.share * (c.best_accuracy or 0.0) for c in checks) == pytest.approx(best.accuracy)


def test_every_chain_is_scored_as_evaluate_chain_scores_it_alone(routed_run, pool):
    """`all_points` scores all rule combinations of a chain at once; each point must equal `evaluate_chain` on that
    chain alone, bit for bit (a fit's choice compares these figures, so any drift could change it)."""
    from rolegraph.graphs.analysis import MATH_PROFILE
    from rolegraph.optimize.cascade import plurality_outcomes

    run_dir, _, _, _ = routed_run
    fit, _ = load_outcomes(run_dir)
    fit += [p for p in (plurality_outcomes(o, pool, MATH_PROFILE) for o in list(fit)) if p is not None]
    points = all_points(fit, CascadeCosts(fit, pool, MATH_PROFILE), max_stages=3)
    assert len({len(p.chain.stages) for p in points}) == 3 and len(points) > 100
    alone_costs = CascadeCosts(fit, pool, MATH_PROFILE)  # a fresh cache: nothing shared with the enumeration
    for p in points[:: max(1, len(points) // 400)]:
        alone = evaluate_chain(p.chain, fit, alone_costs, [fit[c].passes(r) for c, r in zip(p.chain.stages, p.chain.rules)])
        assert (p.accuracy, p.flops_units, p.dollars, p.latency_s, p.shares) == \
            (alone.accuracy, alone.flops_units, alone.dollars, alone.latency_s, alone.shares)
        assert np.array_equal(p.scores, alone.scores) and np.array_equal(p.flops, alone.flops)


def test_a_run_without_paired_outcomes_says_how_to_get_them(tmp_path, pool):
    task = get_task("gsm", size=80)
    run(pool, tmp_path / "home", task, "random", config=tiny_config(route_items=0), out=tmp_path / "run")
    assert load_outcomes(tmp_path / "run") == ([], [])
    with pytest.raises(SearchError, match="no paired outcomes"):
        fit_route(tmp_path / "run")


def test_sub_votes_keep_the_sources_ids_and_the_output():
    vote = (Graph("v4").node("a", "solver", "sim/llama-3.1-8b").node("b", "solver", "sim/llama-3.1-8b")
            .node("c", "solver", "sim/llama-3.1-8b").node("d", "solver", "sim/llama-3.1-8b")
            .node("x", "solver", "sim/llama-3.2-1b").node("f", "fuser", "sim/llama-3.1-8b")
            .edge("a", "f").edge("b", "f").edge("c", "f").edge("d", "f").edge("x", "f").build())
    subs = sub_votes(vote)
    assert [s.name for s in subs] == ["v4-first1", "v4-first2", "v4-first3"]
    assert [[n.id for n in s.nodes] for s in subs] == [["a"], ["a", "b", "x", "f"], ["a", "b", "c", "x", "f"]]
    assert subs[0].output == "a" and subs[0].edges == [] and subs[0].nodes[0] == vote.node("a")
    assert all(s.output == vote.output for s in subs[1:]) and sub_votes(subs[0]) == []
    cands = candidates(vote, [subs[1], vote], [])
    assert [(c.source, c.graph.name) for c in cands] == [("best", "v4"), ("derived", "v4-first1"),
                                                         ("derived", "v4-first2"), ("derived", "v4-first3")]


def test_a_one_sample_sub_vote_is_read_by_the_full_vote_in_a_router():
    """A router escalating from the first sample to the vote reuses that sample: the vote's stage adds only
    the other samples and its output."""
    vote = (Graph("v3").node("a", "solver", "sim/llama-3.1-8b").node("b", "solver", "sim/llama-3.1-8b")
            .node("c", "solver", "sim/llama-3.1-8b").node("f", "fuser", "sim/llama-3.1-8b")
            .edge("a", "f").edge("b", "f").edge("c", "f").build())
    two = (Graph("v2").node("a", "solver", "sim/llama-3.2-3b").node("b", "solver", "sim/llama-3.2-3b")
           .node("f", "fuser", "sim/llama-3.2-3b").edge("a", "f").edge("b", "f").build())
    first = sub_votes(vote)[0]
    router = RouterSpec(stages=[Stage(graph=first, stop=StopRule(min_logprob=-0.3)), Stage(graph=vote)])
    assert router.reuse() == [{}, {"a": "s1.a"}]
    assert [s.name for s in sub_votes(two)] == ["v2-first1"]  # two samples: the first alone, no smaller vote
    mixed = (Graph("m").node("a", "solver", "sim/llama-3.1-8b").node("b", "solver", "sim/llama-3.1-8b")
             .node("c", "solver", "sim/llama-3.2-3b").node("d", "solver", "sim/llama-3.2-3b")
             .node("f", "fuser", "sim/llama-3.1-8b").edge("a", "f").edge("b", "f").edge("c", "f").edge("d", "f")
             .build())
    assert [(s.name, s.output) for s in sub_votes(mixed)] == [("m-first1-a", "a"), ("m-first1-c", "c")]


def _outcomes(name, scores, agreement, spec):
    from rolegraph.evaluate.result import EvalResult, ItemScore

    items = [ItemScore(item_id=f"q{i}", score=s, answer=str(s), agreement=a, latency_s=1.0)
             for i, (s, a) in enumerate(zip(scores, agreement))]
    return Outcomes(name, "front", spec, EvalResult(task="t", items=items, n=len(items), flops_units=1.0))


def test_cascade_arithmetic_by_hand(pool):
    from rolegraph.graphs.analysis import MATH_PROFILE
    from rolegraph.graphs.router import StopRule

    cheap = Graph("cheap").node("n0", "solver", "sim/llama-3.2-1b").node("n1", "solver", "sim/llama-3.2-1b") \
        .node("out", "fuser", "sim/llama-3.2-1b").edge("n0", "out").edge("n1", "out").build()
    big = Graph("big").node("n0", "solver", "sim/llama-3.2-1b").node("n1", "solver", "sim/llama-3.2-1b") \
        .node("n2", "solver", "sim/llama-3.2-1b").node("out", "fuser", "sim/llama-3.1-8b") \
        .edge("n0", "out").edge("n1", "out").edge("n2", "out").build()
    outs = [_outcomes("cheap", [1, 0, 1, 0], [1.0, 0.5, 0.5, 1.0], cheap),
            _outcomes("big", [1, 1, 0, 1], [1.0, 1.0, 0.0, 1 / 3], big)]
    costs = CascadeCosts(outs, pool, MATH_PROFILE)
    rule = StopRule(min_agreement=1.0)
    point = evaluate_chain(Chain((0, 1), (rule,)), outs, costs, [outs[0].passes(rule)])
    assert point.shares == [0.5, 0.5]
    assert point.accuracy == pytest.approx((1 + 1 + 0 + 0) / 4)  # items 0, 3 from cheap; 1, 2 from big
    f1, f2 = costs.increment((0,))[0], costs.increment((0, 1))[0]
    assert point.flops_units == pytest.approx(f1 + 0.5 * f2)
    assert f2 < costs.increment((1,))[0]  # big reuses cheap's two solvers
    assert [r.min_agreement for r in rule_grid(outs[0])] == [None, 0.5, 1.0]
    assert select([point], None, 0.5) is point
    assert np.array_equal(outs[0].passes(StopRule()), np.ones(4, dtype=bool))


def test_a_plurality_stage_composed_from_stored_runs_is_what_its_router_does(routed_run, pool):
    """A vote's plurality stage (no fuser) scored from the vote's own stored run, escalating to the vote when its
    solvers disagree: the composed point equals a real evaluation of the router, which adds only the fuser."""
    from rolegraph.graphs.analysis import MATH_PROFILE
    from rolegraph.graphs.router import StopRule
    from rolegraph.optimize.cascade import plurality_outcomes

    run_dir, home, task, _ = routed_run
    model = "sim/llama-3.1-8b"
    v3 = (Graph("v3").node("a", "solver", model).node("b", "solver", model).node("c", "solver", model)
          .node("f", "fuser", model).edge("a", "f").edge("b", "f").edge("c", "f").build())
    items = task.items("test")[:TEST_ITEMS]
    vote = Outcomes("v3", "eval", v3, _evaluate(v3, task, items, pool, home))
    plural = plurality_outcomes(vote, pool, MATH_PROFILE)
    assert plural is not None and plurality_outcomes(plural, pool, MATH_PROFILE) is None
    outs = [plural, vote]
    costs = CascadeCosts(outs, pool, MATH_PROFILE)
    assert costs.increment((0, 1))[0] == pytest.approx(vote.result.flops_units - plural.result.flops_units)
    rule = StopRule(min_agreement=1.0)
    chain = Chain((0, 1), (rule,))
    composed = evaluate_chain(chain, outs, costs, [plural.passes(rule)])
    assert 0 < composed.shares[0] < 1
    res = _evaluate(load_spec(save_router(chain.router(outs), run_dir / "plural.yaml")), task, items, pool, home)
    assert res.accuracy == pytest.approx(composed.accuracy)
    assert res.flops_units == pytest.approx(composed.flops_units)
    assert res.cost_usd / res.n == pytest.approx(composed.dollars)
    assert sum(1 for it in res.items if it.stage == 1) / res.n == pytest.approx(composed.shares[0])
    assert np.mean([it.latency_s for it in res.items]) == pytest.approx(composed.latency_s)


def test_a_vote_that_stops_on_agreement_or_a_sure_speaker_is_what_its_router_does(routed_run, pool):
    """The sim pool returns log-probabilities: a plurality stage's speaker's (stored per node) is observed from the
    stored runs as the router observes it live, so a rule 'agreement, or mean logprob above the median' composes to
    exactly what a real evaluation of the router gives, and stops on more items than agreement alone."""
    from rolegraph.graphs.analysis import MATH_PROFILE
    from rolegraph.graphs.router import StopRule
    from rolegraph.optimize.cascade import plurality_outcomes

    run_dir, home, task, _ = routed_run
    model = "sim/llama-3.1-8b"
    v2 = (Graph("v2").node("a", "solver", model).node("b", "solver", "sim/llama-3.2-3b")
          .node("f", "fuser", model).edge("a", "f").edge("b", "f").build())
    items = task.items("test")[:TEST_ITEMS]
    vote = Outcomes("v2", "eval", v2, _evaluate(v2, task, items, pool, home))
    plural = plurality_outcomes(vote, pool, MATH_PROFILE)
    assert plural is not None and not np.isnan(plural.logprob).any()
    agree_only = StopRule(min_agreement=1.0)
    rule = StopRule(min_agreement=1.0, or_min_logprob=float(np.median(plural.logprob)))
    assert plural.passes(rule).sum() > plural.passes(agree_only).sum()
    assert rule in rule_grid(plural) or any(r.or_min_logprob is not None for r in rule_grid(plural))
    outs = [plural, vote]
    chain = Chain((0, 1), (rule,))
    composed = evaluate_chain(chain, outs, CascadeCosts(outs, pool, MATH_PROFILE), [plural.passes(rule)])
    res = _evaluate(load_spec(save_router(chain.router(outs), run_dir / "sure.yaml")), task, items, pool, home)
    assert res.accuracy == pytest.approx(composed.accuracy)
    assert res.flops_units == pytest.approx(composed.flops_units)
    assert sum(1 for it in res.items if it.stage == 1) / res.n == pytest.approx(composed.shares[0])



def test_a_cheaper_output_stage_composed_from_stored_runs_is_what_its_router_does(routed_run, pool):
    """The vote with a 1B fuser, escalating to the vote's 8B fuser when its inputs disagree: composed from the two
    graphs' own runs, it equals a real evaluation of the router, whose second stage adds only the 8B fuser."""
    from rolegraph.graphs.analysis import MATH_PROFILE, node_flops_units
    from rolegraph.graphs.router import StopRule
    from rolegraph.optimize.paired import cheaper_outputs

    run_dir, home, task, _ = routed_run
    model = "sim/llama-3.1-8b"
    v3 = (Graph("v3").node("a", "solver", model).node("b", "solver", model).node("c", "solver", model)
          .node("f", "fuser", model).edge("a", "f").edge("b", "f").edge("c", "f").build())
    (small,) = cheaper_outputs(v3, {model: 8.0, "sim/llama-3.2-1b": 1.0})
    items = task.items("test")[:TEST_ITEMS]
    outs = [Outcomes(g.name, "eval", g, _evaluate(g, task, items, pool, home)) for g in (small, v3)]
    costs = CascadeCosts(outs, pool, MATH_PROFILE)
    fuser = node_flops_units(v3, pool, MATH_PROFILE)["f"]
    solvers = sum(v for n, v in node_flops_units(v3, pool, MATH_PROFILE).items() if n != "f")
    assert costs.increment((0, 1))[0] == pytest.approx(fuser)  # the solvers are read, not re-run
    assert outs[1].result.flops_units == pytest.approx(fuser + solvers)
    rule = StopRule(min_agreement=1.0)
    chain = Chain((0, 1), (rule,))
    composed = evaluate_chain(chain, outs, costs, [outs[0].passes(rule)])
    assert 0 < composed.shares[0] < 1
    res = _evaluate(load_spec(save_router(chain.router(outs), run_dir / "cheap-out.yaml")), task, items, pool, home)
    assert res.accuracy == pytest.approx(composed.accuracy)
    assert res.flops_units == pytest.approx(composed.flops_units)
    assert sum(1 for it in res.items if it.stage == 1) / res.n == pytest.approx(composed.shares[0])


def test_the_best_single_model_is_picked_on_fit_items_and_reported_on_test(routed_run):
    run_dir, *_ = routed_run
    fit = fit_route(run_dir)
    singles = [c for c in fit.candidates if c.source == "single" and c.test is not None]
    assert len(singles) >= 2
    by_fit = max(singles, key=lambda c: (c.fit.accuracy, -c.fit.flops_units))
    assert fit.single_name == by_fit.name and fit.single_test == by_fit.test
