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
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.requests import ClientDisconnect

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import ChatModel, Completion
from rolegraph.errors import NoAnswerKeyError, RolegraphError
from rolegraph.items import AnswerKey
from rolegraph.settings import Settings
from rolegraph.sim.confidence import openai_logprobs
from rolegraph.sim.faults import FaultConfig, FaultPlan, quiet_injected_resets
from rolegraph.sim.fingerprint import sim_fingerprint

JSON_TYPE = "application/json"
EXTRA_FIELD = "rolegraph"
OWNER = "rolegraph-sim"
DEFAULT_TEMPERATURE = 1.0  # the OpenAI API's default when a request omits it
DEFAULT_MAX_TOKENS = 512
STARTUP_TIMEOUT_S = 15.0
GRACEFUL_SHUTDOWN_S = 1
GARBAGE_BODY = b"<html><body><h1>502 Bad Gateway</h1>upstream hiccup</body></html>"
MAX_N = 128  # the OpenAI API's limit on choices per request
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
        ids = sorted({s.id for s in self.specs.values()})
        data = [{"id": i, "object": "model", "created": 0, "owned_by": OWNER} for i in ids]
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
        extra = body.get(EXTRA_FIELD) or {}
        try:
            raw_key = extra.get("answer_key") if isinstance(extra, dict) else None
            answer_key = AnswerKey.model_validate(raw_key) if raw_key is not None else None
            n = body.get("n", 1)
            n = 1 if n is None else n
            if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_N:
                return _error(400, f"'n' must be an integer between 1 and {MAX_N}, got {n!r}", code="invalid_n")
            samples = request_samples(extra, n)
            temperature = float(body.get("temperature", DEFAULT_TEMPERATURE))
            max_tokens = int(body.get("max_tokens") or body.get("max_completion_tokens") or DEFAULT_MAX_TOKENS)
            seed = int(body.get("seed") or 0)
        except (ValidationError, TypeError, ValueError) as exc:
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
            return _error(400, str(exc), code="no_answer_key")
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

    @app.get("/v1/models")
    async def list_models() -> Response:
        return _json(service.listing())

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        return await service.chat(request)

    return app


class ServerThread:
    """Runs an ASGI app under uvicorn in a background thread on a loopback port (0 = a free one).

    Use as a context manager; `.base_url` is the OpenAI-style base (`http://127.0.0.1:PORT/v1`).
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        lifespan: Literal["auto", "on", "off"] = "off",
    ):
        self.app = app
        self.lifespan = lifespan  # "on" runs the app's lifespan (rolegraph serve opens its graph there)
        self.host = host
        self.port = port
        self.log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> ServerThread:
        sock = socket.socket(
            socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
        )  # proto set: asyncio only enables TCP_NODELAY then
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        quiet_injected_resets()
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            log_config=None,
            access_log=False,
            lifespan=self.lifespan,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"serve-sim:{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"loopback server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT_S)
        self._server = self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
