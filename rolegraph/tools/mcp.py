"""Tools from MCP servers: discovered with the `mcp` SDK's client, offered to nodes like built-in tools.

`mcp_tools(servers, settings, allow_commands=...)` connects to every server of a graph file (stdio:
the command is started, only if the user allows it, see mcp_config.py; URL: streamable HTTP), lists
their tools, and yields them as `McpTool`s named `server.tool`; leaving the block closes every
connection (and stops stdio servers). `mcp_toolbox(...)` does the same around an existing toolbox.

Each server's connection lives in one task of its own (the SDK's transports are context managers
that must be entered and left in the same task); tool calls from node tasks go through its session.
A call has the server's timeout; a timed-out call or a tool's own error is a failed tool result the
model reads, like any tool's. A server that cannot start, or that dies before or during a call, is
`McpServerError`: the node using it fails with a message naming the node and the server, and the
run keeps everything else it computed (the runtime's NodeFailedError carries the partial result).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from rolegraph.errors import RolegraphError
from rolegraph.settings import Settings
from rolegraph.tools.base import Tool, ToolResult, one_line
from rolegraph.tools.mcp_config import DEFAULT_CONNECT_TIMEOUT_S, McpServerSpec, check_allowed, tool_name

INSTALL_HINT = "pip install 'rolegraph[mcp]'"
OPENAI_SEPARATOR = "__"  # OpenAI function names allow no '.': `docs.search` is offered as `docs__search`
LOG_DIR = "logs"
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


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


class McpConnection:
    """One server: started (or dialled) by `open()`, its tools listed, closed by `close()`."""

    def __init__(self, spec: McpServerSpec, settings: Settings, connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S):
        self.spec, self.settings, self.connect_timeout_s = spec, settings, connect_timeout_s
        self.client: Any = None
        self.tools: list[Any] = []
        self.failure: str | None = None
        self._ready = asyncio.Event()
        self._closing = asyncio.Event()
        self._owner: asyncio.Task | None = None

    def _target(self, stack: contextlib.ExitStack) -> Any:
        from mcp.client.stdio import StdioServerParameters, stdio_client

        s = self.spec
        if s.url is not None:
            return s.url
        log = self.settings.home / LOG_DIR / f"mcp-{s.name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        errlog = stack.enter_context(Path(log).open("a", encoding="utf-8"))
        command = list(s.command or [])
        params = StdioServerParameters(command=command[0], args=command[1:], env=dict(s.env) or None)
        return stdio_client(params, errlog=errlog)

    async def _own(self) -> None:
        try:
            from mcp import Client
        except ImportError:
            self.failure = f"the mcp package is missing: {INSTALL_HINT}"
            self._ready.set()
            return
        try:
            with contextlib.ExitStack() as stack:
                async with Client(self._target(stack), read_timeout_seconds=self.spec.timeout_s) as client:
                    listing = await client.list_tools()
                    self.client, self.tools = client, list(listing.tools)
                    self._ready.set()
                    await self._closing.wait()
        except BaseException as exc:  # noqa: BLE001 - whatever ended the connection is reported, never raised here
            if self.failure is None and not self._closing.is_set():
                self.failure = one_line(f"{type(exc).__name__}: {exc}") if str(exc) else type(exc).__name__
            if isinstance(exc, asyncio.CancelledError) and not self._closing.is_set():
                raise
        finally:
            self.client = None
            if self.failure is None and not self._closing.is_set():
                self.failure = "the connection closed"
            self._ready.set()

    async def open(self) -> McpConnection:
        self._owner = asyncio.create_task(self._own(), name=f"mcp:{self.spec.name}")
        try:
            await asyncio.wait_for(self._ready.wait(), self.connect_timeout_s)
        except TimeoutError:
            self.failure = f"no answer within {self.connect_timeout_s:g} s"
        if self.client is None:
            await self.close()
            log = self.settings.home / LOG_DIR / f"mcp-{self.spec.name}.log"
            where = f" (its stderr: {log})" if self.spec.command else ""
            raise McpServerError(
                f"MCP server '{self.spec.name}' ({self.spec.describe()}) did not start: {self.failure}{where}"
            )
        return self

    def _dead(self, tool: str, why: str) -> McpServerError:
        return McpServerError(f"MCP server '{self.spec.name}' died during a call to '{tool}': {why}")

    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolResult:
        client, name = self.client, tool_name(self.spec.name, tool)
        if client is None:
            raise McpServerError(f"MCP server '{self.spec.name}' is not running ({self.failure or 'closed'})")
        owner = self._owner
        call = asyncio.ensure_future(client.call_tool(tool, arguments))
        waiters = {call} | ({owner} if owner is not None else set())
        done, _ = await asyncio.wait(waiters, timeout=self.spec.timeout_s, return_when=asyncio.FIRST_COMPLETED)
        if call not in done:
            call.cancel()
            if owner is not None and owner in done:  # the connection ended while the call waited
                raise self._dead(tool, self.failure or "the connection closed")
            return ToolResult(ok=False, text=f"{name}: timed out after {self.spec.timeout_s:g}s")
        try:
            result = call.result()
        except Exception as exc:  # noqa: BLE001 - the MCP layer's own errors: a dead server or a refused call
            if _connection_closed(exc) or self.client is None or (owner is not None and owner.done()):
                self.failure = self.failure or one_line(exc)
                self._closing.set()  # the owner leaves the client's context; later calls fail at once
                self.client = None
                raise self._dead(tool, one_line(exc) or "the connection closed") from None
            return ToolResult(ok=False, text=f"{name}: {type(exc).__name__}: {one_line(exc)}")
        text = _text_of(result)
        data = getattr(result, "structured_content", None)
        if data is None and text[:1] in "[{":  # a tool returning JSON as text (no output schema)
            with contextlib.suppress(ValueError):
                data = json.loads(text)
        if getattr(result, "is_error", False):
            return ToolResult(ok=False, text=f"{name}: {text or 'the tool reported an error'}")
        return ToolResult(ok=True, text=text or (json.dumps(data) if data is not None else ""), data=data)

    async def close(self) -> None:
        self._closing.set()
        owner, self._owner = self._owner, None
        if owner is not None:
            try:
                await asyncio.wait_for(owner, self.connect_timeout_s)
            except (TimeoutError, asyncio.CancelledError):
                owner.cancel()


class McpTool(Tool):
    """One tool of one MCP server, as a rolegraph `Tool` named `server.tool`."""

    def __init__(self, connection: McpConnection, tool: Any):
        self.connection = connection
        self.remote_name = str(tool.name)
        self.name = tool_name(connection.spec.name, self.remote_name)
        self.description = (getattr(tool, "description", None) or getattr(tool, "title", None) or self.name).strip()
        schema = getattr(tool, "input_schema", None)
        self.parameters = dict(schema) if isinstance(schema, dict) and schema.get("type") == "object" else EMPTY_SCHEMA
        self.timeout_s = connection.spec.timeout_s

    @property
    def openai_name(self) -> str:
        return self.name.replace(".", OPENAI_SEPARATOR)

    def openai_schema(self) -> dict[str, Any]:
        schema = super().openai_schema()
        schema["function"]["name"] = self.openai_name
        return schema

    async def _run(self, **kwargs: Any) -> ToolResult:
        return await self.connection.call(self.remote_name, kwargs)

    async def call(self, **kwargs: Any) -> ToolResult:
        """Like `Tool.call`, except that a dead server is raised (`McpServerError`): it fails the node."""
        try:
            args = self.normalise_args(kwargs)
        except ValueError as exc:
            return ToolResult(ok=False, text=f"{self.name}: {one_line(exc)}")
        return await self._run(**args)


@contextlib.asynccontextmanager
async def mcp_tools(
    servers: Sequence[McpServerSpec], settings: Settings, *, allow_commands: bool = False
) -> AsyncIterator[list[McpTool]]:
    """Connect to `servers` (refusing stdio servers the user has not allowed) and yield their tools."""
    check_allowed(servers, settings, allow_commands)
    connections: list[McpConnection] = []
    try:
        for spec in servers:
            connections.append(await McpConnection(spec, settings).open())
        yield [McpTool(c, t) for c in connections for t in c.tools]
    finally:
        for c in reversed(connections):
            await c.close()


@contextlib.asynccontextmanager
async def mcp_toolbox(
    servers: Sequence[McpServerSpec], settings: Settings, base: Any = None, *, allow_commands: bool = False
) -> AsyncIterator[Any]:
    """`base` (default: the default toolbox) plus the tools of `servers`, for the duration of the block."""
    from rolegraph.tools.toolbox import ToolBox, default_toolbox

    if base is None:
        base = default_toolbox(settings)
    if not servers:
        yield base
        return
    async with mcp_tools(servers, settings, allow_commands=allow_commands) as tools:
        yield ToolBox([*base.values(), *tools])
