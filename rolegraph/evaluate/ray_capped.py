"""The Ray executor under a dollar cap (`--max-dollars`): each chunk of items runs with an allowance.

A search's cap is kept by the driver's spend meter, installed as its hub's spend guard; workers are other
processes, so it cannot see their calls as they are made. Without more, a worker would make every paid call
of its chunk and the driver would learn the dollars when the chunk returned: a search spent 17x its cap.
So under a cap, a chunk starts only on an idle worker, and the driver first carves an allowance out of the
cap's unreserved dollars (what is neither spent nor held), split evenly among the workers idle at that
moment, and holds it on its meter while the chunk runs. The worker's hub gets a meter of the same class
capped at that allowance, below the response cache as locally, so a call whose worst case would pass the
allowance is not made (cached calls are free and never refused). When the chunk returns, its allowance
is released and what it paid is added. The held allowances never sum past what is left, so the cap is
never passed; a search can stop before it, when one chunk's share ran out while others had room, and the
stop message says so.

Without a cap none of this runs: chunks go to the workers exactly as before (`ItemWorker.run`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rolegraph.errors import BudgetExceededError, rebuild_error
from rolegraph.evaluate.ray_actors import ItemWorker, RemoteCache, _Setup
from rolegraph.models.cache import CachedChatModel
from rolegraph.models.hub import CallStats, _Guarded, make_backend
from rolegraph.money import money

if TYPE_CHECKING:
    from rolegraph.evaluate.result import ItemScore
    from rolegraph.items import Item
    from rolegraph.models.hub import ModelHub, SpendGuard

Chunk = tuple[str, Any, bool, int, int, float, dict[str, int], float]
"""What a worker returns for a chunk: (kind, payload, simulated, calls, cached calls, paid dollars, requests
abandoned at a timeout by model, their worst case in dollars)."""


class _Allowance:
    """The hub-like end of a worker's guard layer: the chunk's meter (None without a cap) and what it paid."""

    def __init__(self) -> None:
        self.spend_guard: SpendGuard | None = None
        self.stats = CallStats()


class _CappedSetup(_Setup):
    """A worker's setup whose models are guarded below the remote cache, as the driver's hub guards them
    (backend -> guard -> cache): only the calls the cache cannot answer ask the chunk's allowance."""

    def __init__(self, pool: Any, settings: Any, cache_server: Any):
        super().__init__(pool, settings, cache_server)
        self.allowance = _Allowance()

    @property
    def timeout_stats(self) -> CallStats:
        """The allowance's stats: its guard is the one wrapping each backend (`_Guarded` hands the backend its
        books), so a timed-out request is counted, and its worst case held, there."""
        return self.allowance.stats

    def install(self, model_ids: set[str]) -> None:
        for model_id in sorted(model_ids - self.installed):
            spec = self.hub.pool.require_key(model_id)
            model: Any = _Guarded(make_backend(spec, self.settings), self.allowance, spec)  # type: ignore[arg-type]
            if self.cache_server is not None:
                model = CachedChatModel(model, RemoteCache(self.cache_server), spec)
            self.hub.use(model_id, model)
            self.installed.add(model_id)


class CappedItemWorker(ItemWorker):
    """An `ItemWorker` that can also run a chunk under an allowance (`run_capped`); `run` is unchanged."""

    def _setup(self, key: str, refs: list) -> _Setup:
        import ray

        if key not in self._setups:
            pool, settings = ray.get(refs[:2])
            self._setups[key] = _CappedSetup(pool, settings, refs[2])
        return self._setups[key]

    def run_capped(self, meter_cls: Any, allowance: float, setup_key: str, setup_refs: list, *args: Any) -> tuple:
        """`run`'s answer plus why the allowance refused a call (None when it did not). `meter_cls` is the
        driver meter's class (shipped by reference), capped here at `allowance`."""
        setup = self._setup(setup_key, setup_refs)
        assert isinstance(setup, _CappedSetup)
        meter = meter_cls.start(setup.allowance.stats, allowance)
        setup.allowance.spend_guard = meter
        try:
            out = self.run(setup_key, setup_refs, *args)
        finally:
            setup.allowance.spend_guard = None
        return (*out, meter.refused)


def worker_class(ray: Any) -> Any:
    """The item worker as a Ray actor class (one CPU each)."""
    return ray.remote(num_cpus=1)(CappedItemWorker)


