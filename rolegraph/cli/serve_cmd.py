"""`rolegraph serve-sim`: the simulated pool behind a real OpenAI-compatible HTTP server."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from rolegraph.errors import RolegraphError
from rolegraph.sim.faults import DEFAULT_HANG_S, DEFAULT_RETRY_AFTER_S, FAULT_KINDS

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class ServeOptionError(RolegraphError):
    """Bad serve-sim option."""


def register(app: typer.Typer) -> None:
    """Add `serve-sim` to the app."""

    @app.command("serve-sim")
    def serve_sim(
        host: Annotated[str, typer.Option(help="interface to bind (loopback by default)")] = DEFAULT_HOST,
        port: Annotated[int, typer.Option(help="TCP port (0 = any free port)")] = DEFAULT_PORT,
        fault_rate: Annotated[float, typer.Option("--fault-rate", help="fraction of chat requests that fail")] = 0.0,
        faults: Annotated[
            str,
            typer.Option(
                "--faults",
                help=f"comma list of fault kinds (default: all of {', '.join(FAULT_KINDS)})",
                show_default=False,
            ),
        ] = ",".join(FAULT_KINDS),
        seed: Annotated[int, typer.Option(help="seed of the fault draws")] = 0,
        pool: Annotated[Path | None, typer.Option("--pool", help="YAML pool file merged over the built-ins")] = None,
        world: Annotated[
            int | None, typer.Option("--world", help="the simulator world to serve (default: the pool file's, else 0)")
        ] = None,
        latency_scale: Annotated[
            float, typer.Option("--latency-scale", help="sleep this fraction of the modelled latency")
        ] = 0.0,
        hang_s: Annotated[float, typer.Option("--hang-s", help="how long a `timeout` fault hangs")] = DEFAULT_HANG_S,
        retry_after_s: Annotated[
            float, typer.Option("--retry-after", help="Retry-After seconds of a `429` fault")
        ] = DEFAULT_RETRY_AFTER_S,
    ) -> None:
        """Serve /v1/models and /v1/chat/completions from the simulated (sim/*) models, optionally with faults."""
        import uvicorn

        from rolegraph.cli.listening import ListeningServer, stopping_line
        from rolegraph.models.pool import ModelPool
        from rolegraph.serve.guard import Guard
        from rolegraph.settings import Settings
        from rolegraph.sim.faults import FaultConfig, quiet_injected_resets
        from rolegraph.sim.server import create_app

        for flag, value in (
            ("--fault-rate", fault_rate),
            ("--latency-scale", latency_scale),
            ("--hang-s", hang_s),
            ("--retry-after", retry_after_s),
        ):
            if not math.isfinite(value):  # NaN passes every `< 0` check after it; inf sleeps forever
                raise ServeOptionError(f"{flag} must be a finite number, got {value:g}")
        if latency_scale < 0:
            raise ServeOptionError(f"--latency-scale must be >= 0, got {latency_scale}")
        if not 0 <= port <= 65535:
            raise ServeOptionError(f"--port must be between 0 and 65535, got {port}")
        fault_config = FaultConfig.parse(fault_rate, faults, seed=seed, timeout_s=hang_s, retry_after_s=retry_after_s)
        model_pool = ModelPool.load(pool, world=world)
        sims = [s.id for s in model_pool if s.backend == "sim"]
        if not sims:
            raise ServeOptionError("the pool has no sim models to serve")
        settings = Settings.from_env(latency_scale=latency_scale, cache=False)
        # behind `serve`'s guard: a stop ends the requests in flight with a 503 (a stream: a last error event),
        # not the ASGI traceback and plain 500 a cancelled request got
        app = Guard(create_app(model_pool, settings, fault_config if fault_rate > 0 else None))
        config = uvicorn.Config(
            app, host=host, port=port, access_log=False, log_level="info", timeout_graceful_shutdown=1
        )
        quiet_injected_resets()
        shown = (
            f"fault rate {fault_rate:g} ({','.join(fault_config.kinds)}, seed {seed})"
            if fault_rate > 0
            else "no faults"
        )

        def announce(urls: list[str]) -> None:  # after binding: the port the kernel chose for --port 0
            typer.echo(
                f"serve-sim: SIMULATED models {', '.join(sims)} (world {model_pool.world}) at {' and '.join(urls)} "
                f"({shown})",
                err=True,
            )

        ListeningServer(config, announce, on_cancelled=stopping_line("serve-sim")).serve_bound()
