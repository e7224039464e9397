"""A plain `env` value with a token's shape is accepted (env is for literal values; refusing could break a user
whose long literal looks like one) but said once, as one `warning:` line naming the server and the variable, never
the value: such a value used to pass without a word while `env_from` refused the same shape."""
from __future__ import annotations

import sys
import warnings

import pytest
import yaml

from rolegraph.errors import RolegraphWarning
from rolegraph.tools.mcp_config import McpServerSpec
from tests.cli.support import run_cli
from tests.tools.test_mcp_env_from_secret_shape import NAMES, PASTED

PLAIN = ["/tmp", "C.UTF-8", "1", "https://example.org/api", "debug", "/home/me/data/wiki-index"]


def _server(env: dict[str, str]) -> McpServerSpec:
    return McpServerSpec(name="wiki", command=[sys.executable, "-c", "pass"], env=env)


def _caught(env: dict[str, str]) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _server(env)
    return [str(w.message) for w in caught if issubclass(w.category, RolegraphWarning)]


@pytest.mark.parametrize("token", PASTED)
def test_a_token_shaped_env_value_is_one_warning_naming_server_and_variable(token):
    [line] = _caught({"WIKI_TOKEN": token, "LANG": "C.UTF-8"})
    assert "MCP server 'wiki'" in line and "env WIKI_TOKEN" in line and "env_from" in line
    assert token not in line and token[:8] not in line


@pytest.mark.parametrize("value", PLAIN + NAMES)
def test_plain_env_values_pass_without_a_word(value):
    assert _caught({"SETTING": value}) == []


def test_a_token_shaped_variable_name_is_not_repeated_either():
    token = PASTED[1]
    [line] = _caught({token: PASTED[0]})
    assert token not in line and token[:8] not in line and "an env value" in line


def test_validate_accepts_the_graph_with_one_warning_line_on_stderr(tmp_path, capsys):
    token = PASTED[0]
    graph = tmp_path / "g.yaml"
    graph.write_text(yaml.safe_dump({
        "name": "envtok",
        "nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.1-8b"}],
        "mcp_servers": [{"name": "wiki", "command": ["python", "server.py"], "env": {"WIKI_TOKEN": token}}],
    }))
    code, out, err = run_cli(capsys, "validate", graph)
    assert code == 0 and out.startswith(f"ok: {graph}")
    lines = err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("warning: MCP server 'wiki': env WIKI_TOKEN has the shape of a token")
    assert token not in err + out and token[:8] not in err + out
