"""The Pareto front of (accuracy up, latency down, dollars down), checked on points whose front is known by hand:
a point is dropped only when another is at least as good on all three and strictly better on one, so ties and
trade-offs stay, and the front reads best accuracy first."""
from __future__ import annotations

import pytest

from rolegraph.optimize.pareto import ParetoPoint, dominates, front


def pt(h: str, accuracy: float, latency: float, dollars: float) -> ParetoPoint:
    return ParetoPoint(graph_hash=h, accuracy=accuracy, latency_s=latency, dollars=dollars, n=16)


BASE = pt("base", 0.8, 1.0, 0.010)


@pytest.mark.parametrize(
    "better",
    [
        pt("acc", 0.9, 1.0, 0.010),  # better on accuracy alone
        pt("lat", 0.8, 0.5, 0.010),  # on latency alone
        pt("usd", 0.8, 1.0, 0.005),  # on dollars alone
        pt("all", 0.9, 0.5, 0.005),
    ],
)
def test_better_on_one_and_no_worse_on_the_others_dominates(better):
    assert dominates(better, BASE)
    assert not dominates(BASE, better)


@pytest.mark.parametrize(
    "other",
    [
        pt("same", 0.8, 1.0, 0.010),  # identical: neither dominates
        pt("acc-lat", 0.9, 1.5, 0.010),  # a trade of accuracy for latency
        pt("acc-usd", 0.9, 1.0, 0.020),  # of accuracy for dollars
        pt("lat-usd", 0.8, 0.5, 0.020),  # of latency for dollars
        pt("worse-acc", 0.7, 0.5, 0.005),  # cheaper and faster, less accurate
    ],
)
def test_ties_and_trade_offs_dominate_neither_way(other):
    assert not dominates(other, BASE)
    assert not dominates(BASE, other)


def test_front_keeps_exactly_the_non_dominated_points_best_accuracy_first():
    pts = [
        pt("a", 0.80, 1.0, 0.010),
        pt("b", 0.80, 1.0, 0.020),  # a is as good and cheaper: dropped
        pt("c", 0.70, 0.5, 0.010),  # faster than a: kept
        pt("d", 0.90, 2.0, 0.050),  # most accurate: kept
        pt("e", 0.60, 0.5, 0.010),  # c is as fast, as cheap and more accurate: dropped
        pt("f", 0.80, 0.9, 0.010),  # faster than a at the same accuracy and price: a is dropped
        pt("g", 0.70, 0.5, 0.010),  # a twin of c: neither dominates the other, both kept
        pt("h", 0.50, 0.5, 0.001),  # cheapest of all: kept
        pt("i", 0.90, 2.0, 0.040),  # cheaper than d at the same accuracy and speed: d is dropped
    ]
    assert [p.graph_hash for p in front(pts)] == ["i", "f", "c", "g", "h"]


def test_front_orders_equal_accuracy_by_latency_then_dollars():
    pts = [pt("slow", 0.8, 2.0, 0.001), pt("fast", 0.8, 1.0, 0.009), pt("mid", 0.8, 1.5, 0.002)]
    assert [p.graph_hash for p in front(pts)] == ["fast", "mid", "slow"]
    pts = [pt("x", 0.8, 1.0, 0.002), pt("y", 0.9, 1.0, 0.003), pt("z", 0.7, 0.5, 0.001)]
    assert [p.graph_hash for p in front(pts)] == ["y", "x", "z"]


def test_a_single_point_is_its_own_front():
    assert [p.graph_hash for p in front([BASE])] == ["base"]


def test_points_are_each_graphs_pooled_training_figures_and_skip_graphs_without_any():
    from rolegraph.optimize.pareto import points
    from rolegraph.optimize.trace import EvalRecord

    def rec(seq, graph, phase, accuracy, latency, dollars, n):
        return EvalRecord(seq=seq, iteration=0, phase=phase, source="sampled", graph_hash=graph, objective=accuracy,
                          accuracy=accuracy, latency_s=latency, dollars=dollars, n=n, items=[f"q{i}" for i in range(n)])

    records = [
        rec(0, "a", "search", 0.5, 2.0, 0.01, 4),
        rec(1, "a", "search", 0.5, 4.0, 0.03, 4),
        rec(2, "v", "validation", 1.0, 1.0, 0.001, 4),  # validation items only: no training figure, no point
    ]
    pts = {p.graph_hash: p for p in points(records)}
    assert set(pts) == {"a"}
    assert pts["a"].n == 8
    assert pts["a"].latency_s == pytest.approx(3.0)  # item-weighted means over its training items
    assert pts["a"].dollars == pytest.approx(0.02)
    assert pts["a"].raw_accuracy == pytest.approx(0.5)
