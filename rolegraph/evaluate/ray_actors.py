"""The Ray actors behind `RayExecutor`: the driver's response cache as a service, and item workers.

Imported only once Ray is, so the executor module stays importable without it. The classes are
plain; `actor_classes(ray)` turns them into Ray actor classes when an executor starts.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from rolegraph.chat.types import Completion
from rolegraph.errors import BudgetExceededError, RolegraphError, carry_error
from rolegraph.models.cache import CachedChatModel, ResponseCache
from rolegraph.models.hub import CallStats, ModelHub, make_backend

CLAIM_WAIT_S = 600.0
"""How long a worker waits for another's call in flight before making it itself (the other may have died)."""


class CacheServer:
    """The driver's SQLite response cache, served to workers on any node (pinned to the driver's node).

    It also coordinates the calls in flight (`SharedFlight`): two workers that need the same call at the
    same moment (two graphs of one iteration sharing a node) pay it once, as one process does. A claim
    left by a worker that died is taken over after `CLAIM_WAIT_S`."""

    def __init__(self, path: str):
        self._cache = ResponseCache(Path(path))
        self._claims: dict[str, asyncio.Event] = {}

    def get(self, key: str) -> Completion | None:
        return self._cache.get(key)

    def put(self, key: str, completion: Completion) -> None:
        self._cache.put(key, completion)
        self.release(key)

    async def claim(self, key: str) -> Completion | None:
        """None: the caller makes the call and then puts or releases it; else the stored answer."""
        while True:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
            event = self._claims.get(key)
            if event is None:
                self._claims[key] = asyncio.Event()
                return None
            try:
                await asyncio.wait_for(event.wait(), CLAIM_WAIT_S)
            except TimeoutError:
                if self._claims.get(key) is event:
                    del self._claims[key]  # its owner is gone: the next round claims it

    def release(self, key: str) -> None:
        event = self._claims.pop(key, None)
        if event is not None:
            event.set()

    def size(self) -> int:
        return len(self._cache)


class RemoteCache:
    """`ResponseCache`'s get/put over a `CacheServer` actor; `CachedChatModel` uses it unchanged, so keys
    and what is stored are exactly the local ones. Calls block briefly (one round trip each), except a
    claim, which waits for another worker's call without holding up this worker's other items."""

    def __init__(self, server: Any):
        import ray

        self._server = server
        self._get = ray.get

    def get(self, key: str) -> Completion | None:
        return self._get(self._server.get.remote(key))

    def put(self, key: str, completion: Completion) -> None:
        self._get(self._server.put.remote(key, completion))  # stored before the item's result returns

    async def claim(self, key: str) -> Completion | None:
        return await asyncio.wrap_future(self._server.claim.remote(key).future())

    def release(self, key: str) -> None:
        self._server.release.remote(key)  # nothing to wait for: a waiter re-checks the cache

    def close(self) -> None:
        pass


class _Setup:
    """One (pool, settings, cache) a worker evaluates under: its hub, and the models installed in it."""

    def __init__(self, pool: Any, settings: Any, cache_server: Any):
        self.settings = replace(settings, cache=False)  # caching goes through the driver's cache server
        self.hub = ModelHub(pool, self.settings)
        self.cache_server = cache_server
        self.installed: set[str] = set()

    @property
    def timeout_stats(self) -> CallStats:
        """Where its models count the requests they abandon at a timeout (`models.timeouts`): the hub's stats."""
        return self.hub.stats

    def install(self, model_ids: set[str]) -> None:
        """Serve each model through the remote cache (checks the model's key first, like the local hub). A backend
        counts its timed-out requests in the hub's books: the hub's guard wraps the cache, not the backend, so would
        not hand them over, and the worker reports them to the driver (`ItemWorker.run`)."""
        for model_id in sorted(model_ids - self.installed):
            spec = self.hub.pool.require_key(model_id)
            model = make_backend(spec, self.settings)
            if hasattr(model, "timeout_books"):
                model.timeout_books = self.hub
            if self.cache_server is not None:
                model = CachedChatModel(model, RemoteCache(self.cache_server), spec)
            self.hub.use(model_id, model)
            self.installed.add(model_id)


