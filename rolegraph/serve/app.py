"""The FastAPI app of `rolegraph serve`: an `Answerer` as an OpenAI-compatible model.

- `GET /v1/models` lists the one model id; `POST /v1/chat/completions` answers, plainly or (with
  `stream: true`) as server-sent events: first the assistant role, then progress chunks (an empty
  delta plus the extension field `rolegraph`: node_start / node_end with node, role, model, tokens)
  interleaved with the output node's text as its model produces it (or, where it does not stream: a loop's
  output, a node with tools, as one content chunk when the run is done), then a final chunk with
  `finish_reason: "stop"` and the run's details, an optional usage chunk, and `[DONE]`.
- Limits: request bodies over `max_request_bytes` get 413; at most `max_concurrent` runs at once and
  `max_waiting` more queued, beyond that 429 with Retry-After; a run past `timeout_s` gets 504 (or an
  error event in a stream). Bad requests get OpenAI-style JSON errors with 4xx codes, as do unknown
  paths and methods. With an API key set, requests without `Authorization: Bearer <key>` get 401.
- A run ends with its request: a client that disconnects cancels it (no more paid upstream calls), and a
  server shutting down ends in-flight requests with a 503 JSON error or a final stream error event
  (`guard.py`). A failed run's 5xx says `x-should-retry: false` (`NO_RETRY`); the shutdown 503 does not.
  `finish_reason` is "length" when the output node's reply was cut at its max_tokens.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from rolegraph.errors import NodeFailedError, RolegraphError
from rolegraph.serve import protocol as wire
from rolegraph.serve.answerer import TOO_LONG_CODE, Answerer, Reply, RequestTooLongError
from rolegraph.serve.guard import Guard
from rolegraph.serve.limits import (
    DEFAULT_MAX_CONCURRENT,
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_MAX_WAITING,
    DEFAULT_TIMEOUT_S,
)

RETRY_AFTER_S = 5
CLIENT_CLOSED = 499  # nginx's "client closed request": nobody reads it, but the access log says why
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
NO_RETRY = "x-should-retry"
"""Sent as `false` with a failed run's error (502, 504, 500): the official `openai` client retries 5xx twice by
default, and each retry would re-run the whole graph, paying every upstream call again, for a failure the backend had
already retried (502), that would take as long again (504) or that is a bug (500). openai-python (and the
clients generated like it) obey this header; a 503 during shutdown leaves it out: another server may answer."""


@dataclass(frozen=True)
class ServeOptions:
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_concurrent: int = DEFAULT_MAX_CONCURRENT
    max_waiting: int = DEFAULT_MAX_WAITING
    api_key: str | None = field(default=None, repr=False)
    """The key's value (read from the env var the user named): left out of the repr, which a log line, a
    traceback's locals or a debugger would otherwise print with the key in it."""


class _Gate:
    """At most `running` requests run; `waiting` more may queue; the rest are turned away (429)."""

    def __init__(self, running: int, waiting: int):
        self.sem = asyncio.Semaphore(running)
        self.limit = running + waiting
        self.inside = 0

    def try_enter(self) -> bool:
        if self.inside >= self.limit:
            return False
        self.inside += 1
        return True

    def leave(self) -> None:
        self.inside -= 1


def _failure(exc: BaseException) -> tuple[int, str, str | None]:
    """HTTP status, message and error code for a run that failed (never a traceback).

    A node's upstream that failed is a 502, a context overflow too: only a request that is itself too long for a
    node's model (`RequestTooLongError`, the answerer's to decide) is the client's 400. An overflow the graph built
    (predecessors' outputs, fan-in, loop rounds, tool results) was answered 400 `invalid_request_error`, telling a
    client whose question was fine to change it, after every upstream call had been paid."""
    if isinstance(exc, TimeoutError):
        return 504, "the graph run timed out", None
    if isinstance(exc, RequestTooLongError):
        return 400, str(exc), TOO_LONG_CODE
    if isinstance(exc, NodeFailedError):
        return 502, str(exc), None
    if isinstance(exc, RolegraphError):  # a budget stop, a bad request the graph found
        return 400, str(exc), None
    return 500, f"internal error: {type(exc).__name__}", None


