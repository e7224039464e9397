"""Streaming replies: a backend that can stream yields text deltas as its upstream produces them.

A `StreamingChatModel` has, beside `complete`, `stream(messages, **same keywords)`: an async
iterator of `str` deltas that ends with the finished `Completion` (usage, latency, finish reason:
the same object `complete` would have returned). `stream_complete` drives either kind of model and
hands every delta to a callback; a model that cannot stream (the sim, the response cache) sends
its whole text as one delta when it is done, so a caller can always ask for a stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol, runtime_checkable

from rolegraph.chat.types import ChatModel, Completion, Message


@runtime_checkable
class StreamingChatModel(Protocol):
    def stream(self, messages: list[Message], **kwargs: Any) -> AsyncIterator[str | Completion]: ...


class StreamEndedError(RuntimeError):
    """A stream ended without its final `Completion` (a bug in a backend)."""


def can_stream(model: Any) -> bool:
    """True when `model` (after any wrappers that forward streams) streams from its upstream."""
    probe = getattr(model, "streams", None)
    if probe is not None:
        return bool(probe)
    return isinstance(model, StreamingChatModel)


async def stream_complete(
    model: ChatModel, messages: list[Message], on_text: Callable[[str], None], **kwargs: Any
) -> Completion:
    """`model.complete(messages, **kwargs)`, with each text delta passed to `on_text` as it arrives."""
    streamer = getattr(model, "stream", None)
    if streamer is None:
        comp = await model.complete(messages, **kwargs)
        if comp.text:
            on_text(comp.text)
        return comp
    final: Completion | None = None
    async for piece in streamer(messages, **kwargs):
        if isinstance(piece, Completion):
            final = piece
        elif piece:
            on_text(piece)
    if final is None:
        raise StreamEndedError(f"model '{model.model_id}' ended its stream without a completion")
    return final
