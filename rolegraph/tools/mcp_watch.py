"""Watching an MCP transport for its end, which the SDK's session notices only by failing a request.

A stdio server that exits while idle closes its stdout; nothing is waiting on the session then, so the
SDK says nothing until the next call fails with "Connection closed". `watched` wraps a transport so
that its connection's owner hears the end at once (mcp_connection.py) and marks the server dead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any


class _EndWatch:
    """A transport's read stream (the SDK's `ReadStream` protocol) that sets `ended` when the stream ends: the
    server's process exited or closed its stdout. The SDK's session notices that only by failing the next
    request, so without this a server that died while idle looked alive until a call failed on it."""

    def __init__(self, stream: Any, ended: asyncio.Event):
        import anyio  # the mcp SDK's own dependency, there whenever a transport is

        self._stream, self._ended = stream, ended
        self._ends = (StopAsyncIteration, anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError)

    @property
    def last_context(self) -> Any:
        return getattr(self._stream, "last_context", None)

    async def receive(self) -> Any:
        try:
            return await self._stream.receive()
        except self._ends:
            self._ended.set()
            raise

    async def __anext__(self) -> Any:
        try:
            return await self._stream.__anext__()
        except self._ends:
            self._ended.set()
            raise

    def __aiter__(self) -> _EndWatch:
        return self

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def __aenter__(self) -> _EndWatch:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@contextlib.asynccontextmanager
async def watched(transport: Any, ended: asyncio.Event) -> AsyncIterator[tuple[Any, Any]]:
    """`transport` (a stdio client) with its read stream watched for its end."""
    async with transport as (read, write):
        yield _EndWatch(read, ended), write


async def first_of(*events: asyncio.Event) -> None:
    """Returns when any of `events` is set."""
    waits = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
