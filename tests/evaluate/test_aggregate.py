"""Per-item scores to an EvalResult: failures apart from wrong answers, node credit by hand."""
from __future__ import annotations

import pytest

from rolegraph.evaluate.aggregate import node_stats, normalise_answer, summarize
from rolegraph.evaluate.result import ItemScore
from rolegraph.evaluate.stats import wilson_interval
from rolegraph.graphs.spec import GraphSpec

SPEC = GraphSpec.model_validate({
    "name": "chain",
    "nodes": [{"id": "p", "role": "planner", "model": "sim/llama-3.2-1b"},
              {"id": "s", "role": "solver", "model": "sim/llama-3.2-3b"},
              {"id": "v", "role": "verifier", "model": "sim/llama-3.1-8b"},
              {"id": "idle", "role": "solver", "model": "sim/llama-3.2-1b"}],
    "edges": [["p", "s"], ["s", "v"], ["idle", "v"]],
})


def item(i, score, answer, nodes, *, error=None, latency=1.0, tokens=100, cost=0.01):
    return ItemScore(item_id=f"q{i}", score=score, answer=answer, gold="7", latency_s=latency,
                     critical_path_s=latency / 2, tokens=tokens, cost_usd=cost, flops_units=2.0, error=error,
                     node_answers={k: a for k, (a, _) in nodes.items()},
                     node_scores={k: s for k, (a, s) in nodes.items() if a is not None})


ITEMS = [
    item(0, 1.0, "7", {"p": (None, 0), "s": ("7", 1.0), "v": ("7", 1.0)}, latency=1.0),
    item(1, 0.0, "8", {"p": (None, 0), "s": ("7", 1.0), "v": ("8", 0.0)}, latency=2.0),
    item(2, 1.0, " 7", {"p": (None, 0), "s": (None, 0), "v": (" 7", 1.0)}, latency=3.0),
    item(3, 0.0, None, {}, error="node 's' failed", latency=0.0, tokens=40, cost=0.004),
]


def test_failures_count_as_zero_but_apart():
    r = summarize(ITEMS, SPEC, task="gsm", graph_hash="h", skipped=5, simulation="simulated")
    assert r.n == 4 and r.failures == 1 and r.skipped == 5
    assert r.accuracy == pytest.approx(2 / 4)
    assert r.ci95 == pytest.approx(wilson_interval(2, 4))
    assert r.mean_latency_s == pytest.approx(2.0)  # the failed run's latency is not a latency
    assert r.mean_critical_path_s == pytest.approx(1.0)
    assert r.tokens == 340 and r.cost_usd == pytest.approx(0.034)  # what the failure spent still counts
    assert r.flops_units == pytest.approx(2.0)
    assert r.simulated and not r.partial


def test_node_credit_by_hand():
    stats = node_stats(SPEC, ITEMS)
    assert stats["p"].n == 3 and stats["p"].correct_rate is None and stats["p"].agree_rate is None
    # solver: right on 0 and 1, no answer on 2 (counts wrong); output agreed on item 0 only
    assert stats["s"].n == 3
    assert stats["s"].correct_rate == pytest.approx(2 / 3)
    assert stats["s"].agree_rate == pytest.approx(1 / 3)
    # verifier is the output: always agrees (whitespace aside), right on 0 and 2
    assert stats["v"].correct_rate == pytest.approx(2 / 3)
    assert stats["v"].agree_rate == pytest.approx(1.0)
    # a node that never ran
    assert stats["idle"].n == 0 and stats["idle"].correct_rate is None
    assert (stats["s"].role, stats["s"].model) == ("solver", "sim/llama-3.2-3b")


def test_empty_evaluation_reports_zeros():
    r = summarize([], SPEC, task="gsm", graph_hash="h", skipped=0, simulation="real")
    assert (r.n, r.accuracy, r.mean_latency_s, r.p95_latency_s, r.failures) == (0, 0.0, 0.0, 0.0, 0)
    assert r.ci95 == (0.0, 1.0)


def test_normalise_answer():
    assert normalise_answer("  Paris  France ") == normalise_answer("paris france")
    assert normalise_answer(None) is None


def test_truncated_counts_items_with_a_cut_reply_and_stays_unknown_when_unrecorded():
    from rolegraph.evaluate.result import NodeUsage

    def with_usage(it, **cut):
        return it.model_copy(update={"node_usage": {k: NodeUsage(truncated_calls=c) for k, c in cut.items()}})

    recorded = [with_usage(ITEMS[0], p=0, s=2, v=0), with_usage(ITEMS[1], p=0, s=0, v=1),
                with_usage(ITEMS[2], p=0, s=1, v=0), ITEMS[3]]
    stats = node_stats(SPEC, recorded)
    assert (stats["p"].truncated, stats["s"].truncated, stats["v"].truncated) == (0, 2, 1)  # items, not calls
    assert stats["idle"].truncated is None  # never ran
    # stored before the count existed (or one item without it): unknown, never "none cut"
    assert all(s.truncated is None for s in node_stats(SPEC, ITEMS).values())
    mixed = node_stats(SPEC, [recorded[0], ITEMS[1], recorded[2]])
    assert mixed["s"].truncated is None
    assert summarize(recorded, SPEC, task="gsm", graph_hash="h", skipped=0,
                     simulation="simulated").per_node["s"].truncated == 2


def test_a_failed_item_gives_no_node_credit_even_with_answers_recorded():
    """node_stats: "Failed items are left out (a failure says nothing about who was right)"."""
    failed = item(4, 0.0, None, {"s": ("8", 0.0), "v": ("8", 0.0)}, error="node 'v' timed out")
    stats = node_stats(SPEC, [*ITEMS, failed])
    assert stats["s"].n == 3 and stats["s"].correct_rate == pytest.approx(2 / 3)