class ItemWorker:
    """Evaluates chunks of items with the ordinary evaluator, on its own event loop.

    The loop lives as long as the actor (model clients bind to the loop they first run in); hubs and
    toolboxes are kept per setup and task, so a search pays for building them once.
    """

    def __init__(self, toolbox_factory: Any):
        self.toolbox_factory = toolbox_factory
        self.loop = asyncio.new_event_loop()
        self._setups: dict[str, _Setup] = {}
        self._tasks: dict[tuple[str, str], tuple[Any, Any]] = {}  # (setup, task ref) -> (task, its toolbox)

    def _setup(self, key: str, refs: list) -> _Setup:
        import ray

        if key not in self._setups:
            pool, settings, cache_server = ray.get(refs[:2]) + [refs[2]]
            self._setups[key] = _Setup(pool, settings, cache_server)
        return self._setups[key]

    def _task(self, key: str, setup: _Setup, ref: Any) -> tuple[Any, Any]:
        import ray

        slot = (key, ref.hex())
        if slot not in self._tasks:
            task = ray.get(ref)
            self._tasks[slot] = (task, self.toolbox_factory(setup.settings, task))
        return self._tasks[slot]

    def run(
        self,
        setup_key: str,
        setup_refs: list,
        spec_json: str,
        task_box: list,
        items: list,
        roles: Any,
        concurrency: int,
        seed: int,
        budget: Any,
    ) -> tuple[str, Any, bool, int, int, float, dict[str, int], float]:
        """(kind, payload, simulated, calls, cached calls, paid dollars, timed-out requests by model, their worst
        case in dollars): kind "ok" with the ItemScores in order, "budget" with the message and the items finished,
        or "error" with a user error to re-raise. The timed-out requests go back as the calls do, so the driver's
        stats and evaluation count them (a worker's own hub is out of the driver's sight)."""
        from rolegraph.evaluate.runner import evaluate
        from rolegraph.graphs.spec import GraphSpec

        spec = GraphSpec.model_validate_json(spec_json)
        setup = self._setup(setup_key, setup_refs)
        stats = setup.hub.stats
        calls, cached, paid_usd = stats.calls, stats.cached, stats.paid_usd
        timeouts = setup.timeout_stats
        timed_out, timed_out_usd = dict(timeouts.timed_out), timeouts.timed_out_usd
        payload: Any
        try:
            task, toolbox = self._task(setup_key, setup, task_box[0])
            setup.install({n.model for n in spec.nodes})
            result = self.loop.run_until_complete(
                evaluate(
                    spec,
                    task,
                    items,
                    hub=setup.hub,
                    toolbox=toolbox,
                    roles=roles,
                    concurrency=concurrency,
                    seed=seed,
                    progress=False,
                    budget=budget,
                    raise_on_all_failed=False,  # one chunk of the items: the caller's evaluate judges them all
                )
            )
            kind, payload, simulated = "ok", result.items, result.simulated
        except BudgetExceededError as exc:
            partial = getattr(exc, "partial", None)
            kind, simulated = "budget", bool(getattr(partial, "simulated", False))
            payload = {"message": str(exc), "items": list(getattr(partial, "items", []) or [])}
        except RolegraphError as exc:
            kind, payload, simulated = "error", {"error": carry_error(exc)}, False
        return (
            kind,
            payload,
            simulated,
            stats.calls - calls,
            stats.cached - cached,
            stats.paid_usd - paid_usd,
            count_delta(timeouts.timed_out, timed_out),
            timeouts.timed_out_usd - timed_out_usd,
        )


def count_delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """What each count of `after` grew by since `before` (counts that did not grow left out)."""
    return {key: n - before.get(key, 0) for key, n in after.items() if n > before.get(key, 0)}


def actor_classes(ray: Any) -> tuple[Any, Any]:
    """(CacheServer, ItemWorker) as Ray actor classes. The cache server takes no CPU slot."""
    return ray.remote(num_cpus=0)(CacheServer), ray.remote(num_cpus=1)(ItemWorker)
