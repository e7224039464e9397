"""A router on a real (loopback HTTP) endpoint reports each stage's own latency, as its stage graphs do: a rerun
answered from the response cache keeps the time first measured (not the ~0 s the cache took), a stage's figure
does not count the stages before it again, and an item's time is not the time it waited for another's slot."""
from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from rolegraph.chat.spec import ModelSpec
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_runtime import CompiledRouter
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings
from rolegraph.sim.server_thread import ServerThread

PAUSE_S = 0.5  # each reply takes this long: well above the framework's own time, which one wait for a slot doubles
QUESTIONS = ["What is 2 + 2?", "What is 3 + 3?"]


def slow_endpoint() -> FastAPI:
    """An OpenAI-compatible endpoint that answers after PAUSE_S, unsure of itself (mean log-probability -1)."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat() -> dict:
        await asyncio.sleep(PAUSE_S)
        text = "Final answer: 4"
        return {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text},
                             "logprobs": {"content": [{"token": text, "logprob": -1.0, "bytes": None,
                                                       "top_logprobs": []}]}}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}}

    return app


@pytest.fixture
def endpoint():
    with ServerThread(slow_endpoint()) as server:
        yield server


def test_a_cached_router_keeps_its_stages_measured_latency(endpoint, tmp_path):
    # one slot per model: two questions run side by side, so one waits for the other's call on each model
    a, b = (ModelSpec(id=f"up/{m}", backend="openai", base_url=endpoint.base_url, model=m, max_concurrency=1,
                      logprobs=True) for m in "ab")
    one = Graph("one").node("s", "solver", a.id).build()
    two = Graph("two").node("s", "solver", b.id).build()
    # a stage answering at mean log-probability -1 never reaches 0: every question runs both stages
    router = RouterSpec(name="both", stages=[Stage(graph=one, stop=StopRule(min_logprob=0.0)), Stage(graph=two)])
    hub = ModelHub(ModelPool([*ModelPool.builtin(), a, b]), Settings(home=tmp_path / "home"))

    async def go():
        try:
            compiled = CompiledRouter(router, hub)
            g1, g2 = CompiledGraph(one, hub), CompiledGraph(two, hub)
            # a first call sets up the clients and the cache, blocking the loop a while: not the timed runs' time
            await asyncio.gather(g1.run("Warm up."), g2.run("Warm up."))
            before = hub.stats.paid
            cold = await asyncio.gather(*(compiled.run(q) for q in QUESTIONS))
            paid = hub.stats.paid - before
            warm = await asyncio.gather(*(compiled.run(q) for q in QUESTIONS))
            graphs = [(await g1.run(q), await g2.run(q)) for q in QUESTIONS]
            return cold, warm, graphs, paid, hub.stats.paid - before
        finally:
            await hub.aclose()

    cold, warm, graphs, paid_cold, paid_after = asyncio.run(go())
    assert paid_cold == 4 and paid_after == paid_cold  # the rerun and the stage graphs are answered from the cache
    for fresh, replayed, (first, second) in zip(cold, warm, graphs):
        assert fresh.error is None and not fresh.simulated and fresh.stage == 2 and len(fresh.stages) == 2
        assert all(n.cached_calls == 0 for n in fresh.nodes) and all(n.cached_calls == 1 for n in replayed.nodes)
        calls = sum(n.latency_s for n in fresh.nodes)
        assert calls >= 2 * PAUSE_S
        # its own calls' time and a little framework time: a wait for the other question's call would add PAUSE_S
        assert calls <= fresh.latency_s < calls + PAUSE_S / 2
        assert replayed.latency_s == pytest.approx(fresh.latency_s, rel=0.1, abs=0.02)
        # each stage's figure is its graph's own, the earlier stage not counted again
        for stage, graph in zip(replayed.stages, (first, second)):
            assert stage.latency_s == pytest.approx(graph.latency_s, rel=0.1, abs=0.02)
        assert replayed.latency_s == pytest.approx(first.latency_s + second.latency_s, rel=0.1, abs=0.02)
