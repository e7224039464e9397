"""A failed graph run is not run again by the official `openai` client: each retry would pay every upstream
call again, for a failure the node's backend had already retried (502) or that would take as long again (504)."""
from __future__ import annotations

import asyncio
import json

import openai
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.pool import ModelPool
from rolegraph.serve.app import ServeOptions, create_app
from rolegraph.sim.server import ServerThread

from .conftest import one_node_graph, serve
from .test_requests import StubAnswerer

UPSTREAM_RETRIES = 1  # the pool entry's own retries: one graph run makes 1 + 1 upstream requests
RUN_REQUESTS = UPSTREAM_RETRIES + 1


def always_500(bodies: list[dict]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        bodies.append(json.loads(await request.body()))
        return JSONResponse({"error": {"message": "upstream down", "type": "server_error"}}, status_code=500)

    return app


def test_openai_client_runs_a_failed_graph_once(tmp_path):
    bodies: list[dict] = []
    with ServerThread(always_500(bodies)) as upstream:
        spec = ModelSpec(id="x/down", backend="openai", base_url=upstream.base_url, max_retries=UPSTREAM_RETRIES)
        pool = ModelPool([*ModelPool.builtin(), spec])
        with serve(one_node_graph("x/down", "down"), pool, tmp_path) as server:
            client = openai.OpenAI(base_url=server.base_url, api_key="none")  # its default: 2 retries of a 5xx
            with pytest.raises(openai.InternalServerError) as caught:
                client.chat.completions.create(model="down", messages=[{"role": "user", "content": "2+3?"}])
    assert caught.value.status_code == 502
    assert caught.value.response.headers.get("x-should-retry") == "false"
    assert len(bodies) == RUN_REQUESTS  # one graph run's requests, not three runs' (6)


class SlowAnswerer(StubAnswerer):
    async def answer(self, question, *, seed=0, listener=None, on_text=None):
        self.seeds.append(seed)
        await asyncio.sleep(30)
        raise AssertionError("not reached: the request times out first")


def test_a_timed_out_run_is_not_retried_by_the_client():
    answerer = SlowAnswerer()
    with ServerThread(create_app(answerer, ServeOptions(timeout_s=0.2))) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="none")
        with pytest.raises(openai.APIStatusError) as caught:
            client.chat.completions.create(model="stub", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 504
    assert len(answerer.seeds) == 1  # one run started, not three
