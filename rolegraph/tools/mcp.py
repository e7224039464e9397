"""Tools from MCP servers: discovered with the `mcp` SDK's client, offered to nodes like built-in tools.

`mcp_tools(servers, settings, allow_commands=...)` connects to every server of a graph file (stdio:
the command is started, only if the user allows it, see mcp_config.py; URL: streamable HTTP), lists
their tools, and yields them as `McpTool`s named `server.tool`; leaving the block closes every
connection (and stops stdio servers). `mcp_toolbox(...)` does the same around an existing toolbox.

Each server's connection lives in one task of its own (mcp_connection.py); tool calls from node tasks
go through its session. A call has the server's timeout; a timed-out call or a tool's own error is a
failed tool result the model reads, like any tool's. A server that cannot start is `McpServerError`
from `mcp_tools` itself, before anything runs (the CLI's one line, exit 2). A server that dies during a
call is `McpServerError` from that call: the node using it fails with a message naming the node and the
server, and the runtime's NodeFailedError carries what the run computed. A stdio server that exits
between calls is noticed when it exits, and costs no call: with `reconnect=True` (`rolegraph serve`,
which outlives any one run) the next call restarts it, as it does a server that died during a call;
without, the next call says it is not running. `report` hears one line per death and restart.

A stdio server gets the MCP SDK's default environment (on POSIX: HOME, LOGNAME, PATH, SHELL, TERM,
USER), ROLEGRAPH_HOME (the home this process uses, so a server keeping state keeps it there), the
graph's `env` and the variables its `env_from` names, read from the user's environment at each start;
nothing else of ours, so no API key reaches it unless named. A URL server's `headers_from_env` are read
the same way and sent on every request (through the SDK's documented hook: an HTTP client of our own
with those headers). Its stderr is appended to
`$ROLEGRAPH_HOME/logs/mcp-<name>.log`, each start under a marker line, so a failure quotes the last
line the server wrote in this start, not one left by an earlier one.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from rolegraph.settings import Settings
from rolegraph.tools.base import Tool, ToolResult, one_line
from rolegraph.tools.mcp_config import McpServerSpec, check_allowed, tool_name
from rolegraph.tools.mcp_connection import INSTALL_HINT as INSTALL_HINT  # re-exported: the names callers import
from rolegraph.tools.mcp_connection import McpConnection as McpConnection
from rolegraph.tools.mcp_connection import McpMissingError as McpMissingError
from rolegraph.tools.mcp_connection import McpServerError as McpServerError
from rolegraph.tools.mcp_connection import Report as Report

OPENAI_SEPARATOR = "__"  # OpenAI function names allow no '.': `docs.search` is offered as `docs__search`
EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


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
    servers: Sequence[McpServerSpec],
    settings: Settings,
    *,
    allow_commands: bool = False,
    reconnect: bool = False,
    report: Report | None = None,
) -> AsyncIterator[list[McpTool]]:
    """Connect to `servers` (refusing stdio servers the user has not allowed) and yield their tools.

    `reconnect` and `report`: see `McpConnection` (restart a dead server on its next call; hear it)."""
    check_allowed(servers, settings, allow_commands)
    connections: list[McpConnection] = []
    try:
        for spec in servers:
            connection = McpConnection(spec, settings, reconnect=reconnect, report=report)
            connections.append(await connection.open())
        yield [McpTool(c, t) for c in connections for t in c.tools]
    finally:
        for c in reversed(connections):
            await c.close()


@contextlib.asynccontextmanager
async def mcp_toolbox(
    servers: Sequence[McpServerSpec],
    settings: Settings,
    base: Any = None,
    *,
    allow_commands: bool = False,
    reconnect: bool = False,
    report: Report | None = None,
) -> AsyncIterator[Any]:
    """`base` (default: the default toolbox) plus the tools of `servers`, for the duration of the block."""
    from rolegraph.tools.toolbox import ToolBox, default_toolbox

    if base is None:
        base = default_toolbox(settings)
    if not servers:
        yield base
        return
    async with mcp_tools(servers, settings, allow_commands=allow_commands, reconnect=reconnect, report=report) as tools:
        yield ToolBox([*base.values(), *tools])