def create_app(answerer: Answerer, options: ServeOptions | None = None, lifespan: Any = None) -> FastAPI:
    """The ASGI app serving `answerer`. `lifespan` (an async context manager factory) runs around serving:
    the CLI opens the answerer (MCP servers, compiled graph) there."""
    opts = options or ServeOptions()
    app = FastAPI(title="rolegraph serve", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    gate: dict[str, _Gate] = {}

    def the_gate() -> _Gate:  # created in the serving loop (asyncio primitives bind to it)
        if "g" not in gate:
            gate["g"] = _Gate(opts.max_concurrent, opts.max_waiting)
        return gate["g"]

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "unknown path" if exc.status_code == 404 else str(exc.detail)
        return wire.error_response(exc.status_code, f"{message}: {request.method} {request.url.path}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:  # a bug: still JSON, not plain text
        return wire.error_response(500, f"internal error: {type(exc).__name__}")

    app.add_middleware(Guard, api_key=opts.api_key)

    @app.get("/v1/models")
    async def models() -> Response:
        item = {"id": answerer.model_id, "object": "model", "created": 0, "owned_by": wire.OWNER}
        return JSONResponse({"object": "list", "data": [item]})

    @app.get("/v1/models/{model_id:path}")
    async def model(model_id: str) -> Response:
        if model_id != answerer.model_id:
            return wire.error_response(404, f"The model `{model_id}` does not exist.", "model", "model_not_found")
        return JSONResponse({"id": model_id, "object": "model", "created": 0, "owned_by": wire.OWNER})

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > opts.max_request_bytes:
            return wire.error_response(413, f"request body over {opts.max_request_bytes} bytes")
        try:
            raw = await _read_limited(request, opts.max_request_bytes)
        except ClientDisconnect:
            return Response(status_code=499)
        except wire.RequestError as exc:
            return wire.error_response(exc.status, exc.message, exc.param, exc.code)
        try:
            body = json.loads(raw)
            question, seed, stream, include_usage = wire.parse_request(body, answerer.model_id)
        except ValueError:
            return wire.error_response(400, "the request body is not valid JSON")
        except RecursionError:  # e.g. 200 KB of `[[[...`: the parser gives up, the request is still the client's
            return wire.error_response(400, "the request body is nested too deeply")
        except wire.RequestError as exc:
            return wire.error_response(exc.status, exc.message, exc.param, exc.code)
        gate_ = the_gate()
        if not gate_.try_enter():
            return wire.error_response(
                429, "too many requests in flight; retry later", **{"retry-after": str(RETRY_AFTER_S)}
            )
        if stream:
            return StreamingResponse(
                _guarded(gate_, _stream(answerer, question, seed, include_usage, opts)),
                media_type="text/event-stream",
                headers=SSE_HEADERS,
            )
        try:
            async with gate_.sem:
                reply = await _answer_while_connected(request, answerer, question, seed, opts.timeout_s)
        except ClientGone:
            return Response(status_code=CLIENT_CLOSED)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an OpenAI-style error
            status, message, code = _failure(exc)
            param = "messages" if code == TOO_LONG_CODE else None
            return wire.error_response(status, message, param, code, **({NO_RETRY: "false"} if status >= 500 else {}))
        finally:
            gate_.leave()
        return JSONResponse(wire.completion(reply, answerer.model_id, wire.new_id()))

    return app


class ClientGone(Exception):
    """The client of a plain (non-streamed) request disconnected before its answer was ready."""


async def _disconnected(request: Request) -> None:
    """Returns when the client disconnects. Called after the body is read: the next ASGI message is the disconnect."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _answer_while_connected(
    request: Request, answerer: Answerer, question: str, seed: int, timeout_s: float
) -> Reply:
    """The answer, or `ClientGone` as soon as the client disconnects: the run is cancelled then, so a client
    that gave up stops the graph's upstream calls (the streamed path stops when its generator is closed)."""
    run = asyncio.ensure_future(asyncio.wait_for(answerer.answer(question, seed=seed), timeout_s))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait((run, gone), return_when=asyncio.FIRST_COMPLETED)
        if not run.done():
            raise ClientGone
        return run.result()
    finally:
        for task in (run, gone):
            task.cancel()
        await asyncio.gather(run, gone, return_exceptions=True)


async def _read_limited(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise wire.RequestError(413, f"request body over {limit} bytes")
    return bytes(body)


async def _guarded(gate: _Gate, events: AsyncIterator[str]) -> AsyncIterator[str]:
    try:
        async with gate.sem:
            async for event in events:
                yield event
    finally:
        gate.leave()


async def _stream(
    answerer: Answerer, question: str, seed: int, include_usage: bool, opts: ServeOptions
) -> AsyncIterator[str]:
    """The SSE events of one streamed answer (see the module docstring)."""
    model_id, request_id = answerer.model_id, wire.new_id()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def run() -> None:
        try:
            reply = await answerer.answer(
                question,
                seed=seed,
                listener=lambda event: queue.put_nowait(("event", event)),
                on_text=lambda text: queue.put_nowait(("text", text)),
            )
            queue.put_nowait(("done", reply))
        except Exception as exc:  # noqa: BLE001 - reported as an error event
            queue.put_nowait(("error", exc))

    task = asyncio.create_task(run())
    sent: list[str] = []  # the text deltas streamed so far
    deadline = asyncio.get_running_loop().time() + opts.timeout_s
    yield wire.chunk(model_id, request_id, {"role": "assistant", "content": ""})
    try:
        while True:
            left = deadline - asyncio.get_running_loop().time()
            try:
                kind, value = await asyncio.wait_for(queue.get(), max(left, 0.0))
            except TimeoutError:
                yield wire.stream_error("the graph run timed out", code="timeout")
                return
            if kind == "text":
                sent.append(value)
                yield wire.chunk(model_id, request_id, {"content": value})
            elif kind == "event":
                yield wire.chunk(model_id, request_id, extension=value)
            elif kind == "error":
                status, message, code = _failure(value)
                kind = "server_error" if status >= 500 else "invalid_request_error"
                yield wire.stream_error(message, kind, code, "messages" if code == TOO_LONG_CODE else None)
                return
            else:
                if rest := unsent(value.text, "".join(sent)):  # e.g. a loop's output: its last round, whole
                    yield wire.chunk(model_id, request_id, {"content": rest})
                details = value.details | {"simulated": value.simulated, "streamed": answerer.streams}
                yield wire.chunk(model_id, request_id, finish=wire.finish_reason(value), extension=details)
                if include_usage:
                    yield wire.chunk(model_id, request_id, usage=wire.usage_of(value), choices=False)
                yield wire.DONE
                return
    finally:
        if not task.done():
            task.cancel()


def unsent(text: str, sent: str) -> str:
    """What a streaming client has not been sent of the answer `text`, after the deltas `sent`: all of it when the
    output node did not stream (a loop's output, a node with tools), nothing when it streamed whole. Deltas that
    are not a prefix of the text (a custom parser that rewrote it) are not sent again: that would repeat them."""
    return text[len(sent) :] if text.startswith(sent) else ""
