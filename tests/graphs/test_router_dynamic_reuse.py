"""A router's stages never share a fan-out group's or a loop's nodes (nor what reads them): these run as copies and
rounds (`search[1]`, `solve@2`), so there is no trace `solve` for a later stage to read; sharing them made a router
whose two stages hold the same loop fail in stage 2 with a bare KeyError 's1.solve'. Nodes before a group are
still shared (a fan-out's planner)."""
import asyncio

from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_runtime import CompiledRouter
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from tests.graphs.test_fanout import graph
from tests.graphs.test_loop_rounds_read_and_stop import item, revise

NEVER = StopRule(min_logprob=0.0)  # a sim reply's mean log-probability is below 0 (or absent): stage 1 escalates


def test_loop_and_fanout_nodes_are_not_shared_between_stages_but_a_planner_before_them_is():
    loops = RouterSpec(stages=[Stage(graph=revise(2), stop=NEVER), Stage(graph=revise(3))])
    assert loops.reuse() == [{}, {}]
    fanouts = RouterSpec(stages=[Stage(graph=graph(max_fanout=2), stop=NEVER), Stage(graph=graph(max_fanout=2))])
    assert fanouts.reuse() == [{}, {"plan": "s1.plan"}]


def test_two_stages_with_the_same_loop_each_run_their_rounds(tmp_path):
    router = RouterSpec(stages=[Stage(graph=revise(2), stop=NEVER), Stage(graph=revise(2))])
    hub = ModelHub(ModelPool.builtin(), Settings(home=tmp_path, cache=False))
    res = asyncio.run(CompiledRouter(router, hub).run(item()))
    assert res.stage == 2 and res.error is None
    assert [n.id for n in res.nodes] == [f"s{s}.{n}@{r}" for s in (1, 2) for r in (1, 2) for n in ("solve", "verify")]
