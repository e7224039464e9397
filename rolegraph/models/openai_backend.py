"""The OpenAI-compatible backend: any `/v1/chat/completions` server (OpenAI, vLLM, Ollama, llama.cpp
server, LM Studio, OpenRouter, or rolegraph's own serve-sim) through `openai.AsyncOpenAI`.

The client's own retries are off (`max_retries=0`) so that one policy, ours, decides: transient
failures (429 with its Retry-After, 5xx, timeouts, dropped connections, malformed bodies) are retried
with capped exponential backoff; any other 4xx is the caller's mistake and fails at once.

Requests go through the client's public `post` with the finished JSON body (exactly what
`chat.completions.create` sends for these fields: tests compare the two), and the reply is read as
JSON: `create` walks every message through the SDK's TypedDict transform (the identity on plain chat
messages and tool schemas) and builds a `ChatCompletion` model that would only be read back here;
together they cost about as much CPU per call as the rest of the client's request path.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from rolegraph.errors import MissingKeyError, RolegraphError
from rolegraph.items import AnswerKey
from rolegraph.models.spec import ModelSpec
from rolegraph.models.types import Completion, Message, ToolCall, Usage, finish_reason_of
from rolegraph.settings import Settings

DEFAULT_TIMEOUT_S = 120.0
MAX_ATTEMPTS = 6
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 20.0
RETRY_AFTER_CAP_S = 60.0
PLACEHOLDER_KEY = "not-needed"  # local servers ignore the key, but the client insists on one
EXTRA_FIELD = "rolegraph"  # the sim's answer key in requests (serve-sim twins only); serve-sim's mark in replies
CHAT_PATH = "/chat/completions"
CHARS_PER_TOKEN = 4  # usage estimate when a server omits `usage`
MAX_MESSAGE_CHARS = 400
RETRYABLE_4XX = frozenset({408, 429})  # request timeout, rate limit
STREAM_USAGE = {"include_usage": True}  # ask for the token counts in the stream's last chunk
_KEY_LIKE = re.compile(r"\b(sk|key|rk)-[A-Za-z0-9_\-*.]{6,}")

Sleep = Callable[[float], Awaitable[None]]


class ModelCallError(RolegraphError):
    """A model call failed for good: a non-retryable status, or every attempt failed."""


class MalformedResponseError(Exception):
    """The server answered 200 with something that is not a usable chat completion (retryable)."""


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (openai.APIConnectionError, MalformedResponseError)):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_4XX or exc.status_code >= 500
    return False


def retry_after_s(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (`retry-after-ms`, or `Retry-After` as seconds or an HTTP date)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    try:
        if ms is not None:
            return max(0.0, float(ms) / 1000)
    except ValueError:
        pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def tool_schema(tool: dict) -> dict:
    """An OpenAI tool schema: pass `{"type": "function", ...}` through, wrap a bare function description."""
    if tool.get("type") == "function":
        return tool
    return {"type": "function", "function": tool}


def _served(data: dict[str, Any]) -> dict[str, Any]:
    """What the reply says answered: the server's `model` field, and serve-sim's mark on its own bodies
    (`"rolegraph": {"simulated": true, "fingerprint": ...}`); any other reply is real."""
    mark = data.get(EXTRA_FIELD)
    mark = mark if isinstance(mark, dict) else {}
    fingerprint = mark.get("fingerprint")
    served = data.get("model")
    return {
        "simulated": mark.get("simulated") is True,
        "served_model": served if isinstance(served, str) else None,
        "sim_fingerprint": fingerprint if isinstance(fingerprint, str) else None,
    }


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // CHARS_PER_TOKEN) if text else 0


class _StreamAccumulator:
    """Builds the finished Completion of a streamed reply from its chunks (text, tool calls, usage)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.finish: str | None = None
        self.usage: Any = None

    def add(self, chunk: Any) -> str:
        if getattr(chunk, "usage", None) is not None:
            self.usage = chunk.usage
        text = ""
        for choice in chunk.choices or []:
            delta = choice.delta
            if delta is not None and delta.content:
                text += delta.content
            for tc in (delta.tool_calls if delta is not None else None) or []:
                entry = self.calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] = tc.id or entry["id"]
                if tc.function is not None:
                    entry["name"] += tc.function.name or ""
                    entry["arguments"] += tc.function.arguments or ""
            self.finish = choice.finish_reason or self.finish
        self.parts.append(text)
        return text

    def completion(self, model: OpenAIChatModel, messages: list[Message], latency: float) -> Completion:
        text = "".join(self.parts)
        if self.usage is not None:
            n_in, n_out = self.usage.prompt_tokens or 0, self.usage.completion_tokens or 0
        else:  # a server that ignores stream_options
            n_in = sum(_estimate_tokens(str(m.get("content") or "")) for m in messages)
            n_out = _estimate_tokens(text)
        return Completion(
            text=text,
            tool_calls=[ToolCall(**self.calls[i]) for i in sorted(self.calls)],
            usage=Usage(input_tokens=n_in, output_tokens=n_out),
            latency_s=latency,
            model_id=model.spec.id,
            cost_usd=model.spec.cost(n_in, n_out),
            simulated=model.spec.answer_key,
            finish_reason=finish_reason_of(self.finish),
        )


