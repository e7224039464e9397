"""MCP servers that fail to start or die, against real processes and sockets: one-line messages that name the
real cause (not the SDK's task-group wrapper), the stderr of this start only, the environment a stdio server
gets, and restarting a dead server (what `rolegraph serve` uses)."""
from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest

from rolegraph.models.llamacpp_server import free_port
from rolegraph.settings import HOME_ENV, Settings
from rolegraph.tools import mcp_connection
from rolegraph.tools.mcp import McpConnection, McpServerError, mcp_tools
from rolegraph.tools.mcp_config import McpServerSpec

pytest.importorskip("mcp")

ROOT = Path(__file__).resolve().parents[2]
DOCS_SERVER = Path(__file__).parent / "fixtures" / "mcp_docs_server.py"
WIKI_SERVER = ROOT / "examples" / "mcp_wiki_server.py"
SDK_DEFAULT_ENV = {"HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"}  # the mcp SDK's POSIX defaults
PYTHON_ADDS = {"LC_CTYPE"}  # Python's C-locale coercion may set it in the child itself
ENV_SERVER = """
import os
from mcp.server.mcpserver import MCPServer

server = MCPServer("envy")


@server.tool()
def env() -> str:
    \"\"\"The server's environment.\"\"\"
    import json
    return json.dumps(dict(os.environ))


server.run()
"""


def settings(home: Path) -> Settings:
    return Settings(home=home, cache=False)


async def _start(spec: McpServerSpec, s: Settings) -> None:
    async with mcp_tools([spec], s, allow_commands=True):
        pass


def start_error(spec: McpServerSpec, s: Settings) -> str:
    with pytest.raises(McpServerError) as info:
        asyncio.run(_start(spec, s))
    message = str(info.value)
    assert "\n" not in message and "TaskGroup" not in message and "ExceptionGroup" not in message, message
    return message


def exits_with(line: str) -> list[str]:
    """A server command that writes `line` to stderr (if any) and exits 1 before speaking MCP."""
    code = "import sys\n" + (f"print({line!r}, file=sys.stderr)\n" if line else "") + "sys.exit(1)"
    return [sys.executable, "-c", code]


def test_a_server_exiting_at_startup_quotes_its_stderr_of_this_start(tmp_path):
    s = settings(tmp_path)
    first = start_error(McpServerSpec(name="flaky", command=exits_with("ValueError: first start's config")), s)
    assert "MCP server 'flaky'" in first and "did not start: it exited" in first
    assert "its last stderr line: ValueError: first start's config" in first
    assert str(tmp_path / "logs" / "mcp-flaky.log") in first
    # the log is appended across starts: a start that wrote nothing must not quote the earlier start's line
    silent = start_error(McpServerSpec(name="flaky", command=exits_with("")), s)
    assert "did not start: it exited" in silent and "first start" not in silent and "stderr line" not in silent
    third = start_error(McpServerSpec(name="flaky", command=exits_with("KeyError: 'third'")), s)
    assert "its last stderr line: KeyError: 'third'" in third and "first start" not in third
    log = (tmp_path / "logs" / "mcp-flaky.log").read_text()
    assert log.count("starting MCP server 'flaky'") == 3  # each start is marked in the shared log


def test_a_missing_program_says_so(tmp_path):
    message = start_error(McpServerSpec(name="gone", command=[str(tmp_path / "no-such-program")]), settings(tmp_path))
    assert "MCP server 'gone'" in message and "No such file or directory" in message


def test_a_url_server_on_a_closed_port_says_connection_refused(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/mcp"  # nothing listens there
    message = start_error(McpServerSpec(name="remote", url=url), settings(tmp_path))
    assert f"did not start: connection refused at {url}" in message


def test_a_stdio_server_gets_rolegraph_home_and_no_other_variable_of_ours(tmp_path, monkeypatch):
    script = tmp_path / "env_server.py"
    script.write_text(ENV_SERVER)
    home = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "not-this-home"))  # the Settings in use win over the variable
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-never-leaks")
    spec = McpServerSpec(name="envy", command=[sys.executable, str(script)], env={"GRAPH_SAYS": "hi"})

    async def main():
        async with mcp_tools([spec], settings(home), allow_commands=True) as tools:
            result = await tools[0].call()
            return json.loads(result.text)

    env = asyncio.run(main())
    assert env[HOME_ENV] == str(home) and env["GRAPH_SAYS"] == "hi"
    assert set(env) - PYTHON_ADDS <= SDK_DEFAULT_ENV | {HOME_ENV, "GRAPH_SAYS"}, sorted(env)
    assert "sk-test-never-leaks" not in json.dumps(env)


