"""The check every command that scores graphs makes before any work: their MCP servers can serve it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rolegraph.errors import RolegraphError

if TYPE_CHECKING:
    from rolegraph.graphs.router import RouterSpec
    from rolegraph.graphs.spec import GraphSpec
    from rolegraph.settings import Settings


def check_mcp(specs: Sequence[GraphSpec | RouterSpec], settings: Settings, allow_commands: bool, executor: Any) -> None:
    """Refuse, before any work, graphs whose MCP servers could not serve this evaluation: a stdio server the
    user has not allowed, or any server with a remote executor (servers are connected in this process)."""
    servers = [server for spec in specs for server in getattr(spec, "mcp_servers", [])]
    if not servers:
        return
    if not executor.in_process:
        raise RolegraphError(
            f"MCP server '{servers[0].name}' is connected in this process, which --executor {executor.name} "
            "does not run items in: evaluate graphs with MCP servers with the local executor"
        )
    from rolegraph.tools.mcp_config import check_allowed

    check_allowed(servers, settings, allow_commands)
