"""Ctrl-C during a command: one line on stderr saying what was kept, and exit code 130.

Why a command must say it itself: typer turns a KeyboardInterrupt that escapes a command into
`Exit(130)`, which non-standalone mode hands back as a plain return code, so `main` cannot tell
what the command had saved. A command that keeps something (a search's checkpoints, an eval's
stored graphs) catches the interrupt and raises `Interrupted` with that; `main` prints it.
"""

from __future__ import annotations

from pathlib import Path


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
    from rolegraph.optimize.rundir import STORE_NAME, RunStore

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
            f"rolegraph optimize --resume {run_dir}",
            run_dir,
        )
    from rolegraph.reports import render

    render(run_dir)  # the report of the search so far, as after a dollar-cap stop
    return Interrupted(
        f"the search is saved up to its last checkpoint (iteration {point[0]}; {run_dir}/report.md shows it); "
        f"continue with: rolegraph optimize --resume {run_dir}",
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
