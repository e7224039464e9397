"""A graph with fan-out or loops reports its latency as a static graph does: each call at its own measured time,
along the critical path of what actually ran, without the time a call waited for a `max_concurrency` slot held by
another item's run, and a rerun answered from the response cache at the time first measured (it reported the raw
wall time: inflated by slot waits when fresh, about 0 s from the cache). A run's figure is checked against what it
must be from its own recorded times (the framework's time is the measured wall, seen by a spy, beyond the measured
critical path), not against the test's guess of how long the framework took on this machine."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.result import NodeTrace
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.graphs.schedule import Topology, alone_wall_s
from rolegraph.graphs.spec import GraphSpec
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread, create_app
from rolegraph.tasks.registry import get_task
from tests.run_wall_support import framework_s, longest_chain, measured_chain, spy_on_walls

PAUSE_S = 0.4  # every call takes this long on the server: well above the framework's own time per run
ITEMS = 3  # run at once on two slots per model: their calls queue for each other's slots
SLOTS = 2
FANOUT = 2  # no more copies than slots: a run alone has them side by side


def paused(app):
    """serve-sim (answers as the simulator does, instantly at latency_scale 0) behind a fixed PAUSE_S per call."""

    async def wrapper(scope, receive, send):
        if scope["type"] == "http" and scope["path"].endswith("/chat/completions"):
            await asyncio.sleep(PAUSE_S)
        await app(scope, receive, send)

    return wrapper


def fanout_graph() -> GraphSpec:
    return GraphSpec.model_validate({
        "name": "fan",
        "nodes": [{"id": "plan", "role": "planner", "model": "twin/8b"},
                  {"id": "solve", "role": "solver", "model": "twin/3b"},
                  {"id": "fuse", "role": "fuser", "model": "twin/8b"}],
        "edges": [["plan", "solve"], ["solve", "fuse"]],
        "fanout": [{"from": "plan", "nodes": ["solve"], "max_fanout": FANOUT}],
    })


def test_a_fanout_run_reports_its_calls_critical_path_fresh_and_cached(settings, tmp_path, monkeypatch):
    walls = spy_on_walls(monkeypatch)
    with ServerThread(paused(create_app(ModelPool.builtin(), settings))) as server:
        twins = [ModelSpec(id=f"twin/{size}", backend="openai", base_url=server.base_url, model=f"sim/{name}",
                           answer_key=True, max_concurrency=SLOTS)
                 for size, name in (("8b", "llama-3.1-8b"), ("3b", "llama-3.2-3b"))]
        # latency_scale > 0: measured, not modelled (an all-sim graph at 0 reports its modelled latencies)
        hub = ModelHub(ModelPool([*ModelPool.builtin(), *twins]),
                       Settings(home=tmp_path / "client", latency_scale=1.0))
        task = get_task("gsm", seed=0, size=40)
        warm_up, *items = task.items("all", ITEMS + 1, seed=0)

        async def go():
            try:
                graph = CompiledGraph(fanout_graph(), hub)
                # a first call and a first cache hit set up clients, the cache and lazy imports, blocking the
                # loop a while: not the timed runs' time
                await graph.run(warm_up)
                await graph.run(warm_up)
                fresh = await asyncio.gather(*(graph.run(item) for item in items))
                cached = await asyncio.gather(*(graph.run(item) for item in items))
                return fresh, cached
            finally:
                await hub.aclose()

        fresh, cached = asyncio.run(go())
    waited = []
    for first, again in zip(fresh, cached):
        assert first.error is None and again.error is None and not first.notes == []
        assert any(t.instance_of == "solve" for t in first.nodes)  # the planner's list spawned copies
        assert all(t.calls >= 1 and t.cached_calls == 0 for t in first.nodes)
        assert all(t.cached_calls == t.calls for t in again.nodes)  # the rerun made no call
        path = longest_chain(first.nodes)
        assert path >= 3 * PAUSE_S  # plan, a copy, fuse: each at least one call
        # its own calls' time (copies no wider than the slots: side by side) and the framework's own time, which
        # is its measured wall beyond its measured critical path; a wait for another item's slot is in neither
        assert first.latency_s == pytest.approx(path + framework_s(walls, first.nodes), abs=1e-9)
        waited.append(measured_chain(first.nodes) - path)
        # from the cache: each call at the time first measured, not the milliseconds the cache took
        replayed = longest_chain(again.nodes)
        assert replayed == pytest.approx(path, abs=PAUSE_S / 4)
        assert again.latency_s == pytest.approx(replayed + framework_s(walls, again.nodes), abs=1e-9)
    # some item's calls did wait for a slot (a wait lasts until another item's call of PAUSE_S or more ends): the
    # time its latency leaves out
    assert max(waited) > PAUSE_S / 2


def trace(node_id: str, latency: float, start: float, end: float, inputs=(), model: str = "m") -> NodeTrace:
    return NodeTrace(id=node_id, role="solver", model=model, latency_s=latency, start_s=start, end_s=end,
                     inputs=list(inputs))


def test_copies_and_rounds_are_scheduled_on_their_models_slots():
    # plan -> two copies on model c -> fuse; then a two-round loop a@1 -> b@1 -> a@2 -> b@2 after fuse
    traces = [trace("plan", 1.0, 0.0, 1.0),
              trace("solve[1]", 2.0, 1.0, 3.0, ["plan"], "c"), trace("solve[2]", 2.0, 1.0, 3.0, ["plan"], "c"),
              trace("fuse", 0.5, 3.0, 3.5, ["solve[1]", "solve[2]"]),
              trace("a@1", 1.0, 3.5, 4.5, ["fuse"]), trace("b@1", 1.0, 4.5, 5.5, ["a@1"]),
              trace("a@2", 1.0, 5.5, 6.5, ["fuse", "b@1"]), trace("b@2", 1.0, 6.5, 7.5, ["a@2"])]
    topo = Topology.as_run(list(reversed(traces)))  # any order in: inputs first out
    assert topo.order.index("plan") < topo.order.index("solve[2]") < topo.order.index("fuse") < topo.order.index("b@2")
    assert topo.preds["a@2"] == ("fuse", "b@1")
    models = {t.id: t.model for t in traces}
    # 1 + 2 + 0.5 + 4 rounds' nodes: the copies side by side on two slots, nothing else (7.5 s measured, 0 s framework)
    assert alone_wall_s(topo, traces, 7.5, models, {"m": 4, "c": 2}) == pytest.approx(7.5)
    # on one slot the copies run one after the other, as they would alone on that server
    assert alone_wall_s(topo, traces, 7.5, models, {"m": 4, "c": 1}) == pytest.approx(9.5)
    # a copy that waited 3 s for a slot another item held (measured 5 s): not this run's time
    waited = [*traces[:2], trace("solve[2]", 2.0, 1.0, 6.0, ["plan"], "c"),
              *[t.model_copy(update={"start_s": t.start_s + 3, "end_s": t.end_s + 3}) for t in traces[3:]]]
    assert alone_wall_s(Topology.as_run(waited), waited, 10.5, models, {"m": 4, "c": 2}) == pytest.approx(7.5)
