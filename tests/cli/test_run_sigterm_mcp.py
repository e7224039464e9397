"""SIGTERM during `rolegraph run` while an MCP tool call is in flight ends the run as Ctrl-C does: its stdio
MCP server ends with it, one line says the run was terminated, exit 143 (as eval, optimize and demo). Before,
`run` had no handler: it died at once (143, silently) and the server, reparented to PID 1, lived on until its
call ended. A real process, a real signal, a real stdio MCP server whose tool sleeps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("mcp")

TERMINATED = 143
START_TIMEOUT_S = 120
EXIT_TIMEOUT_S = 60
GONE_TIMEOUT_S = 10
SLEEPY_SERVER = """
import os
import sys
import time

from mcp.server.mcpserver import MCPServer

server = MCPServer("slow")


@server.tool()
def search(query: str) -> str:
    \"\"\"Search things, slowly.\"\"\"
    with open(sys.argv[1], "w") as marker:  # the call has started: this server's pid
        marker.write(str(os.getpid()))
    time.sleep(120)
    return "too late"


server.run()
"""


def _graph(tmp_path: Path) -> Path:
    script = tmp_path / "slow_server.py"
    script.write_text(SLEEPY_SERVER)
    marker = tmp_path / "calling.pid"
    graph = tmp_path / "slow.yaml"
    graph.write_text(
        "name: slow\n"
        "nodes:\n"
        "  - {id: search, role: searcher, model: sim/llama-3.2-3b, params: {tools: [slow.search]}}\n"
        "  - {id: answer, role: solver, model: sim/llama-3.1-8b}\n"
        "edges: [[search, answer]]\n"
        "mcp_servers:\n"
        f"  - {{name: slow, command: [{sys.executable}, {script}, {marker}], timeout_s: 300}}\n"
    )
    return graph


def _gone(pid: int) -> bool:
    """Ended: no such process, or a zombie nobody has reaped yet (it runs nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return any(line.startswith("State:") and "Z" in line.split()[1] for line in status.splitlines())


def _wait_for(path: Path, proc: subprocess.Popen, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.is_file() and path.read_text().strip():
            return int(path.read_text())
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before its tool call: {proc.communicate()[1][-2000:]}")
        time.sleep(0.2)
    raise AssertionError("the tool call never started")


def test_sigterm_during_an_mcp_tool_call_ends_the_server_with_the_run(tmp_path):
    graph = _graph(tmp_path)
    env = {**os.environ, "ROLEGRAPH_HOME": str(tmp_path / "home")}
    argv = [sys.executable, "-m", "rolegraph", "run", str(graph), "--task", "gsm", "--item", "0", "--allow-commands"]
    proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    server_pid = None
    try:
        server_pid = _wait_for(tmp_path / "calling.pid", proc, START_TIMEOUT_S)
        assert not _gone(server_pid)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=EXIT_TIMEOUT_S)
        assert proc.returncode == TERMINATED, err[-2000:]
        assert "Traceback" not in err and "never retrieved" not in err, err[-2000:]
        assert err.strip().splitlines()[-1].startswith("terminated (SIGTERM)"), err[-2000:]
        deadline = time.monotonic() + GONE_TIMEOUT_S
        while not _gone(server_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(server_pid), "the MCP server outlived the run"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        if server_pid is not None and not _gone(server_pid):
            os.kill(server_pid, signal.SIGKILL)
