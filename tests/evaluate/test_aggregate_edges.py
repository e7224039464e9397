"""Node credit where a node ran on only some items (a router's later stage, a branch): its rates are over the items
it ran on, not over every item; and a trace id is read back to the longest node id its suffix fits."""
from __future__ import annotations

import pytest

from rolegraph.evaluate.aggregate import node_stats, spec_node_of
from rolegraph.evaluate.result import ItemScore
from rolegraph.graphs.spec import GraphSpec

SPEC = GraphSpec.model_validate({
    "name": "two",
    "nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-1b"},
              {"id": "b", "role": "fuser", "model": "sim/llama-3.1-8b"}],
    "edges": [["a", "b"]],
})


def item(i, answer, nodes):
    return ItemScore(item_id=f"q{i}", score=1.0 if answer == "7" else 0.0, answer=answer, gold="7",
                     node_answers={k: a for k, (a, _) in nodes.items()},
                     node_scores={k: s for k, (_, s) in nodes.items()})


def test_a_node_that_ran_on_some_items_is_rated_on_those_items():
    items = [
        item(0, "7", {"a": ("7", 1.0)}),  # b did not run on the first two items
        item(1, "8", {"a": ("8", 0.0)}),
        item(2, "7", {"a": ("8", 0.0), "b": ("7", 1.0)}),
        item(3, "9", {"a": ("7", 1.0), "b": ("9", 0.0)}),
    ]
    stats = node_stats(SPEC, items)
    assert stats["a"].n == 4 and stats["a"].correct_rate == pytest.approx(2 / 4)
    assert stats["b"].n == 2
    assert stats["b"].correct_rate == pytest.approx(1 / 2)  # right on 1 of the 2 items it ran on, not 1 of 4
    assert stats["b"].agree_rate == pytest.approx(2 / 2)


@pytest.mark.parametrize(
    ("trace_id", "ids", "expected"),
    [
        ("a@1@2", ["a", "a@1"], "a@1"),  # both fit: the longest id wins
        ("a@1@2", ["a@1", "a"], "a@1"),
        ("s[2]", ["s", "s[2"], "s"),
        ("a@1", ["a", "a@1"], "a@1"),  # an exact id wins
        ("b@3", ["a", "a@1"], None),
    ],
)
def test_a_trace_id_is_read_back_to_the_longest_node_id_it_fits(trace_id, ids, expected):
    assert spec_node_of(trace_id, ids) == expected


def test_mean_flops_is_over_every_item_failures_included():
    from rolegraph.evaluate.aggregate import summarize

    items = [
        ItemScore(item_id="q0", score=1.0, answer="7", flops_units=2.0),
        ItemScore(item_id="q1", score=0.0, answer="8", flops_units=4.0),
        ItemScore(item_id="q2", score=0.0, error="node 'a' failed", flops_units=0.5),  # what the failure spent
    ]
    r = summarize(items, SPEC, task="gsm", graph_hash="h", skipped=0, simulation="simulated")
    assert r.flops_units == pytest.approx((2.0 + 4.0 + 0.5) / 3)
    assert r.failures == 1 and r.accuracy == pytest.approx(1 / 3)
