"""`ServerThread` waits for uvicorn to start, and fails in one line when it does not: at STARTUP_TIMEOUT_S, or
as soon as the server's thread has ended (waiting out the timeout would only delay the error). How long that took
is not asserted (timing goals live in benchmarks/): a spy on the startup loop's `stop_after_delay` shows the
deadline it was given and whether it ran out of it or the thread's end came first; a hang fails at HANG_GUARD_S."""

from __future__ import annotations

import asyncio
import re
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from rolegraph.sim import server_thread
from rolegraph.sim.server_thread import ServerThread
from tests.stop_spy_support import spy_on_stop_after_delay

SHORT_S = 0.3  # STARTUP_TIMEOUT_S for the timeout test
STALL_S = 3.0  # how long the stalled app's startup takes: well past SHORT_S
LONG_S = 60.0  # STARTUP_TIMEOUT_S for the test that must not wait for it
HANG_GUARD_S = 60
pytestmark = pytest.mark.timeout(HANG_GUARD_S)
NOT_STARTED = re.compile(r"loopback server on port \d+ did not start")


def _app(startup) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app):
        await startup()
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/v1/ping")
    async def ping() -> dict:
        return {"ok": True}

    return app


def test_a_server_that_starts_is_served():
    async def quick() -> None:
        return None

    with ServerThread(_app(quick), lifespan="on") as srv:
        assert httpx.get(f"{srv.base_url}/ping", timeout=5).json() == {"ok": True}


def test_a_server_that_does_not_start_in_time_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(server_thread, "STARTUP_TIMEOUT_S", SHORT_S)
    spy = spy_on_stop_after_delay(monkeypatch, server_thread)

    async def stalls() -> None:
        await asyncio.sleep(STALL_S)

    with pytest.raises(RuntimeError) as info:
        ServerThread(_app(stalls), lifespan="on").start()
    assert NOT_STARTED.fullmatch(str(info.value))
    assert spy.delays == [SHORT_S] and spy.stops[0].ran_out  # it gave up because STARTUP_TIMEOUT_S was out


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # uvicorn's sys.exit(3)
def test_a_server_whose_thread_dies_fails_at_once_not_at_the_timeout(monkeypatch):
    monkeypatch.setattr(server_thread, "STARTUP_TIMEOUT_S", LONG_S)
    spy = spy_on_stop_after_delay(monkeypatch, server_thread)

    async def fails() -> None:
        raise RuntimeError("startup failed")

    with pytest.raises(RuntimeError) as info:
        ServerThread(_app(fails), lifespan="on", log_level="critical").start()
    assert NOT_STARTED.fullmatch(str(info.value))
    assert spy.delays == [LONG_S] and not spy.stops[0].ran_out  # the thread's end stopped the wait, not the timeout
