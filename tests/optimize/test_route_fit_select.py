"""`route fit`'s choices on menus worked out by hand: which cascade a target picks (best accuracy within a FLOPs
target, least FLOPs reaching an accuracy target, and the tie-breaks between them), the frontier it reports, the
per-stage check of the chosen router, and the agreement split of a candidate's fit items."""
from __future__ import annotations

import numpy as np
import pytest

from rolegraph.errors import SearchError
from rolegraph.evaluate.result import EvalResult, ItemScore
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.router import StopRule
from rolegraph.optimize.cascade import Chain, Outcomes, Point
from rolegraph.optimize.route_fit import _agreement_split, frontier, rule_grid, select, stage_checks


def pt(name: int, accuracy: float, flops: float, stages: int = 1) -> Point:
    chain = Chain(stages=tuple(range(name, name + stages)), rules=tuple(StopRule() for _ in range(stages - 1)))
    return Point(chain=chain, accuracy=accuracy, flops_units=flops, dollars=0.0, latency_s=0.0, shares=[1.0])


MENU = [pt(0, 0.80, 10.0), pt(1, 0.70, 4.0), pt(2, 0.75, 6.0), pt(3, 0.60, 2.0), pt(4, 0.78, 9.0)]


@pytest.mark.parametrize(
    ("target_flops", "expected"),
    [(10.0, 0), (9.0, 4), (8.99, 2), (6.0, 2), (5.0, 1), (4.0, 1), (2.0, 3), (100.0, 0)],
)
def test_a_flops_target_takes_the_best_accuracy_within_it(target_flops, expected):
    assert select(MENU, target_flops, 0.0).chain.stages[0] == expected


def test_a_flops_target_below_every_cascade_is_an_error():
    with pytest.raises(SearchError, match="fits 1 FLOPs units"):
        select(MENU, 1.0, 0.0)


@pytest.mark.parametrize(
    ("target_accuracy", "expected"),
    [(0.80, 0), (0.78, 4), (0.77, 4), (0.75, 2), (0.71, 2), (0.70, 1), (0.60, 3), (0.0, 3)],
)
def test_an_accuracy_target_takes_the_least_flops_reaching_it(target_accuracy, expected):
    assert select(MENU, None, target_accuracy).chain.stages[0] == expected


def test_an_accuracy_target_above_every_cascade_is_an_error_naming_the_best():
    with pytest.raises(SearchError, match=r"no cascade reaches accuracy 0\.810 .*best: 0\.800"):
        select(MENU, None, 0.81)


def test_ties_go_to_the_cheaper_then_the_shorter_cascade():
    # within 10 FLOPs, two at the best accuracy: the cheaper one
    menu = [pt(0, 0.8, 9.0), pt(1, 0.8, 7.0), pt(2, 0.7, 1.0)]
    assert select(menu, 10.0, 0.0).chain.stages[0] == 1
    # equal accuracy and FLOPs: the one with fewer stages, whichever comes first
    menu = [pt(0, 0.8, 5.0, stages=2), pt(5, 0.8, 5.0, stages=1)]
    assert select(menu, 10.0, 0.0).chain.stages == (5,)
    assert select(list(reversed(menu)), 10.0, 0.0).chain.stages == (5,)
    # reaching 0.7 at equal FLOPs: the more accurate one, then the shorter one
    menu = [pt(0, 0.72, 5.0), pt(1, 0.75, 5.0), pt(2, 0.9, 8.0)]
    assert select(menu, None, 0.7).chain.stages == (1,)
    menu = [pt(0, 0.75, 5.0, stages=3), pt(7, 0.75, 5.0, stages=2)]
    assert select(menu, None, 0.7).chain.stages == (7, 8)


def test_frontier_keeps_only_points_more_accurate_than_every_cheaper_one():
    menu = [*MENU, pt(5, 0.70, 5.0), pt(6, 0.80, 12.0), pt(7, 0.60, 2.0)]
    # by FLOPs: 2 (0.60), 2 (0.60 twin), 4 (0.70), 5 (0.70: no gain), 6 (0.75), 9 (0.78), 10 (0.80), 12 (0.80)
    assert [(p.flops_units, p.accuracy) for p in frontier(menu)] == [
        (2.0, 0.60), (4.0, 0.70), (6.0, 0.75), (9.0, 0.78), (10.0, 0.80)
    ]


