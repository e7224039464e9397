"""`ListeningServer`'s stop with requests in flight: uvicorn's `ERROR: Cancel N running task(s), timeout graceful
shutdown exceeded` is replaced by the command's own line once every cancelled request has ended (that cancel is how
`rolegraph serve` documents its stop), and still shows when a request outlives the wait. A real uvicorn server on
loopback, stopped as its signal handler would stop it (`should_exit`)."""
from __future__ import annotations

import asyncio
import logging
import threading
import time

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from rolegraph.cli import listening
from rolegraph.cli.listening import ListeningServer

HANGS_S = 30.0  # a request that would outlast any stop
OUTLIVES_S = 2.0  # how long the stubborn request keeps going after its cancel: longer than the patched wait
FINISH_WAIT_S = 0.3
WAIT_S = 10.0


async def hangs(request: Request) -> PlainTextResponse:
    try:
        await asyncio.sleep(HANGS_S)
    except asyncio.CancelledError:  # as `rolegraph serve`'s guard answers a cancelled request
        return PlainTextResponse("shutting down", status_code=503)
    return PlainTextResponse("never")


async def stubborn(request: Request) -> PlainTextResponse:
    try:
        await asyncio.sleep(HANGS_S)
    except asyncio.CancelledError:
        await asyncio.sleep(OUTLIVES_S)  # ignores its cancel for a while: the stop cannot say it ended
    return PlainTextResponse("late")


APP = Starlette(routes=[Route("/hangs", hangs), Route("/stubborn", stubborn)])


def stop_with_one_in_flight(path: str, monkeypatch, report: bool = True) -> list[int]:
    """Start the server (with `on_cancelled` if `report`), send one request to `path`, stop the server while it
    runs; the counts `on_cancelled` got."""
    monkeypatch.setattr(listening, "FINISH_CANCELLED_S", FINISH_WAIT_S)
    got: list[int] = []
    urls: list[str] = []
    config = uvicorn.Config(APP, host="127.0.0.1", port=0, log_config=None, timeout_graceful_shutdown=0.2)
    server = ListeningServer(config, urls.extend, on_cancelled=got.append if report else None)
    thread = threading.Thread(target=server.serve_bound, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not urls and time.monotonic() < deadline:
        time.sleep(0.02)
    base = urls[0].removesuffix(listening.API_PATH)
    client = threading.Thread(target=lambda: httpx.get(base + path, timeout=WAIT_S), daemon=True)
    client.start()
    while not server.server_state.tasks and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.server_state.tasks, "the request never reached the server"
    server.should_exit = True
    thread.join(WAIT_S)
    assert not thread.is_alive()
    return got


def cancel_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.msg == listening.UVICORN_CANCEL_MSG]


def test_a_stop_that_ends_its_requests_gives_the_commands_line_not_uvicorns_error(monkeypatch, caplog):
    with caplog.at_level(logging.INFO):
        got = stop_with_one_in_flight("/hangs", monkeypatch)
    assert got == [1]
    assert cancel_records(caplog) == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_request_that_outlives_the_wait_keeps_uvicorns_line(monkeypatch, caplog):
    with caplog.at_level(logging.INFO):
        got = stop_with_one_in_flight("/stubborn", monkeypatch)
    assert got == []
    [record] = cancel_records(caplog)
    assert record.levelno == logging.ERROR and record.getMessage().startswith("Cancel 1 running task(s)")


def test_without_on_cancelled_uvicorns_line_is_untouched(monkeypatch, caplog):
    """`serve-sim` passes no `on_cancelled`: its stop logs as uvicorn does."""
    with caplog.at_level(logging.INFO):
        stop_with_one_in_flight("/hangs", monkeypatch, report=False)
    assert len(cancel_records(caplog)) == 1
