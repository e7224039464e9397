"""The heap an evaluation or a search starts with, frozen for its length, so the cyclic collector stops re-reading it.

Python's full (oldest-generation) collection walks every tracked object. After rolegraph's imports that is
about 200,000 objects (LangGraph, pydantic, the OpenAI client, the pool); one walk costs ~0.1 s on this
project's 2-core machine, and an evaluation's in-flight objects set one off every few hundred item runs:
about 0.25 ms of CPU per item, a sixth of the client's cost against a zero-latency server (`python -m
benchmarks throughput`). None of those objects becomes garbage because an evaluation runs.

`frozen_heap()` moves them to the permanent generation (`gc.freeze`) on entry. The collector still runs,
over what the block allocates; on exit one full collection (of those objects only: the old heap is still
frozen) frees the block's own cyclic garbage, such as its compiled LangGraph graph, and `gc.unfreeze`
hands the old heap back. Nothing is kept longer than it would be, except cyclic garbage that already
existed on entry, which waits for the next full collection.

Only the outermost block freezes: a block inside another (an evaluation inside a search) is told so by a
context variable, because asking the collector (`gc.get_freeze_count`) walks the whole frozen heap, ~2 ms
a call. The collector is also left alone when the application froze the heap itself (asked once, on
entry to an outermost block) or turned the collector off.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

INSIDE: ContextVar[bool] = ContextVar("rolegraph_frozen_heap", default=False)
"""True inside an outermost block, which found the heap frozen or froze it (tasks started in it inherit it)."""


@contextmanager
def frozen_heap(wanted: bool = True) -> Iterator[bool]:
    """Freeze the tracked heap for the block, if `wanted` and nobody has; yields whether this call froze it."""
    if not wanted or INSIDE.get() or not gc.isenabled():
        yield False
        return
    token = INSIDE.set(True)  # blocks inside this one need not ask again, whoever froze the heap
    try:
        if gc.get_freeze_count():  # the application's own freeze: its owner thaws it
            yield False
            return
        gc.freeze()
        try:
            yield True
        finally:
            gc.collect()  # the block's own cyclic garbage, while the heap it started with is still skipped
            gc.unfreeze()
    finally:
        INSIDE.reset(token)


def on_frozen_heap(
    worth: Callable[..., bool] | None = None,
) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Run a coroutine function under `frozen_heap()`, when `worth(*args, **kwargs)` (default: always).
    Its frame is gone before the exit's collection, so what it built and dropped is freed there."""

    def decorate(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with frozen_heap(worth is None or worth(*args, **kwargs)):
                return await fn(*args, **kwargs)

        return wrapper

    return decorate
