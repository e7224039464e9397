"""The posterior behind P(best), against formulas worked by hand: the standard error of a shrunk mean counts
training and validation items (and the prior's pseudo-items), the least spread at an edge is that of a mean half
an item from it, and draws are clipped to [0, 1], so two perfect candidates tie at 1 rather than one of them
being "better than perfect"."""
from __future__ import annotations

import math

import pytest

from rolegraph.optimize.confidence import edge_se, p_best, posterior
from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.trace import GraphStats

PRIOR_ITEMS = 24  # the shrinkage prior's pseudo-items (trace.PRIOR_ITEMS), written out to keep the formulas independent


def test_the_standard_error_counts_validation_items_with_training_items():
    # 5/10 training and 15/30 validation items right, prior 0.5: mean (5 + 15 + 24 * 0.5) / (40 + 24) = 0.5,
    # standard error sqrt(0.5 * 0.5 / (40 + 24)) = 1/16
    st = GraphStats(graph_hash="g", n=10, correct=5.0, validation_n=30, validation_correct=15.0)
    post = posterior({"g": st}, 0.5)
    assert post.mean[0] == pytest.approx(0.5)
    assert post.se[0] == pytest.approx(1 / 16)


def test_a_graph_seen_only_on_validation_items_still_has_their_spread():
    st = GraphStats(graph_hash="v", validation_n=40, validation_correct=30.0)
    mean = (30 + 24 * 0.25) / (40 + 24)
    post = posterior({"v": st}, 0.25)
    assert post.hashes == ["v"]
    assert post.mean[0] == pytest.approx(mean)
    assert post.se[0] == pytest.approx(math.sqrt(mean * (1 - mean) / (40 + 24)))


@pytest.mark.parametrize("n", [0, 1, 6, 30, 300])
def test_edge_spread_is_that_of_a_mean_half_an_item_from_zero(n):
    mean = 0.5 / (n + PRIOR_ITEMS)
    assert edge_se(n) == pytest.approx(math.sqrt(mean * (1 - mean) / (n + PRIOR_ITEMS)), rel=1e-12)


def test_two_perfect_candidates_tie_at_one_and_the_surer_one_wins_the_rest():
    """Both got every item right (prior 1.0, means exactly 1.0), one on 300 items and one on 3. Each draw is
    1 + an error, clipped at 1. With errors eA (spread sA) and eB (sB > sA): both >= 0 (1/4 of draws) is a tie
    shared half each; exactly one < 0 (1/2) goes to the other, 1/4 each; both < 0 (1/4) goes to the smaller
    |error|, which is A's with chance (2/pi) atan(sB/sA). So P(A best) = 1/8 + 1/4 + (1/4)(2/pi) atan(sB/sA),
    well above the 1/2 that unclipped draws would give."""
    stats = {
        "many": GraphStats(graph_hash="many", n=300, correct=300.0),
        "few": GraphStats(graph_hash="few", n=3, correct=3.0),
    }
    s_many, s_few = edge_se(300), edge_se(3)
    expected = 1 / 8 + 1 / 4 + (1 / 4) * (2 / math.pi) * math.atan(s_few / s_many)
    p = p_best(stats, 1.0, Objective(), seed=0, draws=20000)
    assert p["many"] + p["few"] == pytest.approx(1.0)
    assert p["many"] == pytest.approx(expected, abs=0.02)
    assert p["many"] > 0.55
