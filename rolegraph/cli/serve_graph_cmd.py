"""`rolegraph serve GRAPH`: a graph as an OpenAI-compatible model (see rolegraph/serve/).

Binds 127.0.0.1 unless `--host` says otherwise; `--api-key-env NAME` makes every request show the
key held in that environment variable; `--roles-file FILE` adds your own roles, as for `run`, `eval`
and `optimize` (a bad file is one line, exit 2). Routers will be servable through the same `Answerer`
interface once they exist (GRAPH_OR_ROUTER: today a graph file).

Order of startup: bind the port (busy: one line), open the graph and connect its MCP servers, then
start uvicorn on the bound socket, in one event loop (the servers' connections live in it). Why not
open the graph in uvicorn's lifespan: a failure there is uvicorn's traceback and exit code 3, while a
server that cannot start is the user's mistake, one line and exit 2 like `run` and `eval` give. The
lifespan only closes the graph, so SIGTERM still stops the MCP servers before uvicorn re-raises it.
An MCP server that dies while serving is one `serve:` line on stderr, and restarted on its next call.
"""

from __future__ import annotations

import math
import os
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import typer

from rolegraph.chat.secret_shape import looks_like_secret
from rolegraph.chat.spec import ENV_NAME
from rolegraph.cli.graph_cmd import AllowCommandsOpt, PoolOpt, RolesOpt, load_checked, roles_from_file
from rolegraph.errors import RolegraphError
from rolegraph.serve import limits

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MAX_PORT = 65535


class ServeError(RolegraphError):
    """A bad `serve` option."""


ServedGraphArg = Annotated[Path, typer.Argument(help="graph file (YAML or JSON); routers cannot be served yet")]


def serve_cmd(
    graph: ServedGraphArg,
    port: Annotated[int, typer.Option("--port", help="TCP port (0 = any free port)")] = DEFAULT_PORT,
    host: Annotated[str, typer.Option("--host", help="interface to bind (loopback by default)")] = DEFAULT_HOST,
    pool: PoolOpt = None,
    api_key_env: Annotated[
        str | None, typer.Option("--api-key-env", help="require `Authorization: Bearer` with this env var's value")
    ] = None,
    model_id: Annotated[
        str | None, typer.Option("--model-id", help="model id to serve (default: the graph's name)")
    ] = None,
    timeout_s: Annotated[
        float, typer.Option("--timeout", help="seconds one request may run")
    ] = limits.DEFAULT_TIMEOUT_S,
    max_concurrent: Annotated[
        int, typer.Option("--max-concurrent", help="graph runs at once")
    ] = limits.DEFAULT_MAX_CONCURRENT,
    max_request_bytes: Annotated[
        int, typer.Option("--max-request-bytes", help="largest request body")
    ] = limits.DEFAULT_MAX_REQUEST_BYTES,
    cache: Annotated[
        bool, typer.Option("--cache/--no-cache", help="answer repeated identical calls from the response cache")
    ] = False,
    allow_commands: AllowCommandsOpt = False,
    roles_file: RolesOpt = None,
) -> None:
    """Serve a graph as an OpenAI-compatible model: /v1/models and /v1/chat/completions (stream=true: SSE)."""
    import uvicorn

    from rolegraph.cli.listening import ListeningServer, stopping_line
    from rolegraph.graphs.spec import GraphSpec
    from rolegraph.models.hub import ModelHub
    from rolegraph.serve.answerer import GraphAnswerer
    from rolegraph.serve.app import ServeOptions, create_app
    from rolegraph.settings import Settings

    if not 0 <= port <= MAX_PORT:
        raise ServeError(f"--port must be between 0 and {MAX_PORT}, got {port}")
    if not math.isfinite(timeout_s) or timeout_s <= 0:  # NaN passed `<= 0`, and then every request got 504 at once
        raise ServeError(f"--timeout must be a positive, finite number of seconds, got {timeout_s:g}")
    if max_concurrent < 1 or max_request_bytes < 1:
        raise ServeError("--max-concurrent and --max-request-bytes must be positive")
    if model_id is not None and not model_id.strip():
        raise ServeError(
            "--model-id must name the model (clients send it as `model`); leave it out for the graph's name"
        )
    key = None
    if api_key_env is not None:
        if not ENV_NAME.fullmatch(api_key_env) or looks_like_secret(api_key_env):  # a key pasted in: never echoed
            raise ServeError(
                "--api-key-env takes the NAME of an environment variable (letters, digits, _), not the key itself "
                "(the value given is not repeated): put the key in a variable of yours and give its name"
            )
        key = os.environ.get(api_key_env)
        if not key:
            raise ServeError(f"--api-key-env {api_key_env}: the environment variable is not set or empty")
    roles = roles_from_file(roles_file)
    spec, model_pool = load_checked(graph, pool, roles)
    if not isinstance(spec, GraphSpec):
        raise ServeError(f"{graph}: a router cannot be served yet; serve one of its stage graphs")
    settings = Settings.from_env(cache=cache)
    answerer = GraphAnswerer(
        spec,
        ModelHub(model_pool, settings),
        allow_commands=allow_commands,
        model_id=model_id,
        roles=roles,
        report=lambda line: typer.echo(f"serve: {line}", err=True),
    )
    if spec.mcp_servers:  # refuse an unallowed command now, in one line, before binding the port
        from rolegraph.tools.mcp_config import check_allowed

        check_allowed(spec.mcp_servers, settings, allow_commands)

    @asynccontextmanager
    async def lifespan(_app):
        yield
        await answerer.aclose()  # at shutdown, before uvicorn re-raises a captured SIGTERM

    def announce(urls: list[str]) -> None:  # after binding: the port the kernel chose for --port 0
        mode = (
            "streams from its model"
            if answerer.streams
            else f"sends its text whole when done ({answerer.whole_reason})"
        )
        typer.echo(
            f"serve: graph '{spec.name}' as model '{answerer.model_id}' at {' and '.join(urls)} "
            f"(output node {mode}{'; key required' if key else ''})",
            err=True,
        )

    options = ServeOptions(
        max_request_bytes=max_request_bytes, timeout_s=timeout_s, max_concurrent=max_concurrent, api_key=key
    )
    app = create_app(answerer, options, lifespan=lifespan)
    config = uvicorn.Config(
        app, host=host, port=port, access_log=False, log_level="warning", timeout_graceful_shutdown=1
    )

    # the graph opens first: a failure is one line; a stop says in its own line how the requests in flight ended
    ListeningServer(config, announce, on_cancelled=stopping_line("serve")).serve_bound(around=answerer)


def register(app: typer.Typer) -> None:
    """Add `serve` to the app."""
    app.command("serve")(serve_cmd)
