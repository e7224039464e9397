"""An OpenAI-compatible HTTP server over the simulated pool, with seeded fault injection.

It lets the OpenAI backend be tested end to end with the real `openai` client over a real ASGI
stack, and lets benchmarks run graphs "remotely" without any paid endpoint. The sim's answer key
travels in the request body's extra field `rolegraph` (`{"answer_key": {...}, "sample": n}`), which
a real server would ignore and rolegraph only sends to specs marked `answer_key: true` on loopback.
Every completion it returns carries its mark in the same field (`serve_sim_mark`), so a client labels
the replies simulated from the reply itself.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from rolegraph.chat.spec import EXTRA_FIELD, ModelSpec
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS, ChatModel, Completion
from rolegraph.errors import NoAnswerKeyError, RolegraphError
from rolegraph.items import AnswerKey
from rolegraph.settings import Settings
from rolegraph.sim.confidence import openai_logprobs
from rolegraph.sim.faults import FaultConfig, FaultPlan
from rolegraph.sim.fingerprint import sim_fingerprint
from rolegraph.sim.server_thread import ServerThread as ServerThread  # re-exported: tests and benchmarks import it here

JSON_TYPE = "application/json"
OWNER = "rolegraph-sim"
DEFAULT_TEMPERATURE = 1.0  # the OpenAI API's default when a request omits it
GARBAGE_BODY = b"<html><body><h1>502 Bad Gateway</h1>upstream hiccup</body></html>"
MAX_N = 128  # the OpenAI API's limit on choices per request
NO_KEY_HINT = (  # a twin lacking `answer_key: true` fails on real task items: the sim's message alone misled
    "serve-sim got no answer key for `{model}`. If this is a task item, mark the pool entry that points at "
    "serve-sim `answer_key: true` (rolegraph sends the item's answer key only to such entries, on loopback). "
    "The model's refusal: {refusal}"
)
TRUNCATED_BODY = b'{"id":"chatcmpl-cut","object":"chat.completion","created":0,"choices":[{"index":0,"message":{"ro'


@dataclass
class ServerStats:
    """What the server saw: lets tests prove a cached call never reached it."""

    requests: int = 0
    completions: int = 0
    faults: Counter = field(default_factory=Counter)


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content=body, status_code=status, media_type=JSON_TYPE, headers=headers)


def _error(
    status: int,
    message: str,
    kind: str = "invalid_request_error",
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return _json({"error": {"message": message, "type": kind, "param": None, "code": code}}, status, headers)


class _DroppedResponse(Response):
    """Sends the status line and headers, then nothing: uvicorn closes the connection mid-response."""

    async def __call__(self, scope, receive, send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", JSON_TYPE.encode()), (b"content-length", b"1024")],
            }
        )


def serve_sim_mark(fingerprint: str) -> dict[str, Any]:
    """The mark serve-sim puts on every chat completion it returns (top-level field `rolegraph`): clients
    label what they got from it simulated, whatever their pool says (more keys may join it)."""
    return {"simulated": True, "fingerprint": fingerprint}


def _choice(out: Completion, index: int, logprobs: bool = False) -> dict:
    message: dict[str, Any] = {"role": "assistant", "content": out.text}
    finish = out.finish_reason  # "length" when the sim cut the reply at the request's max_tokens
    if out.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in out.tool_calls
        ]
        if finish == "stop":
            finish = "tool_calls"
    return {
        "index": index,
        "message": message,
        "finish_reason": finish,
        "logprobs": openai_logprobs(out) if logprobs else None,
    }


def _completion_payload(
    out: Completion | list[Completion],
    model: str,
    request_id: str,
    fingerprint: str,
    choices: bool = True,
    world: int | None = None,
    logprobs: bool = False,
) -> dict:
    """A chat completion; a list of completions (a request with `n`) gives one choice each, the prompt counted once
    (as the OpenAI API bills it) and each choice's output tokens in the extra field `choice_tokens`."""
    outs = out if isinstance(out, list) else [out]
    prompt = outs[0].usage.input_tokens
    completion = sum(o.usage.output_tokens for o in outs)
    extra: dict[str, Any] = {**serve_sim_mark(fingerprint), "modelled_latency_s": max(o.latency_s for o in outs)}
    if len(outs) > 1:
        extra["choice_tokens"] = [o.usage.output_tokens for o in outs]
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": OWNER,
        "choices": [_choice(o, i, logprobs) for i, o in enumerate(outs)] if choices else [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        EXTRA_FIELD: extra | ({"world": world} if world is not None else {}),
    }


