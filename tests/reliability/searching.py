"""Small searches through the loopback server for the reliability tests and benchmarks.

The models are HTTP twins of the sim models (`http/llama-3.2-1b`, ...) served by serve-sim over a
real socket with the real `openai` client, so every fault the server injects meets the real retry
policy. A hub built here uses the OpenAI backend with a short client timeout (so a `timeout` fault
costs seconds, not minutes) and a retry sleep that does not wait (the server does not enforce the
waits it asks for; the waits are recorded).
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rolegraph.models.cache import CachedChatModel, ResponseCache
from rolegraph.sim.faults import FaultConfig, FaultPlan
from rolegraph.models.hub import ModelHub
from rolegraph.models.openai_backend import OpenAIChatModel
from rolegraph.models.pool import ModelPool
from rolegraph.optimize.api import SearchResult, make_optimizer, optimize_async, resume_async
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings

SIM_MODELS = ("sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b")
ROLES = ("solver", "verifier", "fuser")
TASK_ARGS = {"name": "gsm", "size": 80}
CLIENT_TIMEOUT_S = 1.0
TEST_ATTEMPTS = 12
"""Attempts per call in the exactness tests: at 30% faults a call fails for good with chance 0.3**12
(5e-7), so a search of a few thousand calls ends with every call answered. The product default
(6 attempts, 7e-4 per call) is measured by the benchmark, not assumed here."""


class NoWait:
    """A retry sleep that records the waits asked for and yields without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def set_faults(server: Any, config: FaultConfig | None) -> None:
    """Switch a running loopback server's fault injection (a fresh seeded plan)."""
    service = server.app.state.service
    service.faults = config
    service.plan = FaultPlan(config)


def http_models(pool: ModelPool, base_url: str, model_ids: tuple[str, ...] = SIM_MODELS) -> ModelPool:
    """`pool` plus an HTTP twin of each sim model (same sizes and prices, so budgets and bills match)."""
    twins = [pool.get(m).model_copy(update={"id": "http/" + m.split("/", 1)[1], "backend": "openai",
                                            "base_url": base_url, "model": m, "answer_key": True})
             for m in model_ids]
    return ModelPool(list(pool) + twins)


def twin_ids(model_ids: tuple[str, ...] = SIM_MODELS) -> tuple[str, ...]:
    return tuple("http/" + m.split("/", 1)[1] for m in model_ids)


@dataclass
class HttpHub:
    """A ModelHub whose HTTP twins use the OpenAI backend with the test's timeout, attempts and sleep."""

    hub: ModelHub
    cache: ResponseCache
    sleep: NoWait = field(default_factory=NoWait)
    distinct: int = 0
    """Distinct calls answered (response-cache rows), read when the hub closes."""

    async def aclose(self) -> None:
        await self.hub.aclose()
        self.distinct = len(self.cache)
        self.cache.close()


def http_hub(pool: ModelPool, settings: Settings, *, attempts: int = TEST_ATTEMPTS,
             timeout_s: float = CLIENT_TIMEOUT_S) -> HttpHub:
    hub = ModelHub(pool, settings)
    settings.ensure_home()
    cache = ResponseCache(settings.cache_path)
    sleep = NoWait()
    for spec in pool:
        if spec.id.startswith("http/"):
            client = OpenAIChatModel(spec, settings, timeout_s=timeout_s, max_attempts=attempts, sleep=sleep)
            hub.use(spec.id, CachedChatModel(client, cache, spec) if settings.cache else client)
    return HttpHub(hub, cache, sleep)


def space_for(pool: ModelPool, models: tuple[str, ...], **overrides: Any) -> SearchSpace:
    args = {"models": models, "roles": ROLES, "max_nodes": 4, "budget": 18.0} | overrides
    return SearchSpace(pool=pool, **args)


def tiny_config(**overrides: Any) -> SearchConfig:
    args = {"iterations": 2, "samples": 2, "batch": 4, "validation_items": 4, "test_items": 6,
            "top_candidates": 2, "concurrency": 4} | overrides
    return SearchConfig(**args)


async def search(pool: ModelPool, settings: Settings, task: Any, *, optimizer: Any = "agent-reinforce",
                 config: SearchConfig | None = None, out: Path | None = None, pool_path: Path | None = None,
                 attempts: int = TEST_ATTEMPTS, models: tuple[str, ...] | None = None,
                 **options: Any) -> tuple[SearchResult, HttpHub]:
    """One search on the HTTP twins; returns the result and the (closed) hub for its stats."""
    models = models or twin_ids()
    http = http_hub(pool, settings, attempts=attempts)
    try:
        opt = make_optimizer(optimizer, **options) if isinstance(optimizer, str) else optimizer
        result = await optimize_async(task, space_for(pool, models), opt, hub=http.hub,
                                      config=config or tiny_config(), out=out, task_args=TASK_ARGS,
                                      pool_path=str(pool_path) if pool_path else None)
    finally:
        await http.aclose()
    return result, http


async def resume(run_dir: Path, pool: ModelPool, settings: Settings, task: Any,
                 attempts: int = TEST_ATTEMPTS) -> tuple[SearchResult, HttpHub]:
    http = http_hub(pool, settings, attempts=attempts)
    try:
        result = await resume_async(run_dir, settings, hub=http.hub, task=task)
    finally:
        await http.aclose()
    return result, http


WALL_FIELDS = frozenset({"latency_s", "cached_calls"})
"""What depends on how a run went (wall times, which calls the response cache answered), not on what it decided."""
"""Measured wall time: the one field of a record that depends on the machine, not on the search."""


def comparable(result: SearchResult) -> dict[str, Any]:
    """Everything a search decided and counted, without measured wall times."""
    def strip(model: Any) -> Any:
        return model.model_dump(exclude=WALL_FIELDS)

    return {"best": result.best_hash, "graph": result.best_graph.model_dump(),
            "records": [strip(r) for r in result.trace.records],
            "iterations": [r.model_dump() for r in result.trace.iterations],
            "feedback": [f.model_dump() for f in result.trace.feedback],
            "test": result.test.model_dump(exclude=WALL_FIELDS), "evaluations": result.evaluations}
