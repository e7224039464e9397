"""The heap an evaluation starts with, frozen for its length, so that the cyclic collector stops re-reading it.

Python's full (oldest-generation) collection walks every tracked object. After rolegraph's imports that is
about 200,000 objects (LangGraph, pydantic, the OpenAI client, the pool); one walk costs ~0.1 s on this
project's 2-core machine, and an evaluation's in-flight objects set one off every few hundred item runs:
about 0.25 ms of CPU per item, a sixth of the client's cost against a zero-latency server (`python -m
benchmarks throughput`). None of those objects becomes garbage because an evaluation runs.

`frozen_heap()` moves them to the permanent generation (`gc.freeze`) on entry. The collector still runs,
over what the block allocates; on exit one full collection (of those objects only: the old heap is still
frozen) frees the block's own cyclic garbage, such as its compiled LangGraph graph, and `gc.unfreeze`
hands the old heap back. Nothing is kept longer than it would be, except cyclic garbage that already
existed on entry, which waits for the next full collection. The collector is left alone when the heap is
frozen already (by the application, or by an evaluation or search running around or beside this one:
the one that froze it thaws it) or when it is turned off.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def frozen_heap() -> Iterator[bool]:
    """Freeze the tracked heap for the block unless it is frozen already; yields whether this call froze it."""
    if gc.get_freeze_count() or not gc.isenabled():
        yield False
        return
    gc.freeze()
    try:
        yield True
    finally:
        gc.collect()  # the block's own cyclic garbage, while the heap it started with is still skipped
        gc.unfreeze()


def on_frozen_heap(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run a coroutine function under `frozen_heap()`. Its frame is gone before the exit's collection, so
    what it built and dropped (a compiled graph) is freed there."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with frozen_heap():
            return await fn(*args, **kwargs)

    return wrapper
