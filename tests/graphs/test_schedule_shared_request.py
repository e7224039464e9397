"""A coalesced request holds one slot: nodes one `n=k` request answered take one slot turn together in a run's
as-if-alone latency (the client holds one of the model's `max_concurrency` slots for the request), where they were
laid out as k turns, so a width-2 vote on a one-slot pool read twice its real time. Also for a router's plurality
voters, which run as graphs of their own: their stage now counts what they waited for one another's slots."""
import asyncio

import pytest

from rolegraph.graphs.coalesce import Coalescer
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_runtime import CompiledRouter
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.schedule import Topology, slotted_critical_path_s
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread, create_app
from tests.graphs.test_coalesce import ITEM, vote
from tests.models.conftest import HTTP_ID, http_spec

SLEEP = 0.1  # serve-sim sleeps this share of its modelled latency: solver calls of some 0.2 s a choice


def test_members_of_one_request_take_one_slot_turn():
    topo = Topology.of(GraphSpec.model_validate({
        "nodes": [{"id": i, "role": "solver", "model": "m"} for i in "abc"], "edges": [["a", "c"], ["b", "c"]]}))
    latency, models = {"a": 2.0, "b": 1.5, "c": 1.0}, dict.fromkeys("abc", "m")
    assert slotted_critical_path_s(topo, latency, models, {"m": 1}) == pytest.approx(4.5)  # a, b, c in turn
    one_request = {"a": "r1", "b": "r1"}
    assert slotted_critical_path_s(topo, latency, models, {"m": 1}, one_request) == pytest.approx(3.0)
    assert slotted_critical_path_s(topo, latency, models, {"m": 2}, one_request) == pytest.approx(3.0)
    # the request holds its slot for its slowest member: a third node of the model waits for it, not for b
    topo4 = Topology.of(GraphSpec.model_validate({"nodes": [{"id": i, "role": "solver", "model": "m"} for i in "abd"]}))
    assert slotted_critical_path_s(topo4, {"a": 2.0, "b": 1.5, "d": 1.0}, dict.fromkeys("abd", "m"), {"m": 1},
                                   one_request) == pytest.approx(3.0)


@pytest.fixture
def one_slot(tmp_path):
    """A pool whose HTTP model (a sleeping loopback serve-sim) serves one call at a time."""
    app = create_app(ModelPool.builtin(), Settings(home=tmp_path / "srv", latency_scale=SLEEP))
    with ServerThread(app) as srv:
        yield ModelPool([*ModelPool.builtin(), http_spec(srv.base_url, max_concurrency=1)])


def _hub(pool, home, coalesce=True):
    # latency_scale > 0: a measured run (its latency laid out on the slots), not a modelled one
    return ModelHub(pool, Settings(home=home, cache=False, coalesce=coalesce, latency_scale=SLEEP))


def test_a_coalesced_pair_on_one_slot_is_one_request_turn(one_slot, tmp_path):
    async def go():
        hub = _hub(one_slot, tmp_path / "a")
        try:
            graph = CompiledGraph(vote(HTTP_ID, k=2), hub)
            coalescer = Coalescer(graph.coalesce)
            return await graph.run(ITEM, coalescer=coalescer), coalescer
        finally:
            await hub.aclose()

    res, coalescer = asyncio.run(go())
    s0, s1, f = (res.node(n).latency_s for n in ("s0", "s1", "f"))
    # laid out as two turns the run read s0 + s1 + f and more; one turn is max(s0, s1) + f plus the framework's
    # milliseconds, well under a solver call's ~0.2 s
    assert res.latency_s < s0 + s1 + f
    assert coalescer.requests == 1 and coalescer.shared["s0"] == coalescer.shared["s1"]


def test_uncoalesced_plurality_voters_on_one_slot_wait_for_each_other(one_slot, tmp_path):
    v2 = vote(HTTP_ID, k=2)
    router = RouterSpec(stages=[Stage(graph=v2, stop=StopRule(min_agreement=0.0), answer="plurality"),
                                Stage(graph=v2)])

    async def go(coalesce, home):
        hub = _hub(one_slot, home, coalesce)
        try:
            return await CompiledRouter(router, hub).run(ITEM)
        finally:
            await hub.aclose()

    off = asyncio.run(go(False, tmp_path / "off"))
    assert off.stage == 1
    s0, s1 = (off.node(f"s1.s{i}").latency_s for i in range(2))
    assert off.latency_s >= s0 + s1  # two requests, one after the other (it read max(s0, s1))
    on = asyncio.run(go(True, tmp_path / "on"))
    s0, s1 = (on.node(f"s1.s{i}").latency_s for i in range(2))
    assert on.latency_s < s0 + s1  # one request with n=2: one turn, as before


def test_a_group_split_by_the_endpoints_n_limit_shares_only_within_each_request(tmp_path):
    from rolegraph.models.pool import NLesson

    app = create_app(ModelPool.builtin(), Settings(home=tmp_path / "srv", latency_scale=0.0))
    with ServerThread(app) as srv:
        spec = http_spec(srv.base_url, max_concurrency=1)
        pool = ModelPool([*ModelPool.builtin(), spec])
        pool.lessons.keep(spec.endpoint or "", spec.api_name, NLesson(n_ok=2, n_max=2))  # it takes n up to 2

        async def go():
            hub = _hub(pool, tmp_path / "a")
            try:
                graph = CompiledGraph(vote(HTTP_ID, k=3), hub)
                coalescer = Coalescer(graph.coalesce)
                await graph.run(ITEM, coalescer=coalescer)
                return coalescer
            finally:
                await hub.aclose()

        coalescer = asyncio.run(go())
    # three solvers: one request with n=2 (one slot turn for two) and one plain request (a turn of its own)
    assert app.state.stats.requests == 3  # n=2, the third solver alone, the fuser
    assert len(coalescer.shared) == 2 and len(set(coalescer.shared.values())) == 1
