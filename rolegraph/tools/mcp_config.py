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

The allow-list covers a command with no `env` or `env_from` of the graph's: environment variables
change what an allowed command runs (PYTHONPATH, LD_PRELOAD, NODE_OPTIONS ... load code of the graph
author's choosing), and no short list of safe ones would stay safe, so a graph setting any needs
`--allow-commands`. The argv is compared as written: a relative program or script path resolves
against the PATH and the current directory of whoever runs rolegraph, so absolute paths pin it.

A URL server needs no permission: it runs nowhere on this machine unless the user started it. One
with `headers_from_env` does: it would send the user's variables to a URL the graph file chose.

Secrets never go into the graph file, which is copied into results.sqlite and best_graph.yaml: `env`
and `url` hold plain values, and a secret is named instead (`env_from: {SERVER_VAR: HOST_VAR}`,
`headers_from_env: {Header-Name: HOST_VAR}`), its value read from the user's environment when the
server starts (`from_environment`).
"""

from __future__ import annotations

import os
import re
import shlex
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rolegraph.chat.secret_shape import TOKEN_SHAPE_WORDS, looks_like_secret
from rolegraph.chat.spec import ENV_NAME, has_secret_parts, public_url, url_secrets
from rolegraph.errors import RolegraphError, RolegraphWarning, did_you_mean, one_line
from rolegraph.settings import Settings

SETTINGS_FILE = "settings.yaml"
ALLOW_KEY = ("mcp", "allow_commands")
SETTINGS_KEYS: dict[str, tuple[str, ...]] = {"mcp": ("allow_commands",)}
"""Every key the settings file may hold: section -> its keys. Anything else is refused by name (`settings_file`)."""
DEFAULT_CALL_TIMEOUT_S = 30.0
DEFAULT_CONNECT_TIMEOUT_S = 30.0
"""How long a server has to start and list its tools, whatever its `timeout_s` (the docs quote it)."""
MAX_TIMEOUT_S = 3600.0
SERVER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
"""A server name prefixes its tools (`docs.search`), so it holds no dot."""
TOOL_SEPARATOR = "."
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
"""An HTTP header's name (RFC 9110's token)."""
MIN_SECRET_CHARS = 4  # a URL's user name, password or query value at least this long is scrubbed from messages


class McpPermissionError(RolegraphError):
    """A graph file wants to start a program that the user has not allowed."""


class SettingsFileError(RolegraphError):
    """The user's settings file cannot be read."""


class McpEnvError(RolegraphError):
    """A server's `env_from` or `headers_from_env` names a variable the user's environment does not set."""


class TokenInEnvWarning(RolegraphWarning):
    """A server's plain `env` value has a token's shape. Warned, not refused: `env` is for literal values and a
    long literal (a path, an id) may look like one; a real token there is stored with the graph file."""


def token_in_env_line(server: str, variable: str) -> str:
    """The warning's text: the server and the variable, never the value (`variable` is left out when it has a
    token's shape itself, as `env_from`'s refusal does)."""
    which = f"env {variable}" if not looks_like_secret(variable) else "an env value"
    return (
        f"MCP server '{server}': {which} has the shape of a token ({TOKEN_SHAPE_WORDS}); env values are stored "
        "with the graph file (results, best_graph.yaml): put a secret in a variable of yours and name it under "
        "env_from instead"
    )


