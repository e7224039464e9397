"""A one-node graph's "output agreed": the node is the output, so a missing answer is the missing output, not
a disagreement (it read below 100%, as if something had overruled the only node there is)."""
from __future__ import annotations

import pytest

from rolegraph.evaluate.aggregate import node_stats
from rolegraph.evaluate.report import node_table
from rolegraph.evaluate.result import ItemScore
from rolegraph.graphs.spec import GraphSpec
from tests.cli.test_tables_narrow import words

SINGLE = GraphSpec.model_validate({"name": "single", "nodes": [{"id": "out", "role": "solver",
                                                                 "model": "sim/llama-3.2-1b"}]})
PAIR = GraphSpec.model_validate({
    "name": "pair",
    "nodes": [{"id": "a", "role": "solver", "model": "sim/llama-3.2-1b"},
              {"id": "out", "role": "fuser", "model": "sim/llama-3.2-3b"}],
    "edges": [["a", "out"]],
})


def _item(i: int, answers: dict[str, str | None], output: str | None) -> ItemScore:
    return ItemScore(item_id=f"q{i}", score=float(output == "7"), answer=output, gold="7",
                     node_answers=answers, node_scores={k: float(a == "7") for k, a in answers.items() if a})


def test_a_one_node_graph_agrees_with_its_output_on_every_item_answered_or_not():
    items = [_item(0, {"out": "7"}, "7"), _item(1, {"out": "8"}, "8"), _item(2, {"out": None}, None),
             _item(3, {"out": None}, None)]
    st = node_stats(SINGLE, items)["out"]
    assert st.n == 4
    assert st.correct_rate == pytest.approx(1 / 4)  # a missing answer is still wrong
    assert st.agree_rate == pytest.approx(1.0)  # was 2 / 4


def test_the_node_table_of_a_one_node_graph_says_the_output_agreed_every_time(capsys):
    from rich.console import Console

    from rolegraph.evaluate.aggregate import summarize

    items = [_item(0, {"out": "7"}, "7"), _item(1, {"out": None}, None)]
    result = summarize(items, SINGLE, task="gsm", graph_hash="h", skipped=0, simulation="simulated")
    Console(width=120).print(node_table(result))
    row = next(line for line in capsys.readouterr().out.splitlines() if "sim/llama-3.2-1b" in line)
    assert "100.0%" in words(row) and "50.0%" in words(row)  # agreed every time, right once


def test_in_a_larger_graph_a_worker_without_an_answer_still_disagrees():
    """Two missing answers are not an agreement where the node is not the output itself."""
    items = [_item(0, {"a": "7", "out": "7"}, "7"), _item(1, {"a": None, "out": None}, None)]
    assert node_stats(PAIR, items)["a"].agree_rate == pytest.approx(1 / 2)
