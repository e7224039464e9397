"""`ModelHub`: one live client per model id, wrapped by the response cache, for one process.

Layers above ask the hub for a `ChatModel` by id; the hub owns the clients' lifetimes and
counts paid (non-cached) calls and their dollars so searches can prove they never pay twice and
can stop at a spending cap. It sees every call, so it also records each paid call's time for real
models (`timings.py`): latency estimates of real endpoints come from those measurements.

A model is layered backend -> spend guard -> response cache -> counter: only calls the cache
cannot answer reach the guard (`SpendGuard`, installed by whoever caps spending, e.g. a search), and the
guard's layer counts their dollars, before the cache stores the reply (a killed search never has a cached
reply whose dollars it did not count: a resume replays it free). A real endpoint's call, from the cache down, is a
task of its own that outlives a cancelled caller once its request is sent (`in_flight.py`): the endpoint bills it
anyway, so a stop waits for it (`ModelHub.in_flight`) and its reply is counted and cached, never sent twice.
The cache layer streams a miss from the backend (and stores the finished reply), so `--cache` does not
turn token streaming off; a hit is sent whole, as it was stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from rolegraph.chat.spec import ModelSpec, gold_for
from rolegraph.chat.types import DEFAULT_CALL_MAX_TOKENS, ChatModel, Completion, Message
from rolegraph.items import AnswerKey
from rolegraph.models.backends import make_backend
from rolegraph.models.cache import CachedChatModel, SharedFlight, cache_key
from rolegraph.models.in_flight import CallStats, InFlightCalls, SpendGuard, Unsent, call_cost
from rolegraph.models.multi import complete_many
from rolegraph.models.pool import ModelPool
from rolegraph.models.streaming import StreamEndedError, can_stream
from rolegraph.settings import Settings

__all__ = ["CallStats", "ModelHub", "SpendGuard", "call_cost", "make_backend"]  # CallStats & co live in in_flight
T = TypeVar("T")


class _Guarded:
    """Lets the hub's spend guard (if any) refuse a paid call before it is made."""

    def __init__(self, inner: ChatModel, hub: ModelHub, spec: ModelSpec):
        self._inner = inner
        self._hub = hub
        self.spec = spec
        if hasattr(inner, "timeout_books"):  # its timed-out attempts go in the run's stats and cap (`timeouts.py`)
            inner.timeout_books = hub

    @property
    def model_id(self) -> str:
        return self.spec.id

    async def complete(
        self, messages: list[Message], *, max_tokens: int = DEFAULT_CALL_MAX_TOKENS, **kwargs: Any
    ) -> Completion:
        guard = self._hub.spend_guard
        if guard is None:
            return self._paid(await self._inner.complete(messages, max_tokens=max_tokens, **kwargs))
        held = guard.reserve(self.spec, messages, max_tokens)
        try:
            return self._paid(await self._inner.complete(messages, max_tokens=max_tokens, **kwargs))
        finally:
            guard.release(held)

    def _paid(self, out: Completion) -> Completion:
        """Count a call's dollars here, below the response cache: before the cache stores the reply, so a search
        killed at any point has persisted (`CallStats.on_paid`) every call a resume will find in the cache."""
        if not out.cached:
            self._hub.stats.add_paid(call_cost(self.spec, out))
        return out

    @property
    def streams(self) -> bool:
        return can_stream(self._inner)

    async def stream(
        self, messages: list[Message], *, max_tokens: int = DEFAULT_CALL_MAX_TOKENS, **kwargs: Any
    ) -> AsyncIterator[str | Completion]:
        """The wrapped model's stream (its whole reply at once when it cannot stream), guarded like a call."""
        guard = self._hub.spend_guard
        held = guard.reserve(self.spec, messages, max_tokens) if guard is not None else None
        try:
            inner = getattr(self._inner, "stream", None)
            if inner is None:
                out = self._paid(await self._inner.complete(messages, max_tokens=max_tokens, **kwargs))
                if out.text:
                    yield out.text
                yield out
                return
            async for piece in inner(messages, max_tokens=max_tokens, **kwargs):
                yield self._paid(piece) if isinstance(piece, Completion) else piece
        finally:
            if guard is not None:
                guard.release(held)

    async def complete_n(
        self,
        messages: list[Message],
        *,
        samples: Sequence[int],
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
        **kwargs: Any,
    ) -> list[Completion]:
        """k samples in one request where the endpoint takes `n` (rolegraph.models.multi); the guard holds
        what k separate calls would (an upper bound: the prompt is billed once). A stop part-way (`Unsent`) still
        pays for the samples that were sent."""
        guard = self._hub.spend_guard
        held: list[Any] = []
        try:
            if guard is not None:
                for _ in samples:  # one at a time: a refusal part-way releases what was held
                    held.append(guard.reserve(self.spec, messages, max_tokens))
            try:
                outs = await complete_many(self._inner, messages, samples=samples, max_tokens=max_tokens, **kwargs)
            except Unsent as stop:
                for out in stop.done.values():
                    self._paid(out)
                raise
            return [self._paid(out) for out in outs]
        finally:
            for h in held:
                guard.release(h)  # type: ignore[union-attr]


