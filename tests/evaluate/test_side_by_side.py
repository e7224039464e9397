"""`side_by_side_table`: every figure in its own row, whichever graph has a row the others lack."""
from __future__ import annotations

import io

import pytest
from rich.console import Console

from rolegraph.evaluate.report import side_by_side_table
from rolegraph.evaluate.result import EvalResult, ItemScore


def result(name: str, tokens: int, cost: float, calls: int, cached: int, run_id: str) -> EvalResult:
    items = [ItemScore(item_id=f"q{i}", score=1.0) for i in range(3)]
    return EvalResult(task="gsm", graph_name=name, n=3, accuracy=1.0, items=items, tokens=tokens,
                      cost_usd=cost, calls=calls, cached_calls=cached, run_id=run_id, simulated=True,
                      simulation="simulated")


def rows(table) -> dict[str, list[str]]:
    """The rendered table as {metric: [cells]} (every label fits one line at this width)."""
    buf = io.StringIO()
    Console(file=buf, width=200).print(table)
    out = {}
    for line in buf.getvalue().splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) > 1:
            out[cells[0]] = cells[1:]
    return out


SINGLE = dict(name="single", tokens=1_234, cost=0.0031, calls=3, run_id="run-single")
VOTE = dict(name="vote5", tokens=56_789, cost=0.0885, calls=750, run_id="run-vote5")


@pytest.mark.parametrize("cached_single, cached_vote", [(3, 0), (0, 6), (3, 6)])
def test_the_response_cache_row_of_one_graph_shifts_no_other_figure(cached_single, cached_vote):
    """Only one graph's calls came (partly) from the cache: it used to crash (IndexError) or print the other
    graph's figures one row up."""
    table = rows(side_by_side_table([result(cached=cached_single, **SINGLE), result(cached=cached_vote, **VOTE)],
                                    ["single", "vote5"]))
    assert table["calls from the response cache"] == [f"{cached_single} of 3", f"{cached_vote} of 750"]
    assert table["tokens (total)"] == ["1,234", "56,789"]
    assert table["cost (total)"] == ["$0.0031", "$0.0885"]
    assert table["run id"] == ["run-single", "run-vote5"]


def test_no_cache_row_when_no_call_came_from_the_cache():
    table = rows(side_by_side_table([result(cached=0, **SINGLE), result(cached=0, **VOTE)], ["single", "vote5"]))
    assert "calls from the response cache" not in table and table["run id"] == ["run-single", "run-vote5"]
