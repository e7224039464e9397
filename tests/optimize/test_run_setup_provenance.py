"""A search's provenance records the chosen graph's sampling, node by node, as `eval` and `run` do: the README
and docs/tutorials/real-endpoints.md promise it in `optimize --json`, which used to say `sampling: {}`."""
from __future__ import annotations

import asyncio

from rolegraph.agents.registry import RoleRegistry
from rolegraph.graphs.builder import Graph
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.run_setup import search_provenance
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings

ONE_B, EIGHT_B = "sim/llama-3.2-1b", "sim/llama-3.1-8b"


def test_the_chosen_graphs_nodes_sampling_is_recorded(tmp_path):
    pool = ModelPool.builtin()
    space = SearchSpace(pool=pool, models=(ONE_B, EIGHT_B), roles=("solver", "fuser"), max_nodes=4)
    best = (Graph("best").node("a", "solver", ONE_B, temperature=0.7, max_tokens=321)
            .node("out", "fuser", EIGHT_B).edge("a", "out").build())
    hub = ModelHub(pool, Settings(home=tmp_path / "h", cache=False))
    try:
        chosen = search_provenance(space, 3, None, best=best, hub=hub)
        before = search_provenance(space, 3, None)  # the stored config, before any graph is chosen
    finally:
        asyncio.run(hub.aclose())
    fuser = RoleRegistry.default().get("fuser")  # a node without params samples at its role's defaults
    assert {n: s.model_dump() for n, s in chosen.sampling.items()} == {
        "a": {"model": ONE_B, "temperature": 0.7, "max_tokens": 321},
        "out": {"model": EIGHT_B, "temperature": fuser.temperature, "max_tokens": fuser.max_tokens},
    }
    assert set(chosen.models) == {ONE_B, EIGHT_B} and chosen.seed == 3
    assert before.sampling == {}