def test_frontier_of_equal_flops_keeps_the_more_accurate():
    assert [p.accuracy for p in frontier([pt(0, 0.5, 3.0), pt(1, 0.7, 3.0), pt(2, 0.6, 3.0)])] == [0.7]


SPEC = Graph("g").node("a", "solver", "sim/llama-3.2-1b").build()


def outcomes(name: str, scores: list[float], agreement: list[float | None]) -> Outcomes:
    items = [
        ItemScore(item_id=f"q{i}", score=s, answer="x", agreement=a, latency_s=1.0)
        for i, (s, a) in enumerate(zip(scores, agreement))
    ]
    return Outcomes(name, "front", SPEC, EvalResult(task="t", items=items, n=len(items), flops_units=1.0))


def test_stage_checks_count_each_stages_items_and_the_best_graphs_score_on_them():
    cheap = outcomes("cheap", [1, 0, 1, 0, 1, 0], [1.0, 1.0, 0.5, 1.0, 0.0, 0.5])
    big = outcomes("big", [1, 1, 0, 1, 1, 1], [None] * 6)
    # cheap stops on full agreement (items 0, 1, 3), big answers 2, 4, 5
    checks = stage_checks(Chain((0, 1), (StopRule(min_agreement=1.0),)), [cheap, big], best_index=1)
    assert [c.share for c in checks] == [pytest.approx(0.5), pytest.approx(0.5)]
    assert checks[0].accuracy == pytest.approx(1 / 3)  # cheap right on item 0 of 0, 1, 3
    assert checks[0].best_accuracy == pytest.approx(1.0)  # big right on 0, 1, 3
    assert checks[1].accuracy == pytest.approx(2 / 3)  # big on 2, 4, 5
    assert checks[1].best_accuracy == pytest.approx(2 / 3)


def test_a_stage_that_answers_nothing_has_no_accuracy():
    cheap = outcomes("cheap", [1, 0], [0.5, 0.5])
    big = outcomes("big", [1, 1], [None, None])
    checks = stage_checks(Chain((0, 1), (StopRule(min_agreement=1.0),)), [cheap, big], best_index=1)
    assert (checks[0].share, checks[0].accuracy, checks[0].best_accuracy) == (0.0, None, None)
    assert (checks[1].share, checks[1].accuracy) == (1.0, 1.0)


def test_agreement_split_is_over_items_where_agreement_was_observed():
    o = outcomes("v", [1, 1, 0, 0, 1, 0], [1.0, 1.0, 1.0, 0.5, 0.0, None])
    agree, disagree, share = _agreement_split(o)
    assert agree == pytest.approx(2 / 3)  # items 0, 1, 2 agree fully
    assert disagree == pytest.approx(1 / 2)  # items 3, 4
    assert share == pytest.approx(3 / 5)  # 3 of the 5 observed items (item 5 observed nothing)
    assert _agreement_split(outcomes("n", [1, 0], [None, None])) == (None, None, None)


def test_near_full_agreement_is_not_full_agreement():
    o = outcomes("v", [1, 0, 1], [1.0, 2 / 3, 0.75])
    agree, disagree, share = _agreement_split(o)
    assert (agree, disagree, share) == (pytest.approx(1.0), pytest.approx(0.5), pytest.approx(1 / 3))


def test_rule_grid_offers_the_strictest_positive_agreement_levels_seen():
    levels = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.0, None]
    o = outcomes("v", [1] * len(levels), levels)
    got = [r.min_agreement for r in rule_grid(o)]
    assert got[0] is None  # the rule that always stops on a parsed answer
    assert got[1:] == pytest.approx([0.3, 0.4, 0.5, 0.6, 0.7, 1.0])  # the 6 strictest; never 0 (always holds)


def test_rule_grid_offers_verifier_rules_only_where_a_verdict_was_seen():
    o = outcomes("v", [1, 0], [1.0, 0.5])
    assert not any(r.require_verified for r in rule_grid(o))
    o.verified = np.array([0, -1])  # a rejection is a verdict too
    assert any(r.require_verified for r in rule_grid(o))


def test_rule_grid_never_offers_agreement_zero():
    o = outcomes("v", [1, 0, 1], [0.0, 0.5, 1.0])  # a level of 0 would hold wherever agreement was observed
    assert [r.min_agreement for r in rule_grid(o)] == [None, 0.5, 1.0]
