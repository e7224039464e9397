"""The estimate of a search given an evaluation budget and no iteration count (`--max-evaluations` alone).

It took the missing count as zero iterations and planned no search runs at all, so the estimate before a
budget-only search on real endpoints left out nearly everything the search would spend."""
from __future__ import annotations

from rolegraph.optimize.estimate import estimate_search

from .helpers import run, tiny_config, tiny_space

SPLITS = ("train", "validation", "test")


def test_a_budget_only_search_plans_the_runs_its_budget_allows(pool, small_task, tmp_path):
    space, config = tiny_space(pool), tiny_config(iterations=None, max_evaluations=40)
    sizes = {s: len(small_task.items(s)) for s in SPLITS}
    estimate = estimate_search(space, config, sizes)
    result = run(pool, tmp_path / "home", small_task, "random", space=space, config=config)
    searched = sum(r.n for r in result.trace.records if r.phase == "search")
    assert 0 < searched <= estimate.runs["search"] <= 40
    assert estimate.runs["search"] + estimate.runs["re-check"] <= 40