def take_chunk(
    out: Chunk, rng: range, items: Sequence[Item], results: list[ItemScore | None], simulated: list[bool], hub: ModelHub
) -> tuple[int, BaseException | None]:
    """Add a returned chunk to the driver: its counts to the hub (its requests abandoned at a timeout too, which
    the driver's evaluation reports), its scores to `results`. (items filled, the error to stop with or None)."""
    kind, payload, sim, calls, cached, paid_usd = out[:6]
    timed_out, timed_out_usd = out[6:8] if len(out) > 6 else ({}, 0.0)  # a stand-in worker's chunk may end at dollars
    hub.stats.calls += calls
    hub.stats.cached += cached
    hub.stats.add_paid(paid_usd)  # exact: the total does not depend on which chunk finished first
    for model_id, n in timed_out.items():
        hub.stats.timed_out[model_id] = hub.stats.timed_out.get(model_id, 0) + n
    hub.stats.timed_out_usd += timed_out_usd
    scores = payload if kind == "ok" else payload.get("items", [])
    by_id = {s.item_id: s for s in scores}
    done = 0
    for i in rng:
        if items[i].id in by_id:
            results[i], simulated[i] = by_id[items[i].id], sim
            done += 1
    if kind == "budget":
        return done, BudgetExceededError(payload["message"])
    if kind == "error":
        return done, rebuild_error(*payload["error"])
    return done, None


class IdleWorkers:
    """The executor's workers not running a capped chunk, shared by the evaluations running at once (one per
    graph of a step). The queue is bound to the event loop it is first used in, so it is rebuilt in a new one."""

    def __init__(self, actors: list[Any]):
        self._actors = actors
        self.waiting = 0  # chunks made but not started, of every evaluation: a share is never split among more
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    def queue(self) -> asyncio.Queue[Any]:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._queue = loop, asyncio.Queue()
            for actor in self._actors:
                self._queue.put_nowait(actor)
        return self._queue


def _share(guard: Any, others: int) -> float:
    """An even share of the cap's unreserved dollars between this chunk and the `others` that may start now
    (as many as there are idle workers, and chunks waiting for one): the last chunk of a step gets all of it."""
    left = guard.max_usd - guard.spent - guard.held
    return max(0.0, left) / (others + 1)


def _refusal(worker_text: str, cap: float, alone: bool) -> str:
    """The driver meter's reason when a chunk's allowance refused a call: that the cap was reached only when the
    chunk had every dollar left (`alone`), else that its share ran out before the cap."""
    text = worker_text.replace("--max-dollars", "its allowance")
    if alone:
        return f"a Ray chunk had all that was left of --max-dollars {money(cap)} and it ran out (that chunk: {text})"
    return (
        f"a Ray chunk's share of the cap ran out (that chunk: {text}); Ray divides what is left of --max-dollars "
        f"{money(cap)} among the chunks running at once, so the search stopped before spending the whole cap"
    )


async def run_capped(
    idle: IdleWorkers,
    call: Callable[[Any, float, range], Any],
    chunks: list[range],
    items: Sequence[Item],
    results: list[ItemScore | None],
    simulated: list[bool],
    hub: ModelHub,
    advance: Callable[[int], None] | None,
) -> None:
    """Run `chunks` under the hub's spend guard (a meter with `max_usd`, `spent`, `held`, `refused`, `hold`,
    `release`):
    `call(actor, allowance, rng)` starts one on a worker. A stop lets the chunks already running finish (each
    within its allowance) so that every dollar they paid is counted, and starts no others."""
    guard: Any = hub.spend_guard
    cap = float(guard.max_usd)
    queue = idle.queue()
    done = 0
    stop: list[BaseException] = []  # the error to raise, once a chunk returned one
    halted = False  # no chunk starts after a stop or an outside cancellation

    async def one(rng: range) -> None:
        nonlocal done
        try:
            actor = await queue.get()
        finally:
            idle.waiting -= 1
        try:
            if halted or stop:  # `stop`: a chunk just returned one, before the loop below could halt the rest
                return
            others = min(queue.qsize(), idle.waiting)
            alone = others == 0 and abs(guard.held) < 1e-12  # nothing else running or to come: all left is its
            share = _share(guard, others)
            guard.hold(share)  # exact, as the meter keeps what it holds
            try:
                *out, refused = await call(actor, share, rng)
            finally:
                guard.release(share)
            filled, error = take_chunk(tuple(out), rng, items, results, simulated, hub)
            done += filled
            if refused is not None and guard.refused is None:
                guard.refused = _refusal(refused, cap, alone)
            if error is not None and not stop:
                stop.append(error)
            if advance is not None:
                advance(done)
        finally:
            queue.put_nowait(actor)

    idle.waiting += len(chunks)
    tasks = [asyncio.ensure_future(one(rng)) for rng in chunks]
    try:
        for fut in asyncio.as_completed(tasks):
            await fut
            if stop:
                halted = True
                break
    finally:  # a stop, or an outside cancellation: the running chunks' dollars are counted before leaving
        halted = True
        await asyncio.gather(*tasks, return_exceptions=True)
    if stop:
        raise stop[0]
