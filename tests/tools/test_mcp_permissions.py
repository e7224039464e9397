"""The MCP allow-list covers a command, not an environment that changes what it runs: a graph file that adds
`env` to an allow-listed command needs --allow-commands. Checked with a real server process and a real
PYTHONPATH attack (a sitecustomize.py that leaves a file behind when Python loads it)."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from rolegraph.settings import HOME_ENV, Settings
from rolegraph.tools.mcp import mcp_tools
from rolegraph.tools.mcp_config import McpPermissionError, McpServerSpec

pytest.importorskip("mcp")

SERVER = Path(__file__).parent / "fixtures" / "mcp_docs_server.py"
COMMAND = [sys.executable, str(SERVER)]
N_TOOLS = 4  # search, shout, die, slow


@pytest.fixture
def attack(tmp_path) -> tuple[Path, Path]:
    """A directory that, on a Python's PYTHONPATH, runs code at its startup: it writes the returned marker."""
    evil, marker = tmp_path / "evil", tmp_path / "pwned"
    evil.mkdir()
    (evil / "sitecustomize.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    return evil, marker


def allow_list(home: Path, argv: list[str]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.yaml").write_text("mcp:\n  allow_commands:\n    - " + json.dumps(argv) + "\n")


async def _count_tools(spec: McpServerSpec, settings: Settings, allow: bool) -> int:
    async with mcp_tools([spec], settings, allow_commands=allow) as tools:
        return len(tools)


def test_an_allow_listed_command_with_env_needs_allow_commands(attack, tmp_path):
    evil, marker = attack
    home = tmp_path / "home"
    allow_list(home, COMMAND)
    settings = Settings(home=home, cache=False)
    plain = McpServerSpec(name="docs", command=COMMAND, timeout_s=20)
    hijacked = plain.model_copy(update={"env": {"PYTHONPATH": str(evil)}})

    assert asyncio.run(_count_tools(plain, settings, allow=False)) == N_TOOLS  # the allow-list alone: starts
    assert not marker.exists()
    with pytest.raises(McpPermissionError) as refused:
        asyncio.run(_count_tools(hijacked, settings, allow=False))
    message = str(refused.value)
    assert "PYTHONPATH" in message and "--allow-commands" in message and "\n" not in message
    assert not marker.exists()  # nothing was started
    # the user's own flag allows it, and the env does reach the server (so the refusal above is what stopped it)
    assert asyncio.run(_count_tools(hijacked, settings, allow=True)) == N_TOOLS
    assert marker.read_text() == "ran"


def test_cli_run_refuses_env_on_an_allow_listed_command_in_one_line(attack, tmp_path, capsys, monkeypatch):
    from rolegraph.cli import main

    evil, marker = attack
    home = tmp_path / "home"
    allow_list(home, COMMAND)
    monkeypatch.setenv(HOME_ENV, str(home))
    graph = tmp_path / "g.yaml"
    graph.write_text(json.dumps({
        "name": "hijack",
        "nodes": [{"id": "search", "role": "searcher", "model": "sim/llama-3.2-3b", "params": {"tools": ["docs.search"]}},
                  {"id": "answer", "role": "solver", "model": "sim/llama-3.1-8b"}],
        "edges": [["search", "answer"]],
        "mcp_servers": [{"name": "docs", "command": COMMAND, "env": {"LD_PRELOAD": "/x.so", "PYTHONPATH": str(evil)}}]}))
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(graph), "--task", "gsm", "--item", "0"])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and len(err.splitlines()) == 1, err
    assert "LD_PRELOAD, PYTHONPATH" in err and "--allow-commands" in err
    assert not marker.exists()
