"""One MCP server's connection: started (or dialled), watched, restarted, closed.

The connection lives in one task of its own, its owner (the SDK's transports are context managers that
must be entered and left in the same task); tool calls from node tasks go through its session. The
owner also watches a stdio server's stdout: when it ends (the process exited) the server is marked dead
at once, so a server that died while idle costs no call, and the next call restarts it (`reconnect`)
or says it is not running. A server that dies during a call fails that call (`McpServerError`).
`report` hears one line per death and restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rolegraph.errors import RolegraphError
from rolegraph.settings import HOME_ENV, Settings
from rolegraph.tools.base import ToolResult, one_line
from rolegraph.tools.mcp_config import (
    DEFAULT_CONNECT_TIMEOUT_S,
    McpEnvError,
    McpServerSpec,
    from_environment,
    scrub_url,
    tool_name,
)
from rolegraph.tools.mcp_watch import first_of, watched

INSTALL_HINT = "pip install 'rolegraph[mcp]'"
LOG_DIR = "logs"
LOG_MARK = "--- rolegraph {when}: starting MCP server '{name}': {command} ---\n"
"""Written to a server's stderr log before each start: the log is appended across runs."""
STDERR_TAIL_BYTES = 8192  # read for "its last stderr line": a line is short, a server's log may not be
MAX_CAUSE_DEPTH = 20  # how far down __cause__/__context__ a failure is searched for its OS error
EXITED = "it exited (or closed its stdout) before answering"
"""A stdio server's end seen by a request waiting on it: the process may have died just before the request or
while running it (the client cannot tell), so the words claim neither; the SDK says only "Connection closed"."""

Report = Callable[[str], None]
"""Hears one line when a server dies, restarts, or fails to restart (rolegraph serve's console)."""


class McpServerError(RolegraphError):
    """An MCP server failed to start, or died before or during a call."""


class McpMissingError(RolegraphError):
    """The `mcp` package is not installed."""


def _text_of(result: Any) -> str:
    parts = []
    for block in getattr(result, "content", None) or []:
        text = getattr(block, "text", None)
        parts.append(text if isinstance(text, str) else f"[{getattr(block, 'type', 'content')}]")
    return "\n".join(parts).strip()


def _connection_closed(exc: BaseException) -> bool:
    """The SDK's sign that the server went away (its process ended, its HTTP session dropped)."""
    from mcp_types import CONNECTION_CLOSED

    error = getattr(exc, "error", None)
    return getattr(error, "code", getattr(exc, "code", None)) == CONNECTION_CLOSED


