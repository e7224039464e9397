"""MCP servers' secrets stay out of the graph file: `env_from` (stdio) and `headers_from_env` (URL) name the
user's variables, whose values are read when the server starts. A missing variable is one line naming it;
the spec never echoes a secret or a URL's credentials; reading the user's environment needs permission."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import httpx
import pytest
from pydantic import ValidationError

from rolegraph.graphs.io import dumps_yaml
from rolegraph.graphs.spec import GraphSpec, NodeSpec
from rolegraph.models.llamacpp_server import free_port
from rolegraph.settings import Settings
from rolegraph.tools.mcp import McpServerError, mcp_tools
from rolegraph.tools.mcp_config import McpPermissionError, McpServerSpec, check_allowed

pytest.importorskip("mcp")

SECRET = "tok-SECRET-4f9a2c"
HOST_VAR = "ROLEGRAPH_TEST_MCP_TOKEN"
SHUTDOWN_GRACE_S = 5
ECHO_SERVER = """
import json
import os
import sys

from mcp.server.mcpserver import Context, MCPServer

server = MCPServer("echo")


@server.tool()
def env() -> str:
    \"\"\"The server's environment.\"\"\"
    return json.dumps(dict(os.environ))


@server.tool()
def header(ctx: Context) -> str:
    \"\"\"The X-Api-Key header of this request.\"\"\"
    return (ctx.headers or {}).get("x-api-key", "<none>")


if len(sys.argv) > 2:
    server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
else:
    server.run()
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "echo_server.py"
    path.write_text(ECHO_SERVER)
    return path


@pytest.fixture
def http_url(script):
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(script), "http", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=SHUTDOWN_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=SHUTDOWN_GRACE_S)


def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home", cache=False)


async def _call(spec: McpServerSpec, s: Settings, tool: str, allow: bool = True) -> str:
    async with mcp_tools([spec], s, allow_commands=allow) as tools:
        found = next(t for t in tools if t.remote_name == tool)
        return (await found.call()).text


def test_env_from_gives_a_stdio_server_the_users_variable_by_name(script, tmp_path, monkeypatch):
    monkeypatch.setenv(HOST_VAR, SECRET)
    spec = McpServerSpec(name="echo", command=[sys.executable, str(script)], env_from={"API_TOKEN": HOST_VAR},
                         timeout_s=20)
    env = json.loads(asyncio.run(_call(spec, settings(tmp_path), "env")))
    assert env["API_TOKEN"] == SECRET and HOST_VAR not in env  # under the server's name, nothing more
    graph = GraphSpec(nodes=[NodeSpec(id="s", role="solver", model="sim/llama-3.2-1b")], mcp_servers=[spec])
    stored = dumps_yaml(graph) + graph.model_dump_json()  # what best_graph.yaml and results.sqlite keep
    assert SECRET not in stored and HOST_VAR in stored


def test_a_missing_variable_is_one_line_naming_it_and_nothing_starts(script, tmp_path, monkeypatch):
    monkeypatch.delenv(HOST_VAR, raising=False)
    spec = McpServerSpec(name="echo", command=[sys.executable, str(script)], env_from={"API_TOKEN": HOST_VAR})
    s = settings(tmp_path)
    with pytest.raises(McpServerError) as info:
        asyncio.run(_call(spec, s, "env"))
    message = str(info.value)
    assert HOST_VAR in message and "'echo'" in message and "not set" in message and "\n" not in message
    assert not (s.home / "logs" / "mcp-echo.log").exists()  # refused before the program was started


def test_headers_from_env_reach_a_url_server(http_url, tmp_path, monkeypatch):
    monkeypatch.setenv(HOST_VAR, SECRET)
    spec = McpServerSpec(name="echo", url=http_url, headers_from_env={"X-Api-Key": HOST_VAR}, timeout_s=20)
    assert asyncio.run(_call(spec, settings(tmp_path), "header")) == SECRET
    plain = McpServerSpec(name="echo", url=http_url, timeout_s=20)  # without it: no such header
    assert asyncio.run(_call(plain, settings(tmp_path), "header")) == "<none>"


def test_reading_the_users_environment_needs_permission(tmp_path, monkeypatch):
    monkeypatch.setenv(HOST_VAR, SECRET)
    s = settings(tmp_path)
    remote = McpServerSpec(name="far", url="https://mcp.example.com/mcp", headers_from_env={"X-Api-Key": HOST_VAR})
    with pytest.raises(McpPermissionError) as info:
        check_allowed([remote], s, allow_commands=False)
    message = str(info.value)
    assert HOST_VAR in message and "--allow-commands" in message and SECRET not in message
    check_allowed([remote], s, allow_commands=True)  # the user's flag allows it
    command = [sys.executable, "-c", "pass"]
    s.home.mkdir(parents=True)
    (s.home / "settings.yaml").write_text("mcp:\n  allow_commands:\n    - " + json.dumps(command) + "\n")
    listed = McpServerSpec(name="near", command=command)
    check_allowed([listed], s, allow_commands=False)  # allow-listed, no environment: allowed
    with pytest.raises(McpPermissionError) as info:  # allow-listed, but the graph adds variables: not covered
        check_allowed([listed.model_copy(update={"env_from": {"PYTHONPATH": HOST_VAR}})], s, allow_commands=False)
    assert "PYTHONPATH" in str(info.value) and SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"command": ["x"], "env_from": {"API_TOKEN": SECRET}}, "NAME of an environment variable"),
        ({"url": "https://h.example/mcp", "headers_from_env": {"X-Api-Key": SECRET}}, "NAME of an environment"),
        ({"url": "https://h.example/mcp", "env_from": {"API_TOKEN": HOST_VAR}}, "for stdio servers"),
        ({"command": ["x"], "headers_from_env": {"X-Api-Key": HOST_VAR}}, "for URL servers"),
        ({"command": ["x"], "env": {"A": "1"}, "env_from": {"A": HOST_VAR}}, "both set A"),
        ({"url": f"ftp://user:{SECRET}@h.example/mcp"}, "http(s) URL"),
    ],
)
def test_bad_entries_are_refused_without_echoing_a_secret(fields, why):
    with pytest.raises(ValidationError) as info:
        McpServerSpec(name="s", **fields)
    message = str(info.value)
    assert why in message and SECRET not in message, message


def test_a_url_servers_credentials_stay_out_of_its_messages(tmp_path):
    url = f"http://user:{SECRET}@127.0.0.1:{free_port()}/mcp?key={SECRET}"  # nothing listens there
    spec = McpServerSpec(name="remote", url=url)
    assert spec.describe() == url.split("//")[0] + "//" + url.split("@")[1].split("?")[0]
    with pytest.raises(McpServerError) as info:
        asyncio.run(_call(spec, settings(tmp_path), "header"))
    message = str(info.value)
    assert "connection refused at http://127.0.0.1:" in message and SECRET not in message and "user" not in message
