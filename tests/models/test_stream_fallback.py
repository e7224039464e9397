"""Endpoints that do not stream: one answering plain JSON to `stream: true`, one refusing the field with a 400
naming `stream`. The reply must arrive whole (never an empty "stop" with 0 tokens), the model must stop
asking for streams, and say so once. Real loopback servers, the real `openai` client."""
from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.settings import Settings
from rolegraph.sim.server import ServerThread

TEXT = "The answer. Final answer: 42"
REPLY = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
         "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": TEXT}}],
         "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}}
MESSAGES = [{"role": "user", "content": "What is 6 * 7?"}]


def _server(refuse_stream: bool) -> tuple[FastAPI, list[dict]]:
    seen: list[dict] = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        seen.append(body)
        if refuse_stream and body.get("stream"):
            return JSONResponse({"error": {"message": "'stream' is not supported", "type": "invalid_request_error"}},
                                status_code=400)
        return REPLY  # plain JSON, whatever was asked

    return app, seen


async def _stream_twice(model: OpenAIChatModel) -> list[list[str | Completion]]:
    runs = []
    for _ in range(2):
        runs.append([piece async for piece in model.stream(MESSAGES, max_tokens=16)])
    await model.aclose()
    return runs


def _check(refuse_stream: bool, tmp_path, caplog) -> list[dict]:
    app, seen = _server(refuse_stream)
    with ServerThread(app) as srv, caplog.at_level(logging.WARNING):
        spec = ModelSpec(id="plain/model", backend="openai", base_url=srv.base_url, model="m")
        model = OpenAIChatModel(spec, Settings(home=tmp_path / "home"))
        runs = asyncio.run(_stream_twice(model))
    for run in runs:
        *texts, done = run
        assert "".join(texts) == TEXT  # the text reached the reader
        assert isinstance(done, Completion)
        assert (done.text, done.usage.output_tokens, done.usage.input_tokens) == (TEXT, 7, 11)
    assert model.stream_support is False
    said = [r.getMessage() for r in caplog.records if "does not stream" in r.getMessage()]
    assert len(said) == 1 and "plain/model" in said[0] and srv.base_url in said[0], said
    return seen


def test_a_json_reply_to_stream_true_is_read_whole_and_streams_are_not_asked_again(tmp_path, caplog):
    seen = _check(False, tmp_path, caplog)
    assert [bool(b.get("stream")) for b in seen] == [True, False]  # the first reply was used, not paid twice


def test_a_400_naming_stream_falls_back_to_a_plain_call_once(tmp_path, caplog):
    seen = _check(True, tmp_path, caplog)
    assert [bool(b.get("stream")) for b in seen] == [True, False, False]


def test_a_400_about_something_else_still_fails(tmp_path):
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat():
        return JSONResponse({"error": {"message": "max_tokens must be positive"}}, status_code=400)

    with ServerThread(app) as srv:
        spec = ModelSpec(id="plain/model", backend="openai", base_url=srv.base_url, model="m")
        model = OpenAIChatModel(spec, Settings(home=tmp_path / "home"))

        async def go():
            try:
                return [p async for p in model.stream(MESSAGES)]
            finally:
                await model.aclose()

        from rolegraph.models.openai_errors import ModelCallError
        try:
            asyncio.run(go())
        except ModelCallError as exc:
            assert "max_tokens must be positive" in str(exc) and exc.status == 400
        else:
            raise AssertionError("a 400 not about streaming must fail the call")
    assert model.stream_support is None


def test_a_real_stream_still_streams_in_pieces(tmp_path):
    import json

    from fastapi.responses import StreamingResponse

    app = FastAPI()
    words = ["The ", "answer. ", "Final answer: 42"]

    @app.post("/v1/chat/completions")
    async def chat():
        def events():
            for w in words:
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                         "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]}
                yield f"data: {json.dumps(chunk)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    with ServerThread(app) as srv:
        spec = ModelSpec(id="sse/model", backend="openai", base_url=srv.base_url, model="m")
        model = OpenAIChatModel(spec, Settings(home=tmp_path / "home"))
        *texts, done = asyncio.run(_stream_twice(model))[0]
    assert texts == words and done.text == TEXT
    assert model.stream_support is True
