"""A router's FLOPs units count what ran: a stage stopped part way (its budget refusing a node) adds only its
nodes that made a call, not the whole stage's figure; a complete stage adds exactly `router.stage_flops` (what
`validate` and the search estimate)."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.errors import BudgetExceededError
from rolegraph.graphs.analysis import MATH_PROFILE, node_flops_units
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.router import stage_flops
from rolegraph.graphs.router_runtime import CompiledRouter, RouterRunResult
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task

from tests.graphs.test_router import plurality_cascade
from tests.graphs.test_router_runtime import cascade

ITEMS = 24
VOTERS_CAP = 2000  # gsm's first item: two sim 8B voters' 846 tokens + a third's worst case (1,341) is over it
ROOM = 1600  # over a stage-2 solver's worst case (its prompt + 1,024), under its fuser's after it (prompt + 768)


@pytest.fixture
def hub(tmp_path):
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path / "h", cache=False))


def test_a_stage_refused_part_way_counts_only_its_nodes_that_ran(hub):
    router = cascade(min_agreement=1.0)  # stage 2 reads n0, n1 from stage 1 and runs n2, then its fuser 'out'
    items = get_task("gsm").items("validation")[:ITEMS]

    async def go():
        compiled = CompiledRouter(router, hub)
        full = [await compiled.run(it) for it in items]
        item, done = next((it, r) for it, r in zip(items, full) if r.stage == 2)
        # room for stage 1 and stage 2's new solver, not for stage 2's fuser's worst case after it
        cap = Budget(max_tokens=done.stages[0].tokens + ROOM)
        with pytest.raises(BudgetExceededError, match="before node 'out'") as info:
            await compiled.run(item, budget=cap)
        return info.value.partial

    partial = asyncio.run(go())
    assert isinstance(partial, RouterRunResult) and [s.stage for s in partial.stages] == [1, 2]
    assert [n.id for n in partial.nodes if n.calls] == ["s1.n0", "s1.n1", "s1.out", "s2.n2"]
    assert partial.node("s2.out").calls == 0
    pool = ModelPool.builtin()
    two = node_flops_units(router.stages[1].graph, pool, MATH_PROFILE)
    assert partial.stages[1].flops_units == pytest.approx(two["n2"])  # not n2 + out, the whole stage (was)
    whole = stage_flops(router, pool, MATH_PROFILE)
    assert partial.stages[1].flops_units < whole[1] - two["out"] / 2
    assert partial.stages[0].flops_units == whole[0]  # stage 1 finished: its full figure
    assert partial.flops_units == pytest.approx(whole[0] + two["n2"])


def test_a_plurality_stage_refused_at_a_voter_counts_the_voters_that_ran(hub):
    router = plurality_cascade()  # stage 1: three 8B solvers vote side by side (sim: one after another)
    item = get_task("gsm").items("validation")[0]
    with pytest.raises(BudgetExceededError, match="before node 'n2'") as info:
        asyncio.run(CompiledRouter(router, hub).run(item, budget=Budget(max_tokens=VOTERS_CAP)))
    partial = info.value.partial
    assert [(n.id, n.calls) for n in partial.nodes] == [("s1.n0", 1), ("s1.n1", 1), ("s1.n2", 0)]
    one = node_flops_units(router.stages[0].graph, ModelPool.builtin(), MATH_PROFILE)
    stage = partial.stages[0]
    assert stage.flops_units == pytest.approx(one["n0"] + one["n1"])  # not the refused voter's 0, nor all three
    assert stage.tokens == partial.tokens == sum(n.tokens_in + n.tokens_out for n in partial.nodes) > 0


def test_complete_stages_report_the_estimated_figure_bit_for_bit(hub):
    router = cascade(min_agreement=1.0)
    items = get_task("gsm").items("validation")[:ITEMS]

    async def go():
        compiled = CompiledRouter(router, hub)
        return [await compiled.run(it) for it in items]

    results = asyncio.run(go())
    whole = stage_flops(router, ModelPool.builtin(), MATH_PROFILE)
    assert {r.stage for r in results} == {1, 2}
    for r in results:
        assert [s.flops_units for s in r.stages] == whole[: r.stage]  # equal, not approximately