class McpServerSpec(BaseModel):
    """One MCP server of a graph file: `command` (stdio) or `url` (streamable HTTP), not both."""

    # inputs stay out of validation messages: a secret pasted where a variable's name belongs is never echoed
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    name: str
    command: list[str] | None = None
    url: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    """Extra environment variables for a stdio server, as plain values: the graph file is stored and shared,
    so a secret goes in `env_from` instead."""
    env_from: dict[str, str] = Field(default_factory=dict)
    """A stdio server's variables taken from the user's environment by name, {SERVER_VAR: HOST_VAR}: the
    graph file holds only the names, the value is read when the server starts."""
    headers_from_env: dict[str, str] = Field(default_factory=dict)
    """A URL server's HTTP headers taken from the user's environment by name, {Header-Name: HOST_VAR}."""
    timeout_s: float = Field(default=DEFAULT_CALL_TIMEOUT_S, gt=0, le=MAX_TIMEOUT_S, strict=True)
    """Per tool call; a call past it is a failed tool result the model reads. Strict: lax mode takes `true` as
    1 s and "30" as 30 s, guesses a graph file's reader would not make (an int is still a float to strict)."""

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerSpec:
        if not SERVER_NAME.match(self.name):
            raise ValueError(f"name {self.name!r} must start with a letter and hold only letters, digits, '_' or '-'")
        if (self.command is None) == (self.url is None):
            raise ValueError("give exactly one of 'command' (an argv list, stdio) or 'url' (streamable HTTP)")
        if self.command is not None and (not self.command or not all(isinstance(a, str) and a for a in self.command)):
            raise ValueError("'command' must be a non-empty list of non-empty strings")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            # not echoed: the URL may hold credentials (https://user:token@...)
            raise ValueError("'url' must be an http(s) URL (starting with http:// or https://)")
        self._check_from_env()
        for variable, value in self.env.items():
            if looks_like_secret(value):
                warnings.warn(TokenInEnvWarning(token_in_env_line(self.name, variable)), stacklevel=2)
        return self

    def _check_from_env(self) -> None:
        """`env_from` for stdio, `headers_from_env` for URL servers, both naming variables (never holding values)."""
        if self.env_from and self.command is None:
            raise ValueError("'env_from' is for stdio servers ('command'); a URL server takes 'headers_from_env'")
        if self.headers_from_env and self.url is None:
            raise ValueError("'headers_from_env' is for URL servers ('url'); a stdio server takes 'env_from'")
        both = sorted(set(self.env) & set(self.env_from))
        if both:
            raise ValueError(f"'env' and 'env_from' both set {', '.join(both)}: give each variable once")
        for field, names in (("env_from", self.env_from), ("headers_from_env", self.headers_from_env)):
            key_ok = ENV_NAME.fullmatch if field == "env_from" else HEADER_NAME.match
            if not all(key_ok(k) for k in names):
                what = "variable" if field == "env_from" else "header"
                raise ValueError(f"'{field}': every key must be a {what} name")
            # a value is never repeated: it is most likely the secret itself
            if not all(ENV_NAME.fullmatch(v) for v in names.values()):
                raise ValueError(
                    f"'{field}': every value must be the NAME of an environment variable of yours (letters, "
                    "digits, _), not the secret itself: put the secret in that variable"
                )
            shaped = [k for k, v in names.items() if looks_like_secret(v)]
            if shaped:
                where = f" (for {shaped[0]})" if not looks_like_secret(shaped[0]) else ""
                raise ValueError(
                    f"'{field}': a value{where} has the shape of a token ({TOKEN_SHAPE_WORDS}), not of a variable's "
                    "name: put the token in an environment variable of yours and give that variable's name"
                )

    @property
    def transport(self) -> str:
        return "stdio" if self.command is not None else "http"

    @property
    def reads_environment(self) -> list[str]:
        """The user's variables this server is given (by `env_from` or `headers_from_env`), sorted."""
        return sorted({*self.env_from.values(), *self.headers_from_env.values()})

    def describe(self) -> str:
        """The command line (or URL, without credentials or query) for a one-line message: line breaks inside
        arguments are escaped."""
        text = shlex.join(self.command) if self.command is not None else str(public_url(self.url) or "its url")
        return text.replace("\r", "\\r").replace("\n", "\\n")


def scrub_url(server: McpServerSpec, text: str) -> str:
    """`text` (an error from the SDK or HTTP stack, which may quote the URL) without the server's URL
    credentials or query: the URL as `describe` shows it, and each of its secret parts as `***`."""
    if server.url is None or not has_secret_parts(server.url):
        return text
    text = text.replace(server.url, server.describe())
    for secret in url_secrets(server.url):
        if len(secret) >= MIN_SECRET_CHARS:  # a one-letter user name would cut up ordinary words
            text = text.replace(secret, "***")
    return text


