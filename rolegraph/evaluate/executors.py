"""Where item evaluations run: in this process (`local`), or spread over a Ray cluster (`ray`).

The evaluator keeps the bookkeeping (item order, aggregation, the results store) in the driver;
an executor only turns items into `ItemScore`s. The Ray executor keeps a few long-lived worker
actors (one per CPU of the cluster unless told otherwise), each with its own model hub and toolbox,
and sends them chunks of items; every worker evaluates its chunk with the ordinary `evaluate`.

Consistency: the response cache stays the driver's one SQLite file. It is served by a small actor
pinned to the driver's node, so workers on any machine read and write the same cache (no call is
paid twice, a resumed search finds every completion). The results store is written by the driver
only. A sim item's result depends only on (graph, item, seed), so Ray gives the same `EvalResult` as
the local executor; workers' paid and cached calls are added to the driver hub's counts. Under a dollar
cap (the hub's spend guard is a meter with `max_usd`), each chunk runs within an allowance carved out of
the cap (`ray_capped`), so a worker never pays past it.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import logging
import math
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rolegraph.errors import EngineMissingError, RolegraphError, did_you_mean, one_line
from rolegraph.evaluate.ray_address import _secrets, check_ray_address, shown_address

if TYPE_CHECKING:
    from rolegraph.evaluate.ray_capped import IdleWorkers
    from rolegraph.evaluate.result import ItemScore
    from rolegraph.graphs.budget import Budget
    from rolegraph.graphs.spec import GraphSpec
    from rolegraph.items import Item
    from rolegraph.models.hub import ModelHub
    from rolegraph.settings import Settings
    from rolegraph.tasks.base import Task
    from rolegraph.tools.toolbox import ToolBox

EXECUTORS = ("local", "ray")
CHUNKS_PER_WORKER = 2  # chunks per worker and evaluation: balances load, keeps per-chunk overhead small
RAY_INSTALL_HINT = "the Ray executor needs Ray: pip install 'rolegraph[ray]'"
USAGE_STATS_ENV = "RAY_USAGE_STATS_ENABLED"  # a local cluster started here reports nothing anywhere
RAY_ADDRESS_ENV = "RAY_ADDRESS"  # Ray's own: what `None` and "auto" join when it is set

ToolboxFactory = Callable[["Settings", "Task"], "ToolBox"]
"""Builds a worker's toolbox for a task (tools hold connections, so they are rebuilt, not shipped)."""


def task_toolbox(settings: Settings, task: Task) -> ToolBox:
    """The toolbox `eval` and `optimize` give a task: calculator, python, search over its corpus."""
    from rolegraph.tools.toolbox import default_toolbox

    return default_toolbox(settings, corpus=task.corpus(), web=False)


class LocalExecutor:
    """Items run concurrently in this process (the evaluator's own loop)."""

    name = "local"
    in_process = True

    def close(self) -> None:
        pass


def _chunks(n: int, workers: int) -> list[range]:
    size = max(1, math.ceil(n / max(1, workers * CHUNKS_PER_WORKER)))
    return [range(i, min(n, i + size)) for i in range(0, n, size)]


