"""Streaming from an OpenAI-compatible server (`stream: true`): text deltas as they arrive, then the finished
`Completion` assembled from the chunks (text, tool calls, usage from the last chunk where the server sends it).

Not every compatible server streams. One that answers plain JSON to `stream: true` would otherwise look like
an empty stream (no text, finish "stop", 0 tokens: the reply silently lost), and one that refuses the field
(HTTP 400/422 naming `stream`) would fail the call. Both are detected, the reply is taken whole (the JSON
body already sent, or one plain call), and the model stops asking for streams, saying so once, like the `n`
fallback (`openai_sampling.py`).

`StreamingMixin` gives `OpenAIChatModel` its `stream`; `_StreamHost` names what it uses of the model."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol

import openai
from openai.types.chat import ChatCompletionStreamOptionsParam
from tenacity import AsyncRetrying

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS, Completion, Message, ToolCall, Usage, finish_reason_of
from rolegraph.items import AnswerKey
from rolegraph.models.openai_errors import ModelCallError
from rolegraph.models.openai_replies import EXTRA_FIELD, estimate_tokens, prompt_estimate, reply_completion

STREAM_USAGE: ChatCompletionStreamOptionsParam = {
    "include_usage": True
}  # ask for the token counts in the stream's last chunk
STREAM_REFUSED = frozenset({400, 422})  # how a server without streaming refuses `stream: true` (with "stream" said)
STREAM_WORD = "stream"  # ... in the error's message: a 400 about anything else is the caller's mistake, not this
JSON_TYPE = "application/json"  # a body of this type to `stream: true` is a whole reply, not a stream


class _StreamHost(Protocol):
    """What `stream` uses of the model."""

    spec: ModelSpec
    stream_support: bool | None

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

    def _retrying(self) -> AsyncRetrying: ...

    def _call_failed(self, exc: BaseException, retrying: AsyncRetrying) -> ModelCallError: ...

    async def complete(
        self,
        messages: list[Message],
        *,
        temperature: float = ...,
        max_tokens: int = ...,
        seed: int = ...,
        tools: list[dict] | None = ...,
        sample: int = ...,
        answer_key: AnswerKey | None = ...,
    ) -> Completion: ...


class StreamRefusedError(Exception):
    """The server refused `stream: true` itself (HTTP 400/422 naming `stream`): the call is to go unstreamed."""

    def __init__(self, status: int):
        super().__init__(f"it refused stream: true with HTTP {status}")


class StreamAccumulator:
    """Builds the finished Completion of a streamed reply from its chunks (text, tool calls, usage)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.finish: str | None = None
        self.usage: Any = None
        self.chunks = 0
        """Chunks read: none at all means the server sent no SSE events (not even an empty reply's)."""

    def add(self, chunk: Any) -> str:
        self.chunks += 1
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

    stream_support: bool | None
    """Whether the endpoint streams (None: not tried yet; False: replies are taken whole); the model sets None."""

    async def stream(
        self: _StreamHost,
        messages: list[Message],
        *,
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
        seed: int = 0,
        tools: list[dict] | None = None,
        sample: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> AsyncIterator[str | Completion]:
        """`complete` with `stream: true`: text deltas as the server sends them, then the Completion.

        Opening the stream is retried like a call (transient failures, Retry-After); once text has been
        handed on, a failure is final (`ModelCallError`): the reader already has part of the reply. An
        endpoint found not to stream (see the module) gives its reply as one delta, now and from then on.
        """
        kwargs: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
        kwargs |= {"tools": tools, "sample": sample, "answer_key": answer_key}
        why = "known"  # why this reply is taken whole (the endpoint is already known not to stream)
        if self.stream_support is not False:
            client, semaphore = self._loop_state()
            body = self._request(messages, temperature, max_tokens, seed, tools, sample, answer_key)
            extra = body.pop(EXTRA_FIELD, None)
            async with semaphore:  # released before any fallback: `complete` takes the semaphore itself
                started = time.perf_counter()
                try:
                    chunks = await _open_stream(self, client, body, extra)
                except StreamRefusedError as exc:
                    why = str(exc)
                else:
                    reply = await _whole_reply(chunks)
                    if reply is None:  # a real stream
                        acc = StreamAccumulator()
                        try:
                            async for chunk in chunks:
                                piece = acc.add(chunk)
                                if piece:
                                    yield piece
                        except openai.OpenAIError as exc:
                            raise ModelCallError(
                                f"model '{self.spec.id}' stream failed: {self._describe(exc)}"
                            ) from None
                        finally:
                            await chunks.close()
                        if acc.chunks:
                            self.stream_support = True
                            yield acc.completion(self.spec, messages, time.perf_counter() - started)
                            return
                        why = "its reply to stream: true held no stream events"
                    else:
                        whole, why = reply
                        if whole is not None:  # the JSON reply itself: no second call, nothing lost
                            _no_stream(self, why)
                            out = reply_completion(self.spec, whole, messages, time.perf_counter() - started)
                            if out.text:
                                yield out.text
                            yield out
                            return
        _no_stream(self, why)
        out = await self.complete(messages, **kwargs)
        if out.text:
            yield out.text
        yield out


def _no_stream(model: _StreamHost, why: str) -> None:
    """Learn that the endpoint does not stream, and say so once (a fallback is never silent)."""
    if model.stream_support is not False:
        model.stream_support = False
        logging.getLogger(__name__).warning(
            "model '%s' at %s does not stream (%s): its replies are taken whole",
            model.spec.id,
            model.spec.public_endpoint,
            why,
        )


async def _whole_reply(chunks: Any) -> tuple[dict[str, Any] | None, str] | None:
    """(the reply, why) when the server answered `stream: true` with a JSON body instead of SSE events;
    (None, why) when that body is no chat completion; None for a real stream, left unread."""
    response = getattr(chunks, "response", None)
    if response is None or JSON_TYPE not in str(response.headers.get("content-type", "")).lower():
        return None
    try:
        data = json.loads(await response.aread())
    except (ValueError, openai.OpenAIError):
        data = None
    finally:
        await chunks.close()
    why = f"it answered stream: true with {JSON_TYPE}"
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
        return None, why
    if not isinstance(choices[0].get("message"), dict):
        return None, why
    return data, why


def _refuses_stream(exc: BaseException) -> bool:
    """A 400/422 whose message names `stream`: the server does not take the field (not a bad request)."""
    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in STREAM_REFUSED:
        return False
    return STREAM_WORD in f"{exc.message} {exc.body}".lower()


async def _open_stream(model: _StreamHost, client: openai.AsyncOpenAI, body: dict[str, Any], extra: dict | None) -> Any:
    """The chunk stream, its opening retried like a call (and failing with the same message, attempts counted);
    `StreamRefusedError` when streaming itself is refused."""
    retrying = model._retrying()
    try:
        async for attempt in retrying:
            with attempt:
                return await client.chat.completions.create(
                    **body, stream=True, stream_options=STREAM_USAGE, extra_body=extra
                )
    except openai.OpenAIError as exc:
        if model.stream_support is not True and _refuses_stream(exc):
            raise StreamRefusedError(exc.status_code) from None  # type: ignore[attr-defined]
        raise model._call_failed(exc, retrying) from None
    finally:
        retrying.iter_state.reset()  # as in `_timed_retries`: no reference cycle left per call
    raise AssertionError("unreachable: the retry loop returns or raises")