class _StreamingCache(CachedChatModel):
    """The response cache with a `stream`: a hit is sent whole (marked cached); a miss streams from the model
    below as it is generated and the finished reply is stored, exactly as `complete` would have stored it.

    A streamed miss is in flight like a `complete` miss, so an identical call meanwhile waits for it and pays
    nothing. Calls with a `response_format`, and caches shared between processes (whose claim protocol is
    `complete`'s), are answered by `complete`, whole."""

    @property
    def streams(self) -> bool:
        return can_stream(self._inner) and not isinstance(self._cache, SharedFlight)

    async def stream(
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
    ) -> AsyncIterator[str | Completion]:
        answer_key = gold_for(answer_key, self.spec)  # as in `complete`: a real model is never handed the gold
        kwargs: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
        kwargs |= {"tools": tools, "sample": sample, "answer_key": answer_key}
        key = cache_key(self.spec, messages, response_format=response_format, **kwargs)
        inner = getattr(self._inner, "stream", None)
        out: Completion | None
        if inner is None or not self.streams or response_format is not None or key in self._inflight:
            out = await self.complete(messages, response_format=response_format, **kwargs)
        else:
            hit = self._cache.get(key)
            out = hit.model_copy(update={"cached": True}) if hit is not None else None
        if out is not None:  # a hit, or a reply taken whole: one delta, then the completion
            if out.text:
                yield out.text
            yield out
            return
        assert inner is not None  # a model without `stream` was answered whole above
        future = self._inflight[key] = asyncio.get_running_loop().create_future()
        try:
            final: Completion | None = None
            async for piece in inner(messages, **kwargs):
                if isinstance(piece, Completion):
                    final = piece
                yield piece
            if final is None:
                raise StreamEndedError(f"model '{self.spec.id}' ended its stream without a completion")
            self._cache.put(key, final)
            future.set_result(final)
        except (asyncio.CancelledError, GeneratorExit):
            future.cancel()  # a waiter makes the call itself
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            if self._inflight.get(key) is future:
                del self._inflight[key]


class _Counted:
    """Counts calls and cache hits of the wrapped model into the hub's stats (their dollars: `_Guarded`), records
    the time of a real model's paid calls, and keeps the answer key from every model that is not simulated:
    past this point a real model's calls, cache keys and request bodies never hold the gold, whoever called."""

    def __init__(self, inner: ChatModel, stats: CallStats, spec: ModelSpec, hub: ModelHub | None = None):
        self._inner = inner
        self._stats = stats
        self.spec = spec
        self._hub = hub

    @property
    def model_id(self) -> str:
        return self.spec.id

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
        # passed on only when set: models given to `use()` written before the keyword existed still work
        extra = {"response_format": response_format} if response_format is not None else {}

        async def call() -> Completion:
            out = await self._inner.complete(
                messages,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=seed,
                tools=tools,
                sample=sample,
                answer_key=gold_for(answer_key, self.spec),
                **extra,
            )
            self._count(out)
            return out

        return await self._shielded(call)

    def _shielded(self, call: Callable[[], Awaitable[T]]) -> Awaitable[T]:
        """`call` (through the response cache, then counted) shielded from the caller's cancellation while its
        request is on the wire (`sending`), for a real endpoint (`in_flight.py`: its reply is paid for whether or
        not it is read). A simulated or local model is not billed: cancelled, its call simply ends, as before."""
        if self._hub is None or self.spec.backend != "openai":
            return call()
        return self._hub.in_flight.run(call)

    def _count(self, out: Completion, timed: bool = True) -> None:
        """One finished call into the stats: a paid one with its dollars and (real models, when `timed`) its
        time. A coalesced sample is not timed: its latency is the whole request's, its prompt a share."""
        self._stats.calls += 1
        self._stats.cached += int(out.cached)
        if not out.cached:  # its dollars were counted below the cache (`_Guarded._paid`)
            usage = out.usage
            if timed and self._hub is not None and self.spec.backend != "sim":
                self._hub.timings().record(self.spec, usage.input_tokens, usage.output_tokens, out.latency_s)

    @property
    def streams(self) -> bool:
        """The wrapped model streams from its upstream (through the response cache: its misses stream)."""
        return can_stream(self._inner)

    async def stream(self, messages: list[Message], **kwargs: Any) -> AsyncIterator[str | Completion]:
        """Text deltas then the Completion, from the wrapped model's `stream` when it has one."""
        gold = gold_for(kwargs.pop("answer_key", None), self.spec)
        if gold is not None:  # the keyword is left out for a real model, as its own `stream` may not take it
            kwargs["answer_key"] = gold
        inner = getattr(self._inner, "stream", None)
        if inner is None:
            out = await self.complete(messages, **kwargs)
            if out.text:
                yield out.text
            yield out
            return
        async for piece in inner(messages, **kwargs):
            if isinstance(piece, Completion):
                self._count(piece)  # a streamed call is paid (and timed) like a `complete`
            yield piece

    async def complete_n(
        self,
        messages: list[Message],
        *,
        samples: Sequence[int],
        temperature: float = 0.0,
        max_tokens: int = DEFAULT_CALL_MAX_TOKENS,
        seed: int = 0,
        answer_key: AnswerKey | None = None,
    ) -> list[Completion]:
        """k samples of one call (see rolegraph.models.multi); counted as k calls, like k `complete`s, and paid
        for what each sample was billed (the prompt's share and its own output). Shielded like `complete`; a stop
        part-way (`Unsent`) counts the samples that were sent."""

        async def call() -> list[Completion]:
            try:
                outs = await complete_many(
                    self._inner,
                    messages,
                    samples=samples,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    seed=seed,
                    answer_key=gold_for(answer_key, self.spec),
                )
            except Unsent as stop:
                for out in stop.done.values():
                    self._count(out, timed=False)
                raise
            for out in outs:
                self._count(out, timed=False)
            return outs

        return await self._shielded(call)


