"""The sync wrappers' two pieces (`run_graph_sync`, `evaluate_sync`, `optimize`): refuse a running event loop in one
line, and run a call in a fresh loop that closes the hub's clients before it ends."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from rolegraph.errors import RolegraphError

if TYPE_CHECKING:
    from rolegraph.models.hub import ModelHub

T = TypeVar("T")


def refuse_running_loop(what: str, instead: str) -> None:
    """Raise one line if an event loop runs in this thread (Jupyter, an async app), before any coroutine exists.

    `asyncio.run` would refuse it anyway, but with a bare RuntimeError and a 'coroutine was never awaited'
    warning for the coroutine already made; the sync wrappers call this first and name the awaitable."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RolegraphError(
        f"{what} cannot run inside a running event loop (Jupyter, an async app): await {instead} instead"
    )


def run_closing(make: Callable[[], Awaitable[T]], hub: ModelHub | None) -> T:
    """`make()` in a fresh event loop; `hub` (if any) is closed before the loop ends.

    A hub's HTTP clients bind to the loop they first ran in: left open, they warn (unclosed transport) and
    fail later at garbage collection (event loop is closed). `ModelHub.aclose` closes them inside the loop
    and the hub re-makes them on its next call, so one hub serves several sync calls in a row."""

    async def main() -> T:
        try:
            return await make()
        finally:
            if hub is not None:
                await hub.aclose()

    return asyncio.run(main())