def from_environment(
    server: McpServerSpec, names: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """`names` ({what the server gets: HOST_VAR}) with each variable's value from the user's environment,
    read now (at the server's start). A variable that is unset or empty is `McpEnvError`, naming it (never a
    value): starting the server without its secret would only fail later, less clearly. A name with a token's
    shape is refused when the graph is read; one that got here anyway (a spec built without validation) is not
    shown, since it is most likely the token itself."""
    env = os.environ if environ is None else environ
    missing = sorted({host for host in names.values() if not env.get(host)})
    if missing:
        shown = [
            name if not looks_like_secret(name) else "a variable named like a token (not shown)" for name in missing
        ]
        raise McpEnvError(
            f"MCP server '{server.name}' reads {', '.join(shown)} from your environment, which "
            f"{'is' if len(missing) == 1 else 'are'} not set: set {'it' if len(missing) == 1 else 'them'} and run again"
        )
    return {target: env[host] for target, host in names.items()}


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


def settings_file(settings: Settings) -> dict[str, dict[str, Any]]:
    """The user's settings file, {section: {key: value}} ({} when there is none), read in this one place and
    checked whole against `SETTINGS_KEYS`: a misspelled key (`allow_command`, `mcpp:`) or a file that is not a
    mapping was read as no setting at all, and the refusal that followed told the user to add the command to the
    file they had just added it to. Each is one line naming the key (with a suggestion) or the file."""
    path = settings_path(settings)
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsFileError(f"{path}: cannot read the settings file ({str(exc).splitlines()[0]})") from None
    if data is None:  # an empty file (or only comments): no settings
        return {}
    if not isinstance(data, dict):
        raise SettingsFileError(f"{path}: the settings file must be a mapping of sections (mcp:), not a {_kind(data)}")
    for section, value in data.items():
        if section not in SETTINGS_KEYS:
            raise SettingsFileError(_unknown(path, section, SETTINGS_KEYS))
        if value is not None and not isinstance(value, dict):
            raise SettingsFileError(f"{path}: {section} must be a mapping of settings, not a {_kind(value)}")
        for key in value or {}:
            if key not in SETTINGS_KEYS[section]:
                raise SettingsFileError(_unknown(path, key, SETTINGS_KEYS[section], f"{section}."))
    return {str(section): dict(value or {}) for section, value in data.items()}


def _kind(value: Any) -> str:
    return {list: "list", str: "string", bool: "boolean"}.get(type(value), type(value).__name__)


def _unknown(path: Path, key: object, known: Sequence[str] | Mapping[str, Any], prefix: str = "") -> str:
    """One line naming an unknown key of the settings file, the keys it may hold there and the closest of them."""
    names = [f"{prefix}{k}" for k in known]
    shown = f"{prefix}{one_line(key if isinstance(key, str) else repr(key), 60)}"
    suggestion = did_you_mean(shown, names, list_known=False)
    return f"{path}: unknown setting '{shown}' (known: {', '.join(names)}).{suggestion}"


def allowed_commands(settings: Settings) -> list[tuple[str, ...]]:
    """The allow-list of the user's settings file (empty when there is no file)."""
    path = settings_path(settings)
    node = settings_file(settings).get(ALLOW_KEY[0], {}).get(ALLOW_KEY[1])
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
    """Raise `McpPermissionError` naming the first server the user has not allowed: a stdio server whose
    command is not on the allow-list, or is but comes with an `env` or `env_from`; a URL server that would
    send the user's variables (`headers_from_env`) to the URL the graph file names (see the module docstring)."""
    if allow_commands:
        return
    for server in servers:
        if server.url is not None and server.headers_from_env:
            raise McpPermissionError(
                f"the graph sends your {', '.join(server.reads_environment)} (headers_from_env) to MCP server "
                f"'{server.name}' at {server.describe()}; run with --allow-commands if you trust this graph file"
            )
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
        if server.env or server.env_from:
            names = " ".join(", ".join(sorted({*server.env, *server.env_from})).split())  # one line, whatever the keys
            raise McpPermissionError(
                f"the graph sets env ({names}) for MCP server '{server.name}' "
                f"(command: {server.describe()}); the allow-list in {settings_path(settings)} covers that command "
                "only without env, which could change what it runs: run with --allow-commands to allow it"
            )
