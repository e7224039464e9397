"""EvalResult's derived verdicts: 'every item failed' needs items, the failure line names the first failure, and the
trimmed count counts items, not nodes."""
from __future__ import annotations

from rolegraph.evaluate.result import EvalResult, ItemScore, NodeUsage, trimmed_item_count


def test_no_items_is_not_every_item_failed():
    assert not EvalResult(task="t", n=0, failures=0).every_failed
    assert EvalResult(task="t", n=2, failures=2).every_failed


def test_the_failure_line_names_the_first_failure_in_item_order():
    items = [ItemScore(item_id="a"), ItemScore(item_id="b", error="model m: connection refused"),
             ItemScore(item_id="c", error="model m: timed out")]
    result = EvalResult(task="t", graph_name="g", n=3, failures=2, items=items)
    assert result.failure_line() == "graph 'g': 2 of 3 items failed; first failure: model m: connection refused"


def test_trimmed_items_counts_items_once_however_many_nodes_were_trimmed():
    trimmed = NodeUsage(trimmed_evidence_tokens=120)
    items = [ItemScore(item_id="a", node_usage={"r1": trimmed, "r2": trimmed}),
             ItemScore(item_id="b", node_usage={"r1": NodeUsage()}),
             ItemScore(item_id="c", node_usage={"r1": trimmed})]
    assert trimmed_item_count(items) == 2