def test_the_example_wiki_server_keeps_its_index_under_rolegraph_home(wiki_settings, tmp_path, monkeypatch):
    """examples/mcp_wiki_server.py reads Settings.from_env(): its index is the user's ROLEGRAPH_HOME's (here
    already built), not one built under ~/.rolegraph."""
    fake_user_home = tmp_path / "user"
    fake_user_home.mkdir()
    monkeypatch.setenv("HOME", str(fake_user_home))  # the SDK passes HOME on: ~ is here for the server
    spec = McpServerSpec(name="wiki", command=[sys.executable, str(WIKI_SERVER)], timeout_s=60)

    async def main():
        async with mcp_tools([spec], wiki_settings, allow_commands=True) as tools:
            return await tools[0].call(query="penicillin discovery")

    hit = asyncio.run(main())
    assert hit.ok and "Penicillin" in hit.text
    assert not (fake_user_home / ".rolegraph").exists()


class _WaitForSpy:
    """`mcp_connection`'s view of asyncio, whose `wait_for` records each wait: its timeout, how it ended, and (for a
    task) how many cancellations of it were pending when the wait began. Why: the connect timeout and the cancel of a
    server still connecting are seen as they happen, not inferred from how long the test took."""

    def __init__(self) -> None:
        self.waits: list[tuple[float, int | None, str]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def wait_for(self, awaited: Awaitable[Any], timeout: float) -> Any:
        cancelling = awaited.cancelling() if isinstance(awaited, asyncio.Task) else None
        try:
            result = await asyncio.wait_for(awaited, timeout)
        except TimeoutError:
            self.waits.append((timeout, cancelling, "timed out"))
            raise
        self.waits.append((timeout, cancelling, "ended"))
        return result


@pytest.mark.timeout(60)  # a hang guard only: how long giving up took is not asserted (timing lives in benchmarks/)
def test_a_server_that_never_answers_is_given_up_after_the_connect_timeout_only(tmp_path, monkeypatch):
    """Giving up on a server that never completes the handshake cancels it at once; waiting for it to end on
    its own added the SDK's handshake timeouts (about 45 s in all with the 30 s default)."""
    connect_timeout_s = 4.0
    mute = McpServerSpec(name="mute", command=[sys.executable, "-c", "import time; time.sleep(300)"], timeout_s=60)
    spy = _WaitForSpy()
    monkeypatch.setattr(mcp_connection, "asyncio", spy)

    async def main():
        await McpConnection(mute, settings(tmp_path), connect_timeout_s).open()

    with pytest.raises(McpServerError, match=f"no MCP answer within {connect_timeout_s:g} s"):
        asyncio.run(main())
    handshake, stop = spy.waits[0], spy.waits[1]
    assert handshake == (connect_timeout_s, None, "timed out")  # the wait the message names is the one used
    assert stop[1] is not None and stop[1] >= 1, spy.waits  # the owner was cancelled before it was waited for


@pytest.mark.parametrize("reconnect", [True, False])
def test_a_dead_server_is_reported_and_restarted_on_the_next_call(reconnect, tmp_path):
    spec = McpServerSpec(name="docs", command=[sys.executable, str(DOCS_SERVER)], timeout_s=20)
    lines: list[str] = []

    async def main():
        async with mcp_tools([spec], settings(tmp_path), allow_commands=True, reconnect=reconnect,
                             report=lines.append) as tools:
            by = {t.name: t for t in tools}
            with pytest.raises(McpServerError, match="MCP server 'docs' died during a call to 'die'"):
                await by["docs.die"].call()
            try:
                return await by["docs.shout"].call(text="back")
            except McpServerError as exc:
                return exc

    after = asyncio.run(main())
    assert len(lines) == (2 if reconnect else 1), lines
    assert lines[0].startswith("MCP server 'docs' died during a call to 'die'")
    if reconnect:
        assert lines[0].endswith("it restarts on the next call") and "restarted" in lines[1]
        assert after.ok and after.text == "BACK"
    else:
        assert isinstance(after, McpServerError) and "is not running" in str(after)
    assert os.path.exists(tmp_path / "logs" / "mcp-docs.log")


def test_calls_finding_a_dead_server_at_once_restart_it_once(tmp_path):
    spec = McpServerSpec(name="docs", command=[sys.executable, str(DOCS_SERVER)], timeout_s=20)
    lines: list[str] = []
    concurrent = 4

    async def main():
        async with mcp_tools([spec], settings(tmp_path), allow_commands=True, reconnect=True,
                             report=lines.append) as tools:
            by = {t.name: t for t in tools}
            dying = await asyncio.gather(*(by["docs.die"].call() for _ in range(2)), return_exceptions=True)
            assert all(isinstance(e, McpServerError) for e in dying), dying
            return await asyncio.gather(*(by["docs.shout"].call(text=f"n{i}") for i in range(concurrent)))

    results = asyncio.run(main())
    assert [r.text for r in results] == [f"N{i}" for i in range(concurrent)]
    assert sum("died" in line for line in lines) == 1 and sum("restarted" in line for line in lines) == 1, lines
