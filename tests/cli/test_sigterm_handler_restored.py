"""`SigtermAsInterrupt` puts back the SIGTERM handler it found: asyncio's `remove_signal_handler` resets SIGTERM
to SIG_DFL, so a program calling `rolegraph.cli.main([... "optimize" ...])` lost its own handler afterwards."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
import typer

from rolegraph.cli.interrupt import TERMINATED_EXIT_CODE, SigtermAsInterrupt


def _callers_handler(signum, frame):  # the embedding program's own handler
    pass


@pytest.fixture
def own_handler():
    before = signal.signal(signal.SIGTERM, _callers_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


async def _done() -> str:
    await asyncio.sleep(0)
    return "done"


async def _terminated() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.sleep(30)  # cancelled by the SIGTERM


def test_handler_restored_after_a_normal_run(own_handler):
    with SigtermAsInterrupt() as term:
        assert term.run(_done()) == "done"
    assert signal.getsignal(signal.SIGTERM) is _callers_handler


def test_handler_restored_after_a_sigterm(own_handler):
    with pytest.raises(typer.Exit) as info, SigtermAsInterrupt() as term:
        term.run(_terminated())
    assert info.value.exit_code == TERMINATED_EXIT_CODE
    assert term.received
    assert signal.getsignal(signal.SIGTERM) is _callers_handler
