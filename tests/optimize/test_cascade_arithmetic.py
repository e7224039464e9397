"""A cascade's figures from paired outcomes, worked by hand: which items each stage answers (the vector stop rule
is the runtime's `StopRule.passes`, item by item, at thresholds and on missing signals), and what the chain
spends: every stage's FLOPs, dollars and latency counted on exactly the items that reached it."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from rolegraph.evaluate.result import EvalResult, ItemScore, NodeUsage
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.router import StopRule
from rolegraph.optimize.cascade import Chain, Outcomes, answering_stage, evaluate_chain, evaluate_rule_combos

SPEC = Graph("g").node("a", "solver", "sim/llama-3.2-1b").build()

# (answer, agreement, verified, logprob): thresholds hit exactly, signals missing, an unparsable answer
SIGNALS = [
    ("1", 1.0, True, -0.1),
    ("1", 2 / 3, False, -0.5),
    ("1", 0.5, None, None),
    ("1", None, True, -0.3),
    (None, 1.0, True, -0.01),  # unparsable: never stops
    ("1", 0.0, None, -2.0),
    ("1", 0.5, True, -0.5),
]
RULES = [
    StopRule(),
    StopRule(min_agreement=0.0),
    StopRule(min_agreement=0.5),
    StopRule(min_agreement=2 / 3),
    StopRule(min_agreement=1.0),
    StopRule(require_verified=True),
    StopRule(min_agreement=0.5, require_verified=True),
    StopRule(min_logprob=-0.5),
    StopRule(min_logprob=-0.3),
    StopRule(min_agreement=1.0, or_min_logprob=-0.5),
    StopRule(require_verified=True, or_min_logprob=-0.3),
]


def outcomes(scores, signals=SIGNALS, usage=None, latency=None) -> Outcomes:
    items = [
        ItemScore(
            item_id=f"q{i}",
            score=s,
            answer=ans,
            agreement=agr,
            verified=ver,
            logprob=lp,
            latency_s=1.0 if latency is None else latency[i],
            node_usage=usage[i] if usage else {},
        )
        for i, (s, (ans, agr, ver, lp)) in enumerate(zip(scores, signals))
    ]
    return Outcomes("g", "front", SPEC, EvalResult(task="t", items=items, n=len(items), flops_units=1.0))


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.text())
def test_vector_stop_rule_is_the_runtimes_rule_item_by_item(rule):
    o = outcomes([1.0] * len(SIGNALS))
    runtime = [rule.passes(o.item_signals(i)) for i in range(o.n)]
    assert o.passes(rule).tolist() == runtime


def test_stop_rules_by_hand():
    o = outcomes([1.0] * len(SIGNALS))
    assert o.passes(StopRule()).tolist() == [True, True, True, True, False, True, True]
    # an agreement exactly at the level passes; an unobserved agreement never does, even at level 0
    assert o.passes(StopRule(min_agreement=2 / 3)).tolist() == [True, True, False, False, False, False, False]
    assert o.passes(StopRule(min_agreement=0.0)).tolist() == [True, True, True, False, False, True, True]
    assert o.passes(StopRule(require_verified=True)).tolist() == [True, False, False, True, False, False, True]
    assert o.passes(StopRule(min_logprob=-0.5)).tolist() == [True, True, False, True, False, False, True]
    # full agreement or a sure speaker, never an unparsable answer
    assert o.passes(StopRule(min_agreement=1.0, or_min_logprob=-0.3)).tolist() == [
        True, False, False, True, False, False, False
    ]


class Costs:
    """Per-stage increments set by hand: stage `c` after the stages before it adds FLOPS[c] units and DOLLARS[c]
    / LATENCY[c] per item (an array, item by item)."""

    def __init__(self, flops, dollars, latency):
        self.flops, self.dollars, self.lat = flops, dollars, latency

    def increment(self, stages):
        return self.flops[stages[-1]], self.dollars[stages[-1]]

    def latency(self, stages):
        return self.lat[stages[-1]]


N = 4
COSTS = Costs(
    flops={0: 2.0, 1: 10.0, 2: 30.0},
    dollars={0: np.array([0.1, 0.2, 0.3, 0.4]), 1: np.array([1.0, 2.0, 3.0, 4.0]), 2: np.array([5.0] * 4)},
    latency={0: np.array([1.0, 1.0, 2.0, 2.0]), 1: np.array([10.0, 20.0, 30.0, 40.0]), 2: np.array([7.0] * 4)},
)


def three():
    sig = [("1", 1.0, None, None), ("1", 0.5, None, None), ("1", 1.0, None, None), ("1", 0.0, None, None)]
    sig2 = [("1", 1.0, None, None), ("1", 1.0, None, None), ("1", 0.0, None, None), ("1", 0.0, None, None)]
    return [
        outcomes([1, 0, 0, 1], sig),  # stage 0 stops on items 0, 2 (full agreement)
        outcomes([0, 1, 1, 0], sig2),  # stage 1 stops on 1 of the rest (item 1); 3 goes on
        outcomes([1, 1, 1, 1], sig2),  # stage 2 answers what is left: item 3
    ]


def test_a_three_stage_chain_by_hand():
    outs = three()
    rule = StopRule(min_agreement=1.0)
    chain = Chain((0, 1, 2), (rule, rule))
    point = evaluate_chain(chain, outs, COSTS, [outs[0].passes(rule), outs[1].passes(rule)])
    assert point.shares == [pytest.approx(0.5), pytest.approx(0.25), pytest.approx(0.25)]
    # item 0: stage 0 (1), item 1: stage 1 (1), item 2: stage 0 (0), item 3: stage 2 (1)
    assert point.scores.tolist() == [1, 1, 0, 1] and point.accuracy == pytest.approx(0.75)
    # FLOPs: every item 2; items 1, 3 add 10; item 3 adds 30
    assert point.flops.tolist() == [2.0, 12.0, 2.0, 42.0]
    assert point.flops_units == pytest.approx(58.0 / 4)
    # dollars, item by item, of the stages that ran there
    assert point.dollars == pytest.approx((0.1 + (0.2 + 2.0) + 0.3 + (0.4 + 4.0 + 5.0)) / 4)
    assert point.latency_s == pytest.approx((1.0 + (1.0 + 20.0) + 2.0 + (2.0 + 40.0 + 7.0)) / 4)
    assert answering_stage(chain, outs).tolist() == [0, 1, 0, 2]


def test_every_rule_combination_at_once_equals_each_chain_alone():
    outs = three()
    grids = {c: [(r, outs[c].passes(r)) for r in RULES[:6]] for c in range(3)}
    for stages in [(0,), (0, 2), (1, 2), (0, 1, 2)]:
        points = evaluate_rule_combos(stages, outs, COSTS, grids)
        combos = list(itertools.product(*(range(len(grids[c])) for c in stages[:-1])))
        assert len(points) == len(combos)
        for point, combo in zip(points, combos):
            rules = tuple(grids[c][k][0] for c, k in zip(stages, combo))
            answered = [outs[c].passes(r) for c, r in zip(stages, rules)]
            alone = evaluate_chain(Chain(stages, rules), outs, COSTS, answered)
            assert point.chain.rules == rules
            assert (point.accuracy, point.flops_units, point.dollars, point.latency_s) == pytest.approx(
                (alone.accuracy, alone.flops_units, alone.dollars, alone.latency_s)
            )
            assert point.shares == pytest.approx(alone.shares)
            assert point.flops.tolist() == pytest.approx(alone.flops.tolist())


def test_a_single_stage_answers_everything_and_spends_its_own_figures():
    outs = three()
    point = evaluate_chain(Chain((1,), ()), outs, COSTS, [])
    assert point.shares == [1.0] and point.accuracy == pytest.approx(0.5)
    assert point.flops_units == 10.0 and point.dollars == pytest.approx(2.5) and point.latency_s == pytest.approx(25.0)


def test_node_dollars_leave_out_the_reused_nodes():
    usage = [{"a": NodeUsage(cost_usd=0.5), "b": NodeUsage(cost_usd=0.25), "out": NodeUsage(cost_usd=1.0)}] * 2
    o = outcomes([1, 0], SIGNALS[:2], usage=usage)
    assert o.node_dollars(set()).tolist() == [1.75, 1.75]
    assert o.node_dollars({"a", "b"}).tolist() == [1.0, 1.0]
    assert math.isclose(o.node_dollars({"out"})[0], 0.75)


def test_a_plurality_stage_from_stored_runs_by_hand():
    """A vote of three solvers and a fuser, read as a plurality stage: the first voter of the most common answer
    speaks, agreement is the share of the other voters agreeing with it (0 when no voter answered, as the runtime
    observes it), and spend is every voter's, without the fuser (latency: the slowest voter)."""
    from rolegraph.graphs.analysis import MATH_PROFILE
    from rolegraph.models.pool import ModelPool
    from rolegraph.optimize.cascade import plurality_outcomes

    vote = (Graph("v3").node("a", "solver", "sim/llama-3.2-1b").node("b", "solver", "sim/llama-3.2-1b")
            .node("c", "solver", "sim/llama-3.2-1b").node("f", "fuser", "sim/llama-3.1-8b")
            .edge("a", "f").edge("b", "f").edge("c", "f").build())

    def use(cost, latency):
        return NodeUsage(cost_usd=cost, latency_s=latency)

    usage = {"a": use(0.1, 1.0), "b": use(0.2, 3.0), "c": use(0.4, 2.0), "f": use(1.0, 5.0)}
    items = [
        ItemScore(item_id="q0", score=1.0, answer="6", node_answers={"a": "6", "b": "5", "c": "5", "f": "6"},
                  node_scores={"a": 1.0, "b": 0.0, "c": 0.0, "f": 1.0}, node_usage=usage, latency_s=8.0),
        ItemScore(item_id="q1", score=0.0, answer=None, node_answers={"a": None, "b": None, "c": None, "f": None},
                  node_scores={}, node_usage=usage, latency_s=8.0),
        ItemScore(item_id="q2", score=1.0, answer="7", node_answers={"a": "7", "b": "7", "c": "7", "f": "7"},
                  node_scores={"a": 1.0, "b": 1.0, "c": 1.0, "f": 1.0}, node_usage=usage, latency_s=8.0),
    ]
    o = Outcomes("v3", "front", vote, EvalResult(task="t", items=items, n=3, flops_units=1.0))
    p = plurality_outcomes(o, ModelPool.builtin(), MATH_PROFILE)
    assert p is not None
    assert [it.answer for it in p.result.items] == ["5", None, "7"]  # b speaks for b and c on q0
    assert p.score.tolist() == [0.0, 0.0, 1.0]
    assert p.agreement.tolist() == [0.5, 0.0, 1.0]  # q0: of a and c, only c agrees with b
    assert p.parsable.tolist() == [True, False, True]
    assert p.latency.tolist() == [3.0, 3.0, 3.0]  # the slowest voter; the fuser never runs
    assert [it.cost_usd for it in p.result.items] == [pytest.approx(0.7)] * 3
    assert p.result.accuracy == pytest.approx(1 / 3)


