"""`points()` draws each graph at its batch-difficulty-adjusted training accuracy (the front's axis), keeping the raw
one apart. Checked on records whose adjustment is known by hand: two graphs scored on the same two batches of unequal
difficulty, and a third scored on the easy batch alone. The data fit "accuracy = graph effect + batch offset" exactly,
so (trace.py: an exact fit keeps the offsets unshrunk) each graph's adjusted accuracy is its effect, and effects differ
by what the graphs scored on a batch they share, whatever the offsets' zero point."""
from __future__ import annotations

import pytest

from rolegraph.optimize.pareto import points
from rolegraph.optimize.trace import EvalRecord

EASY = [f"e{i}" for i in range(4)]
HARD = [f"h{i}" for i in range(4)]


def rec(seq: int, graph: str, items: list[str], accuracy: float) -> EvalRecord:
    return EvalRecord(seq=seq, iteration=seq, phase="search", source="sampled", graph_hash=graph, objective=accuracy,
                      accuracy=accuracy, latency_s=1.0, dollars=0.001, n=len(items), items=items)


RECORDS = [
    rec(0, "a", EASY, 0.75),
    rec(1, "b", EASY, 1.0),
    rec(2, "a", HARD, 0.25),
    rec(3, "b", HARD, 0.5),
    rec(4, "c", EASY, 0.5),  # seen on the easy batch only: its raw 0.5 flatters it next to a's raw 0.5
]


def test_points_use_the_batch_adjusted_accuracy_not_the_raw_one():
    pts = {p.graph_hash: p for p in points(RECORDS)}
    # raw: item-weighted means of each graph's own records
    assert pts["a"].raw_accuracy == pytest.approx(0.5)
    assert pts["b"].raw_accuracy == pytest.approx(0.75)
    assert pts["c"].raw_accuracy == pytest.approx(0.5)
    # adjusted: c scored 0.25 below a on the easy batch both saw, b 0.25 above a on both batches
    assert pts["c"].accuracy - pts["a"].accuracy == pytest.approx(-0.25)
    assert pts["b"].accuracy - pts["a"].accuracy == pytest.approx(0.25)
    assert pts["c"].accuracy < pts["c"].raw_accuracy  # only the easy batch: adjusted down


def test_a_graph_seen_only_on_an_easy_batch_is_dominated_on_the_front():
    from rolegraph.optimize.pareto import front

    kept = [p.graph_hash for p in front(points(RECORDS))]
    assert kept == ["b"]  # same latency and dollars for all three: the front is the most accurate alone
