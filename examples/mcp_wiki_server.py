"""An MCP server (the `mcp` SDK's MCPServer, formerly FastMCP) offering rolegraph's offline Wikipedia
search as a tool, for examples/graphs/mcp_search.yaml:

    rolegraph run examples/graphs/mcp_search.yaml "Who discovered penicillin?" --allow-commands --json

Any MCP server works the same way: list it under `mcp_servers:` and name its tools `server.tool`.
It speaks MCP over stdin/stdout, so it is started by the graph, not by hand (`--help` says so and exits).
"""

from __future__ import annotations

import argparse

from mcp.server.mcpserver import MCPServer

from rolegraph.settings import Settings
from rolegraph.tools.local_search import LocalSearch

HITS = 3


def build_server() -> MCPServer:
    """The server and its one tool, built only when it is to run (not for --help: the index takes a while)."""
    server = MCPServer("wiki")
    index = LocalSearch.wikipedia(Settings.from_env().index_dir)

    @server.tool()
    def search(query: str) -> dict:
        """Search an offline encyclopedia (10,033 Wikipedia summaries); returns titles, URLs and texts."""
        return {"hits": [hit.model_dump() for hit in index.search(query, HITS)]}

    return server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="An MCP server offering rolegraph's offline Wikipedia search as the tool `search` "
        "(for examples/graphs/mcp_search.yaml, which starts it).",
        epilog="It serves MCP on stdin/stdout until its client closes them.",
    )
    parser.parse_args()
    build_server().run()
