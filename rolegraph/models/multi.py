"""Several samples of one call: `complete_many` asks a model for k draws of the same messages.

A model that can draw k samples in one request (an OpenAI-compatible endpoint with `n=k`) has a
`complete_n` method; any other `ChatModel` is asked k times, so sample i is exactly what a plain
`complete(..., sample=samples[i])` gives. Coalesced choices are equally valid samples but, outside
serve-sim (which draws choice i as a request for sample i alone), not the same ones: a real endpoint
draws one request's choices its own way, not with the per-sample seeds k separate requests carry. So
coalescing can change which answers come back, and the cache keeps such shared draws apart from
per-sample ones (`cache.shared_draw_key`; docs/tutorials/routers.md, "Coalesced sampling").
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS, ChatModel, Completion, Message
from rolegraph.items import AnswerKey


@runtime_checkable
class MultiSampleModel(Protocol):
    """A `ChatModel` that draws several samples of one call at once (one completion per sample, in order)."""

    async def complete_n(
        self,
        messages: list[Message],
        *,
        samples: Sequence[int],
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
        seed: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> list[Completion]: ...


async def complete_many(
    model: ChatModel,
    messages: list[Message],
    *,
    samples: Sequence[int],
    temperature: float = 0.0,
    max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
    seed: int = 0,
    answer_key: AnswerKey | None = None,
) -> list[Completion]:
    """One completion per entry of `samples`: through `model.complete_n` when it has one, else k calls."""
    kwargs: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
    if len(samples) > 1 and isinstance(model, MultiSampleModel):
        return await model.complete_n(messages, samples=list(samples), answer_key=answer_key, **kwargs)
    calls = (model.complete(messages, sample=s, answer_key=answer_key, **kwargs) for s in samples)
    return list(await asyncio.gather(*calls))
