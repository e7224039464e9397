"""Dollar amounts keep their significant figures: a sim or local model's cost of a few millionths of a dollar
per item read "$0.0000" in the eval summary and `rolegraph results`, and "0.00000" in the reports, although
the store held 3.92e-06. A nonzero amount never reads as zero; an actual zero stays zero."""
from __future__ import annotations

import io

import pytest
from rich.console import Console

from rolegraph.evaluate.report import runs_table, summary_table
from rolegraph.evaluate.result import EvalResult, ItemScore
from rolegraph.money import money

STORED = 3.92e-06  # the per-item cost a probe's report showed as 0.00000
RELATIVE = 0.005  # three significant figures are within half a percent


@pytest.mark.parametrize("amount, shown", [
    (3.92e-06, "$0.00000392"),
    (0.00014, "$0.00014"),
    (0.0031, "$0.0031"),
    (0.0885, "$0.0885"),
    (0.5, "$0.50"),
    (12.5, "$12.50"),
    (0.0, "$0"),
])
def test_amounts_read_with_their_significant_figures(amount, shown):
    assert money(amount) == shown


def test_the_column_form_has_no_dollar_sign():
    assert money(STORED, "") == "0.00000392" and money(0.0, "") == "0"


def test_an_amount_too_small_to_print_is_said_to_be_below_a_bound_not_zero():
    text = money(1e-12)
    assert text.startswith("<$0.0") and float(text.removeprefix("<$")) > 0


@pytest.mark.parametrize("amount", [1.3e-9, 4.4e-8, 2.5e-7, 3.92e-6, 7.77e-5, 1.234e-3, 0.0456, 0.789])
def test_no_nonzero_amount_reads_as_zero_and_each_is_close(amount):
    shown = float(money(amount).removeprefix("$"))
    assert shown > 0 and abs(shown - amount) <= RELATIVE * amount


def _render(table) -> str:
    buf = io.StringIO()
    Console(file=buf, width=250).print(table)
    return buf.getvalue()


def test_the_eval_summary_and_the_stored_runs_listing_show_a_tiny_cost():
    items = [ItemScore(item_id="q0", score=1.0)]
    result = EvalResult(task="gsm", graph_name="g", n=1, accuracy=1.0, items=items, cost_usd=STORED,
                        simulated=True, simulation="simulated", world=0)
    summary = _render(summary_table(result))
    cost_row = next(line for line in summary.splitlines() if "cost (total)" in line)
    assert "$0.00000392" in cost_row and "$0.0000 " not in cost_row
    run = {"id": "r1", "created": "2025-01-01T00:00:00", "task": "gsm", "graph_name": "g", "label": None, "n": 1,
           "accuracy": 1.0, "ci95": [0.2, 1.0], "failures": 0, "cost_usd": STORED, "mean_latency_s": 1.0,
           "flops_units": 1.0, "simulated": True, "simulation": "simulated", "world": 0}
    listing = _render(runs_table([run]))
    assert "$0.00000392" in listing and "$0.0000 " not in listing
    zero = _render(runs_table([{**run, "id": "r2", "cost_usd": 0.0}]))
    assert "$0 " in zero  # a free run (local models) still reads 0
