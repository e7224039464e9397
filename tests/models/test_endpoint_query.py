"""A base_url with a query (Azure's `?api-version=...`): paths go onto the URL's path and the query is kept,
for the endpoint probes and for the backend's own calls alike."""
from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request

from rolegraph.chat.spec import ModelSpec
from rolegraph.models.endpoint import api_url, server_root, split_query
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.sim.server import ServerThread
from tests.models.conftest import http_spec, task_calls
from tests.models.test_endpoint import describe_through

COMPLETION = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
              "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "{}"}}]}


def test_paths_join_onto_the_path_and_the_query_stays():
    base = "https://x/openai/v1?api-version=2024-02-01"
    assert api_url(base, "/models") == "https://x/openai/v1/models?api-version=2024-02-01"
    assert api_url("https://x/v1/", "/chat/completions") == "https://x/v1/chat/completions"
    assert server_root(base) == "https://x/openai?api-version=2024-02-01"
    assert split_query(base) == ("https://x/openai/v1", {"api-version": "2024-02-01"})


def _recording_server() -> tuple[FastAPI, list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        seen.append((request.url.path, request.url.query))
        return COMPLETION

    @app.get("/v1/models")
    async def models(request: Request):
        seen.append((request.url.path, request.url.query))
        return {"object": "list", "data": [{"id": "served", "object": "model", "max_model_len": 1234}]}

    return app, seen


def test_the_probes_keep_the_query(settings):
    app, seen = _recording_server()
    with ServerThread(app) as srv:
        spec = ModelSpec(id="ep/model", backend="openai", base_url=f"{srv.base_url}?x=1", model="served")
        info = asyncio.run(describe_through(spec, settings))
    assert (info.structured, info.context_window, info.context_source) == ("json_schema", 1234, "server")
    assert ("/v1/chat/completions", "x=1") in seen and ("/v1/models", "x=1") in seen


def test_the_backend_calls_the_path_with_the_query(settings):
    app, seen = _recording_server()
    with ServerThread(app) as srv:
        model = OpenAIChatModel(http_spec(f"{srv.base_url}?x=1", answer_key=False), settings, max_attempts=1)
        asyncio.run(model.complete([{"role": "user", "content": "hi"}]))
    assert seen == [("/v1/chat/completions", "x=1")]


def test_serve_sim_answers_through_a_base_url_with_a_query(server, settings):
    (messages, key), = task_calls(1)
    model = OpenAIChatModel(http_spec(f"{server.base_url}?x=1"), settings, max_attempts=1)
    out = asyncio.run(model.complete(messages, answer_key=key))
    assert "Final answer" in out.text


def test_scrubbed_messages_are_one_line_capped_and_hide_the_query(settings):
    from rolegraph.models.openai_backend import MAX_MESSAGE_CHARS

    base = "http://127.0.0.1:9/v1?key=SECRETQUERY"
    model = OpenAIChatModel(http_spec(base), settings)
    text = model._scrub(f"failed at {base}\n" + "word \n" * 500)
    assert "SECRETQUERY" not in text and "\n" not in text
    assert len(text) == MAX_MESSAGE_CHARS and text.endswith("...")  # the cut is marked
    assert (model.n_ok, model.n_max, model.n_support) == (1, None, None)
    assert {"n_ok", "n_max"} <= vars(model).keys()  # the instance's own, not the class defaults
