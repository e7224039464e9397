"""A cancelled local generation stops inside llama.cpp and frees the model's lock before the cancellation
returns: a `rolegraph serve` client that disconnected used to leave its generation running to max_tokens,
holding the lock, so the next request waited minutes for an answer nobody would read."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rolegraph.models import local
from rolegraph.models.pool import ModelPool
from rolegraph.settings import Settings

LOCAL_ID = "local/smollm2-135m"
LONG = 400  # max_tokens of the generation that gets cancelled: minutes of decoding if it ran out
FEW = 3  # chunks decoded before the cancellation
SMALL = 4  # max_tokens of the call after it
LONG_PROMPT = [{"role": "user", "content": "Write a very long essay about the history of Rome."}]
POLL_S = 0.02


class CountingServer:
    """The real xllamacpp server, counting the chunks llama.cpp hands back for each request."""

    def __init__(self, server: Any):
        self._server = server
        self.chunks: list[int] = []  # per request, in call order

    def handle_chat_completions(self, request: dict[str, Any], callback: Any = None) -> Any:
        if callback is None:  # a non-streamed call: one reply at the end, nothing to count (or to stop)
            self.chunks.append(0)
            return self._server.handle_chat_completions(request)
        index = len(self.chunks)
        self.chunks.append(0)

        def counting(chunk: dict[str, Any]) -> bool:
            self.chunks[index] += 1
            return bool(callback(chunk))

        return self._server.handle_chat_completions(request, counting)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    ok, why = local.engine_status()
    if not ok or local.available_engine() != "xllamacpp":
        pytest.skip(why or "the stop hook is xllamacpp's")
    chat = local.LocalChatModel(ModelPool.builtin().get(LOCAL_ID), Settings(home=tmp_path_factory.mktemp("home")))
    engine = chat._load()
    engine._server = CountingServer(engine._server)  # type: ignore[attr-defined]
    yield chat
    asyncio.run(chat.aclose())


@pytest.fixture
def counter(model) -> CountingServer:
    """The model's counting server, its counts from earlier tests cleared."""
    server = model._engine._server
    server.chunks.clear()
    return server


async def _until(predicate) -> None:
    while not predicate():
        await asyncio.sleep(POLL_S)


def _after_cancel_the_engine_is_free(chat: local.LocalChatModel, counter: CountingServer) -> None:
    assert not chat._lock.locked()  # the abandoned generation no longer holds the model
    stopped_at = counter.chunks[0]
    assert FEW <= stopped_at < LONG // 10
    after = asyncio.run(chat.complete([{"role": "user", "content": "Say OK."}], max_tokens=SMALL))
    assert 0 < after.usage.output_tokens <= SMALL
    assert counter.chunks[0] == stopped_at  # nothing decoded for the cancelled request since
    assert len(counter.chunks) == 2


def test_a_cancelled_stream_stops_decoding_and_releases_the_lock(model, counter):

    async def consume(seen: list[str]) -> None:
        async for part in model.stream(LONG_PROMPT, max_tokens=LONG, temperature=0.7):
            if isinstance(part, str):
                seen.append(part)

    async def main() -> None:
        seen: list[str] = []
        task = asyncio.ensure_future(consume(seen))
        await _until(lambda: len(seen) >= FEW or task.done())
        assert not task.done()  # still decoding: the cancellation below cuts it short
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    _after_cancel_the_engine_is_free(model, counter)


def test_a_stream_closed_early_stops_decoding_and_releases_the_lock(model, counter):
    """A consumer that stops reading and closes the stream (as serve's SSE generator does) ends it too."""

    async def main() -> None:
        stream = model.stream(LONG_PROMPT, max_tokens=LONG, temperature=0.7)
        pieces = 0
        async for part in stream:
            pieces += isinstance(part, str)
            if pieces == FEW:
                break
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(main())
    _after_cancel_the_engine_is_free(model, counter)


def test_a_cancelled_complete_stops_decoding_and_releases_the_lock(model, counter):

    async def main() -> None:
        task = asyncio.ensure_future(model.complete(LONG_PROMPT, max_tokens=LONG, temperature=0.7))
        await _until(lambda: (counter.chunks and counter.chunks[0] >= FEW) or task.done())
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    _after_cancel_the_engine_is_free(model, counter)


def test_a_call_cancelled_while_queued_never_starts(model, counter):
    """Cancelled while another generation holds the lock: it must not decode once the lock is free."""

    async def main() -> None:
        first = asyncio.ensure_future(model.complete(LONG_PROMPT, max_tokens=LONG, temperature=0.7))
        await _until(lambda: (counter.chunks and counter.chunks[0] >= FEW) or first.done())
        queued = asyncio.ensure_future(model.complete(LONG_PROMPT, max_tokens=LONG))
        await asyncio.sleep(POLL_S)  # let it reach the lock
        queued.cancel()
        first.cancel()
        for task in (queued, first):
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert len(counter.chunks) == 1  # the queued call never reached llama.cpp
    _after_cancel_the_engine_is_free(model, counter)


def test_a_complete_decoded_as_a_stream_keeps_its_text_finish_and_usage(model):
    """`complete` now decodes through the streamed call (the only one llama.cpp lets us stop); the reply is the
    one llama.cpp's own non-streamed call gives for the same request."""
    request = {"messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": 8, "temperature": 0.0,
               "seed": 0}
    direct = model._engine._server._server.handle_chat_completions(dict(request))  # type: ignore[union-attr]
    out = asyncio.run(model.complete(request["messages"], max_tokens=8, temperature=0.0, seed=0))
    assert out.text == direct["choices"][0]["message"]["content"]
    assert out.finish_reason == direct["choices"][0]["finish_reason"]
    assert out.usage.output_tokens == direct["usage"]["completion_tokens"]
    assert out.usage.input_tokens == direct["usage"]["prompt_tokens"]
