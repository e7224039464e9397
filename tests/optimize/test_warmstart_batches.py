"""A warm start's training batches follow the earlier run's: the evidence it imports is never scored again on
the same items (with the same seed, the cached outcomes came back and were counted twice: n doubled, the
interval narrowed on no new information)."""
from __future__ import annotations

from .helpers import run, tiny_config


def _scored(result, phases: set[str]) -> set[tuple[str, frozenset[str]]]:
    """(graph, its batch) of each training evaluation: batches of other keys may share an item by chance,
    never a whole batch."""
    return {(r.graph_hash, frozenset(r.items)) for r in result.trace.records if r.phase in phases}


def test_a_warm_start_scores_no_imported_graph_again_on_the_items_of_its_evidence(pool, small_task, tmp_path):
    home = tmp_path / "home"
    run(pool, home, small_task, "random", out=tmp_path / "a")
    again = run(pool, home, small_task, "random", out=tmp_path / "b", init_from=tmp_path / "a")
    prior, new = _scored(again, {"prior"}), _scored(again, {"pilot", "search"})
    assert prior and new and not prior & new


def test_a_chain_of_warm_starts_draws_past_every_earlier_batch(pool, small_task, tmp_path):
    home = tmp_path / "home"
    run(pool, home, small_task, "agent-reinforce", out=tmp_path / "a")
    run(pool, home, small_task, "agent-reinforce", out=tmp_path / "b", init_from=tmp_path / "a")
    third = run(pool, home, small_task, "agent-reinforce", out=tmp_path / "c", init_from=tmp_path / "b",
                config=tiny_config(iterations=3))
    prior, new = _scored(third, {"prior"}), _scored(third, {"pilot", "search"})
    assert len({items for _, items in prior}) > 2 and new and not prior & new  # a's batches and b's came in
