"""Which MCP servers a graph may use, and whether this user lets a graph file start programs.

A graph file lists its MCP servers under `mcp_servers:`; each has a `name` and either a `command`
(argv list: a program started over stdio) or a `url` (streamable HTTP). Starting a program is the
one thing a graph file could do behind its user's back, so a stdio server starts only when the user
allows it: `--allow-commands` on the command line, or the exact command on the allow-list of the
user's settings file (`$ROLEGRAPH_HOME/settings.yaml`):

    mcp:
      allow_commands:
        - python -m my_search_server      # a command line (split like a shell would)
        - [uvx, some-mcp-server]          # or an argv list

The allow-list covers a command with no `env` of the graph's: environment variables change what an
allowed command runs (PYTHONPATH, LD_PRELOAD, NODE_OPTIONS ... load code of the graph author's
choosing), and no short list of safe ones would stay safe, so a graph setting any needs
`--allow-commands`. The argv is compared as written: a relative program or script path resolves
against the PATH and the current directory of whoever runs rolegraph, so absolute paths pin it.

A URL server needs no permission: it runs nowhere on this machine unless the user started it.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rolegraph.errors import RolegraphError
from rolegraph.settings import Settings

SETTINGS_FILE = "settings.yaml"
ALLOW_KEY = ("mcp", "allow_commands")
DEFAULT_CALL_TIMEOUT_S = 30.0
DEFAULT_CONNECT_TIMEOUT_S = 30.0
"""How long a server has to start and list its tools, whatever its `timeout_s` (the docs quote it)."""
MAX_TIMEOUT_S = 3600.0
SERVER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
"""A server name prefixes its tools (`docs.search`), so it holds no dot."""
TOOL_SEPARATOR = "."


class McpPermissionError(RolegraphError):
    """A graph file wants to start a program that the user has not allowed."""


class SettingsFileError(RolegraphError):
    """The user's settings file cannot be read."""


class McpServerSpec(BaseModel):
    """One MCP server of a graph file: `command` (stdio) or `url` (streamable HTTP), not both."""

    model_config = ConfigDict(extra="forbid")

    name: str
    command: list[str] | None = None
    url: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    """Extra environment variables for a stdio server (values, not secrets: keys belong in the user's env)."""
    timeout_s: float = Field(default=DEFAULT_CALL_TIMEOUT_S, gt=0, le=MAX_TIMEOUT_S)
    """Per tool call; a call past it is a failed tool result the model reads."""

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSpec:
        if not SERVER_NAME.match(self.name):
            raise ValueError(f"name {self.name!r} must start with a letter and hold only letters, digits, '_' or '-'")
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of 'command' (an argv list, stdio) or 'url' (streamable HTTP)")
        if self.command is not None and (not self.command or not all(isinstance(a, str) and a for a in self.command)):
            raise ValueError("'command' must be a non-empty list of non-empty strings")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"'url' must be an http(s) URL, got {self.url!r}")
        return self

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "http"

    def describe(self) -> str:
        """The command line (or URL) for a one-line message: line breaks inside arguments are escaped."""
        text = shlex.join(self.command) if self.command is not None else str(self.url)
        return text.replace("\r", "\\r").replace("\n", "\\n")


def tool_name(server: str, tool: str) -> str:
    """The name a node's `params.tools` uses for `tool` of `server`."""
    return f"{server}{TOOL_SEPARATOR}{tool}"


def _as_argv(entry: Any) -> tuple[str, ...] | None:
    if isinstance(entry, str):
        try:
            return tuple(shlex.split(entry))
        except ValueError:
            return None
    if isinstance(entry, Sequence) and all(isinstance(a, str) for a in entry):
        return tuple(entry)
    return None


def settings_path(settings: Settings) -> Path:
    return settings.home / SETTINGS_FILE


def allowed_commands(settings: Settings) -> list[tuple[str, ...]]:
    """The allow-list of the user's settings file (empty when there is no file)."""
    path = settings_path(settings)
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsFileError(f"{path}: cannot read the settings file ({str(exc).splitlines()[0]})") from None
    node: Any = data
    for key in ALLOW_KEY:
        node = node.get(key) if isinstance(node, dict) else None
    if node is None:
        return []
    if not isinstance(node, list):
        raise SettingsFileError(f"{path}: {'.'.join(ALLOW_KEY)} must be a list of commands")
    out = []
    for entry in node:
        argv = _as_argv(entry)
        if not argv:
            raise SettingsFileError(f"{path}: {'.'.join(ALLOW_KEY)} holds {entry!r}, not a command")
        out.append(argv)
    return out


def check_allowed(servers: Sequence[McpServerSpec], settings: Settings, allow_commands: bool) -> None:
    """Raise `McpPermissionError` naming the first stdio server the user has not allowed to start: one
    whose command is not on the allow-list, or is but comes with an `env` (see the module docstring)."""
    if allow_commands:
        return
    stdio = [s for s in servers if s.command is not None]
    if not stdio:
        return
    allowed = set(allowed_commands(settings))
    for server in stdio:
        if tuple(server.command or ()) not in allowed:
            raise McpPermissionError(
                f"the graph wants to start MCP server '{server.name}' (command: {server.describe()}); "
                f"run with --allow-commands, or add the command to {'.'.join(ALLOW_KEY)} in {settings_path(settings)}"
            )
        if server.env:
            names = " ".join(", ".join(sorted(server.env)).split())  # one line, whatever the keys hold
            raise McpPermissionError(
                f"the graph sets env ({names}) for MCP server '{server.name}' "
                f"(command: {server.describe()}); the allow-list in {settings_path(settings)} covers that command "
                "only without env, which could change what it runs: run with --allow-commands to allow it"
            )
