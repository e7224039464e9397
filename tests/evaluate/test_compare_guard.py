"""`compare` refuses what it cannot pair: results of different tasks, or with no item in common."""
from __future__ import annotations

import pytest

from rolegraph.errors import RolegraphError
from rolegraph.evaluate.paired_stats import compare
from rolegraph.evaluate.result import EvalResult, ItemScore


def result(name: str, ids: list[str], task: str = "gsm") -> EvalResult:
    items = [ItemScore(item_id=i, score=1.0) for i in ids]
    return EvalResult(task=task, graph_name=name, n=len(items), accuracy=1.0, items=items)


def test_no_item_in_common_is_an_error_not_a_tie():
    with pytest.raises(RolegraphError) as info:
        compare(result("a", ["q1", "q2"]), result("b", ["q3", "q4"]), n_boot=50)
    message = str(info.value)
    assert "no item in common" in message and "a and b" in message and "\n" not in message


def test_results_of_different_tasks_are_an_error():
    with pytest.raises(RolegraphError) as info:
        compare(result("a", ["q1"], task="gsm"), result("b", ["q1"], task="mmlu"), n_boot=50)
    message = str(info.value)
    assert "different tasks" in message and "'gsm'" in message and "'mmlu'" in message and "\n" not in message


def test_overlapping_items_still_compare():
    assert compare(result("a", ["q1", "q2"]), result("b", ["q2", "q3"]), n_boot=50).n == 1
