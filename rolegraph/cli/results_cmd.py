"""`rolegraph results`: the evaluations stored in the results store, listed or shown one by one."""

from __future__ import annotations

from pathlib import Path

import typer

from rolegraph.cli.eval_cmd import json_line
from rolegraph.models.provenance import shows_simulation

DEFAULT_RESULTS_LIMIT = 20

RESULTS_HELP = """List evaluations stored in the results store, newest first, or show one run by id.

--json prints JSON Lines: one JSON object per stored run (or the one run's summary with its
per-node statistics).
"""


def results_command(
    run_id: str | None = typer.Argument(None, help="Show this stored run (default: list runs)."),
    task: str | None = typer.Option(None, "--task", "-t", help="Only runs of this task."),
    limit: int = typer.Option(DEFAULT_RESULTS_LIMIT, "--limit", min=1, help="At most this many runs."),
    store_path: Path | None = typer.Option(
        None, "--store", help="Results store (default: results.sqlite in $ROLEGRAPH_HOME)."
    ),
    json_out: bool = typer.Option(False, "--json", help="JSON Lines: one object per run."),
) -> None:
    from rich.console import Console

    from rolegraph.cli.tables import stdout_console
    from rolegraph.evaluate.report import SIM_NOTE, node_table, runs_table, summary_table
    from rolegraph.evaluate.store import ResultsStore, StoreError
    from rolegraph.settings import Settings

    path = store_path or Settings.from_env().store_path
    if not Path(path).expanduser().is_file():
        raise StoreError(f"{path}: no results store yet (run `rolegraph eval` first)")
    with ResultsStore(path) as store:
        if run_id is not None:
            result = store.load(run_id)
            if json_out:
                obj = {
                    **result.summary(),
                    "run_id": run_id,
                    "p95_latency_s": result.p95_latency_s,
                    "skipped": result.skipped,
                    "partial": result.partial,
                    "per_node": {k: v.model_dump() for k, v in result.per_node.items()},
                }
                typer.echo(json_line(obj))
                return
            tables = (summary_table(result), node_table(result))
            console = stdout_console(*tables)
            for table in tables:
                console.print(table)
            if shows_simulation([result.simulation]):
                console.print(SIM_NOTE)
            return
        runs = store.runs(task=task, limit=limit)
    if json_out:
        for r in runs:
            typer.echo(json_line(r))
        return
    if not runs:
        Console().print("no stored evaluations" + (f" for task '{task}'" if task else ""))
        return
    table = runs_table(runs)
    console = stdout_console(table)
    console.print(table)
    if shows_simulation(r["simulation"] for r in runs):
        console.print(SIM_NOTE)


def register(app: typer.Typer) -> None:
    """Add `results` to the app."""
    app.command("results", help=RESULTS_HELP)(results_command)
