"""The evaluation tables hold graph names, labels, tasks, node and model ids as text, never as rich markup: on
any console (markup read, as rich's default) a `[/]` in them used to crash the table and a `[bold]` vanished."""
from __future__ import annotations

import io

from rich.console import Console

from rolegraph.evaluate.paired_stats import Comparison
from rolegraph.evaluate.report import comparison_table, node_table, runs_table, side_by_side_table, summary_table
from rolegraph.evaluate.result import EvalResult, NodeStats

NAME = "x[/]y"
STYLED = "[bold]keep[/bold]"
LABEL = "[/]"
NODE = "[i]n[/i]"
MODEL = "my/[/]x"


def shown(table, width: int = 400) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width).print(table)  # rich's default console: markup on
    return buf.getvalue()


def result(name: str) -> EvalResult:
    return EvalResult(
        task="gsm", graph_name=name, n=2, accuracy=0.5, ci95=(0.1, 0.9), simulation="simulated", world=0,
        per_node={NODE: NodeStats(role="solver", model=MODEL, n=2, correct_rate=0.5, agree_rate=1.0)},
        run_id="r1",
    )


def test_summary_and_node_tables_print_names_and_ids_as_they_are():
    assert f"{NAME} on gsm" in shown(summary_table(result(NAME)))
    assert f"{STYLED} on gsm" in shown(summary_table(result("g"), STYLED))
    nodes = shown(node_table(result(NAME)))
    assert f"│ {NODE} " in nodes and f"│ {MODEL} " in nodes


def test_side_by_side_and_comparison_tables_print_names_as_they_are():
    both = shown(side_by_side_table([result(NAME), result(STYLED)], [NAME, STYLED]))
    assert f" {NAME} ┃" in both and f" {STYLED} ┃" in both
    c = Comparison(base=NAME, other=STYLED, n=2, mean_diff=0.0, ci95=(0.0, 0.0), p_bootstrap=1.0, b01=0, b10=0,
                   p_mcnemar=1.0, simulated=True, simulation="simulated")
    text = shown(comparison_table([c]))
    assert f"against {NAME} (same items)" in text and f"│ {STYLED} " in text and f"minus {NAME}'s" in text


def run_row(name: str, label: str, task: str) -> dict:
    r = result(name)
    return {**r.summary(), "task": task, "graph_name": name, "id": "abc123", "created": "2026-12-05T15:00:00",
            "label": label, "graph_hash": "0123456789abcdef"}


def test_runs_table_prints_names_labels_and_tasks_as_they_are_in_both_layouts():
    runs = [run_row(NAME, LABEL, "[t]"), run_row(STYLED, STYLED, "gsm")]
    wide = shown(runs_table(runs))
    assert all(f"│ {cell} " in wide for cell in (NAME, LABEL, "[t]", STYLED))
    stacked = shown(runs_table(runs, width=100), width=100)  # narrower: name and label stacked in one cell
    assert "┃ task / graph /" in stacked
    assert all(f"│ {cell} " in stacked for cell in (NAME, f"({LABEL})", "[t]", STYLED))
