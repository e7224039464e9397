"""A settings file with a key rolegraph does not know, or that is not a mapping, is named in one line (exit 2).

`mcp: {allow_command: ...}`, `mcpp: {...}` or a top-level list were read as no settings at all: the graph's MCP
server was then refused with "add the command to mcp.allow_commands in .../settings.yaml", which the user believed
they had done. The whole file is now checked where it is read (`settings_file`), and the unknown key is named with
the keys that exist there and the closest of them.
"""
from __future__ import annotations

import json

import pytest

from rolegraph.settings import HOME_ENV, Settings
from rolegraph.tools.mcp_config import SettingsFileError, allowed_commands
from tests.cli.support import cli

COMMAND = "python -m some_search_server"


def _settings(tmp_path, text: str) -> Settings:
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.yaml").write_text(text)
    return Settings(home=home, cache=False)


def test_the_allow_list_is_read_when_spelled_right(tmp_path):
    """The control: the same file with the keys spelled right allows the command."""
    settings = _settings(tmp_path, f"mcp:\n  allow_commands:\n    - {COMMAND}\n")
    assert allowed_commands(settings) == [("python", "-m", "some_search_server")]


@pytest.mark.parametrize(
    "text, needles",
    [
        (
            f"mcp:\n  allow_command:\n    - {COMMAND}\n",
            ["unknown setting 'mcp.allow_command'", "(known: mcp.allow_commands)", "Did you mean: mcp.allow_commands?"],
        ),
        (f"mcpp:\n  allow_commands:\n    - {COMMAND}\n", ["unknown setting 'mcpp'", "Did you mean: mcp?"]),
        (f"- {COMMAND}\n", ["must be a mapping of sections", "not a list"]),
        (f"allow_commands:\n  - {COMMAND}\n", ["unknown setting 'allow_commands'", "(known: mcp)"]),
        (f"mcp:\n  - {COMMAND}\n", ["mcp must be a mapping of settings, not a list"]),
        ("just words\n", ["must be a mapping of sections", "not a string"]),
    ],
    ids=["misspelled-key", "misspelled-section", "top-level-list", "key-without-section", "section-list", "text"],
)
def test_a_key_it_does_not_know_is_named(tmp_path, text, needles):
    settings = _settings(tmp_path, text)
    with pytest.raises(SettingsFileError) as refused:
        allowed_commands(settings)
    message = str(refused.value)
    assert "\n" not in message and str(settings.home / "settings.yaml") in message, message
    for needle in needles:
        assert needle in message, (needle, message)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "mcp:\n", "mcp:\n  allow_commands:\n"])
def test_an_empty_file_or_section_is_no_settings(tmp_path, text):
    assert allowed_commands(_settings(tmp_path, text)) == []


def test_the_command_line_names_the_misspelled_key_not_the_allow_list(tmp_path, capsys, monkeypatch):
    settings = _settings(tmp_path, f"mcp:\n  allow_command:\n    - {COMMAND}\n")
    monkeypatch.setenv(HOME_ENV, str(settings.home))
    graph = tmp_path / "g.yaml"
    graph.write_text(json.dumps({
        "name": "tools",
        "nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-1b", "params": {"tools": ["docs.search"]}}],
        "mcp_servers": [{"name": "docs", "command": COMMAND.split()}]}))
    code, _, err = cli(["run", graph, "--task", "gsm", "--item", "0"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "unknown setting 'mcp.allow_command'" in err and "add the command to" not in err, err
