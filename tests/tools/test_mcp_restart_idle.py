"""A stdio MCP server killed between two calls, against a real server process: it is noticed when it exits,
so the next call is not the one that fails on it. `rolegraph serve` (reconnect) restarts it and the call
succeeds; run/eval (no reconnect) says it is not running, not that it "died during a call"."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from rolegraph.settings import Settings
from rolegraph.tools.mcp import McpServerError, mcp_tools
from rolegraph.tools.mcp_config import McpServerSpec

pytest.importorskip("mcp")

PID_SERVER = """
import os
from mcp.server.mcpserver import MCPServer

server = MCPServer("pids")


@server.tool()
def pid() -> str:
    \"\"\"This server's process id.\"\"\"
    return str(os.getpid())


server.run()
"""
NOTICE_LIMIT_S = 30.0  # a bound on waiting for the exit to be noticed, not a timing under test
POLL_S = 0.05


def _spec(tmp_path: Path) -> McpServerSpec:
    script = tmp_path / "pid_server.py"
    script.write_text(PID_SERVER)
    return McpServerSpec(name="pids", command=[sys.executable, str(script)], timeout_s=20)


async def _until(predicate) -> None:
    """Waits (boundedly) for `predicate`; the assertions after it say what happened."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + NOTICE_LIMIT_S
    while not predicate() and loop.time() < deadline:
        await asyncio.sleep(POLL_S)


async def _kill_between_calls(tmp_path: Path, reconnect: bool, lines: list[str]):
    async with mcp_tools([_spec(tmp_path)], Settings(home=tmp_path, cache=False), allow_commands=True,
                         reconnect=reconnect, report=lines.append) as tools:
        (pid_tool,) = tools
        first = await pid_tool.call()
        assert first.ok, first.text
        os.kill(int(first.text), signal.SIGKILL)  # while idle: no call is waiting on it
        await _until(lambda: bool(lines))
        try:
            second = await pid_tool.call()
        except McpServerError as exc:
            return first, exc
        return first, second


def test_a_server_killed_while_idle_is_restarted_before_the_next_call(tmp_path):
    lines: list[str] = []
    first, second = asyncio.run(_kill_between_calls(tmp_path, True, lines))
    assert not isinstance(second, McpServerError), second  # it used to fail: "died during a call to 'pid'"
    assert second.ok and second.text.isdigit() and second.text != first.text  # a new process answered
    assert len(lines) == 2, lines
    assert lines[0].startswith("MCP server 'pids' exited between calls")
    assert lines[0].endswith("; it restarts on the next call")
    assert "during a call" not in lines[0]
    assert lines[1] == "MCP server 'pids' restarted (1 tools)"


def test_without_reconnect_the_next_call_says_the_server_is_not_running(tmp_path):
    lines: list[str] = []
    _, second = asyncio.run(_kill_between_calls(tmp_path, False, lines))
    assert isinstance(second, McpServerError)
    message = str(second)
    assert message.startswith("MCP server 'pids' is not running (it exited between calls")
    assert "during a call" not in message and "\n" not in message
    assert len(lines) == 1 and lines[0].startswith("MCP server 'pids' exited between calls"), lines
    assert "restarts" not in lines[0]