def test_a_stage_reading_a_node_from_an_earlier_stage_takes_its_longest_remaining_path():
    """Stage 1 is the vote's first sample alone (node a); stage 2 the whole vote, which reads a and runs b, c
    side by side, then the fuser: per item, max(b, c) + f. As a plurality stage (no fuser), the slowest voter
    still to run: max(b, c)."""
    from rolegraph.graphs.analysis import MATH_PROFILE
    from rolegraph.models.pool import ModelPool
    from rolegraph.optimize.cascade import CascadeCosts

    first = Graph("first1").node("a", "solver", "sim/llama-3.2-1b").build()
    vote = (Graph("v3").node("a", "solver", "sim/llama-3.2-1b").node("b", "solver", "sim/llama-3.2-1b")
            .node("c", "solver", "sim/llama-3.2-1b").node("f", "fuser", "sim/llama-3.1-8b")
            .edge("a", "f").edge("b", "f").edge("c", "f").build())
    lat = [{"a": 1.0, "b": 3.0, "c": 2.0, "f": 5.0}, {"a": 4.0, "b": 1.0, "c": 2.5, "f": 0.5}]

    def run(spec, answer="OUTPUT"):
        items = [ItemScore(item_id=f"q{i}", score=1.0, answer="1", latency_s=sum(row.values()),
                           node_usage={n.id: NodeUsage(latency_s=row[n.id]) for n in spec.nodes})
                 for i, row in enumerate(lat)]
        mode = {} if answer == "OUTPUT" else {"answer": "plurality"}
        return Outcomes(spec.name, "front", spec, EvalResult(task="t", items=items, n=2, flops_units=1.0), **mode)

    outs = [run(first), run(vote), run(vote, "plurality")]
    costs = CascadeCosts(outs, ModelPool.builtin(), MATH_PROFILE)
    assert costs.latency((0, 1)).tolist() == [3.0 + 5.0, 2.5 + 0.5]
    assert costs.latency((0, 2)).tolist() == [3.0, 2.5]
    assert costs.latency((1,)).tolist() == [11.0, 8.0]  # nothing read: the stage's own latency
