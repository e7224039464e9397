"""Ctrl-C during a command: one line on stderr saying what was kept, and exit code 130.

Why a command must say it itself: typer turns a KeyboardInterrupt that escapes a command into
`Exit(130)`, which non-standalone mode hands back as a plain return code, so `main` cannot tell
what the command had saved. A command that keeps something (a search's checkpoints, an eval's
stored graphs) catches the interrupt and raises `Interrupted` with that; `main` prints it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import typer

T = TypeVar("T")
TERMINATED_EXIT_CODE = 143
"""128 + SIGTERM: the shell's code for a process ended by SIGTERM, as 130 (128 + SIGINT) is Ctrl-C's."""


class Interrupted(Exception):
    """The user pressed Ctrl-C; the message says what was kept. `main` prints `interrupted: MESSAGE`, exit 130.

    `run_dir` is the search's run directory when it can be resumed, so that a command that does more than the
    search (the demo also fits a router) can add its own next step to the message."""

    def __init__(self, message: str, run_dir: Path | None = None) -> None:
        super().__init__(message)
        self.run_dir = run_dir


def search_interrupted(run_dir: Path | None) -> Interrupted:
    """What an interrupted `optimize` (or `demo`) kept, with the report rendered from it when there is a run.

    The run store is written one transaction per checkpoint, so what is on disk is the last checkpoint
    whole; rendering reads only that, as the `--max-dollars` stop does."""
    from rolegraph.optimize.rundir import STORE_NAME, RunStore, resume_command

    if run_dir is None or not (run_dir / STORE_NAME).is_file():
        return Interrupted("the search had not started: nothing was saved")
    store = RunStore.open(run_dir)
    try:
        point = store.checkpoint()
    finally:
        store.close()
    if point is None:
        return Interrupted(
            f"the search in {run_dir} stopped before its first checkpoint; start it again with: "
            f"{resume_command(run_dir)}",
            run_dir,
        )
    from rolegraph.reports import render

    render(run_dir)  # the report of the search so far, as after a dollar-cap stop
    return Interrupted(
        f"the search is saved up to its last checkpoint (iteration {point[0]}; {run_dir}/report.md shows it); "
        f"continue with: {resume_command(run_dir)}",  # with --max-dollars HIGHER after its dollar cap's stop
        run_dir,
    )


def demo_interrupted(search: Interrupted) -> Interrupted:
    """What an interrupted `demo` kept: its search, as `search_interrupted` says, but resuming that search does
    not fit the demo's router (router.yaml, which the demo's report and file list promise; the demo fits it
    only once its search is done), so the message names that step too."""
    if search.run_dir is None:
        return search
    return Interrupted(
        f"{search}, then fit the demo's router with: rolegraph route fit {search.run_dir}", search.run_dir
    )


def router_interrupted(run_dir: Path) -> Interrupted:
    """Ctrl-C while the demo fitted its router, after its search finished: the search is whole, the router is not."""
    return Interrupted(
        f"the search in {run_dir} is finished ({run_dir}/report.md shows it); its router was not fitted: "
        f"fit it with: rolegraph route fit {run_dir}",
        run_dir,
    )


def eval_interrupted(scored: list[str], total: int) -> Interrupted:
    """What an interrupted `eval` stored: each graph is saved to the results store when all its items are done."""
    if not scored:
        return Interrupted("nothing was stored: no graph had finished its items")
    names = ", ".join(f"'{name}'" for name in scored)
    return Interrupted(
        f"stored {len(scored)} of {total} graphs ({names}; `rolegraph results` lists them); "
        "the graph being scored and any after it were not stored"
    )


class SigtermAsInterrupt:
    """SIGTERM (`kill PID`, a job scheduler's or a container's stop) handled as Ctrl-C: the command's task is
    cancelled, so it saves and says what it kept (`search_interrupted`), then exits 143 with that line.

    Why: SIGTERM's default ends the process at once (exit -15): no "saved" line, no `--resume` hint, and a run
    killed mid-step. asyncio handles only SIGINT itself (it cancels the main task); `run` installs the same for
    SIGTERM on the loop. A second SIGTERM while it winds down ends the process as before. Used as a context
    manager around `run`, it also runs `cleanup` (e.g. closing the executor) however the command ended."""

    def __init__(self, cleanup: Callable[[], object] | None = None) -> None:
        self.cleanup = cleanup
        self.received = False
        self.interrupts = 0
        """Ctrl-Cs received while `run` ran its command."""

    def run(self, main: Coroutine[Any, Any, T]) -> T:
        """`asyncio.run(main)`, with SIGTERM cancelling it like Ctrl-C. A cancellation that the command did not
        turn into what it kept is Ctrl-C's KeyboardInterrupt, as asyncio.run's own handling would make it."""
        try:
            return asyncio.run(self._cancelled_on_sigterm(main))
        except asyncio.CancelledError:
            if self.interrupts and not self.received:
                raise KeyboardInterrupt from None
            raise

    async def _cancelled_on_sigterm(self, main: Coroutine[Any, Any, T]) -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def on_sigterm() -> None:
            self.received = True
            loop.remove_signal_handler(signal.SIGTERM)  # the next one has its default effect
            if task is not None:
                task.cancel()

        def on_sigint() -> None:
            """Each Ctrl-C cancels the command again: the first stops it (it waits, a bounded time, for the paid
            calls in flight: `models.in_flight`), the second leaves those calls. asyncio's own second Ctrl-C
            raised KeyboardInterrupt out of the loop instead, and its shutdown printed the command's saved-state
            exception as an unhandled one, with a traceback. A third, should the command not end, is asyncio's."""
            self.interrupts += 1
            if self.interrupts > 2:
                raise KeyboardInterrupt
            if task is not None:
                task.cancel()

        # the loop's remove_signal_handler resets SIGTERM to SIG_DFL (SIGINT to Python's default): a program that
        # calls `rolegraph.cli.main` gets its own handlers back (None: one not set from Python, which cannot be put
        # back from here), and asyncio.run finds its own SIGINT handler where it left it
        previous = signal.getsignal(signal.SIGTERM)
        previous_int = signal.getsignal(signal.SIGINT)
        try:
            loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals (Windows)
            return await main
        loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            return await main
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
            loop.remove_signal_handler(signal.SIGINT)
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            if previous_int is not None:
                signal.signal(signal.SIGINT, previous_int)

    @contextmanager
    def raising(self) -> Iterator[None]:
        """SIGTERM as Ctrl-C in a synchronous step (no event loop to cancel: the demo's router fit): it raises
        KeyboardInterrupt there, which the step turns into what it kept, as for Ctrl-C. The handler found is
        put back after; a second SIGTERM meanwhile has its default effect."""

        def on_sigterm(signum: int, frame: object) -> None:
            self.received = True
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            raise KeyboardInterrupt

        try:
            previous = signal.signal(signal.SIGTERM, on_sigterm)
        except ValueError:  # not the main thread: SIGTERM keeps its effect
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)

    def __enter__(self) -> SigtermAsInterrupt:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        try:
            if self.cleanup is not None:
                self.cleanup()
        finally:
            if self.received and isinstance(exc, (Interrupted, KeyboardInterrupt, asyncio.CancelledError)):
                said = f": {exc}" if isinstance(exc, Interrupted) else ""
                print(f"terminated (SIGTERM){said}", file=sys.stderr)
                raise typer.Exit(TERMINATED_EXIT_CODE) from None