def _leaf(exc: BaseException) -> BaseException:
    """The real cause inside the SDK's nested task-group errors (anyio wraps every failure in a
    BaseExceptionGroup, whose own message says only 'unhandled errors in a TaskGroup')."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        inner = [e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)]
        exc = (inner or list(exc.exceptions))[0]
    return exc


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    node: BaseException | None = exc
    while node is not None and id(node) not in seen and len(seen) < MAX_CAUSE_DEPTH:
        seen.add(id(node))
        yield node
        node = node.__cause__ or node.__context__


def _why(exc: BaseException, spec: McpServerSpec) -> str:
    """What went wrong, in words: the leaf error, or for a URL what the network said."""
    leaf = _leaf(exc)
    if spec.url is not None:
        if any(isinstance(e, ConnectionRefusedError) for e in _causes(leaf)):
            return f"connection refused at {spec.describe()} (is the server running?)"
        oserror = next((e for e in _causes(leaf) if isinstance(e, OSError) and e.strerror), None)
        if oserror is not None:
            return f"cannot reach {spec.describe()}: {oserror.strerror}"
    elif _connection_closed(leaf):
        return EXITED
    text = scrub_url(spec, one_line(leaf))
    return f"{type(leaf).__name__}: {text}" if text else type(leaf).__name__


def _abandon(call: asyncio.Future) -> None:
    """Cancel a tool call nobody will read. The SDK may still end it with its own error (the connection closing
    under it, as when the run is stopped): read here, or asyncio prints it with a traceback ("Task exception was
    never retrieved") as the process exits."""
    call.cancel()
    call.add_done_callback(lambda done: done.cancelled() or done.exception())


class McpConnection:
    """One server: started (or dialled) by `open()`, its tools listed, closed by `close()`.

    `reconnect`: a call finding the server dead restarts it first (a long-lived `serve`); without it
    the server stays dead and every later call says so. `report` hears deaths and restarts."""

    def __init__(
        self,
        spec: McpServerSpec,
        settings: Settings,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        *,
        reconnect: bool = False,
        report: Report | None = None,
    ):
        self.spec, self.settings, self.connect_timeout_s = spec, settings, connect_timeout_s
        self.reconnect, self.report = reconnect, report
        self.client: Any = None
        self.tools: list[Any] = []
        self.failure: str | None = None
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._ended = asyncio.Event()  # this start's stdio transport ended: the process exited
        self._in_flight = 0  # calls waiting on the server: a death then is theirs to report, with the tool
        self._owner: asyncio.Task | None = None
        self._up = False  # connected and not yet seen dead: a death is reported once
        self._closed = False  # close() was called: never restarted
        self._restart = asyncio.Lock()  # one restart at a time, however many calls find the server dead
        self._log_from = 0  # where this start's lines begin in the stderr log
        self._from_env: dict[str, str] = {}  # this start's env_from / headers_from_env values (never shown)

    @property
    def log_path(self) -> Path:
        return self.settings.home / LOG_DIR / f"mcp-{self.spec.name}.log"

    def _target(self, stack: contextlib.AsyncExitStack, ended: asyncio.Event) -> Any:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        s = self.spec
        if s.url is not None:
            if not self._from_env:
                return s.url
            # headers go through an HTTP client of ours, the SDK's documented way (its defaults, our headers)
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            http = create_mcp_http_client(headers=self._from_env)
            stack.push_async_callback(http.aclose)  # the transport leaves a client it was given open
            return streamable_http_client(s.url, http_client=http)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        errlog = stack.enter_context(self.log_path.open("a", encoding="utf-8"))
        errlog.write(LOG_MARK.format(when=time.strftime("%Y-%m-%d %H:%M:%S"), name=s.name, command=s.describe()))
        errlog.flush()  # before the child writes to the same file
        self._log_from = errlog.tell()
        command = list(s.command or [])
        env = {HOME_ENV: str(self.settings.home.absolute()), **s.env, **self._from_env}  # over the SDK's defaults
        params = StdioServerParameters(command=command[0], args=command[1:], env=env)
        return watched(stdio_client(params, errlog=errlog), ended)

    def _stderr_tail(self) -> str:
        """`; its last stderr line: ...` from this start of a stdio server (empty when it wrote none)."""
        if self.spec.command is None:
            return ""
        try:
            with self.log_path.open("rb") as log:  # only the end: a long-serving server's log can be large
                end = log.seek(0, os.SEEK_END)
                log.seek(max(self._log_from, end - STDERR_TAIL_BYTES))
                lines = log.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        last = next((line for line in reversed(lines) if line.strip()), "")
        return f"; its last stderr line: {one_line(last)}" if last else ""

    async def _own(self, ready: asyncio.Event, closing: asyncio.Event, ended: asyncio.Event) -> None:
        try:
            from mcp import Client
        except ImportError:
            self.failure = f"the mcp package is missing: {INSTALL_HINT}"
            ready.set()
            return
        try:
            async with contextlib.AsyncExitStack() as stack:
                async with Client(self._target(stack, ended), read_timeout_seconds=self.spec.timeout_s) as client:
                    listing = await client.list_tools()
                    self.client, self.tools, self._up = client, list(listing.tools), True
                    ready.set()
                    await first_of(closing, ended)
                    if ended.is_set() and not closing.is_set() and ready is self._ready and not self._in_flight:
                        self._exited()  # while idle; a call in flight reports it itself, naming its tool
        except BaseException as exc:  # noqa: BLE001 - whatever ended the connection is reported, never raised here
            if self.failure is None and not closing.is_set() and ready is self._ready:
                self.failure = _why(exc, self.spec)
            if isinstance(exc, asyncio.CancelledError) and not closing.is_set():
                raise
        finally:
            if ready is self._ready:  # an earlier start's owner ending late leaves a restarted one alone
                self.client = None
                if self.failure is None and not closing.is_set():
                    self.failure = "the connection closed"
            ready.set()

    async def _start(self) -> None:
        """Start (or dial) the server and list its tools; `McpServerError` in one line if it cannot be."""
        self._ready, self._closing, self._ended, self.failure = asyncio.Event(), asyncio.Event(), asyncio.Event(), None
        s = self.spec
        try:  # read at each start, so a restart sees the environment as it is now
            self._from_env = from_environment(s, s.env_from if s.command is not None else s.headers_from_env)
        except McpEnvError as exc:
            raise McpServerError(str(exc)) from None  # names the server and the variable, never a value
        owning = self._own(self._ready, self._closing, self._ended)
        self._owner = asyncio.create_task(owning, name=f"mcp:{self.spec.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.connect_timeout_s)
        except TimeoutError:
            self.failure = f"no MCP answer within {self.connect_timeout_s:g} s"
        if self.client is None:
            await self._stop()
            where = f" (log: {self.log_path})" if self.spec.command else ""
            raise McpServerError(
                f"MCP server '{self.spec.name}' ({self.spec.describe()}) did not start: "
                f"{self.failure}{self._stderr_tail()}{where}"
            )

    async def open(self) -> McpConnection:
        await self._start()
        return self

    async def _restart_if_dead(self) -> None:
        async with self._restart:
            if self._alive() or self._closed:
                return
            await self._stop()
            try:
                await self._start()
            except McpServerError as exc:
                self._say(f"{exc}; tried again on the next call")
                raise
            self._say(f"MCP server '{self.spec.name}' restarted ({len(self.tools)} tools)")

    def _alive(self) -> bool:
        """Connected, and its process has not exited since: one that did is marked dead here (and reported)
        if its owner has not done so yet, so a call never goes to a server known to be gone."""
        if self.client is not None and self._ended.is_set():
            self._exited()
        return self.client is not None

    def _exited(self) -> None:
        """The stdio server's process exited (its stdout ended): it is marked dead and the death reported once
        (a call waiting on it usually reports first, naming its tool); the next call restarts it (`reconnect`)
        or says it is not running."""
        if self.client is None:
            return
        self.client = None
        when = "during a call" if self._in_flight else "between calls"
        self.failure = self.failure or f"it exited {when}"
        if self._up:
            self._up = False
            restarts = "; it restarts on the next call" if self.reconnect else ""
            self._say(f"MCP server '{self.spec.name}' exited {when}{self._stderr_tail()}{restarts}")

    def _say(self, line: str) -> None:
        if self.report is not None:
            self.report(line)

    def _dead(self, tool: str, why: str, owner: asyncio.Task | None) -> McpServerError:
        """The server died during a call: it is marked dead (reported once) and its owner leaves. A call
        made before a restart (`owner` is an earlier start's) leaves the restarted server alone."""
        message = f"MCP server '{self.spec.name}' died during a call to '{tool}': {why}{self._stderr_tail()}"
        if owner is not self._owner:
            return McpServerError(message)
        self.failure = self.failure or why
        self.client = None
        self._closing.set()  # the owner leaves the client's context; later calls fail at once (or restart it)
        if self._up:
            self._up = False
            self._say(message + ("; it restarts on the next call" if self.reconnect else ""))
        return McpServerError(message)

    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolResult:
        if not self._alive() and self.reconnect and not self._closed:
            await self._restart_if_dead()
        client, name = self.client if self._alive() else None, tool_name(self.spec.name, tool)
        if client is None:
            raise McpServerError(f"MCP server '{self.spec.name}' is not running ({self.failure or 'closed'})")
        owner = self._owner
        call = asyncio.ensure_future(client.call_tool(tool, arguments))
        waiters = {call} | ({owner} if owner is not None else set())
        self._in_flight += 1
        try:
            done, _ = await asyncio.wait(waiters, timeout=self.spec.timeout_s, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the run was stopped (Ctrl-C, SIGTERM): the call goes with it
            _abandon(call)
            raise
        finally:
            self._in_flight -= 1
        if call not in done:
            _abandon(call)
            if owner is not None and owner in done:  # the connection ended while the call waited
                raise self._dead(tool, self.failure or "the connection closed", owner)
            return ToolResult(ok=False, text=f"{name}: timed out after {self.spec.timeout_s:g}s")
        try:
            result = call.result()
        except Exception as exc:  # noqa: BLE001 - the MCP layer's own errors: a dead server or a refused call
            if _connection_closed(exc) or self.client is None or (owner is not None and owner.done()):
                stdio_end = self.spec.command is not None and _connection_closed(exc)
                why = EXITED if stdio_end else scrub_url(self.spec, one_line(exc)) or "the connection closed"
                raise self._dead(tool, why, owner) from None
            return ToolResult(ok=False, text=f"{name}: {type(exc).__name__}: {scrub_url(self.spec, one_line(exc))}")
        text = _text_of(result)
        data = getattr(result, "structured_content", None)
        if data is None and text[:1] in "[{":  # a tool returning JSON as text (no output schema)
            with contextlib.suppress(ValueError):
                data = json.loads(text)
        if getattr(result, "is_error", False):
            return ToolResult(ok=False, text=f"{name}: {text or 'the tool reported an error'}")
        return ToolResult(ok=True, text=text or (json.dumps(data) if data is not None else ""), data=data)

    async def _stop(self) -> None:
        """End the owner task (which stops a stdio server). One still connecting is cancelled at once:
        waiting for it would add the SDK's own handshake timeouts to the connect timeout."""
        self._closing.set()
        owner, self._owner = self._owner, None
        if owner is None:
            return
        if not self._ready.is_set():
            owner.cancel()
        try:
            await asyncio.wait_for(owner, self.connect_timeout_s)
        except (TimeoutError, asyncio.CancelledError):
            owner.cancel()

    async def close(self) -> None:
        self._closed = True
        await self._stop()
