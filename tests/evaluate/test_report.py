"""Paired comparison and the tables: pairing by item, the simulated label."""
from __future__ import annotations

import io

import pytest
from rich.console import Console

from rolegraph.evaluate.report import (compare, comparison_table, node_table, paired_scores, runs_table,
                                       side_by_side_table, summary_table)
from rolegraph.evaluate.result import EvalResult, ItemScore
from rolegraph.evaluate.stats import mcnemar


def result(name, scores, ids=None, simulation="simulated"):
    ids = ids or [f"q{i}" for i in range(len(scores))]
    items = [ItemScore(item_id=i, score=s) for i, s in zip(ids, scores)]
    return EvalResult(task="gsm", graph_name=name, n=len(items), accuracy=sum(scores) / len(scores),
                      items=items, simulated=simulation == "simulated", simulation=simulation)


def render(table) -> str:
    buf = io.StringIO()
    Console(file=buf, width=200).print(table)
    return buf.getvalue()


def test_compare_pairs_same_items():
    a = result("a", [1, 0, 0, 1, 0, 0, 1, 0])
    b = result("b", [1, 1, 1, 1, 1, 1, 0, 0])
    c = compare(a, b, n_boot=500)
    assert c.n == 8
    assert c.mean_diff == pytest.approx(6 / 8 - 3 / 8)  # b right on 6, a on 3
    assert (c.b01, c.b10) == (4, 1)
    assert c.p_mcnemar == pytest.approx(mcnemar([1, 0, 0, 1, 0, 0, 1, 0], [1, 1, 1, 1, 1, 1, 0, 0])[2])
    assert c.ci95[0] <= c.mean_diff <= c.ci95[1]


def test_pairing_by_id_when_orders_differ():
    a = result("a", [1, 0, 1], ids=["x", "y", "z"])
    b = result("b", [0, 1], ids=["z", "y"])
    assert paired_scores(a, b) == ([0, 1], [1, 0])


def test_tables_say_simulated_partly_simulated_or_nothing():
    a = result("a", [1, 0, 1])
    b = result("b", [1, 1, 1], simulation="real")
    mixed = result("m", [1, 1, 0], simulation="partly simulated")
    assert "(simulated)" in render(summary_table(a))
    assert "simulated" not in render(summary_table(b)).replace("simulation", "")
    assert "(partly simulated)" in render(summary_table(mixed)) and "partly simulated" in render(node_table(mixed))
    text = render(side_by_side_table([a, b], ["a", "b"]))  # a simulated graph beside a real one: a mix
    assert "(partly simulated)" in text and "66.7%" in text and "100.0%" in text
    assert "(simulated)" in render(side_by_side_table([a, a], ["a", "a2"]))
    cmp = compare(a, b)
    assert cmp.simulation == "partly simulated" and not cmp.simulated
    cmp_text = render(comparison_table([cmp]))
    assert "paired comparison against a" in cmp_text and "+33.3 pts" in cmp_text and "partly simulated" in cmp_text
    assert "per node" in render(node_table(a))
    rows = [{"id": f"r{i}", "created": "2025-01-01T00:00:00", "task": "gsm", "graph_name": "a", "label": None,
             "n": 3, "accuracy": 0.5, "ci95": [0.1, 0.9], "failures": 0, "cost_usd": 0.0,
             "simulated": label == "simulated", "simulation": label}
            for i, label in enumerate(["simulated", "partly simulated", "real"])]
    table = render(runs_table(rows))
    assert "(partly simulated)" in table and "partly" in table.split("r1", 1)[1].splitlines()[0]


def test_flops_of_a_model_without_sizes_read_n_a_never_zero():
    """A run records 0.0 FLOPs when a model lacks params_b/layers/hidden; the table must not claim 0.00."""
    unknown = result("real", [1, 0], simulation="real")  # flops_units left at its 0.0 default
    text = render(summary_table(unknown))
    assert "n/a (model sizes unknown)" in text and "0.00" not in text.split("FLOPs units / item")[1].splitlines()[0]
    known = result("sim", [1, 0]).model_copy(update={"flops_units": 2.5})
    assert "2.50" in render(summary_table(known)).split("FLOPs units / item")[1].splitlines()[0]
