"""`LlamaCppServer` polls /health until llama.cpp says it is ready (503 while it loads the model, nothing before it
listens), and past READY_TIMEOUT_S closes the server and says so in one line. A stand-in answers /health here,
so the polling is checked without the engine (the llama.cpp tests themselves run it for real). How long the
wait took is not asserted (timing goals live in benchmarks/): a spy on the polling loop's `stop_after_delay` shows
the deadline it was given (the patched READY_TIMEOUT_S) and that it ran out of it; a wait that never gives up fails
at HANG_GUARD_S."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rolegraph.errors import EngineMissingError
from rolegraph.models import llamacpp_server
from rolegraph.models.llamacpp_server import LlamaCppServer, free_port
from tests.stop_spy_support import spy_on_stop_after_delay

SHORT_S = 0.3  # READY_TIMEOUT_S for the tests that run out of it
HANG_GUARD_S = 60
pytestmark = pytest.mark.timeout(HANG_GUARD_S)
LOADING = 2  # /health probes answered 503 before the stand-in says 200


class _Health:
    """A loopback /health: 503 for the first `loading` probes, then 200."""

    def __init__(self, loading: int):
        self.probes = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.probes += 1
                self.send_response(503 if outer.probes <= loading else 200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Closed:
    """What `close()` is handed: the engine object it drops (here only its being dropped is seen)."""


def _unstarted(port: int) -> LlamaCppServer:
    """A LlamaCppServer whose engine is not started (no GGUF needed): only its polling runs."""
    server = LlamaCppServer.__new__(LlamaCppServer)
    server.port = port
    server._server = _Closed()
    return server


def test_it_waits_through_the_loading_503s(monkeypatch):
    monkeypatch.setattr(llamacpp_server, "READY_POLL_S", 0.01)
    spy = spy_on_stop_after_delay(monkeypatch, llamacpp_server)
    health = _Health(LOADING)
    try:
        server = _unstarted(health.port)
        server._wait_ready()
        assert health.probes == LOADING + 1 and server._server is not None  # ready, and left running
        assert spy.delays == [llamacpp_server.READY_TIMEOUT_S] and not spy.stops[0].ran_out
    finally:
        health.close()


def test_a_server_never_ready_is_closed_and_one_clear_error(monkeypatch):
    monkeypatch.setattr(llamacpp_server, "READY_TIMEOUT_S", SHORT_S)
    monkeypatch.setattr(llamacpp_server, "READY_POLL_S", 0.01)
    port = free_port()  # nothing listens: every probe is refused
    spy = spy_on_stop_after_delay(monkeypatch, llamacpp_server)
    server = _unstarted(port)
    with pytest.raises(EngineMissingError) as info:
        server._wait_ready()
    assert re.fullmatch(
        rf"llama.cpp server on port {port} did not become ready within {SHORT_S:g} s \(.*\)", str(info.value)
    )  # the wait it names is the one it used
    assert server._server is None  # closed
    assert spy.delays == [SHORT_S] and spy.stops[0].ran_out  # it gave up because READY_TIMEOUT_S was out


def test_a_server_stuck_loading_times_out_too(monkeypatch):
    monkeypatch.setattr(llamacpp_server, "READY_TIMEOUT_S", SHORT_S)
    monkeypatch.setattr(llamacpp_server, "READY_POLL_S", 0.01)
    spy = spy_on_stop_after_delay(monkeypatch, llamacpp_server)
    health = _Health(loading=10**6)
    try:
        server = _unstarted(health.port)
        with pytest.raises(EngineMissingError, match=rf"did not become ready within {SHORT_S:g} s"):
            server._wait_ready()
        assert health.probes > 1 and server._server is None
        assert spy.delays == [SHORT_S] and spy.stops[0].ran_out
    finally:
        health.close()
