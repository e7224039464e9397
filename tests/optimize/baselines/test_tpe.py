"""TPE is told the score of every graph it asked for, also when the loop scored an isomorphic copy once."""
from __future__ import annotations

import asyncio

import numpy as np

from rolegraph.models.hub import ModelHub
from rolegraph.optimize.baselines.tpe import TPESearch
from rolegraph.optimize.context import SearchConfig, SearchContext
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings

ASKED = 8
ITEMS = 2


def test_every_asked_graph_is_told_its_structures_score(pool, small_task, tmp_path):
    # one model, one worker role, two worker slots: most draws are copies of a few structures
    space = SearchSpace(pool=pool, models=("sim/llama-3.2-1b",), roles=("solver", "fuser"), max_nodes=3,
                        worker_edges=False, budget=None)
    tpe = TPESearch(startup_trials=100)
    tpe.bind(space, seed=0)

    async def one_iteration():
        hub = ModelHub(pool, Settings(home=tmp_path / "home"))
        try:
            ctx = SearchContext(task=small_task, space=space, hub=hub, config=SearchConfig(batch=ITEMS))
            proposals = tpe.propose(1, ASKED, np.random.default_rng(0))
            evals = await ctx.evaluate(proposals, ctx.batch(1), 1, "search")
            await tpe.observe(1, evals, ctx)
            return ctx, evals
        finally:
            await hub.aclose()

    ctx, evals = asyncio.run(one_iteration())
    assert len(evals) < ASKED  # isomorphic proposals were scored once
    assert len(tpe.trials) == ASKED
    by_structure = {e.record.graph_hash: e.objective for e in evals}
    values = sorted(t["value"] for t in tpe.trials)
    assert set(values) <= set(by_structure.values())


def test_a_reused_tpe_object_starts_each_search_clean(pool, small_task, tmp_path):
    """Reusing one TPESearch must not carry the first search's trials into the next: the same seed then
    gives the same trials as a fresh object, and a search over another space does not trip optuna."""
    from tests.optimize.helpers import run, tiny_config, tiny_space

    config = tiny_config(iterations=3)
    fresh = TPESearch(startup_trials=2)
    fresh_result = run(pool, tmp_path / "a", small_task, fresh, config=config)

    reused = TPESearch(startup_trials=2)
    other_space = tiny_space(pool, models=("sim/llama-3.2-1b", "sim/llama-3.1-8b"), max_nodes=3, budget=30.0)
    run(pool, tmp_path / "b", small_task, reused, space=other_space, config=config)
    run(pool, tmp_path / "b", small_task, reused, config=config)  # back on the first space: no optuna error
    reused_result = run(pool, tmp_path / "b", small_task, reused, config=config)

    assert reused.trials == fresh.trials
    assert reused_result.best_hash == fresh_result.best_hash