class OpenAIChatModel:
    """A `ChatModel` over one OpenAI-compatible endpoint, with retries and a per-model concurrency cap.

    The client and the semaphore are created lazily inside the running event loop (and recreated if a
    later call runs in another loop), because both bind to the loop that first uses them.
    """

    def __init__(
        self,
        spec: ModelSpec,
        settings: Settings,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base_s: float = BACKOFF_BASE_S,
        backoff_cap_s: float = BACKOFF_CAP_S,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
        sleep: Sleep | None = None,
    ):
        self.spec = spec
        self.settings = settings
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.retry_after_cap_s = retry_after_cap_s
        self._sleep: Sleep = sleep or asyncio.sleep
        if spec.api_key_env is None:
            self._api_key = PLACEHOLDER_KEY
        else:
            key = os.environ.get(spec.api_key_env)
            if not key:
                raise MissingKeyError(
                    f"model '{spec.id}' needs an API key: set the environment variable {spec.api_key_env}"
                )
            self._api_key = key
        self._state: tuple[asyncio.AbstractEventLoop, openai.AsyncOpenAI, asyncio.Semaphore] | None = None

    @property
    def model_id(self) -> str:
        return self.spec.id

    def _loop_state(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._state is None or self._state[0] is not loop:
            client = openai.AsyncOpenAI(
                base_url=self.spec.base_url, api_key=self._api_key, max_retries=0, timeout=self.timeout_s
            )
            self._state = (loop, client, asyncio.Semaphore(self.spec.max_concurrency))
        return self._state[1], self._state[2]

    def _wait(self, attempt: int, exc: BaseException) -> float:
        """Seconds before attempt `attempt + 1`: the server's Retry-After (capped), else capped backoff."""
        asked = retry_after_s(exc) if isinstance(exc, openai.APIStatusError) else None
        if asked is not None:
            return min(asked, self.retry_after_cap_s)
        return min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1))

    def _request(
        self,
        messages: list[Message],
        temperature: float,
        max_tokens: int,
        seed: int,
        tools: list[dict] | None,
        sample: int,
        answer_key: AnswerKey | None,
    ) -> dict[str, Any]:
        """The JSON body of the call (the fields `create` would send, plus the sim's extra field)."""
        body: dict[str, Any] = {
            "model": self.spec.api_name,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "seed": seed,
        }
        if tools:
            body["tools"] = [tool_schema(t) for t in tools]
        if self.spec.answer_key:  # only serve-sim specs: a real server must never see the answer key
            extra: dict[str, Any] = {"sample": sample}
            if answer_key is not None:
                extra["answer_key"] = answer_key.model_dump()
            body[EXTRA_FIELD] = extra
        return body

    @staticmethod
    async def _attempt(client: openai.AsyncOpenAI, body: dict[str, Any]) -> dict[str, Any]:
        """One request. Returns the completion's JSON as it came (`cast_to=object`): the SDK still raises
        its status and connection errors, but builds no response model only to have it read back."""
        try:  # the options `create` passes: bearer auth
            data = await client.post(CHAT_PATH, cast_to=object, body=body, options={"security": {"bearer_auth": True}})
        except json.JSONDecodeError as exc:  # declared JSON, body cut or garbled
            raise MalformedResponseError(f"body is not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):  # the client hands back raw text for non-JSON bodies
            raise MalformedResponseError("body is not a chat completion")
        choices = data.get("choices")
        if (
            not choices
            or not isinstance(choices, list)
            or not isinstance(choices[0], dict)
            or not isinstance(choices[0].get("message"), dict)
        ):
            raise MalformedResponseError("completion has no choices")
        return data

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            if status in (401, 403):
                env = self.spec.api_key_env or "the key variable"
                return f"HTTP {status}: authentication failed (check {env})"
            detail = exc.message
            body = exc.body
            if isinstance(body, dict):
                inner = body.get("error", body)
                if isinstance(inner, dict) and isinstance(inner.get("message"), str):
                    detail = inner["message"]
            return f"HTTP {status}: {self._scrub(detail)}"
        if isinstance(exc, openai.APITimeoutError):
            return f"timed out after {self.timeout_s:g} s"
        if isinstance(exc, openai.APIConnectionError):
            return "connection failed or dropped"
        return self._scrub(str(exc)) or type(exc).__name__

    def _scrub(self, text: str) -> str:
        """One line, short, with anything key-like removed: keys never reach messages or logs."""
        text = " ".join(str(text).split())
        if self._api_key and self._api_key != PLACEHOLDER_KEY:
            text = text.replace(self._api_key, "***")
        text = _KEY_LIKE.sub("***", text)
        return text[:MAX_MESSAGE_CHARS]

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int = 0,
        tools: list[dict] | None = None,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> Completion:
        client, semaphore = self._loop_state()
        body = self._request(messages, temperature, max_tokens, seed, tools, sample, answer_key)
        async with semaphore:
            started = time.perf_counter()
            resp = await self._with_retries(client, body)
            latency = time.perf_counter() - started
        return self._completion(resp, messages, latency)

    async def _with_retries(self, client: openai.AsyncOpenAI, body: dict[str, Any]) -> dict[str, Any]:
        """Up to `max_attempts` attempts; only transient failures are retried (a plain loop: a retry
        library's per-call bookkeeping costs more than the happy path's whole request building)."""
        attempt = 1
        while True:
            try:
                return await self._attempt(client, body)
            except Exception as exc:
                transient = _is_transient(exc)
                if transient and attempt < self.max_attempts:
                    await self._sleep(self._wait(attempt, exc))
                    attempt += 1
                    continue
                if not isinstance(exc, (openai.OpenAIError, MalformedResponseError)):
                    raise
                tail = f" after {attempt} attempts" if transient else ""
                raise ModelCallError(f"model '{self.spec.id}' call failed{tail}: {self._describe(exc)}") from None

    def _completion(self, data: dict[str, Any], messages: list[Message], latency: float) -> Completion:
        choice = data["choices"][0]
        message = choice["message"]
        text = message.get("content") or ""
        calls = [
            ToolCall(id=c.get("id"), name=fn.get("name"), arguments=fn.get("arguments") or "")
            for c in (message.get("tool_calls") or [])
            if isinstance(c, dict) and isinstance(fn := c.get("function"), dict)
        ]
        usage = data.get("usage")
        if isinstance(usage, dict):
            n_in, n_out = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
        else:
            n_in = sum(_estimate_tokens(str(m.get("content") or "")) for m in messages)
            n_out = _estimate_tokens(text)
        return Completion(
            text=text,
            tool_calls=calls,
            usage=Usage(input_tokens=n_in, output_tokens=n_out),
            latency_s=latency,
            model_id=self.spec.id,
            cost_usd=self.spec.cost(n_in, n_out),
            **_served(data),
            finish_reason=finish_reason_of(choice.get("finish_reason")),
        )

    async def stream(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int = 0,
        tools: list[dict] | None = None,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> AsyncIterator[str | Completion]:
        """`complete` with `stream: true`: text deltas as the server sends them, then the Completion.

        Opening the stream is retried like a call (transient failures, Retry-After); once text has been
        handed on, a failure is final (`ModelCallError`): the reader already has part of the reply.
        """
        client, semaphore = self._loop_state()
        body = self._request(messages, temperature, max_tokens, seed, tools, sample, answer_key)
        extra = body.pop(EXTRA_FIELD, None)
        async with semaphore:
            started = time.perf_counter()
            chunks = await self._open_stream(client, body, extra)
            acc = _StreamAccumulator()
            try:
                async for chunk in chunks:
                    piece = acc.add(chunk)
                    if piece:
                        yield piece
            except openai.OpenAIError as exc:
                raise ModelCallError(f"model '{self.spec.id}' stream failed: {self._describe(exc)}") from None
            finally:
                await chunks.close()
            latency = time.perf_counter() - started
        yield acc.completion(self, messages, latency)

    async def _open_stream(self, client: openai.AsyncOpenAI, body: dict[str, Any], extra: dict | None) -> Any:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(self.max_attempts),
            wait=lambda state: self._wait(state.attempt_number, state.outcome.exception()),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await client.chat.completions.create(
                        **body, stream=True, stream_options=STREAM_USAGE, extra_body=extra
                    )
        except openai.OpenAIError as exc:
            raise ModelCallError(f"model '{self.spec.id}' call failed: {self._describe(exc)}") from None
        raise AssertionError("unreachable: the retry loop returns or raises")

    async def aclose(self) -> None:
        """Close the HTTP client if it belongs to the running loop (a dead loop's client is just dropped)."""
        state, self._state = self._state, None
        if state is None:
            return
        loop, client, _ = state
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            await client.close()
