"""`ModelHub`: one live client per model id, wrapped by the response cache, for one process.

Layers above ask the hub for a `ChatModel` by id; the hub owns the clients' lifetimes and
counts paid (non-cached) calls so searches can prove they never pay twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from rolegraph.items import AnswerKey
from rolegraph.models.pool import ModelPool
from rolegraph.models.spec import ModelSpec
from rolegraph.models.streaming import can_stream
from rolegraph.models.types import ChatModel, Completion, Message
from rolegraph.settings import Settings


@dataclass
class CallStats:
    calls: int = 0
    cached: int = 0

    @property
    def paid(self) -> int:
        return self.calls - self.cached


class _Counted:
    """Counts calls and cache hits of the wrapped model into the hub's stats, and keeps the answer key from
    every model that is not simulated: past this point a real model's calls, cache keys and request bodies
    never hold the gold, whoever called."""

    def __init__(self, inner: ChatModel, stats: CallStats, spec: ModelSpec):
        self._inner = inner
        self._stats = stats
        self.spec = spec
        self._reads_key = spec.simulated

    @property
    def model_id(self) -> str:
        return self.spec.id

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
        out = await self._inner.complete(
            messages,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=seed,
            tools=tools,
            sample=sample,
            answer_key=answer_key if self._reads_key else None,
        )
        self._stats.calls += 1
        self._stats.cached += int(out.cached)
        return out

    @property
    def streams(self) -> bool:
        """The wrapped model streams from its upstream (the response cache does not: it answers whole)."""
        return can_stream(self._inner)

    async def stream(self, messages: list[Message], **kwargs: Any) -> AsyncIterator[str | Completion]:
        """Text deltas then the Completion, from the wrapped model's `stream` when it has one."""
        inner = getattr(self._inner, "stream", None)
        if inner is None:
            out = await self.complete(messages, **kwargs)
            if out.text:
                yield out.text
            yield out
            return
        async for piece in inner(messages, **kwargs):
            if isinstance(piece, Completion):
                self._stats.calls += 1
                self._stats.cached += int(piece.cached)
            yield piece


def make_backend(spec: ModelSpec, settings: Settings) -> ChatModel:
    """The raw (uncached) client for one spec."""
    if spec.backend == "sim":
        from rolegraph.sim.model import SimChatModel

        return SimChatModel(spec, settings)
    if spec.backend == "local":
        from rolegraph.models.local import LocalChatModel

        return LocalChatModel(spec, settings)
    from rolegraph.models.openai_backend import OpenAIChatModel

    return OpenAIChatModel(spec, settings)


class ModelHub:
    def __init__(self, pool: ModelPool, settings: Settings):
        self.pool = pool
        self.settings = settings
        self.stats = CallStats()
        self._models: dict[str, ChatModel] = {}
        self._cache = None

    def _response_cache(self):
        if self._cache is None:
            from rolegraph.models.cache import ResponseCache

            self.settings.ensure_home()
            self._cache = ResponseCache(self.settings.cache_path)
        return self._cache

    def get(self, model_id: str) -> ChatModel:
        if model_id not in self._models:
            spec = self.pool.require_key(model_id)
            model: ChatModel = make_backend(spec, self.settings)
            if self.settings.cache:
                from rolegraph.models.cache import CachedChatModel

                model = CachedChatModel(model, self._response_cache(), spec)
            self._models[model_id] = _Counted(model, self.stats, spec)
        return self._models[model_id]

    def use(self, model_id: str, model: ChatModel) -> None:
        """Serve `model` for `model_id` (a custom client, or a test double); calls are still counted.
        The id must be in the pool, so graphs keep validating against it."""
        self._models[model_id] = _Counted(model, self.stats, self.pool.get(model_id))

    def spec(self, model_id: str) -> ModelSpec:
        return self.pool.get(model_id)

    async def aclose(self) -> None:
        for model in self._models.values():
            inner = getattr(model, "_inner", None)
            while inner is not None:
                closer = getattr(inner, "aclose", None)
                if closer is not None:
                    await closer()
                inner = getattr(inner, "_inner", None)
        self._models.clear()
        if self._cache is not None:
            self._cache.close()
            self._cache = None
