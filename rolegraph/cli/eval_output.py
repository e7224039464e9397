"""What `rolegraph eval` prints: the tables or JSON Lines of its results, and its failed items."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from rolegraph.errors import RolegraphError, one_line

if TYPE_CHECKING:
    from pathlib import Path

    from rolegraph.evaluate.result import EvalResult


class ItemsFailedError(RolegraphError):
    """Every item of a graph failed (the model never answered): its accuracy measures nothing."""


def failure_line(result: EvalResult, name: str) -> str | None:
    """How many items of `result` failed and the first failure's model and cause, in one line.

    A failed item is not a wrong answer (the model never answered), so an accuracy over failures
    must not stand alone: the line says why (connection refused, a bad key, context exceeded)."""
    if not result.failures:
        return None
    first = next((it.error for it in result.items if it.error), "unknown error")
    first = one_line(first, limit=None)
    return f"graph '{name}': {result.failures} of {result.n} items failed; first failure: {first}"


def report_failures(results: list[EvalResult], names: list[str]) -> None:
    """A warning line per graph with some failed items; ItemsFailedError (exit 2) if one failed them all."""
    fatal = None
    for result, name in zip(results, names):
        line = failure_line(result, name)
        if line is None:
            continue
        if result.failures == result.n and fatal is None:
            fatal = line
        else:
            typer.echo(f"warning: {line}", err=True)
    if fatal is not None:
        raise ItemsFailedError(fatal)


def added_store_line(run_dir: Path) -> str:
    """The line after `eval --add-to`'s table naming the store its runs went to. Why: the run ids it prints live in
    RUN_DIR/results.sqlite, not $ROLEGRAPH_HOME's store, and `rolegraph results ID` alone said "no stored run"."""
    from rolegraph.optimize.paired import results_path

    store = results_path(run_dir)
    return f"stored in {store}: `rolegraph results RUN_ID --store {store}` shows a run"


def trimmed_items(result: EvalResult) -> int:
    """How many items of `result` had some node's searchers' evidence trimmed to fit its model's context window
    (`agents.trim`): their answers were written from fewer hits than were found. `evaluate` and the store set
    `result.trimmed_items`; a result built from items alone (`summarize`) is counted from them."""
    from rolegraph.evaluate.result import trimmed_item_count

    return max(result.trimmed_items, trimmed_item_count(result.items))


def trim_line(result: EvalResult, name: str) -> str | None:
    """The note under `eval`'s tables for a graph with trimmed evidence (None: none trimmed)."""
    n = trimmed_items(result)
    if not n:
        return None
    return (
        f"note: graph '{name}': on {n} of {result.n} items a node was sent fewer search hits than its searchers found, "
        "to fit its model's context window (a model with a larger context_window reads them all)"
    )


def timed_out_line(result: EvalResult, name: str) -> str | None:
    """The note under a table for a graph whose evaluation abandoned requests at their `timeout_s` (None: none
    did): the `warning:` line said the first of each model, this says how many and what they may cost."""
    from rolegraph.evaluate.report import timed_out_note

    note = timed_out_note(result.timed_out_attempts, result.timed_out_usd)
    return f"note: graph '{name}': {note}" if note else None


def count_notes(result: EvalResult, name: str) -> list[str]:
    """The notes under `eval`'s and `results ID`'s tables for what the figures leave out: evidence trimmed to a
    context window, requests abandoned at a timeout."""
    return [line for line in (trim_line(result, name), timed_out_line(result, name)) if line is not None]


def json_line(obj: dict[str, Any]) -> str:
    """One `--json` line (JSON Lines: one object per line, values that are not JSON as strings)."""
    return json.dumps(obj, sort_keys=False, default=str)


def print_results(results, specs, graphs: list[Path], names: list[str], comparisons, json_out: bool) -> None:
    """JSON Lines, or the tables (one graph: summary and per-node credit; several: side by side)."""
    from rolegraph.cli.router_views import stage_keys, unmeasured
    from rolegraph.cli.tables import stdout_console
    from rolegraph.evaluate.report import (
        comparison_table,
        node_table,
        shown_simulation,
        side_by_side_table,
        sim_note,
        summary_table,
    )

    if json_out:
        for i, (result, path) in enumerate(zip(results, graphs)):
            obj = {
                **result.summary(),
                "graph": names[i],
                "p95_latency_s": result.p95_latency_s,
                "skipped": result.skipped,
                "run_id": result.run_id,
                "graph_file": str(path),
                "cost_usd_per_item": result.cost_usd / max(result.n, 1),
                "trimmed_items": trimmed_items(result),
                **stage_keys(result, specs[i]),
                **unmeasured(result),
            }
            if i > 0:
                obj["vs_first"] = comparisons[i - 1].model_dump()
            typer.echo(json_line(obj))
        return
    if len(results) == 1:
        tables = (summary_table(results[0], names[0]), node_table(results[0]))
    else:
        tables = (side_by_side_table(results, names), comparison_table(comparisons))
    console = stdout_console(*tables)
    for table in tables:
        console.print(table)
    note = sim_note(shown_simulation(r) for r in results)  # a graph that answered nothing is not simulated
    if note:
        console.print(note)
    for result, name in zip(results, names):
        for line in count_notes(result, name):
            console.print(line, markup=False)
