"""What a router's run is charged for, stage by stage: its time budget counts the stages that ran before (on the
modelled sim clock an item that escalates reaches stage 2 with stage 1's time spent, so a cap of exactly that
time refuses stage 2's first call, and a cap above the whole run lets it finish); an escalated run's critical
path and FLOPs add each stage's new nodes; a plurality stage costs what all its voters spent."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.errors import BudgetExceededError
from rolegraph.graphs.budget import Budget
from rolegraph.graphs.router_runtime import CompiledRouter, RouterRunResult
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.tasks.registry import get_task
from tests.graphs.test_router_runtime import cascade

ITEMS = 24


@pytest.fixture
def hub(tmp_path):
    return ModelHub(ModelPool.builtin(), Settings(home=tmp_path / "h", cache=False))


def test_the_time_budget_counts_the_earlier_stages_time(hub):
    router = cascade(min_agreement=1.0)
    items = get_task("gsm").items("validation")[:ITEMS]

    async def go():
        compiled = CompiledRouter(router, hub)
        full = [await compiled.run(it) for it in items]
        item, done = next((it, r) for it, r in zip(items, full) if r.stage == 2)
        first = done.stages[0].latency_s
        # stage 2's new solver alone takes less than stage 1 did, so only the carried clock can refuse it
        assert done.node("s2.n2").latency_s < first
        finished = await compiled.run(item, budget=Budget(max_seconds=done.latency_s + 1.0))
        with pytest.raises(BudgetExceededError, match="time budget exceeded") as info:
            await compiled.run(item, budget=Budget(max_seconds=first))
        return done, finished, info.value.partial

    done, finished, partial = asyncio.run(go())
    assert finished.stage == 2 and finished.answer == done.answer
    assert finished.latency_s == pytest.approx(done.stages[0].latency_s + done.stages[1].latency_s)
    assert isinstance(partial, RouterRunResult) and partial.stage == 0 and partial.answer is None
    # stage 1 finished; stage 2's first call was refused, so it made none and added no FLOPs
    assert [n.id for n in partial.nodes if n.calls] == ["s1.n0", "s1.n1", "s1.out"]
    assert partial.stages[0].flops_units == done.stages[0].flops_units
    assert partial.flops_units == pytest.approx(done.stages[0].flops_units)


def test_an_escalated_run_adds_each_stages_critical_path_and_flops(hub):
    """Stage 2 reads n0, n1 from stage 1 and runs n2 then its fuser: its critical path is theirs, after stage 1's;
    its FLOPs are those two nodes'. The most a run can spend (`flops_units`) is both stages in full."""
    from rolegraph.graphs.analysis import MATH_PROFILE, node_flops_units
    from rolegraph.graphs.runtime import CompiledGraph

    router = cascade(min_agreement=1.0)
    items = get_task("gsm").items("validation")[:ITEMS]

    async def go():
        compiled = CompiledRouter(router, hub)
        one, two = (CompiledGraph(s.graph, hub) for s in router.stages)
        for item in items:
            r = await compiled.run(item)
            if r.stage == 2:
                return compiled, r, await one.run(item), await two.run(item)
        raise AssertionError("no item escalated")

    compiled, r, a, b = asyncio.run(go())
    assert r.critical_path_s == pytest.approx(a.critical_path_s + b.node("n2").latency_s + b.node("out").latency_s)
    pool = ModelPool.builtin()
    f1 = sum(node_flops_units(router.stages[0].graph, pool, MATH_PROFILE).values())
    f2 = node_flops_units(router.stages[1].graph, pool, MATH_PROFILE)
    assert r.flops_units == pytest.approx(f1 + f2["n2"] + f2["out"])
    assert compiled.flops_units("math") == pytest.approx(f1 + f2["n2"] + f2["out"])


def test_a_plurality_stage_costs_what_all_its_voters_spent(hub):
    from tests.graphs.test_router import plurality_cascade

    item = get_task("gsm").items("validation")[0]
    r = asyncio.run(CompiledRouter(plurality_cascade(), hub).run(item))
    voters = [n for n in r.nodes if n.id.startswith("s1.")]
    assert [n.id for n in voters] == ["s1.n0", "s1.n1", "s1.n2"]
    assert r.stages[0].cost_usd == pytest.approx(sum(n.cost_usd for n in voters))
    assert r.stages[0].tokens == sum(n.tokens_in + n.tokens_out for n in voters)
    assert r.cost_usd == pytest.approx(sum(n.cost_usd for n in r.nodes))