class RayExecutor:
    """Item evaluations on a Ray cluster: `address=None` starts a local one (`num_cpus` CPUs), "auto"
    joins the cluster this machine belongs to, "ray://head:10001" connects as a client.

    `workers`: worker actors (default: the cluster's CPUs). `toolbox_factory(settings, task)` builds
    each worker's toolbox (default `task_toolbox`; pass your own for custom or LangChain tools).
    `init_kwargs` go to `ray.init` (e.g. `runtime_env`). Use as a context manager, or call `close()`.
    """

    name = "ray"
    in_process = False

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        num_cpus: int | None = None,
        toolbox_factory: ToolboxFactory | None = None,
        init_kwargs: dict[str, Any] | None = None,
    ):
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        self.address, self.workers, self.num_cpus = address, workers, num_cpus
        self.toolbox_factory = toolbox_factory or task_toolbox
        self.init_kwargs = dict(init_kwargs or {})
        self._ray: Any = None
        self._owns_ray = False
        self._actors: list[Any] = []
        self._cache_servers: dict[str, Any] = {}  # cache file -> the actor serving it
        self._setups: dict[str, list] = {}
        self._next = 0
        self._task_refs: dict[int, tuple[Any, Any]] = {}
        self._idle: IdleWorkers | None = None  # the workers free for a chunk under a dollar cap

    def _init_ray(self) -> Any:
        try:
            import ray
        except ImportError:
            raise EngineMissingError(RAY_INSTALL_HINT) from None
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": logging.WARNING,
                **self.init_kwargs,
            }
            if self.address is None:
                os.environ.setdefault(USAGE_STATS_ENV, "0")
                if self.num_cpus is not None:
                    kwargs.setdefault("num_cpus", self.num_cpus)
            target = _effective_address(self.address)
            if target is not None:
                check_ray_address(*target)
            try:
                ray.init(address=self.address, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every way ray.init fails is the address or the machine
                if ray.is_initialized():  # a half-made connection is not left behind
                    ray.shutdown()
                raise _init_error(self.address, target, exc) from None
            self._owns_ray = True
        self._ray = ray
        return ray

    def _start(self) -> None:
        """The worker actors, once: one per CPU of the cluster unless `workers` says otherwise."""
        if self._actors:
            return
        ray = self._init_ray()
        from rolegraph.evaluate.ray_capped import worker_class

        worker_cls = worker_class(ray)
        count = self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._actors = [worker_cls.remote(self.toolbox_factory) for _ in range(count)]

    def _setup(self, hub: ModelHub) -> tuple[str, list]:
        """(key, [pool ref, settings ref, cache server]) of the hub's pool and settings, made once each.

        The cache server serves the hub's cache file from this (the driver's) node."""
        key = hashlib.sha256(
            "\n".join([*(s.model_dump_json() for s in hub.pool), repr(hub.settings)]).encode()
        ).hexdigest()
        if key not in self._setups:
            ray = self._ray
            server = None
            if hub.settings.cache:
                path = str(hub.settings.cache_path)
                server = self._cache_servers.get(path)
                if server is None:
                    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

                    from rolegraph.evaluate.ray_actors import actor_classes

                    cache_cls, _ = actor_classes(ray)
                    here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
                    server = self._cache_servers[path] = cache_cls.options(scheduling_strategy=here).remote(path)
            self._setups[key] = [ray.put(hub.pool), ray.put(hub.settings), server]
        return key, self._setups[key]

    def _task_ref(self, task: Task) -> Any:
        """The task in Ray's object store, put once per task object (kept alive with it)."""
        entry = self._task_refs.get(id(task))
        if entry is None or entry[0] is not task:
            entry = self._task_refs[id(task)] = (task, self._ray.put(task))
        return entry[1]

    async def run_items(
        self,
        spec: GraphSpec,
        task: Task,
        items: Sequence[Item],
        results: list[ItemScore | None],
        simulated: list[bool],
        *,
        hub: ModelHub,
        roles: Any = None,
        concurrency: int,
        seed: int,
        budget: Budget | None = None,
        advance: Callable[[int], None] | None = None,
    ) -> None:
        """Fill `results[i]` / `simulated[i]` for every item. A budget that runs out on a worker raises
        BudgetExceededError after keeping what finished; a setup error is raised as it was raised."""
        if not items:
            return
        from rolegraph.evaluate.ray_capped import IdleWorkers, run_capped, take_chunk

        self._start()
        setup_key, setup_refs = self._setup(hub)
        task_ref = self._task_ref(task)
        spec_json = spec.model_dump_json()
        chunks = _chunks(len(items), len(self._actors))
        guard = hub.spend_guard
        if guard is not None and getattr(guard, "max_usd", None) is not None:  # a dollar cap: see ray_capped
            if self._idle is None:
                self._idle = IdleWorkers(self._actors)

            def call(actor: Any, allowance: float, rng: range) -> Any:
                chunk = [items[i] for i in rng]
                args = (spec_json, [task_ref], chunk, roles, concurrency, seed, budget)
                return actor.run_capped.remote(type(guard), allowance, setup_key, setup_refs, *args)

            await run_capped(self._idle, call, chunks, items, results, simulated, hub, advance)
            return
        pending: dict[Any, range] = {}
        for rng in chunks:
            actor = self._actors[self._next % len(self._actors)]
            self._next += 1
            ref = actor.run.remote(
                setup_key, setup_refs, spec_json, [task_ref], [items[i] for i in rng], roles, concurrency, seed, budget
            )
            pending[ref] = rng
        futures = {asyncio.ensure_future(_awaitable(ref)): ref for ref in pending}
        done_count = 0
        stop: BaseException | None = None
        try:
            while futures and stop is None:
                finished, _ = await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
                for fut in finished:
                    rng = pending[futures.pop(fut)]
                    filled, error = take_chunk(fut.result(), rng, items, results, simulated, hub)
                    done_count += filled
                    if stop is None:
                        stop = error
                if advance is not None:
                    advance(done_count)
        finally:
            for fut, ref in futures.items():  # a stop or an outside cancellation: drop what is still queued
                fut.cancel()
                try:
                    self._ray.cancel(ref)
                except Exception:  # noqa: BLE001 - a chunk that already finished cannot be cancelled
                    pass
        if stop is not None:
            raise stop

    def _kill_actors(self) -> None:
        ray = self._ray
        for actor in [*self._actors, *self._cache_servers.values()]:
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001 - an actor already gone is fine
                pass
        self._actors, self._cache_servers, self._setups, self._idle = [], {}, {}, None

    def close(self) -> None:
        """Stop the actors, and the local Ray instance if this executor started it."""
        if self._ray is None:
            return
        self._kill_actors()
        self._task_refs.clear()
        if self._owns_ray:
            self._ray.shutdown()
            self._owns_ray = False
        self._ray = None

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


async def _awaitable(ref: Any) -> Any:
    return await ref


def _effective_address(address: str | None) -> tuple[str, str] | None:
    """(address, where it came from) of the cluster ray.init will join, or None when Ray starts a local
    instance or finds this machine's own cluster. Ray reads RAY_ADDRESS for `None` and "auto", so an address
    set there is checked like one given on the command line."""
    if address in (None, "auto"):
        env = os.environ.get(RAY_ADDRESS_ENV, "")
        return (env, f" (from ${RAY_ADDRESS_ENV})") if env not in ("", "auto", "local") else None
    if address == "local":
        return None
    return address, ""


def _init_error(address: str | None, target: tuple[str, str] | None, exc: Exception) -> RolegraphError:
    """ray.init's failure as one line that names the address (masked as `shown_address` masks it)."""
    text = str(exc) or type(exc).__name__
    if target is None and address in (None, "local"):
        return RolegraphError(f"cannot start a local Ray instance: {one_line(text)}")
    raw = target[0] if target is not None else str(address)
    for secret in [raw, *_secrets(raw)]:
        text = text.replace(secret, shown_address(secret) if secret == raw else "***")
    source = target[1] if target is not None else ""
    return RolegraphError(f"cannot connect to the Ray cluster at '{shown_address(raw)}'{source}: {one_line(text)}")


def make_executor(name: str = "local", *, address: str | None = None, **options: Any) -> LocalExecutor | RayExecutor:
    """An executor by its CLI name; `address` only for Ray.

    The commands make their executor before any run state (a search's run directory) exists, so what can be
    known wrong about Ray here is refused here: Ray missing, or an address (given, or in $RAY_ADDRESS) that is
    malformed or does not answer as a Ray cluster (`check_ray_address`, at most twice its connect timeout).
    Refused only at the first evaluation, it would leave a run directory that blocks the corrected retry."""
    if name == "local":
        if address is not None:
            raise RolegraphError("--ray-address is for --executor ray")
        return LocalExecutor()
    if name == "ray":
        if importlib.util.find_spec("ray") is None:
            raise EngineMissingError(RAY_INSTALL_HINT)
        target = _effective_address(address)
        if target is not None:
            check_ray_address(*target)
        return RayExecutor(address, **options)
    raise RolegraphError(f"unknown executor '{name}'." + did_you_mean(name, EXECUTORS))


__all__ = ["EXECUTORS", "LocalExecutor", "RayExecutor", "make_executor", "task_toolbox"]
