"""Run an ASGI app under uvicorn in a background thread on a loopback port: serve-sim in tests and benchmarks,
and any small OpenAI-compatible stand-in a test needs (the real `openai` client talks to it over real HTTP)."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Literal

import uvicorn

from rolegraph.sim.faults import quiet_injected_resets

STARTUP_TIMEOUT_S = 15.0
GRACEFUL_SHUTDOWN_S = 1
STARTUP_POLL_S = 0.01  # between checks that the server started: short, a loopback server starts in milliseconds


class ServerThread:
    """Runs an ASGI app under uvicorn in a background thread on a loopback port (0 = a free one).

    Use as a context manager; `.base_url` is the OpenAI-style base (`http://127.0.0.1:PORT/v1`).
    """

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_level: str = "warning",
        lifespan: Literal["auto", "on", "off"] = "off",
    ):
        self.app = app
        self.lifespan = lifespan  # "on" runs the app's lifespan (rolegraph serve opens its graph there)
        self.host = host
        self.port = port
        self.log_level = log_level
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> ServerThread:
        sock = socket.socket(
            socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
        )  # proto set: asyncio only enables TCP_NODELAY then
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        quiet_injected_resets()
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            log_config=None,
            access_log=False,
            lifespan=self.lifespan,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"serve-sim:{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"loopback server on port {self.port} did not start")
            time.sleep(STARTUP_POLL_S)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=STARTUP_TIMEOUT_S)
        self._server = self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
