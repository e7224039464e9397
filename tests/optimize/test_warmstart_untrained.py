"""A warm start from a run whose distribution never moved (its pilot took every iteration, or it stopped before
its first feedback step) does not adopt it: nothing was learnt, and adopting it made Agent-REINFORCE skip its
pilot while the one line said 'and the distribution' was carried."""
from __future__ import annotations

from rolegraph.optimize.warmstart import WARM_AGENT

from .helpers import run, tiny_config


def _warm_line(result):
    return next(f for f in result.trace.feedback if f.agent == WARM_AGENT)


def test_a_run_that_only_piloted_leaves_no_distribution_and_the_new_search_pilots(pool, small_task, tmp_path):
    home = tmp_path / "home"
    first = run(pool, home, small_task, "agent-reinforce", out=tmp_path / "a", config=tiny_config(iterations=1))
    assert not any(f.agent == "statistical" for f in first.trace.feedback)  # the pilot took its one iteration
    again = run(pool, home, small_task, "agent-reinforce", out=tmp_path / "b", init_from=tmp_path / "a")
    line = _warm_line(again)
    assert "the distribution" not in line.summary
    assert any("never moved from its start" in h and "with its pilot" in h for h in line.hurt)
    def first_iteration(result) -> list[str]:
        return [r.graph_name for r in result.trace.records if r.phase in ("pilot", "search") and r.iteration == 1]

    assert first_iteration(again) == first_iteration(first) != []  # the pilot's graphs (vote3-...), again
    assert any(r.phase == "prior" for r in again.trace.records)  # its evidence still carried


def test_the_never_moved_note_is_true_for_a_run_stopped_at_its_first_checkpoint(pool, small_task, tmp_path):
    """It said 'no feedback step ran in its 0 iterations' for a run stopped at its first checkpoint (and 'its 1
    iterations' after one): the note says what happened without a count that reads wrong."""
    from dataclasses import replace

    from rolegraph.optimize.space import SearchSpace
    from rolegraph.optimize.warmstart import WarmStart, distribution_for

    run(pool, tmp_path / "home", small_task, "agent-reinforce", out=tmp_path / "a", config=tiny_config(iterations=1))
    loaded = WarmStart.load(tmp_path / "a")
    space = SearchSpace.from_dict(loaded.config["space"], pool)
    for stopped_at in (0, 1):
        warm = replace(loaded, iteration=stopped_at, notes=[])
        assert distribution_for(warm, space, pool) is None
        (note,) = warm.notes
        assert "it stopped before any feedback step ran" in note and "iterations" not in note


def test_a_run_that_learnt_still_hands_on_its_distribution(pool, small_task, tmp_path):
    home = tmp_path / "home"
    first = run(pool, home, small_task, "reinforce", out=tmp_path / "a", config=tiny_config(iterations=2))
    assert first.trace.records
    again = run(pool, home, small_task, "reinforce", out=tmp_path / "b", init_from=tmp_path / "a")
    line = _warm_line(again)
    assert "the distribution" in line.summary and not any("never moved" in h for h in line.hurt)
