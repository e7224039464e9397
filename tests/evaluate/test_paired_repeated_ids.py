"""An item id repeated in a result pairs its k-th run with the other result's k-th: comparing a result with the same
scores listed in another order must show no difference (it showed +0.333 and one discordant pair)."""
from __future__ import annotations

from rolegraph.evaluate.paired_stats import compare, paired_scores
from rolegraph.evaluate.result import EvalResult, ItemScore


def _result(name: str, scores: list[tuple[str, float]]) -> EvalResult:
    return EvalResult(task="t", graph_name=name, items=[ItemScore(item_id=i, score=s) for i, s in scores])


def test_the_same_scores_in_another_order_pair_to_no_difference():
    a = _result("A", [("x", 1.0), ("x", 0.0), ("y", 1.0)])
    reordered = _result("A reordered", [("y", 1.0), ("x", 1.0), ("x", 0.0)])
    left, right = paired_scores(a, reordered)
    assert left == right == [1.0, 0.0, 1.0]  # x's first run with x's first, its second with its second, then y
    c = compare(a, reordered, n_boot=200)
    assert c.n == 3 and c.mean_diff == 0.0 and c.b01 == c.b10 == 0


def test_a_repeat_the_other_result_lacks_is_left_unpaired():
    a = _result("A", [("x", 1.0), ("x", 0.0), ("y", 1.0)])
    b = _result("B", [("y", 0.0), ("x", 1.0)])
    assert paired_scores(a, b) == ([1.0, 1.0], [1.0, 0.0])  # x once (its first run), then y