def request_samples(extra: Any, n: int) -> list[int]:
    """The sample index of each of the n choices: the extra field's `samples` (one per choice), else the
    request's `sample` and the n - 1 after it. Choice i is then exactly the reply to a request with sample i."""
    extra = extra if isinstance(extra, dict) else {}
    listed = extra.get("samples")
    if isinstance(listed, list) and len(listed) == n:
        return [int(s) for s in listed]
    first = int(extra.get("sample", 0))
    return [first + i for i in range(n)]


class ServedModels(Protocol):
    """What serve-sim serves: the specs (it answers for the sim ones) and the world they live in.

    A `rolegraph.models.pool.ModelPool` is one; the server asks no more of it, so the simulator does not
    import the pool (models sits above sim: the pool places its specs in sim worlds)."""

    @property
    def world(self) -> int: ...

    def __iter__(self) -> Iterator[ModelSpec]: ...


class _SimService:
    """The app's state: the sim models by every name a client may use, the fault plan, the stats."""

    def __init__(self, pool: ServedModels, settings: Settings, faults: FaultConfig | None):
        self.settings = settings
        self.faults = faults
        self.plan = FaultPlan(faults)
        self.stats = ServerStats()
        self.fingerprint = sim_fingerprint()  # of the simulator answering here: one per server
        self.specs: dict[str, ModelSpec] = {}
        for spec in pool:
            if spec.backend == "sim":
                self.specs.setdefault(spec.id, spec)
        for spec in list(self.specs.values()):
            self.specs.setdefault(spec.api_name, spec)
        self.world = pool.world
        self._models: dict[str, ChatModel] = {}

    def model(self, spec: ModelSpec) -> ChatModel:
        if spec.id not in self._models:
            from rolegraph.sim.model import SimChatModel

            # log-probabilities are always computed (their own draws: no answer changes) and sent when asked
            self._models[spec.id] = SimChatModel(spec.model_copy(update={"logprobs": True}), self.settings)
        return self._models[spec.id]

    def listing(self) -> dict:
        windows = {s.id: s.context_window for s in self.specs.values()}  # vLLM's `max_model_len`: clients size to it
        data = [
            {"id": i, "object": "model", "created": 0, "owned_by": OWNER} | ({"max_model_len": w} if w else {})
            for i, w in sorted(windows.items())
        ]
        return {"object": "list", "data": data, EXTRA_FIELD: {"simulated": True, "world": self.world}}

    @staticmethod
    async def _hang(request: Request, seconds: float) -> None:
        """Hold the request for `seconds`, or until the client gives up and disconnects."""

        async def disconnected() -> None:
            while (await request.receive())["type"] != "http.disconnect":
                pass

        try:
            await asyncio.wait_for(disconnected(), seconds)
        except TimeoutError:
            pass

    async def fault_response(self, kind: str, request: Request) -> Response:
        cfg = self.faults
        assert cfg is not None
        if kind == "429":
            wait = cfg.retry_after_s
            return _error(
                429,
                "Rate limit reached (injected fault). Retry later.",
                "rate_limit_error",
                "rate_limit_exceeded",
                headers={"retry-after": str(math.ceil(wait)), "retry-after-ms": str(int(wait * 1000))},
            )
        if kind in ("500", "503"):
            return _error(int(kind), f"Injected server error {kind}.", "server_error")
        if kind == "timeout":
            await self._hang(request, cfg.timeout_s)
            return _error(504, "Injected timeout.", "server_error")
        if kind == "reset":
            return _DroppedResponse()
        if kind == "garbage":
            return Response(content=GARBAGE_BODY, status_code=200, media_type="text/html")
        if kind == "truncated":
            return Response(content=TRUNCATED_BODY, status_code=200, media_type=JSON_TYPE)
        return _json(
            _completion_payload(
                Completion(text="", model_id="empty"), "empty", "chatcmpl-empty", self.fingerprint, choices=False
            )
        )

    async def chat(self, request: Request) -> Response:
        self.stats.requests += 1
        try:
            raw = await request.body()
        except ClientDisconnect:  # the client gave up before sending its body: nobody to answer
            return Response(status_code=499)
        fault = self.plan.next_fault()
        if fault is not None:
            self.stats.faults[fault] += 1
            return await self.fault_response(fault, request)
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "request body is not valid JSON")
        except RecursionError:
            return _error(400, "request body is nested too deeply")
        if not isinstance(body, dict):
            return _error(400, "request body must be a JSON object")
        if body.get("stream"):
            return _error(400, "streaming is not supported by serve-sim; send stream=false")
        name = body.get("model")
        spec = self.specs.get(name) if isinstance(name, str) else None
        if spec is None:
            known = ", ".join(sorted({s.id for s in self.specs.values()}))
            return _error(
                404, f"The model `{name}` does not exist on serve-sim. Known: {known}.", code="model_not_found"
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return _error(400, "'messages' must be a non-empty list")
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or not isinstance(m.get("role"), str):
                return _error(400, f"messages[{i}] must be an object with a string 'role'")
            content = m.get("content")
            if isinstance(content, list):  # text parts, as the OpenAI API takes them: the sim reads one string
                texts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
                if len(texts) != len(content) or any(p.get("type") != "text" for p in content):
                    return _error(400, f"messages[{i}].content: only text parts are supported")
                m["content"] = "\n".join(texts)
            elif not isinstance(content, str | None):
                return _error(400, f"messages[{i}].content must be a string, a list of text parts or null")
        extra = body.get(EXTRA_FIELD) or {}
        try:
            raw_key = extra.get("answer_key") if isinstance(extra, dict) else None
            answer_key = AnswerKey.model_validate(raw_key) if raw_key is not None else None
            n = body.get("n", 1)
            n = 1 if n is None else n
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
                return _error(400, f"'n' must be an integer between 1 and {MAX_N}, got {n!r}", code="invalid_n")
            samples = request_samples(extra, n)
            temp = body.get("temperature")  # null means the default, as the OpenAI API reads it
            temperature = DEFAULT_TEMPERATURE if temp is None else float(temp)
            max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or DEFAULT_CALL_MAX_TOKENS)
            seed = int(body.get("seed") or 0)
        except (ValidationError, TypeError, ValueError, OverflowError) as exc:  # OverflowError: `"seed": 1e400`
            return _error(400, f"bad request field: {str(exc).splitlines()[0]}")
        tools = body.get("tools") or None
        try:
            model = self.model(spec)
            outs = [
                await model.complete(
                    messages,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    seed=seed,
                    tools=tools,
                    sample=sample,
                    answer_key=answer_key,
                )
                for sample in samples
            ]
        except NoAnswerKeyError as exc:
            return _error(400, NO_KEY_HINT.format(model=spec.id, refusal=exc), code="no_answer_key")
        except RolegraphError as exc:
            return _error(400, str(exc))
        self.stats.completions += len(outs)
        payload = _completion_payload(
            outs if n > 1 else outs[0],
            spec.id,
            f"chatcmpl-sim-{self.stats.requests}",
            self.fingerprint,
            world=spec.world,
            logprobs=body.get("logprobs") is True,
        )
        return _json(payload)


def create_app(pool: ServedModels, settings: Settings, faults: FaultConfig | None = None) -> FastAPI:
    """The ASGI app. `app.state.stats` (a `ServerStats`) counts requests, completions and faults."""
    service = _SimService(pool, settings, faults)
    app = FastAPI(title="rolegraph serve-sim (simulated models)", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.service = service
    app.state.stats = service.stats

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:  # OpenAI-style, not FastAPI's
        message = "unknown path" if exc.status_code == 404 else str(exc.detail)
        return _error(exc.status_code, f"{message}: {request.method} {request.url.path}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:  # a bug: still JSON, not plain text
        return _error(500, f"serve-sim internal error: {type(exc).__name__}", "server_error")

    @app.get("/v1/models")
    async def list_models() -> Response:
        return _json(service.listing())

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await service.chat(request)

    return app
