"""Every optimizer reused for a second search starts it clean: the same seed gives the same search as a fresh
object. The first search runs on another space (fewer nodes), so any state carried over
(Adam's step count, the reward baseline, pending proposals, the feedback history, an enumeration cursor, the
feedback agent's per-space caches) would steer the second search elsewhere."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rolegraph.optimize.agent_reinforce import fan_in
from rolegraph.optimize.api import make_optimizer
from rolegraph.optimize.statistical_agent_gp import StatisticalFeedbackAgent

from .helpers import TINY_MODELS, run, tiny_config, tiny_space

NODES = (4, 3)
"""Max nodes of the searched space and of the other space searched first (its graphs fit the searched one:
carried proposals would be used)."""
EXHAUSTIVE_NODES = (3, 2)
"""Exhaustive enumerates its whole space at every bind: 2,670 graphs at 4 nodes took ~17 s each (two of the three
binds, ~40 s of this file's ~55 s), 264 at 3 nodes ~0.7 s. A carried cursor or list still shows: four iterations
read only the first graphs of the 264, and the other space's 30 are not the same ones."""

REUSED = [
    ("reinforce", {}, NODES),
    ("agent-reinforce:gp", {}, NODES),
    ("agent-reinforce:v1", {}, NODES),
    ("agent-reinforce:v1", {"pilot": False}, NODES),  # no pilot to overwrite the last search's proposal and history
    ("cem", {}, NODES),
    ("exhaustive", {}, EXHAUSTIVE_NODES),
    ("tpe", {}, NODES),
]


@pytest.mark.parametrize(("name", "options", "nodes"), REUSED)
def test_a_reused_optimizer_searches_like_a_fresh_one(name, options, nodes, pool, small_task, tmp_path):
    config = tiny_config(iterations=4)
    searched, other = (tiny_space(pool, max_nodes=n) for n in nodes)
    fresh = make_optimizer(name, **options)
    expected = run(pool, tmp_path / "a", small_task, fresh, space=searched, config=config)

    reused = make_optimizer(name, **options)
    run(pool, tmp_path / "b", small_task, reused, space=other, config=config)
    got = run(pool, tmp_path / "b", small_task, reused, space=searched, config=config)

    assert [e.graph_hash for e in got.trace.records] == [e.graph_hash for e in expected.trace.records]
    assert got.best_hash == expected.best_hash
    assert got.evaluations == expected.evaluations
    # what the search left behind is the fresh object's too (Adam's step count and baseline, the history, ...)
    assert json.dumps(reused.state_dict(), sort_keys=True, default=str) == json.dumps(
        fresh.state_dict(), sort_keys=True, default=str
    )


def test_the_feedback_agent_forgets_an_earlier_space(pool):
    """A graph's features depend on the space (its worker slots): an agent asked about a second space answers
    as a fresh agent would, not from what it cached for the first."""
    small, large = tiny_space(pool, max_nodes=3), tiny_space(pool, max_nodes=4)
    spec = fan_in(small, [TINY_MODELS[0]] * 2, TINY_MODELS[0], "pair")  # workers: their share depends on slots
    reused = StatisticalFeedbackAgent()
    in_small = reused._encode(small, spec)
    in_large = reused._encode(large, spec)
    fresh = StatisticalFeedbackAgent()._encode(large, spec)
    assert not np.array_equal(in_small, fresh)  # the spaces do encode the graph differently
    assert np.array_equal(in_large, fresh)
    assert [g.model_dump() for g in reused._neighbours(small, spec)] == [
        g.model_dump() for g in StatisticalFeedbackAgent()._neighbours(small, spec)
    ]
