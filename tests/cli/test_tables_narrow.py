"""Tables on a terminal narrower than they are: no id and no figure is ever cut or split.

Rich, left to itself, shrinks every column alike and crops what no longer fits: `local/smollm2-135`,
`openai/gpt-4o-min` (ids that look valid and are not), `10.0` for `10.00`, `+23…`, `$0.0` / `608`.
"""
from __future__ import annotations

import re

import pytest
from rich.console import Console
from rich.table import Table

from rolegraph.cli import main, tables
from rolegraph.cli.tables import FOLD_MIN_WIDTH, stdout_console
from rolegraph.evaluate.paired_stats import Comparison
from rolegraph.evaluate.report import comparison_table, runs_table, side_by_side_table
from rolegraph.evaluate.result import EvalResult, ItemScore

NARROW = 60
BUILTIN_IDS = ["sim/llama-3.2-1b", "sim/llama-3.1-70b", "local/smollm2-135m", "openai/gpt-4o-mini",
               "openai/gpt-4.1-nano"]


@pytest.fixture
def terminal(monkeypatch):
    """stdout is a terminal NARROW columns wide."""
    monkeypatch.setattr(tables, "Console", lambda: Console(width=NARROW, force_terminal=True, color_system=None))


def words(out: str) -> set[str]:
    """Every word of the output, table borders taken out (a cut or split word is not among them whole)."""
    return set(re.sub(r"[│┃┏┓┗┛┡┩└┘┌┐├┤┬┴┼╇╈╋━─═]", " ", out).split())


def test_models_at_60_columns_keeps_every_id_and_price_whole(terminal, capsys):
    main(["models"])
    out = capsys.readouterr().out
    assert "…" not in out
    assert set(BUILTIN_IDS) <= words(out)
    assert {"2.50/10.00", "0.15/0.60", "0.135", "70.6"} <= words(out)  # not 10.0, not 0.13
    assert max(len(line) for line in out.splitlines()) <= NARROW  # stacked columns fit the screen
    assert "simulated" in words(out)  # the note column still has room to say something


def test_a_comparison_at_60_columns_keeps_its_figures_whole(terminal, capsys):
    c = Comparison(base="single", other="debate", n=125, mean_diff=0.168, ci95=(-0.064, 0.272), p_bootstrap=0.0065,
                   b01=36, b10=15, p_mcnemar=0.0046, simulated=True, simulation="simulated")
    table = comparison_table([c])
    stdout_console(table).print(table)
    out = capsys.readouterr().out
    assert "…" not in out
    assert {"debate", "125", "+16.8", "[-6.4,", "+27.2]", "0.0065", "36", "15", "0.0046"} <= words(out)


def _result(name: str, run_id: str, cost: float) -> EvalResult:
    items = [ItemScore(item_id=f"q{i}", score=float(i % 2)) for i in range(4)]
    return EvalResult(task="gsm", graph_name=name, n=4, accuracy=0.5, ci95=(0.15, 0.85), items=items,
                      tokens=628_465, cost_usd=cost, run_id=run_id, simulated=True, simulation="simulated", world=0)


def test_two_graphs_side_by_side_at_60_columns(terminal, capsys):
    table = side_by_side_table([_result("single", "ee827c7bb1ad4ef4", 0.0031),
                                _result("debate", "2b088c8043b94545", 0.0885)], ["single", "debate"])
    stdout_console(table).print(table)
    out = capsys.readouterr().out
    assert "…" not in out
    assert {"ee827c7bb1ad4ef4", "2b088c8043b94545", "$0.0031", "$0.0885", "628,465", "[15.0%,", "85.0%]"} <= words(out)


def test_stored_runs_at_60_columns_keep_costs_and_run_ids_whole(terminal, capsys):
    runs = [{"id": f"{i}b088c8043b9454{i}", "created": "2025-12-05T04:58:00", "task": "gsm", "graph_name": "debate",
             "label": None, "n": 125, "accuracy": 0.56, "ci95": [0.472, 0.644], "failures": 0, "cost_usd": 0.0608,
             "flops_units": 42.83, "mean_latency_s": 24.74, "graph_hash": "2f7f927f00", "simulated": True,
             "simulation": "simulated", "world": 0} for i in range(2)]
    table = runs_table(runs, width=NARROW)
    stdout_console(table).print(table)
    out = capsys.readouterr().out
    assert "…" not in out
    assert {"0b088c8043b94540", "1b088c8043b94541", "$0.0608", "42.83", "24.74", "56.0%", "[47.2%,", "64.4%]",
            "2f7f927f"} <= words(out)


def test_a_table_whose_ids_cannot_fit_is_printed_wider_than_the_terminal(terminal, capsys):
    long_id = "org/" + "m" * 70
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("price", justify="right")
    table.add_column("note", overflow="fold")
    table.add_row(long_id, "10.00", "a note that is long enough to be folded onto several lines of the table")
    console = stdout_console(table)
    assert console.width > NARROW
    console.print(table)
    out = capsys.readouterr().out
    assert {long_id, "10.00"} <= words(out) and "…" not in out
    note_width = max(len(line.split("│")[3]) for line in out.splitlines() if line.count("│") == 4) - 2
    assert note_width >= FOLD_MIN_WIDTH  # folded, not squeezed to nothing


def test_a_table_that_fits_is_left_as_rich_lays_it_out(terminal):
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_row("sim/llama-3.2-1b")
    assert stdout_console(table).width == NARROW and table.columns[0].width is None
