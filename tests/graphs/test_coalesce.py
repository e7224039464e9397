"""Coalesced sampling through the runtime, against real servers: a vote of five identical solvers through
serve-sim is one HTTP request for the five, with the answers of the uncoalesced run; llama.cpp's server, which
refuses `n`, gets k plain requests and the run still works."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.graphs.builder import Graph
from rolegraph.graphs.coalesce import coalesce_groups
from rolegraph.graphs.runtime import CompiledGraph
from rolegraph.items import Item
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

from tests.models.conftest import HTTP_ID, http_spec, serve  # noqa: F401 - the loopback serve-sim fixture

# An item on which the five samples differ (the sim's samples of one model on one item are correlated, so on many
# items all five agree and give the same text; docs/sim.md, sample correlation).
ITEM = Item(id="gsm-coalesce-2", question="Tom has 3 boxes of 4 apples. How many apples?", gold="12", family="math",
            metadata={"distractors": ["7", "16"]})


def vote(model: str, k: int = 5, fuser: str | None = None, **params):
    g = Graph(f"vote{k}")
    for i in range(k):
        g = g.node(f"s{i}", "solver", model, **params)
    g = g.node("f", "fuser", fuser or model)
    for i in range(k):
        g = g.edge(f"s{i}", "f")
    return g.build()


def _run(spec, pool, settings, item=ITEM, seed=0):
    async def go():
        hub = ModelHub(pool, settings)
        try:
            return await CompiledGraph(spec, hub).run(item, seed=seed)
        finally:
            await hub.aclose()

    return asyncio.run(go())


def test_a_vote_of_five_is_one_request_with_the_uncoalesced_answers(serve, tmp_path):
    server = serve()
    stats = server.app.state.stats
    pool = ModelPool([*ModelPool.builtin(), http_spec(server.base_url)])
    spec = vote(HTTP_ID)
    on = _run(spec, pool, Settings(home=tmp_path / "a", cache=False))
    assert stats.requests == 2  # the five solvers in one request, then the fuser
    off = _run(spec, pool, Settings(home=tmp_path / "b", cache=False, coalesce=False))
    assert stats.requests == 2 + 6
    assert [(n.id, n.answer, n.output) for n in on.nodes] == [(n.id, n.answer, n.output) for n in off.nodes]
    assert on.answer == off.answer
    assert len({n.output for n in on.nodes if n.role == "solver"}) > 1  # five distinct samples
    solvers_on = sum(n.tokens_in for n in on.nodes if n.role == "solver")
    solvers_off = sum(n.tokens_in for n in off.nodes if n.role == "solver")
    assert solvers_on * 5 == pytest.approx(solvers_off, abs=5)  # the prompt billed once instead of five times
    assert on.cost_usd < off.cost_usd


def test_cached_samples_are_shared_between_coalesced_and_plain_runs(serve, tmp_path):
    server = serve()
    stats = server.app.state.stats
    pool = ModelPool([*ModelPool.builtin(), http_spec(server.base_url)])
    settings = Settings(home=tmp_path / "h")
    spec = vote(HTTP_ID)
    first = _run(spec, pool, settings)
    again = _run(spec, pool, settings.__class__(home=settings.home, coalesce=False))
    assert stats.requests == 2
    assert all(n.cached_calls == n.calls == 1 for n in again.nodes)
    assert [n.answer for n in again.nodes] == [n.answer for n in first.nodes]


def test_groups_need_one_model_role_params_and_inputs_on_an_http_backend(serve, tmp_path):
    server = serve()
    other = http_spec(server.base_url, model_id="http/other")
    pool = ModelPool([*ModelPool.builtin(), http_spec(server.base_url), other])
    spec = (Graph("mixed")
            .node("a", "solver", HTTP_ID).node("b", "solver", HTTP_ID).node("c", "solver", HTTP_ID, temperature=0.9)
            .node("d", "solver", "http/other").node("e", "solver", HTTP_ID, coalesce=False)
            .node("t", "solver", HTTP_ID, tools=["calculator"])
            .node("s1", "solver", "sim/llama-3.2-1b").node("s2", "solver", "sim/llama-3.2-1b")
            .node("r1", "solver", HTTP_ID).node("r2", "solver", HTTP_ID)
            .node("f", "fuser", HTTP_ID)
            .edge("a", "r1").edge("a", "r2").edge("b", "f").edge("c", "f").edge("d", "f").edge("e", "f")
            .edge("t", "f").edge("s1", "f").edge("s2", "f").edge("r1", "f").edge("r2", "f")
            .build())
    hub = ModelHub(pool, Settings(home=tmp_path / "h"))
    groups = coalesce_groups(spec, CompiledGraph(spec, hub).plans)
    assert set(groups) == {"a", "b", "r1", "r2"}
    assert groups["a"] == groups["b"] and groups["r1"] == groups["r2"] and groups["a"] != groups["r1"]


def test_llamacpp_refuses_n_and_the_vote_runs_as_separate_requests(llamacpp, tmp_path):
    spec_model = llamacpp.spec()
    pool = ModelPool([*ModelPool.builtin(), spec_model])
    spec = vote(spec_model.id, k=2, max_tokens=4)
    spec = spec.model_copy(update={"nodes": [n if n.role == "solver" else n.model_copy(
        update={"params": {"max_tokens": 4}}) for n in spec.nodes]})

    async def go():
        hub = ModelHub(pool, Settings(home=tmp_path / "h", cache=False))
        try:
            graph = CompiledGraph(spec, hub)
            result = await graph.run("Name a colour.", seed=1)
            backend = hub.get(spec_model.id)._inner._inner  # the OpenAI backend under the counter and spend guard
            return result, backend.n_support
        finally:
            await hub.aclose()

    result, n_support = asyncio.run(go())
    assert n_support is False  # detected on the first shared request, then plain requests
    assert [n.calls for n in result.nodes] == [1, 1, 1]
    assert all(n.tokens_out > 0 for n in result.nodes) and result.error is None


def test_coalesce_param_must_be_a_boolean():
    from rolegraph.graphs.validate import validate_graph

    from rolegraph.graphs.spec import GraphSpec

    spec = GraphSpec.model_validate({"nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-1b",
                                                "params": {"coalesce": "no"}}]})
    assert validate_graph(spec, ModelPool.builtin()) == ["node 'a': params.coalesce must be true or false, got 'no'"]
    assert validate_graph(Graph("g").node("a", "solver", "sim/llama-3.2-1b", coalesce=False).build(),
                          ModelPool.builtin()) == []


def test_a_shared_request_that_fails_leaves_no_unretrieved_future(tmp_path, caplog):
    """Every member of a failed shared request sees the error, and no future is left whose exception nobody
    read (asyncio would log "Future exception was never retrieved" when it is collected)."""
    import gc
    import logging

    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from rolegraph.errors import NodeFailedError
    from rolegraph.chat.spec import ModelSpec
    from rolegraph.sim.server import ServerThread

    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def refuse():
        return JSONResponse({"error": {"message": "bad key", "type": "invalid_request_error"}}, status_code=401)

    caplog.set_level(logging.ERROR, logger="asyncio")
    with ServerThread(app) as srv:
        spec_model = ModelSpec(id="http/refuser", backend="openai", base_url=srv.base_url, model="m", params_b=1.24,
                               layers=16, hidden=2048)
        pool = ModelPool([*ModelPool.builtin(), spec_model])
        spec = vote(spec_model.id, k=3, fuser="sim/llama-3.2-1b")
        with pytest.raises(NodeFailedError, match="401"):
            _run(spec, pool, Settings(home=tmp_path / "h", cache=False))
    gc.collect()
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
