"""`rolegraph results`: the evaluations stored in the results store, listed or shown one by one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer

from rolegraph.cli.eval_output import count_notes, json_line

DEFAULT_RESULTS_LIMIT = 20

RESULTS_HELP = """List evaluations stored in the results store, newest first, or show one run by id.

--json prints JSON Lines: one JSON object per stored run (or the one run's summary with its
per-node statistics).
"""


ADD_TO_HINT = "runs added with `eval --add-to RUN` live in that run's results.sqlite (--store RUN/results.sqlite)"
"""Added to "no stored run": `eval --add-to` prints run ids of RUN/results.sqlite, which `results ID` looked for in
$ROLEGRAPH_HOME's store and reported missing with no word where else to look."""

STORED_SETTINGS = ("graph_file", "seed", "split", "n", "data", "pool", "world")
"""Settings of a stored run shown under its summary: where the graph came from and which items it scored."""


MEASURED_LATENCY_NOTE = (
    "latency: as measured in each stored evaluation (calls replayed from the response cache keep the time they took "
    "when made; the framework's own time around them is measured again), so two evaluations of one graph on the "
    "same items differ slightly (a search files its own test runs as its paired:test runs, the figures its "
    "report.md and --json give; graphs paired later, by route fit or eval --add-to, are scored again)"
)
"""Under stored measured (not fully simulated) runs: `results` showed a graph's test latency as 36.45 s where the
run's report.md and `optimize --json` said 36.43 s, with nothing to tell the user these are two evaluations of the
same graph and items (the search's own test run, and the paired run `route fit` reads), each adding the
framework's time it measured. A search now files its own test runs as paired runs (`FinalChoice.test_runs`); a
graph paired later is still a second evaluation. Simulated latency is modelled, the same in every evaluation."""


def _latency_note(labels: Sequence[str | None]) -> str:
    """MEASURED_LATENCY_NOTE when some of the shown runs measured their latency (real or partly simulated)."""
    from rolegraph.models.provenance import SIMULATED

    return MEASURED_LATENCY_NOTE if any(label not in (None, SIMULATED) for label in labels) else ""


def _settings_text(value: object) -> str:
    return "-" if value is None else str(value)


def _stored_table(info: dict):
    """What `results ID` adds to the summary: the run's label, time, graph identity and settings.

    A value wraps only between words: a graph hash, a file's path or a model id is one word, and folded over
    two lines it can be neither pasted nor grepped (`stdout_console` prints the table wider than the screen)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="stored run")
    table.add_column("setting")
    table.add_column("value")
    table.add_row("created (UTC)", info["created"])
    table.add_row("label", Text(_settings_text(info["label"])))  # a label or a path is text, never markup
    table.add_row("graph hash", info["graph_hash"])
    for key in STORED_SETTINGS:
        if key in info["settings"]:
            table.add_row(key.replace("_", " "), Text(_settings_text(info["settings"][key])))
    return table


def _more_note(shown: int, total: int, limit: int) -> str:
    """The line saying a --limit left runs out (empty when it did not)."""
    if total <= shown:
        return ""
    return f"showing the newest {shown} of {total} stored runs (--limit {limit}); --limit {total} lists all"


def store_file(path: Path) -> Path:
    """The results store `--store` names: a file, or a directory holding one (a search's run directory keeps its
    paired outcomes in RUN_DIR/results.sqlite), which is what a user pointing at the run means. A directory
    without one is a one-line error naming what was looked for, never "no results store yet"."""
    from rolegraph.evaluate.store import StoreError
    from rolegraph.optimize.paired import RESULTS_NAME

    path = Path(path).expanduser()
    if not path.is_dir():
        return path
    inside = path / RESULTS_NAME
    if inside.is_file():
        return inside
    raise StoreError(f"{path} is a directory with no {RESULTS_NAME} in it; --store takes a results store file")


def results_command(
    run_id: str | None = typer.Argument(None, help="Show this stored run (default: list runs)."),
    task: str | None = typer.Option(None, "--task", "-t", help="Only runs of this task."),
    limit: int = typer.Option(DEFAULT_RESULTS_LIMIT, "--limit", min=1, help="At most this many runs."),
    store_path: Path | None = typer.Option(
        None, "--store", help="Results store (default: results.sqlite in $ROLEGRAPH_HOME)."
    ),
    json_out: bool = typer.Option(False, "--json", help="JSON Lines: one object per run."),
) -> None:
    from rolegraph.cli.tables import plain_console, stdout_console
    from rolegraph.evaluate.report import (
        node_table,
        run_simulation,
        runs_table,
        shown_simulation,
        sim_note,
        summary_table,
    )
    from rolegraph.evaluate.store import ResultsStore, StoreError
    from rolegraph.settings import Settings

    path = store_file(store_path) if store_path is not None else Settings.from_env().store_path
    if not Path(path).expanduser().is_file():
        if run_id is not None:  # an id printed by `eval --add-to`, looked for in a home that has no store
            raise StoreError(f"{path}: no results store yet, so no stored run '{run_id}'; {ADD_TO_HINT}")
        raise StoreError(f"{path}: no results store yet (run `rolegraph eval` first)")
    with ResultsStore(path) as store:
        if run_id is not None:
            try:
                info = store.run(run_id)
            except StoreError as exc:  # the id is not in this store: it may be in a run directory's own
                raise StoreError(f"{exc}; {ADD_TO_HINT}") from None
            result = store.load(run_id)
            if json_out:
                obj = {
                    **result.summary(),
                    "run_id": run_id,
                    "label": info["label"],
                    "graph_hash": info["graph_hash"],
                    "created": info["created"],
                    "settings": info["settings"],
                    "p95_latency_s": result.p95_latency_s,
                    "skipped": result.skipped,
                    "partial": result.partial,
                    "per_node": {k: v.model_dump() for k, v in result.per_node.items()},
                }
                typer.echo(json_line(obj))
                return
            tables = (summary_table(result), _stored_table(info), node_table(result))
            console = stdout_console(*tables)
            for table in tables:
                console.print(table)
            if note := sim_note([shown_simulation(result)]):
                console.print(note)
            if note := _latency_note([shown_simulation(result)]):
                console.print(note, markup=False)
            for line in count_notes(result, result.graph_name):  # stored with the run: trims, timed-out requests
                console.print(line, markup=False)
            return
        runs = store.runs(task=task, limit=limit)
        more = _more_note(len(runs), store.count(task), limit)
    if json_out:
        for r in runs:
            typer.echo(json_line(r))
        if more:
            typer.echo(more, err=True)  # stdout stays JSON Lines
        return
    if not runs:
        plain_console().print("no stored evaluations" + (f" for task '{task}'" if task else ""))
        return
    terminal = plain_console()
    table = runs_table(runs, width=terminal.width if terminal.is_terminal else None)  # a pipe gets it whole
    console = stdout_console(table)
    console.print(table)
    if note := sim_note(run_simulation(r) for r in runs):
        console.print(note)
    if note := _latency_note([run_simulation(r) for r in runs]):
        console.print(note, markup=False)
    if more:
        console.print(more)


def register(app: typer.Typer) -> None:
    """Add `results` to the app."""
    app.command("results", help=RESULTS_HELP)(results_command)
