"""A uvicorn server that says where it listens once its sockets are bound (`serve`, `serve-sim`).

Why not print the address before `run()`: with `--port 0` the port is chosen by the kernel when
uvicorn binds, so a line printed earlier says `:0` and nobody can connect to it. uvicorn's own
"Uvicorn running on ..." line is a log record (hidden at the log levels the commands use, and it
prints the configured port); this reads the bound sockets themselves.

Why bind before uvicorn does (`bind_listening`): a port already in use inside uvicorn's startup is a
logged error and exit code 3; binding first turns it into the CLI's one line and exit code 2, like any
other mistake in the command.

Why `shutdown` waits for the requests it cancelled (`FINISH_CANCELLED_S`): uvicorn cancels the requests still
running after `timeout_graceful_shutdown` but does not wait for them, and as `serve()` returns it re-raises the
signal it caught. Ctrl-C's re-raise is a KeyboardInterrupt, and the event loop's close still runs the cancelled
requests to their end (`rolegraph serve`'s guard writes a 503 or a stream's error event and `[DONE]`); SIGTERM's
default action ends the process at once, and its clients got a dropped connection instead. Waiting here makes
both signals end in-flight requests the same way; the process still dies of the SIGTERM (a shell's 143).

Why `on_cancelled` holds back uvicorn's `ERROR: Cancel N running task(s), timeout graceful shutdown exceeded`:
for `rolegraph serve` and `serve-sim` (both behind `rolegraph.serve.guard.Guard`) that cancel is the documented
way a stop ends its in-flight requests (each answers "shutting down"), and a user reads ERROR as something
broke. The record is held while shutdown waits; once every cancelled request has ended, the command's own line
(`stopping_line`) replaces it; if some did not end, uvicorn's record is logged as it was. Any other uvicorn
record passes untouched.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import typer
import uvicorn

from rolegraph.errors import RolegraphError
from rolegraph.serve.guard import SHUTDOWN_CODE, SHUTDOWN_STATUS

Announce = Callable[[list[str]], None]
"""Called once, after binding, with the base URL (`http://HOST:PORT/v1`) of every listening socket."""
API_PATH = "/v1"
FINISH_CANCELLED_S = 5.0
"""How long shutdown waits, after cancelling the requests still in flight, for them to write their last bytes and
their connections to close (a client that stopped reading must not hold the server up for ever)."""
POLL_S = 0.05
UVICORN_LOGGER = "uvicorn.error"
UVICORN_CANCEL_MSG = "Cancel %s running task(s), timeout graceful shutdown exceeded"
"""uvicorn's format string for the cancel at the end of a graceful shutdown (uvicorn/server.py); if a uvicorn
release words it otherwise, nothing is held back and its line shows as before."""
Cancelled = Callable[[int], None]
"""Called at shutdown with the number of requests uvicorn cancelled, once all of them have ended."""


def stopping_line(command: str) -> Cancelled:
    """The `on_cancelled` of a command whose app is behind `Guard`: its own stop line on stderr, in place of
    uvicorn's ERROR record, saying how the requests in flight ended."""

    def say(count: int) -> None:
        typer.echo(
            f"{command}: stopping: {count} request(s) in flight ended with {SHUTDOWN_STATUS} {SHUTDOWN_CODE} "
            "(a stream: as its last event)",
            err=True,
        )

    return say


def base_urls(servers: Sequence[Any]) -> list[str]:
    """`http://HOST:PORT/v1` for every TCP socket of asyncio servers (IPv6 hosts in brackets), in order,
    without repeats."""
    urls: list[str] = []
    for server in servers:
        for sock in server.sockets or ():
            if sock.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if sock.family == socket.AF_INET6 else host
            url = f"http://{shown}:{port}{API_PATH}"
            if url not in urls:
                urls.append(url)
    return urls


class ListenError(RolegraphError):
    """The address to serve on cannot be bound (in use, not an interface here, not permitted)."""


def bind_listening(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port), as uvicorn would bind it; `ListenError` in one line if it cannot be."""
    where = f"{host}:{port}"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ListenError(f"cannot listen on {where}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        busy = exc.errno == errno.EADDRINUSE
        hint = " (another server is using it: pick another --port, or --port 0 for any free one)" if busy else ""
        raise ListenError(f"cannot listen on {where}: {exc.strerror}{hint}") from None
    sock.set_inheritable(True)
    return sock


class _HeldCancel(logging.Filter):
    """Holds back uvicorn's cancel record (`UVICORN_CANCEL_MSG`) instead of letting it print; passes the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.record: logging.LogRecord | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == UVICORN_CANCEL_MSG and self.record is None:
            self.record = record
            return False
        return True

    @property
    def count(self) -> int | None:
        """How many tasks the held record says were cancelled (None: no record, or not the shape expected)."""
        args = self.record.args if self.record is not None else None
        if isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], int):
            return args[0]
        return None


class ListeningServer(uvicorn.Server):
    """`uvicorn.Server` that calls `announce` with the bound addresses once startup has bound them, and, given
    `on_cancelled`, says in its words (not uvicorn's ERROR) how many in-flight requests a stop ended."""

    def __init__(self, config: uvicorn.Config, announce: Announce, on_cancelled: Cancelled | None = None):
        super().__init__(config)
        self._announce = announce
        self._on_cancelled = on_cancelled

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:  # a failed bind exits inside startup (uvicorn logs why)
            self._announce(base_urls(self.servers))

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        logger = logging.getLogger(UVICORN_LOGGER)
        held = _HeldCancel()
        if self._on_cancelled is not None:
            logger.addFilter(held)
        try:
            await super().shutdown(sockets=sockets)
        finally:
            logger.removeFilter(held)
        await self._finish_cancelled()
        if held.record is None:
            return
        if held.count is not None and not self.server_state.tasks and self._on_cancelled is not None:
            self._on_cancelled(held.count)
        else:  # some request did not end (or the record is not the one expected): uvicorn's line stands
            logger.handle(held.record)

    async def _finish_cancelled(self) -> None:
        """Wait, at most `FINISH_CANCELLED_S`, for the requests uvicorn cancelled to end (module docstring)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FINISH_CANCELLED_S
        state = self.server_state
        # the requests uvicorn cancelled answer "shutting down" as they end; their connections close once those
        # last bytes are flushed. A second Ctrl-C (uvicorn's force_exit) stops waiting, as it does uvicorn's wait.
        while (state.tasks or state.connections) and not self.force_exit and loop.time() < deadline:
            await asyncio.sleep(POLL_S)

    def serve_bound(self, around: AbstractAsyncContextManager[Any] | None = None) -> None:
        """Bind first (`bind_listening`: a busy port is one line, exit 2), then run on that socket; with `around`,
        inside it, in the server's own event loop (`rolegraph serve` opens its graph and MCP servers there, so a
        failure to open is one line before uvicorn starts, and their connections live in the serving loop)."""
        sock = bind_listening(self.config.host, self.config.port)
        try:
            if around is None:
                self.run(sockets=[sock])
            else:

                async def serve() -> None:
                    async with around:
                        await self.serve(sockets=[sock])

                with asyncio.Runner(loop_factory=self.config.get_loop_factory()) as runner:
                    runner.run(serve())
        finally:
            sock.close()
