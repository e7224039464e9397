"""One optimizer object reused for several searches: each search starts clean, so the same seed gives the
same search as a fresh object (an earlier search's pilot rows and scored graphs must not steer the next)."""
from __future__ import annotations

from rolegraph.optimize.agent_reinforce_race import AgentReinforce

from .helpers import run, tiny_config, tiny_space


def test_a_reused_agent_reinforce_searches_like_a_fresh_one(pool, small_task, tmp_path):
    config = tiny_config(iterations=5)
    fresh = AgentReinforce()
    expected = run(pool, tmp_path / "a", small_task, fresh, config=config)

    reused = AgentReinforce()
    run(pool, tmp_path / "b", small_task, reused, space=tiny_space(pool, budget=30.0, max_nodes=3), config=config)
    got = run(pool, tmp_path / "b", small_task, reused, config=config)

    assert [e.graph_hash for e in got.trace.records] == [e.graph_hash for e in expected.trace.records]
    assert got.best_hash == expected.best_hash
    assert reused.rows == fresh.rows and reused.scored == fresh.scored
    assert len(reused.history) == len(fresh.history) > 0
