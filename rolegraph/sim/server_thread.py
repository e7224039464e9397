"""Run an ASGI app under uvicorn in a background thread on a loopback port: serve-sim in tests and benchmarks,
and any small OpenAI-compatible stand-in a test needs (the real `openai` client talks to it over real HTTP)."""

from __future__ import annotations

import socket
import threading
from typing import Any, Literal

import uvicorn
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_delay, wait_fixed
from tenacity.stop import stop_base

from rolegraph.sim.faults import quiet_injected_resets

STARTUP_TIMEOUT_S = 15.0
GRACEFUL_SHUTDOWN_S = 1
STARTUP_POLL_S = 0.01  # between checks that the server started: short, a loopback server starts in milliseconds


class _ThreadEnded(stop_base):
    """Stops polling for the server's start once its thread has ended: it can never start then."""

    def __init__(self, thread: threading.Thread):
        self.thread = thread

    def __call__(self, retry_state: RetryCallState) -> bool:
        return not self.thread.is_alive()


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
        if not self._started():
            self.stop()
            raise RuntimeError(f"loopback server on port {self.port} did not start")
        return self

    def _started(self) -> bool:
        """Wait for uvicorn to say it started: False when it has not within STARTUP_TIMEOUT_S, or its thread
        ended first (a port taken, a failing lifespan: waiting out the timeout would only delay the error)."""
        server, thread = self._server, self._thread
        assert server is not None and thread is not None
        poll = Retrying(
            stop=stop_after_delay(STARTUP_TIMEOUT_S) | _ThreadEnded(thread),
            wait=wait_fixed(STARTUP_POLL_S),
            retry=retry_if_result(lambda started: not started),
            retry_error_callback=lambda state: False,
        )
        return bool(poll(lambda: server.started))

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
