"""An MCP server (the `mcp` SDK's MCPServer, formerly FastMCP) offering rolegraph's offline Wikipedia
search as a tool, for examples/graphs/mcp_search.yaml:

    rolegraph run examples/graphs/mcp_search.yaml "Who discovered penicillin?" --allow-commands --json

Any MCP server works the same way: list it under `mcp_servers:` and name its tools `server.tool`.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from rolegraph.settings import Settings
from rolegraph.tools.local_search import LocalSearch

HITS = 3

server = MCPServer("wiki")
index = LocalSearch.wikipedia(Settings.from_env().index_dir)


@server.tool()
def search(query: str) -> dict:
    """Search an offline encyclopedia (10,033 Wikipedia summaries); returns titles, URLs and texts."""
    return {"hits": [hit.model_dump() for hit in index.search(query, HITS)]}


if __name__ == "__main__":
    server.run()
