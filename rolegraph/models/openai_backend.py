"""The OpenAI-compatible backend: any `/v1/chat/completions` server (OpenAI, vLLM, Ollama, llama.cpp
server, LM Studio, OpenRouter, or rolegraph's own serve-sim) through `openai.AsyncOpenAI`.

The client's own retries are off (`max_retries=0`) so that one policy, ours (tenacity's
`AsyncRetrying`), decides: transient failures (429 with its Retry-After, 5xx, timeouts, dropped
connections, malformed bodies) are retried with capped exponential backoff; any other 4xx is the
caller's mistake and fails at once (a 400 "context exceeded" included: asking again cannot fit it).

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
import logging
import os
import re
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import openai
from openai.types.chat import ChatCompletionStreamOptionsParam
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

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
STREAM_USAGE: ChatCompletionStreamOptionsParam = {
    "include_usage": True
}  # ask for the token counts in the stream's last chunk
SEED_MASK = 0x7FFFFFFF  # seeds stay non-negative 31-bit integers, which every server accepts
N_REFUSED = frozenset({400, 422})  # how servers without `n` refuse it (llama.cpp: "Field 'n': Value must be ...")
_KEY_LIKE = re.compile(r"\b(sk|key|rk)-[A-Za-z0-9_\-*.]{6,}")

Sleep = Callable[[float], Awaitable[None]]


class ModelCallError(RolegraphError):
    """A model call failed for good: a non-retryable status, or every attempt failed.

    `status` is the HTTP status (None without a response); `cause` a short category (`FailureCause`)
    so callers can tell a prompt that does not fit (`context`, final: asking again cannot help) from an
    unreachable endpoint or a bad key without parsing the message."""

    def __init__(self, message: str, *, status: int | None = None, cause: str = "error"):
        super().__init__(message)
        self.status = status
        self.cause = cause


class MalformedResponseError(Exception):
    """The server answered 200 with something that is not a usable chat completion (retryable)."""


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (openai.APIConnectionError, MalformedResponseError)):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_4XX or exc.status_code >= 500
    return False


CONTEXT_CODES = frozenset({"context_length_exceeded", "exceed_context_size_error", "context_window_exceeded"})
"""Error codes/types servers give a prompt that does not fit: OpenAI, llama.cpp's server, others."""
_CONTEXT_TEXT = re.compile(r"context (length|size|window)|maximum context|too many tokens|prompt is too long", re.I)
CONTEXT_STATUSES = frozenset({400, 413, 422})


