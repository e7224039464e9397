"""A stdio MCP server that exits right after listing its tools, so the first call goes to a server that is gone
(or going) before its exit is noticed: whatever the timing, the user sees a one-line `McpServerError` naming
the server (at start, or on that call), or the call's answer if the server was still there, never a hang or a
traceback; with `reconnect` (`rolegraph serve`) the next call restarts it and is answered by a new process.

The failed call is not retried on a restarted server: from the client's side "died just before the call" and
"died while running it" look the same (the request was written, no answer came), and a tool with effects must
not run twice."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from rolegraph.settings import Settings
from rolegraph.tools.mcp import McpServerError, mcp_tools
from rolegraph.tools.mcp_config import McpServerSpec
from rolegraph.tools.mcp_connection import EXITED

pytest.importorskip("mcp")

DYING_SERVER = """
import os
import threading
from mcp.server.mcpserver import MCPServer

MARK = os.environ["DIE_MARK"]  # made by the first process: a restarted one stays up


class ExitsAfterListing(MCPServer):
    async def list_tools(self):
        tools = await super().list_tools()
        if not os.path.exists(MARK):
            open(MARK, "w").close()
            threading.Timer(float(os.environ["DIE_DELAY"]), lambda: os._exit(0)).start()
        return tools


server = ExitsAfterListing("dying")


@server.tool()
def pid() -> str:
    \"\"\"This server's process id.\"\"\"
    return str(os.getpid())


server.run()
"""
EXITS_ON_CALL = """
import os
from mcp.server.mcpserver import MCPServer

MARK = os.environ["DIE_MARK"]
server = MCPServer("dying")


@server.tool()
def pid() -> str:
    \"\"\"This server's process id; the first process exits instead of answering.\"\"\"
    if not os.path.exists(MARK):
        open(MARK, "w").close()
        os._exit(0)
    return str(os.getpid())


server.run()
"""
BOUND_S = 60.0  # far above a restart on a loaded machine: a hang, not a timing under test
DELAYS = (0.0, 0.005, 0.02, 0.05)  # exits before, while, or just after the listing and the first call


def _spec(tmp_path: Path, delay: float) -> McpServerSpec:
    script = tmp_path / "dying_server.py"
    script.write_text(DYING_SERVER)
    env = {"DIE_MARK": str(tmp_path / f"started-{delay}"), "DIE_DELAY": str(delay)}
    return McpServerSpec(name="dying", command=[sys.executable, str(script)], timeout_s=20, env=env)


async def _calls(spec: McpServerSpec, home: Path, reconnect: bool, lines: list[str], n: int = 3) -> list:
    """The outcome of starting the server and calling its tool `n` times right after: a result or the error."""
    outcomes: list = []
    try:
        async with mcp_tools([spec], Settings(home=home, cache=False), allow_commands=True, reconnect=reconnect,
                             report=lines.append) as tools:
            (tool,) = tools
            for _ in range(n):
                try:
                    outcomes.append(await tool.call())
                except McpServerError as exc:
                    outcomes.append(exc)
    except McpServerError as exc:  # it died before its listing reached us: a failed start
        outcomes.append(exc)
    return outcomes


def _run(spec: McpServerSpec, home: Path, reconnect: bool, lines: list[str]) -> list:
    return asyncio.run(asyncio.wait_for(_calls(spec, home, reconnect, lines), BOUND_S))


def _check_errors(outcomes: list) -> None:
    """Every failure one line naming the server; a call that lost the server says it exited, in words."""
    for o in outcomes:
        if isinstance(o, McpServerError):
            text = str(o)
            assert text.startswith("MCP server 'dying' ") and "\n" not in text, text
            if "died during a call" in text:
                assert text.startswith(f"MCP server 'dying' died during a call to 'pid': {EXITED}"), text
        else:
            assert o.ok and o.text.isdigit(), o


@pytest.mark.parametrize("delay", DELAYS)
def test_with_reconnect_a_failed_call_is_one_line_and_the_next_is_answered(tmp_path, delay):
    lines: list[str] = []
    outcomes = _run(_spec(tmp_path, delay), tmp_path, True, lines)
    _check_errors(outcomes)
    if len(outcomes) == 1:  # the start failed: said in one line, naming the server
        assert str(outcomes[0]).startswith("MCP server 'dying' (") and "did not start" in str(outcomes[0])
        return
    failed = [i for i, o in enumerate(outcomes) if isinstance(o, McpServerError)]
    assert len(failed) <= 1, outcomes  # the restarted process stays up: one failed call at most
    if failed and failed[0] + 1 < len(outcomes):  # the next call restarted it: a new process answers
        answered = {o.text for o in outcomes[: failed[0]]}
        assert outcomes[failed[0] + 1].text not in answered, outcomes
        assert lines[-1] == "MCP server 'dying' restarted (1 tools)", lines


@pytest.mark.parametrize("delay", DELAYS)
def test_without_reconnect_every_failure_is_one_line_naming_the_server(tmp_path, delay):
    lines: list[str] = []
    outcomes = _run(_spec(tmp_path, delay), tmp_path, False, lines)
    _check_errors(outcomes)
    first = next((i for i, o in enumerate(outcomes) if isinstance(o, McpServerError)), len(outcomes))
    assert all(isinstance(o, McpServerError) for o in outcomes[first:]), outcomes  # dead stays dead
    assert all("\n" not in line for line in lines) and not any("restart" in line for line in lines), lines


@pytest.mark.parametrize("reconnect", [True, False])
def test_a_server_gone_when_the_call_arrives_is_said_in_words(tmp_path, reconnect):
    """Deterministic: the first process exits on receiving the call, before answering (as one that died the
    instant before it). The SDK's "Connection closed" is not the reason shown; the call is not retried."""
    script = tmp_path / "exits_on_call.py"
    script.write_text(EXITS_ON_CALL)
    spec = McpServerSpec(name="dying", command=[sys.executable, str(script)], timeout_s=20,
                         env={"DIE_MARK": str(tmp_path / "called")})
    lines: list[str] = []
    outcomes = _run(spec, tmp_path, reconnect, lines)
    _check_errors(outcomes)
    assert isinstance(outcomes[0], McpServerError), outcomes
    assert "Connection closed" not in str(outcomes[0])
    if reconnect:
        assert [o.ok for o in outcomes[1:]] == [True, True], outcomes
        assert lines[-1] == "MCP server 'dying' restarted (1 tools)", lines
    else:
        assert str(outcomes[1]) == f"MCP server 'dying' is not running ({EXITED})", outcomes
