"""P(best) at the edges: candidates that all got every item wrong (or all right) carry identical evidence, so
each is about as likely as the others to be the best, and the choice is worded as a near-tie, not "a clear
choice" (the binomial standard error is 0 there, and every draw used to go to the first candidate). A clear
winner stays clear, and means away from the edges keep their standard error exactly."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rolegraph.optimize.confidence import p_best, posterior, top_shares
from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.trace import GraphStats
from rolegraph.reports.selection import confidence_text

ACCURACY = Objective()
ITEMS = 6
NAMES = ("a", "b", "c")


def stats_of(h: str, correct: float, n: int) -> GraphStats:
    return GraphStats(graph_hash=h, n=n, correct=correct, raw_correct=correct, latency_sum=1.0 * n)


@pytest.mark.parametrize("correct", [0, ITEMS])
def test_three_candidates_with_identical_edge_scores_share_the_chance(correct):
    stats = {h: stats_of(h, correct, ITEMS) for h in NAMES}
    p = p_best(stats, correct / ITEMS, ACCURACY, seed=0)
    assert sum(p.values()) == pytest.approx(1.0)
    for h in NAMES:
        assert p[h] == pytest.approx(1 / 3, abs=0.04), p
    line = confidence_text({"p_best": p["a"], "p_best_of": len(p)})
    assert "near-tie" in line and "clear choice" not in line


def test_two_edge_candidates_on_equal_items_split_evenly():
    stats = {"a": stats_of("a", 0, 4), "b": stats_of("b", 0, 4)}
    p = p_best(stats, 0.0, ACCURACY, seed=5)
    assert p["a"] == pytest.approx(0.5, abs=0.03) and p["b"] == pytest.approx(0.5, abs=0.03)


def test_a_clear_winner_over_edge_scores_is_still_clear():
    stats = {"a": stats_of("a", 30, 30), "b": stats_of("b", 0, 30), "c": stats_of("c", 0, 30)}
    p = p_best(stats, 1 / 3, ACCURACY, seed=1)
    assert p["a"] > 0.99
    assert p["b"] == pytest.approx(p["c"], abs=0.01)


def test_edge_means_get_a_spread_and_inner_means_keep_the_binomial_one():
    stats = {"zero": stats_of("zero", 0, ITEMS), "inner": stats_of("inner", 3, ITEMS)}
    post = posterior(stats, 0.0)
    assert post.se[0] > 0  # 0 of 6 with a prior of 0: mean 0, but not known to be exactly 0
    inner_mean = 3 / (ITEMS + 24)  # the prior's 24 pseudo-items at accuracy 0
    assert post.mean[1] == pytest.approx(inner_mean)
    assert post.se[1] == pytest.approx(math.sqrt(inner_mean * (1 - inner_mean) / (ITEMS + 24)))


def test_a_tied_top_is_shared_and_a_single_top_takes_the_whole_win():
    values = np.array([[0.0, 0.0, 0.0], [0.2, 0.5, 0.5], [0.9, 0.1, 0.3]])
    assert top_shares(values).tolist() == pytest.approx([1 / 3 + 1.0, 1 / 3 + 0.5, 1 / 3 + 0.5])
