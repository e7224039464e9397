"""P(best): each graph's chance of being the best one a search scored, from posterior draws.

Checked against cases whose answer is known without the code: equal evidence splits evenly, a graph
far ahead on many items is certain, a capped objective rules out the graph that misses its cap, and
over simulated searches of two graphs whose true accuracies are known, the chance the module gives the
graph that looks better is not more than how often it truly is (the figure leans toward doubt)."""
from __future__ import annotations

import numpy as np
import pytest

from rolegraph.optimize.confidence import p_best, posterior
from rolegraph.optimize.objectives import Objective
from rolegraph.optimize.trace import GraphStats

ACCURACY = Objective()


def stats_of(h: str, correct: float, n: int, latency: float = 1.0, dollars: float = 0.0) -> GraphStats:
    return GraphStats(graph_hash=h, n=n, correct=correct, raw_correct=correct, latency_sum=latency * n,
                      dollars_sum=dollars * n)


def test_equal_evidence_splits_evenly_and_shares_sum_to_one():
    stats = {"a": stats_of("a", 60, 100), "b": stats_of("b", 60, 100)}
    p = p_best(stats, 0.6, ACCURACY, seed=0)
    assert sum(p.values()) == pytest.approx(1.0)
    assert p["a"] == pytest.approx(0.5, abs=0.03) and p["b"] == pytest.approx(0.5, abs=0.03)


def test_a_graph_far_ahead_on_many_items_is_certain_and_one_on_few_items_is_not():
    far = {"a": stats_of("a", 1600, 2000), "b": stats_of("b", 1000, 2000)}
    assert p_best(far, 0.65, ACCURACY, seed=1)["a"] > 0.999
    few = {"a": stats_of("a", 11, 16), "b": stats_of("b", 9, 16)}  # 69% against 56% on 16 items each
    assert 0.5 < p_best(few, 0.6, ACCURACY, seed=1)["a"] < 0.8


def test_a_capped_objective_rules_out_the_graph_over_its_cap():
    stats = {"fast": stats_of("fast", 55, 100, latency=1.0), "slow": stats_of("slow", 90, 100, latency=9.0)}
    capped = Objective(kind="latency_cap", latency_cap=2.0)
    assert p_best(stats, 0.7, ACCURACY, seed=2)["slow"] > 0.99
    assert p_best(stats, 0.7, capped, seed=2)["fast"] > 0.99


def test_graphs_without_items_are_left_out_and_the_draws_are_seeded():
    stats = {"a": stats_of("a", 30, 50), "none": GraphStats(graph_hash="none")}
    assert posterior(stats, 0.5).hashes == ["a"]
    assert p_best(stats, 0.5, ACCURACY, seed=3) == {"a": 1.0}
    two = {"a": stats_of("a", 30, 50), "b": stats_of("b", 28, 50)}
    assert p_best(two, 0.58, ACCURACY, seed=4) == p_best(two, 0.58, ACCURACY, seed=4)


def test_the_chance_it_gives_the_leader_is_not_above_how_often_the_leader_is_truly_better():
    """Two graphs at 60% and 57%, 300 items each, 400 simulated searches: group the searches by the
    chance given to whichever graph looks better, and compare with how often that graph is the 60% one."""
    rng = np.random.default_rng(7)
    truth = {"a": 0.60, "b": 0.57}
    given, right = [], []
    for i in range(400):
        hits = {h: float(rng.binomial(300, p)) for h, p in truth.items()}
        stats = {h: stats_of(h, k, 300) for h, k in hits.items()}
        prior = sum(hits.values()) / 600
        lead = max(hits, key=lambda h: (hits[h], h == "b"))
        given.append(p_best(stats, prior, ACCURACY, seed=i, draws=2000)[lead])
        right.append(lead == "a")
    given_arr, right_arr = np.array(given), np.array(right)
    for lo, hi in ((0.5, 0.7), (0.7, 0.9), (0.9, 1.01)):
        sel = (given_arr >= lo) & (given_arr < hi)
        assert sel.sum() >= 30, (lo, hi, sel.sum())
        assert given_arr[sel].mean() <= right_arr[sel].mean() + 0.06, (lo, hi)
