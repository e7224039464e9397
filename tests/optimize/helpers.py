"""Tiny searches for the tests: a 3-worker space, 4-item batches, a handful of test items."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rolegraph.models.hub import ModelHub
from rolegraph.optimize import loop
from rolegraph.optimize.api import SearchResult, make_optimizer, optimize_async, resume_async
from rolegraph.optimize.context import SearchConfig
from rolegraph.optimize.space import SearchSpace
from rolegraph.settings import Settings

TINY_MODELS = ("sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b")
TINY_ROLES = ("solver", "verifier", "fuser")


def tiny_space(pool, **overrides) -> SearchSpace:
    args = {"models": TINY_MODELS, "roles": TINY_ROLES, "max_nodes": 4, "budget": 18.0} | overrides
    return SearchSpace(pool=pool, **args)


def tiny_config(**overrides) -> SearchConfig:
    args = {"iterations": 2, "samples": 2, "batch": 4, "validation_items": 4, "test_items": 6,
            "top_candidates": 2} | overrides
    return SearchConfig(**args)


def run(pool, home: Path, task, optimizer="random", *, space=None, config=None, out=None, hub_out=None,
        cache: bool = True, init_from=None, task_args=None, **options) -> SearchResult:
    """One search in a fresh event loop with its own hub; `hub_out` (a list) receives the hub's stats."""

    async def main() -> SearchResult:
        hub = ModelHub(pool, Settings(home=home, cache=cache))
        try:
            opt = optimizer if not isinstance(optimizer, str) else make_optimizer(optimizer, **options)
            return await optimize_async(task, space or tiny_space(pool), opt, hub=hub, config=config or tiny_config(),
                                        out=out, task_args=task_args or {"name": "gsm", "size": 80},
                                        init_from=init_from)
        finally:
            if hub_out is not None:
                hub_out.append(hub.stats)
            await hub.aclose()

    return asyncio.run(main())


def resume(pool, home: Path, run_dir: Path, task, hub_out=None) -> SearchResult:
    async def main() -> SearchResult:
        hub = ModelHub(pool, Settings(home=home))
        try:
            return await resume_async(run_dir, hub.settings, hub=hub, task=task)
        finally:
            if hub_out is not None:
                hub_out.append(hub.stats)
            await hub.aclose()

    return asyncio.run(main())


class Interrupted(Exception):
    """Stands for a stop (a timeout, Ctrl-C) right after a checkpoint (`stopped_after`)."""


@contextmanager
def stopped_after(iteration: int) -> Iterator[pytest.MonkeyPatch]:
    """A search run inside stops with `Interrupted` right after its checkpoint of `iteration` (search phase), that
    checkpoint saved; yields the monkeypatch, for more changes that end with it."""
    real_save = loop.save_checkpoint

    def save_then_stop(store, ctx, optimizer, it, phase, final=None):
        real_save(store, ctx, optimizer, it, phase, final)
        if it == iteration and phase == "search":
            raise Interrupted

    with pytest.MonkeyPatch.context() as m:
        m.setattr(loop, "save_checkpoint", save_then_stop)
        yield m