def _error_fields(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.body
    inner = body.get("error", body) if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


def is_context_exceeded(exc: BaseException) -> bool:
    """The server refused the request because prompt (+ max_tokens) exceeds the model's context."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in CONTEXT_STATUSES:
        return False
    fields = _error_fields(exc)
    if {str(fields.get("code")), str(fields.get("type"))} & CONTEXT_CODES:
        return True
    return bool(_CONTEXT_TEXT.search(str(fields.get("message") or exc.message)))


def _refused(exc: BaseException) -> bool:
    """A connection error whose root is a refused TCP connection (nothing listens at the address)."""
    seen: BaseException | None = exc
    for _ in range(8):  # the chain: openai.APIConnectionError <- httpx.ConnectError <- OSError
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError) or "connection refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def failure_cause(exc: BaseException) -> str:
    """A short category of a failed call: refused, connection, timeout, auth, context, http, malformed."""
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "refused" if _refused(exc) else "connection"
    if isinstance(exc, MalformedResponseError):
        return "malformed"
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (401, 403):
            return "auth"
        return "context" if is_context_exceeded(exc) else "http"
    return "error"


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


def _prompt_estimate(messages: list[Message]) -> int:
    return sum(_estimate_tokens(str(m.get("content") or "")) for m in messages)


def request_seed(seed: int, sample: int) -> int:
    """The seed a real server gets: the run's seed mixed with the node's sample index (sample 0: the seed itself).

    Servers that honour `seed` (llama.cpp, vLLM) answer identical requests with an identical seed identically, so
    k nodes of one model over the same messages would all say the same thing and a vote would be one sample k
    times; each sample index gets its own seed instead. (serve-sim reads the sample index itself.)"""
    if sample == 0:
        return seed
    return zlib.crc32(f"{seed}:{sample}".encode()) & SEED_MASK


def split_total(total: int | None, weights: list[int]) -> list[int]:
    """`total` shared out in proportion to `weights` (whole tokens, summing to `total`); the weights themselves
    when the total is unknown."""
    if total is None:
        return list(weights)
    scale = sum(weights)
    if scale <= 0:
        weights, scale = [1] * len(weights), len(weights)
    shares = [total * w // scale for w in weights]
    for i in range(total - sum(shares)):
        shares[i % len(shares)] += 1
    return shares


def mean_logprob(raw: object) -> float | None:
    """The mean token log-probability of an OpenAI `logprobs` object (`{"content": [{"logprob": x}, ...]}`)."""
    content = raw.get("content") if isinstance(raw, dict) else None
    if not isinstance(content, list):
        return None
    values = [float(t["logprob"]) for t in content if isinstance(t, dict) and isinstance(t.get("logprob"), int | float)]
    return sum(values) / len(values) if values else None


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
        self.n_support: bool | None = None
        """Whether the endpoint returns k choices for `n=k` (None: not tried yet; see `complete_n`)."""

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
            "seed": seed if self.spec.answer_key else request_seed(seed, sample),
        }
        if tools:
            body["tools"] = [tool_schema(t) for t in tools]
        if self.spec.logprobs:
            body["logprobs"] = True
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
            message = _error_fields(exc).get("message")
            if isinstance(message, str):
                detail = message
            if is_context_exceeded(exc):
                return f"HTTP {status}: context exceeded: {self._scrub(detail)}"
            return f"HTTP {status}: {self._scrub(detail)}"
        if isinstance(exc, openai.APITimeoutError):
            return f"timed out after {self.timeout_s:g} s"
        if isinstance(exc, openai.APIConnectionError):
            if _refused(exc):
                return f"connection refused at {self.spec.base_url} (is the server running?)"
            return f"connection to {self.spec.base_url} failed or dropped"
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
        response_format: dict | None = None,
    ) -> Completion:
        client, semaphore = self._loop_state()
        body = self._request(messages, temperature, max_tokens, seed, tools, sample, answer_key)
        if response_format is not None:
            body["response_format"] = response_format
        async with semaphore:
            started = time.perf_counter()
            resp = await self._with_retries(client, body)
            latency = time.perf_counter() - started
        return self._completion(resp, messages, latency)

    async def _with_retries(self, client: openai.AsyncOpenAI, body: dict[str, Any]) -> dict[str, Any]:
        """Up to `max_attempts` attempts under tenacity's `AsyncRetrying`: only transient failures are
        retried, after the server's Retry-After (capped) or capped exponential backoff. A fresh retrying
        object per call: tenacity keeps per-call iteration state on the object (thread-local, so shared
        by every coroutine of this loop), and one costs ~14 us against ~1 ms of CPU per item."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait_for,
            retry=retry_if_exception(_is_transient),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return await retrying(self._attempt, client, body)
        except (openai.OpenAIError, MalformedResponseError) as exc:
            attempts = int(retrying.statistics.get("attempt_number", 1))
            tail = f" after {attempts} attempts" if _is_transient(exc) else ""
            raise ModelCallError(
                f"model '{self.spec.id}' call failed{tail}: {self._describe(exc)}",
                status=getattr(exc, "status_code", None),
                cause=failure_cause(exc),
            ) from None

    def _wait_for(self, state: RetryCallState) -> float:
        """tenacity's wait hook: the failed attempt's number and exception decide the wait."""
        exc = state.outcome.exception() if state.outcome is not None else None
        return self._wait(state.attempt_number, exc) if exc is not None else self.backoff_base_s

    def _completion(self, data: dict[str, Any], messages: list[Message], latency: float) -> Completion:
        usage = data.get("usage")
        choice = data["choices"][0]
        if isinstance(usage, dict):
            n_in, n_out = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
        else:
            n_in = _prompt_estimate(messages)
            n_out = _estimate_tokens(choice["message"].get("content") or "")
        return self._choice(choice, n_in, n_out, latency, data)

    def _choice(
        self, choice: dict[str, Any], n_in: int, n_out: int, latency: float, data: dict[str, Any]
    ) -> Completion:
        message = choice["message"]
        text = message.get("content") or ""
        calls = [
            ToolCall.model_validate({"id": c.get("id"), "name": fn.get("name"), "arguments": fn.get("arguments") or ""})
            for c in (message.get("tool_calls") or [])
            if isinstance(c, dict) and isinstance(fn := c.get("function"), dict)
        ]
        return Completion(
            text=text,
            tool_calls=calls,
            usage=Usage(input_tokens=n_in, output_tokens=n_out),
            latency_s=latency,
            model_id=self.spec.id,
            cost_usd=self.spec.cost(n_in, n_out),
            **_served(data),
            finish_reason=finish_reason_of(choice.get("finish_reason")),
            logprob=mean_logprob(choice.get("logprobs")),
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
            wait=self._wait_for,
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

    async def complete_n(
        self,
        messages: list[Message],
        *,
        samples: Sequence[int],
        temperature: float = 0.0,
        max_tokens: int = 512,
        seed: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> list[Completion]:
        """k samples of one call as one request with `n=k`, where the endpoint supports it.

        Support is learnt on the first try and kept (`n_support`): a 400/422 to the first `n` request, or fewer
        than k choices back (llama-cpp-python returns one), switches this model to k plain requests for good;
        choices that did come back are used. The prompt is billed once per request, so its tokens are shared
        among the k completions; each choice keeps its own output tokens.
        """
        samples = list(samples)
        kwargs: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
        if len(samples) < 2 or self.n_support is False:
            return await self._separately(messages, samples, answer_key, kwargs)
        client, semaphore = self._loop_state()
        body = self._request(messages, temperature, max_tokens, seed, None, samples[0], answer_key)
        body["n"] = len(samples)
        if EXTRA_FIELD in body:
            body[EXTRA_FIELD]["samples"] = samples
        try:
            async with semaphore:  # released before any fallback: those calls take the semaphore themselves
                started = time.perf_counter()
                resp = await self._with_retries(client, body)
                latency = time.perf_counter() - started
        except ModelCallError as exc:
            # not yet known, or learnt meanwhile by a concurrent request that was refused first
            if self.n_support is not True and exc.status in N_REFUSED:
                self._no_n(f"it refused n={len(samples)} with HTTP {exc.status}")
                return await self._separately(messages, samples, answer_key, kwargs)
            raise
        got = self._choices(resp, messages, latency, len(samples))
        if len(got) >= len(samples):
            self.n_support = True
            return got[: len(samples)]
        self._no_n(f"it returned {len(got)} choice(s) for n={len(samples)}")
        rest = await self._separately(messages, samples[len(got) :], answer_key, kwargs)
        return got + rest

    def _no_n(self, why: str) -> None:
        """Learn that the endpoint has no `n`, and say so once (a fallback is never silent)."""
        if self.n_support is not False:
            logging.getLogger(__name__).warning(
                "model '%s' at %s does not take n (%s): its coalesced samples go as separate requests",
                self.spec.id,
                self.spec.base_url,
                why,
            )
        self.n_support = False

    async def _separately(
        self, messages: list[Message], samples: list[int], answer_key: AnswerKey | None, kwargs: dict[str, Any]
    ) -> list[Completion]:
        calls = (self.complete(messages, sample=s, answer_key=answer_key, **kwargs) for s in samples)
        return list(await asyncio.gather(*calls))

    def _choices(self, data: dict[str, Any], messages: list[Message], latency: float, k: int) -> list[Completion]:
        """The completions of an `n` reply: the prompt's tokens shared out, each choice's own output tokens (the
        server's per-choice counts when it gives them, else its total split by reply length)."""
        choices = [c for c in data["choices"] if isinstance(c, dict) and isinstance(c.get("message"), dict)]
        choices.sort(key=lambda c: c.get("index", 0) if isinstance(c.get("index"), int) else 0)
        choices = choices[:k]
        texts = [c["message"].get("content") or "" for c in choices]
        raw_usage = data.get("usage")
        usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
        n_in = usage.get("prompt_tokens") or _prompt_estimate(messages)
        extra = data.get(EXTRA_FIELD)
        per_choice = extra.get("choice_tokens") if isinstance(extra, dict) else None
        if isinstance(per_choice, list) and len(per_choice) >= len(choices):
            outs = [int(t) for t in per_choice[: len(choices)]]
        else:
            outs = split_total(usage.get("completion_tokens"), [_estimate_tokens(t) for t in texts])
        ins = split_total(n_in, [1] * len(choices))
        return [self._choice(c, i, o, latency, data) for c, i, o in zip(choices, ins, outs)]

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
