"""SIGTERM to a real `rolegraph serve` process ends in-flight requests as Ctrl-C does (docs/tutorials/serve.md): a
plain request gets the 503 JSON error, a stream its final error event and `[DONE]`, and the process exits 143.

uvicorn re-raises a captured SIGTERM as its `serve()` returns; with the default action that killed the process
before the requests it had just cancelled wrote their answers: the plain client got `Server disconnected without
sending a response`, the stream an incomplete chunked read. The process still dies of the signal, so a shell (and
docker, and systemd's "clean" exit statuses) sees what a SIGTERM'd process gives: 143, here -SIGTERM."""
from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from rolegraph.serve.guard import SHUTDOWN_CODE, SHUTDOWN_MESSAGE
from rolegraph.settings import HOME_ENV
from rolegraph.sim.server import ServerThread
from tests.cli.test_serve_cmd import Started

from .test_lifecycle import SLOW_ID, Upstream, _in_background, ask, wait_for

KILLED_BY_SIGTERM = -signal.SIGTERM  # Popen's code for it; a shell's $? is 128 + 15 = 143


@pytest.fixture(scope="module")
def upstream():
    up = Upstream()
    with ServerThread(up.app) as server:
        up.base_url = server.base_url
        yield up


def _serve(tmp_path, base_url: str) -> Started:
    pool_file, graph_file = tmp_path / "pool.yaml", tmp_path / "slow.yaml"
    pool_file.write_text(f"models:\n  - {{id: {SLOW_ID}, backend: openai, base_url: '{base_url}', "
                         "model: echo, params_b: 0.135, layers: 30, hidden: 576, context_window: 2048}\n")
    graph_file.write_text(f"name: slow\nnodes:\n  - {{id: answer, role: solver, model: {SLOW_ID}}}\n")
    return Started(["serve", str(graph_file), "--pool", str(pool_file)], os.environ | {HOME_ENV: str(tmp_path)})


def test_sigterm_ends_in_flight_requests_with_a_503_and_a_stream_end_and_exits_143(upstream, tmp_path):
    upstream.reset(delay_s=30.0)
    server = _serve(tmp_path, upstream.base_url)
    try:
        def read_stream() -> list[str]:
            body = {"model": "slow", "stream": True, "messages": [{"role": "user", "content": "Six times seven?"}]}
            with httpx.stream("POST", f"{server.base_url}/chat/completions", json=body, timeout=30) as r:
                return [line for line in r.iter_lines() if line.startswith("data: ")]

        plain, plain_box = _in_background(lambda: ask(server.base_url))
        streamed, stream_box = _in_background(read_stream)
        wait_for(lambda: upstream.requests == 2)
        server.proc.send_signal(signal.SIGTERM)
        plain.join(15)
        streamed.join(15)
        code = server.proc.wait(15)
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
    reply, lines = plain_box["result"], stream_box["result"]
    assert isinstance(reply, httpx.Response), f"the plain request broke off: {reply!r}"
    assert reply.status_code == 503, reply.text
    error = reply.json()["error"]
    assert error["message"] == SHUTDOWN_MESSAGE and error["code"] == SHUTDOWN_CODE
    assert isinstance(lines, list), f"the stream broke off: {lines!r}"
    assert lines[-1] == "data: [DONE]", lines
    assert '"server shutting down; retry the request"' in lines[-2], lines
    assert code == KILLED_BY_SIGTERM, "".join(server.err)[-3000:]
    time.sleep(0.2)  # the stderr reader thread drains the pipe
    assert "Traceback" not in "".join(server.err), "".join(server.err)[-3000:]
