"""Streaming from an OpenAI-compatible server (`stream: true`): text deltas as they arrive, then the finished
`Completion` assembled from the chunks (text, tool calls, usage from the last chunk where the server sends it).

`StreamingMixin` gives `OpenAIChatModel` its `stream`; `_StreamHost` names what it uses of the model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

import openai
from openai.types.chat import ChatCompletionStreamOptionsParam
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import Completion, Message, ToolCall, Usage, finish_reason_of
from rolegraph.items import AnswerKey
from rolegraph.models.openai_errors import ModelCallError, Sleep, is_transient
from rolegraph.models.openai_replies import EXTRA_FIELD, estimate_tokens, prompt_estimate

STREAM_USAGE: ChatCompletionStreamOptionsParam = {
    "include_usage": True
}  # ask for the token counts in the stream's last chunk


class _StreamHost(Protocol):
    """What `stream` uses of the model."""

    spec: ModelSpec
    max_attempts: int
    _sleep: Sleep

    def _loop_state(self) -> tuple[openai.AsyncOpenAI, asyncio.Semaphore]: ...

    def _request(
        self,
        messages: list[Message],
        temperature: float,
        max_tokens: int,
        seed: int,
        tools: list[dict] | None,
        sample: int,
        answer_key: AnswerKey | None,
    ) -> dict[str, Any]: ...

    def _describe(self, exc: BaseException) -> str: ...

    def _wait_for(self, state: RetryCallState) -> float: ...


class StreamAccumulator:
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

    def completion(self, spec: ModelSpec, messages: list[Message], latency: float) -> Completion:
        text = "".join(self.parts)
        if self.usage is not None:
            n_in, n_out = self.usage.prompt_tokens or 0, self.usage.completion_tokens or 0
        else:  # a server that ignores stream_options
            n_in = prompt_estimate(messages)
            n_out = estimate_tokens(text)
        return Completion(
            text=text,
            tool_calls=[ToolCall(**self.calls[i]) for i in sorted(self.calls)],
            usage=Usage(input_tokens=n_in, output_tokens=n_out),
            latency_s=latency,
            model_id=spec.id,
            cost_usd=spec.cost(n_in, n_out),
            simulated=spec.answer_key,
            finish_reason=finish_reason_of(self.finish),
        )


class StreamingMixin:
    """`stream` for `OpenAIChatModel` (the model supplies what `_StreamHost` lists)."""

    async def stream(
        self: _StreamHost,
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
            chunks = await _open_stream(self, client, body, extra)
            acc = StreamAccumulator()
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
        yield acc.completion(self.spec, messages, latency)


async def _open_stream(model: _StreamHost, client: openai.AsyncOpenAI, body: dict[str, Any], extra: dict | None) -> Any:
    """The chunk stream, its opening retried like a call."""
    retrying = AsyncRetrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(model.max_attempts),
        wait=model._wait_for,
        sleep=model._sleep,
        reraise=True,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await client.chat.completions.create(
                    **body, stream=True, stream_options=STREAM_USAGE, extra_body=extra
                )
    except openai.OpenAIError as exc:
        raise ModelCallError(f"model '{model.spec.id}' call failed: {model._describe(exc)}") from None
    raise AssertionError("unreachable: the retry loop returns or raises")
