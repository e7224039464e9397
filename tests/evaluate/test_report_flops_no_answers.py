"""The eval summary's FLOPs cell when nothing answered: every item failed without a reply and spent nothing reads
"n/a (nothing answered)", as the accuracy reads "n/a"; "model sizes unknown" stays where that is the reason."""
from __future__ import annotations

import io

from rich.console import Console

from rolegraph.evaluate.report import summary_table
from rolegraph.evaluate.result import EvalResult, ItemScore

N = 3
SIZES_UNKNOWN = "n/a (model sizes unknown)"
NOTHING_ANSWERED = "n/a (nothing answered)"


def _flops_row(result: EvalResult) -> str:
    buf = io.StringIO()
    Console(file=buf, width=250).print(summary_table(result))
    return next(line for line in buf.getvalue().splitlines() if "FLOPs units / item" in line)


def _failed(i: int, simulation=None) -> ItemScore:
    return ItemScore(item_id=f"q{i}", error="node 'a' failed: connection refused", simulation=simulation)


def test_every_item_failed_without_a_reply_reads_nothing_answered():
    result = EvalResult(task="gsm", n=N, failures=N, items=[_failed(i) for i in range(N)])
    row = _flops_row(result)
    assert NOTHING_ANSWERED in row and "sizes" not in row


def test_a_reply_before_every_failure_keeps_model_sizes_unknown():
    items = [_failed(i, simulation="real") for i in range(N)]  # a model answered, then a later node failed
    row = _flops_row(EvalResult(task="gsm", n=N, failures=N, items=items))
    assert SIZES_UNKNOWN in row


def test_answered_items_without_sizes_keep_model_sizes_unknown():
    items = [ItemScore(item_id=f"q{i}", score=1.0, simulation="real") for i in range(N)]
    row = _flops_row(EvalResult(task="gsm", n=N, accuracy=1.0, items=items))
    assert SIZES_UNKNOWN in row


def test_failed_items_that_spent_flops_show_the_figure():
    result = EvalResult(task="gsm", n=N, failures=N, flops_units=2.5, items=[_failed(i) for i in range(N)])
    row = _flops_row(result)
    assert "2.50" in row and "n/a" not in row
