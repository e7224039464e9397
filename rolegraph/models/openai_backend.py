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
import json
import os
import time
import zlib
from functools import partial
from typing import Any

import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from rolegraph.chat.spec import OPENAI_API_URL, ModelSpec, gold_for, public_url, url_secrets
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS, Completion, Message
from rolegraph.errors import MissingKeyError, one_line
from rolegraph.items import AnswerKey
from rolegraph.models.attempts import CALL_ATTEMPTS, SINGLE_ATTEMPT
from rolegraph.models.endpoint import split_query
from rolegraph.models.in_flight import sending
from rolegraph.models.key_scrub import KEY_LIKE, MIN_KEY_FRAGMENT, scrub_key
from rolegraph.models.openai_errors import (
    TIMED_OUT,
    MalformedResponseError,
    ModelCallError,
    Sleep,
    context_refused,
    error_fields,
    failure_cause,
    is_context_exceeded,
    is_refused,
    is_transient,
    retry_after_s,
)
from rolegraph.models.openai_replies import EXTRA_FIELD, mean_logprob, reply_completion, split_total
from rolegraph.models.openai_sampling import N_REFUSED, NSamplingMixin
from rolegraph.models.openai_stream import STREAM_USAGE, StreamingMixin
from rolegraph.models.timeouts import OwnBooks, TimeoutBooks, note_timed_out, request_body
from rolegraph.settings import Settings

__all__ = [  # names importers took from here before the streaming, n-sampling and error parts moved out
    "EXTRA_FIELD",
    "MIN_KEY_FRAGMENT",
    "N_REFUSED",
    "STREAM_USAGE",
    "MalformedResponseError",
    "ModelCallError",
    "OpenAIChatModel",
    "failure_cause",
    "is_context_exceeded",
    "mean_logprob",
    "request_seed",
    "retry_after_s",
    "scrub_key",
    "split_total",
    "tool_schema",
]

DEFAULT_TIMEOUT_S = 120.0  # per attempt; a pool entry's `timeout_s` overrides it
MAX_ATTEMPTS = 6  # a pool entry's `max_retries` overrides it (attempts = retries + 1)
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 20.0
RETRY_AFTER_CAP_S = 60.0
PLACEHOLDER_KEY = "not-needed"  # local servers ignore the key, but the client insists on one
CHAT_PATH = "/chat/completions"
MAX_MESSAGE_CHARS = 400
SEED_MASK = 0x7FFFFFFF  # seeds stay non-negative 31-bit integers, which every server accepts
NOT_FOUND = 404
NOT_FOUND_HINT = "no such path on the server: does base_url end with /v1?"


def tool_schema(tool: dict) -> dict:
    """An OpenAI tool schema: pass `{"type": "function", ...}` through, wrap a bare function description."""
    if tool.get("type") == "function":
        return tool
    return {"type": "function", "function": tool}


def request_seed(seed: int, sample: int) -> int:
    """The seed a real server gets: the run's seed mixed with the node's sample index (sample 0: the seed itself).

    Servers that honour `seed` (llama.cpp, vLLM) answer identical requests with an identical seed identically, so
    k nodes of one model over the same messages would all say the same thing and a vote would be one sample k
    times; each sample index gets its own seed instead. (serve-sim reads the sample index itself.)"""
    if sample == 0:
        return seed
    return zlib.crc32(f"{seed}:{sample}".encode()) & SEED_MASK