class ModelHub:
    def __init__(self, pool: ModelPool, settings: Settings):
        self.pool = pool
        self.settings = settings
        self.stats = CallStats()
        self.spend_guard: SpendGuard | None = None
        self.in_flight = InFlightCalls()
        """Admitted real calls whose callers were cancelled: a stop awaits them (`settle`) before it ends."""
        self._models: dict[str, ChatModel] = {}
        self._given: dict[str, ChatModel] = {}
        """Models passed to `use()`: the caller's choice, so `aclose` keeps them (it closes their clients)."""
        self._cache = None
        self._timings = None

    def _response_cache(self):
        if self._cache is None:
            from rolegraph.models.cache import ResponseCache

            self.settings.ensure_home()
            self._cache = ResponseCache(self.settings.cache_path)
        return self._cache

    def timings(self):
        """The measured call times of real models (`$ROLEGRAPH_HOME/timings.sqlite`), opened on first use."""
        if self._timings is None:
            from rolegraph.models.timings import TIMINGS_FILE, CallTimings

            self.settings.ensure_home()
            self._timings = CallTimings(self.settings.home / TIMINGS_FILE)
        return self._timings

    def get(self, model_id: str) -> ChatModel:
        if model_id not in self._models:
            spec = self.pool.require_key(model_id)
            backend = make_backend(spec, self.settings)
            if hasattr(backend, "endpoint_lessons"):  # what its endpoint taught outlives this hub (`pool.lessons`)
                backend.endpoint_lessons = self.pool.lessons
            model: ChatModel = _Guarded(backend, self, spec)
            if self.settings.cache:
                model = _StreamingCache(model, self._response_cache(), spec)
            self._models[model_id] = _Counted(model, self.stats, spec, self)
        return self._models[model_id]

    def use(self, model_id: str, model: ChatModel) -> None:
        """Serve `model` for `model_id` (a custom client, or a test double); calls are still counted (and
        guarded by a spending cap). The id must be in the pool, so graphs keep validating against it."""
        spec = self.pool.get(model_id)
        self._models[model_id] = self._given[model_id] = _Counted(_Guarded(model, self, spec), self.stats, spec, self)

    def spec(self, model_id: str) -> ModelSpec:
        return self.pool.get(model_id)

    async def __aenter__(self) -> ModelHub:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every client, the response cache and the timings file, all bound to the running loop or
        process. The hub stays usable: its own clients are re-made on the next `get`, and models given to
        `use()` are kept (only their clients are closed), so the sync wrappers can close it after each call.
        Calls still in flight are left (their clients close): whoever stops a step waits for them first."""
        self.in_flight.cancel_all()
        for model in self._models.values():
            inner = getattr(model, "_inner", None)
            while inner is not None:
                closer = getattr(inner, "aclose", None)
                if closer is not None:
                    await closer()
                inner = getattr(inner, "_inner", None)
        self._models = dict(self._given)
        if self._cache is not None:
            self._cache.close()
            self._cache = None
        if self._timings is not None:
            self._timings.close()
            self._timings = None
