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