class OpenAIChatModel(StreamingMixin, NSamplingMixin):
    """A `ChatModel` over one OpenAI-compatible endpoint, with retries and a per-model concurrency cap.

    The client and the semaphore are created lazily inside the running event loop (and recreated if a
    later call runs in another loop), because both bind to the loop that first uses them.
    """

    def __init__(
        self,
        spec: ModelSpec,
        settings: Settings,
        *,
        timeout_s: float | None = None,
        max_attempts: int | None = None,
        backoff_base_s: float = BACKOFF_BASE_S,
        backoff_cap_s: float = BACKOFF_CAP_S,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
        sleep: Sleep | None = None,
    ):
        self.spec = spec
        self.settings = settings
        # an argument (tests) wins, then the pool entry, then the defaults
        self.timeout_s = timeout_s or spec.timeout_s or DEFAULT_TIMEOUT_S
        retries = spec.max_retries
        self.max_attempts = max_attempts or (retries + 1 if retries is not None else MAX_ATTEMPTS)
        self.endpoint = spec.endpoint or OPENAI_API_URL
        """Where calls go, always explicit: without it the client would read $OPENAI_BASE_URL or pick OpenAI."""
        self.shown_endpoint = public_url(self.endpoint) or "its base_url"
        """`endpoint` as messages say it: a base_url may carry credentials or a `?key=` (`public_url`)."""
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
        """Whether the endpoint returns k choices for `n=k` (None: not tried yet); `n_ok` and `n_max` say how far,
        learnt per endpoint by `complete_n` (openai_sampling): no shared defaults, so each model starts unknowing."""
        self.n_ok: int = 1
        """The largest `n` the endpoint has answered with all its choices (1: none yet)."""
        self.n_max: int | None = None
        """The largest `n` worth sending: None until one was refused or answered short (1: no `n` at all)."""
        self.stream_support: bool | None = None
        """Whether the endpoint streams (None: not tried yet; see `stream`)."""
        self.timeout_books: TimeoutBooks = OwnBooks()
        """Where its attempts abandoned at `timeout_s` are counted, said and held (`timeouts.py`): the hub's, once
        one wraps it (`hub._Guarded`), so a run says each model's once and its stats and dollar cap see them."""

    @property
    def model_id(self) -> str:
        return self.spec.id

    def _loop_state(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._state is None or self._state[0] is not loop:
            base_url, query = split_query(self.endpoint)  # the client would append paths after a query
            client = openai.AsyncOpenAI(
                base_url=base_url,
                default_query=query or None,
                api_key=self._api_key,
                max_retries=0,
                timeout=self.timeout_s,
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
        gold = gold_for(answer_key, self.spec)  # a real server must never see the answer key
        if self.spec.answer_key:  # the sim's field goes to serve-sim twins only (not even empty elsewhere)
            extra: dict[str, Any] = {"sample": sample}
            if gold is not None:
                extra["answer_key"] = gold.model_dump()
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
            message = error_fields(exc).get("message")
            if isinstance(message, str):
                detail = message
            if is_context_exceeded(exc):
                refused = context_refused(self._scrub(detail), self.spec.context_window, error_fields(exc))
                return f"HTTP {status}: {refused}"
            if status == NOT_FOUND and not isinstance(message, str):  # a route, not a model, was not found
                return f"HTTP {status} at {self.shown_endpoint}{CHAT_PATH}: {NOT_FOUND_HINT}"
            return f"HTTP {status}: {self._scrub(detail)}"
        if isinstance(exc, openai.APITimeoutError):
            return f"{TIMED_OUT} {self.timeout_s:g} s"
        if isinstance(exc, openai.APIConnectionError):
            if is_refused(exc):
                return f"connection refused at {self.shown_endpoint} (is the server running?)"
            return f"connection to {self.shown_endpoint} failed or dropped"
        return self._scrub(str(exc)) or type(exc).__name__

    def _scrub(self, text: str) -> str:
        """One line, short, with anything key-like removed: keys never reach messages or logs (nor does the
        base_url's userinfo or query, should a server quote the URL it was called at). Flattened before scrubbing,
        so a URL or key broken across lines is still found, and cut (`one_line`) after, so no fragment survives."""
        text = one_line(text, None)
        if self.endpoint != self.shown_endpoint:
            text = text.replace(self.endpoint, self.shown_endpoint)
            for secret in url_secrets(self.endpoint):
                if len(secret) >= MIN_KEY_FRAGMENT:  # a short user name ("u") would cut up ordinary words
                    text = text.replace(secret, "***")
        if self._api_key and self._api_key != PLACEHOLDER_KEY:
            text = scrub_key(text, self._api_key)
        text = KEY_LIKE.sub("***", text)
        return one_line(text, MAX_MESSAGE_CHARS)

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
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
            resp, latency = await self._timed_retries(client, body)
        return reply_completion(self.spec, resp, messages, latency)

    async def _timed_retries(self, client: openai.AsyncOpenAI, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """The reply and the seconds its own (successful) attempt took. Up to `max_attempts` attempts under
        tenacity's `AsyncRetrying`: only transient failures are retried, after the server's Retry-After
        (capped) or capped exponential backoff; a fresh retrying object per failed call (tenacity keeps per-call
        state on it, thread-local). The first attempt goes before tenacity is asked: a reply needs no retry
        decision, and an `AsyncRetrying` around it cost ~30 us CPU a call (`benchmarks throughput`, CPU-bound).
        A failed first attempt is tenacity's attempt 1 (replayed, not re-sent): retries, waits and errors as before.

        The latency is the answering attempt's alone (timings.sqlite's latency fit, the response cache): timed
        over all attempts, one rate-limited call's backoff made the model look seconds slower from then on."""
        seconds, tried, failed = [0.0], [0], list[Exception]()
        seen = CALL_ATTEMPTS.get()

        async def timed_attempt() -> dict[str, Any]:
            if failed:  # the first attempt's failure, replayed: tenacity's attempt 1
                raise failed.pop()
            started, tried[0] = time.perf_counter(), tried[0] + 1
            try:  # counted for a caller under `watch_attempts` (a timed-out attempt re-sent is not silent)
                with sending(retry=tried[0] > 1):  # on the wire: its caller's stop lets it finish (in_flight.py)
                    data = await self._attempt(client, body)
            except Exception as exc:
                if seen is not None:
                    seen.failed.append(self._describe(exc))
                raise
            if seen is not None:
                seen.sent += 1
            seconds[0] = time.perf_counter() - started
            return data

        try:
            return await timed_attempt(), seconds[0]
        except Exception as exc:  # noqa: BLE001 - tenacity decides below; a BaseException it would re-raise as is
            failed.append(exc)  # until replayed: a local naming it would be a cycle (its traceback holds this frame)
        retrying = self._retrying()
        try:
            return await retrying(timed_attempt), seconds[0]
        except (openai.OpenAIError, MalformedResponseError) as exc:
            raise self._call_failed(exc, retrying) from None
        finally:
            # its pending actions are bound methods of the object itself: a reference cycle per call, which
            # only the cyclic collector frees (~20 objects a call; most of an evaluation's cyclic garbage)
            retrying.iter_state.reset()

    def _retrying(self) -> AsyncRetrying:
        """The retry policy, fresh for one call (see `_timed_retries`): up to `max_attempts` attempts (one inside
        `attempts.single_attempt`), only transient failures retried, waits from `_wait_for`, the last failure
        re-raised, and each timed-out attempt noted (`_after_failure`). One place, so that calls and
        stream openings (`openai_stream.py`) retry alike."""
        attempts = 1 if SINGLE_ATTEMPT.get() else self.max_attempts
        return AsyncRetrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait_for,
            retry=retry_if_exception(is_transient),
            after=partial(self._after_failure, attempts),
            sleep=self._sleep,
            reraise=True,
        )

    def _after_failure(self, attempts: int, state: RetryCallState) -> None:
        """tenacity's hook after each transient failure (the first attempt's too, replayed): a timed-out attempt is
        counted, said once per model and run, and held under a dollar cap (`timeouts.note_timed_out`), which may
        refuse the retry. Never silent: the endpoint may bill the request it abandoned. The request's body is read
        from the exception (the client's carry their request): a stream's opening retries under this policy too."""
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, openai.APITimeoutError):
            retried = state.attempt_number < attempts
            note_timed_out(self.timeout_books, self.spec, request_body(exc), self.timeout_s, retried)

    def _call_failed(self, exc: BaseException, retrying: AsyncRetrying) -> ModelCallError:
        """The one-line error of a call (or a stream's opening) that `retrying` gave up on. A transient failure
        says how many attempts were made: "after 6 attempts" tells a flaky endpoint from one that never answered
        the first time (a permanent failure, such as a 400, was tried once and says nothing of attempts)."""
        attempts = int(retrying.statistics.get("attempt_number", 1))
        tail = f" after {attempts} attempt{'' if attempts == 1 else 's'}" if is_transient(exc) else ""
        return ModelCallError(
            f"model '{self.spec.id}' call failed{tail}: {self._describe(exc)}",
            status=getattr(exc, "status_code", None),
            cause=failure_cause(exc),
        )

    def _wait_for(self, state: RetryCallState) -> float:
        """tenacity's wait hook: the failed attempt's number and exception decide the wait."""
        exc = state.outcome.exception() if state.outcome is not None else None
        return self._wait(state.attempt_number, exc) if exc is not None else self.backoff_base_s

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
