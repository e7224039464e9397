"""What an endpoint can do, asked once: the context window (pool entry, else the server's own, else a
default) and the structured-output form. Against llama.cpp's own server, and small loopback servers that
answer as llama-cpp-python's server (refuses `json_schema` with a 500) and vLLM (`max_model_len`) do."""
from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rolegraph.models.endpoint import DEFAULT_CONTEXT, EndpointInfo, describe_endpoint, server_root
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.llamacpp_server import free_port
from rolegraph.chat.spec import ModelSpec
from rolegraph.sim.server import ServerThread

COMPLETION = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
              "choices": [{"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": "{"}}]}


def _spec(base_url: str, **extra) -> ModelSpec:
    return ModelSpec(id="ep/model", backend="openai", base_url=base_url, model="served", **extra)


async def describe_through(spec: ModelSpec, settings, attempts: int = 1) -> EndpointInfo:
    """`describe_endpoint` probing through a backend of `attempts` attempts a call (the probe is a model call)."""
    model = OpenAIChatModel(spec, settings, max_attempts=attempts)
    try:
        return await describe_endpoint(spec, model)
    finally:
        await model.aclose()


def _server(accepts: set[str], max_model_len: int | None = None) -> tuple[FastAPI, list[dict]]:
    seen: list[dict] = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        seen.append(body)
        fmt = (body.get("response_format") or {}).get("type")
        if fmt is not None and fmt not in accepts:
            return JSONResponse({"error": {"message": f"{fmt} not supported"}}, status_code=500)
        return COMPLETION

    @app.get("/v1/models")
    async def models():
        entry = {"id": "served", "object": "model"}
        if max_model_len is not None:
            entry["max_model_len"] = max_model_len
        return {"object": "list", "data": [entry]}

    return app, seen


def test_server_root_strips_the_api_suffix():
    assert server_root("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080"
    assert server_root("http://127.0.0.1:8080/v1/") == "http://127.0.0.1:8080"
    assert server_root("http://h/openai") == "http://h/openai"


def test_llama_cpp_python_form_is_found_after_json_schema_is_refused(settings):
    app, seen = _server({"json_object"})
    with ServerThread(app) as srv:
        info = asyncio.run(describe_through(_spec(srv.base_url), settings))
    assert info.structured == "json_object"
    assert [b["response_format"]["type"] for b in seen] == ["json_schema", "json_object"]
    assert seen[1]["response_format"]["schema"]["required"] == ["ok"] and seen[1]["max_tokens"] == 1
    assert (info.context_window, info.context_source) == (DEFAULT_CONTEXT, "default")  # no /props, no length


def test_vllm_max_model_len_is_the_context_and_json_schema_is_taken(settings):
    app, seen = _server({"json_schema", "json_object"}, max_model_len=4096)
    with ServerThread(app) as srv:
        info = asyncio.run(describe_through(_spec(srv.base_url), settings))
        explicit = asyncio.run(describe_through(_spec(srv.base_url, context_window=1000), settings))
    assert (info.structured, info.context_window, info.context_source) == ("json_schema", 4096, "server")
    assert (explicit.context_window, explicit.context_source) == (1000, "pool entry")  # the pool entry wins
    assert len(seen) == 2  # one probe per description


def test_a_server_taking_neither_form_gets_plain_json_and_an_unreachable_one_too(settings):
    app, _ = _server(set())
    with ServerThread(app) as srv:
        taken = asyncio.run(describe_through(_spec(srv.base_url), settings))
    assert (taken.structured, taken.undecided) == ("none", None)  # refused both: a finding
    dead = asyncio.run(describe_through(_spec(f"http://127.0.0.1:{free_port()}/v1"), settings))
    assert (dead.structured, dead.context_window) == ("none", DEFAULT_CONTEXT)
    assert dead.undecided is not None and "could not connect" in dead.undecided  # no finding


def test_without_a_model_nothing_is_probed():
    """The probe is a paid call: only the caller's (hub's) model may send it, never `describe_endpoint` itself."""
    app, seen = _server({"json_schema"})
    with ServerThread(app) as srv:
        info = asyncio.run(describe_endpoint(_spec(srv.base_url)))
    assert seen == [] and info.structured == "none"


def test_llama_cpp_server_context_from_props_and_json_schema(llamacpp, settings):
    spec = llamacpp.spec(context_window=None)
    assert spec.context_window is None
    info = asyncio.run(describe_through(spec, settings))
    assert (info.context_window, info.context_source) == (llamacpp.n_ctx, "server")
    assert info.structured == "json_schema"


def test_a_refused_form_is_asked_once_even_by_a_backend_that_retries(settings):
    """A 500 refusing `json_schema` (llama-cpp-python) is transient to the retry policy; the probe's refusal is its
    answer, so each form is sent once (six attempts took ~15 s of backoff before the next form)."""
    app, seen = _server({"json_object"})
    with ServerThread(app) as srv:
        info = asyncio.run(describe_through(_spec(srv.base_url), settings, attempts=6))
    assert info.structured == "json_object"
    assert [b["response_format"]["type"] for b in seen] == ["json_schema", "json_object"]
