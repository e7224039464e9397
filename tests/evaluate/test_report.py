"""Paired comparison and the tables: pairing by item, the simulated label."""
from __future__ import annotations

import io

import pytest
from rich.console import Console

from rolegraph.evaluate.paired_stats import compare, paired_scores
from rolegraph.evaluate.report import comparison_table, node_table, runs_table, side_by_side_table, summary_table
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


def _failed(name, n_failed, n, simulation="simulated"):
    """n items of which the first n_failed failed (no answer), the rest right."""
    items = [ItemScore(item_id=f"q{i}", error="node 's' failed: HTTP 500" if i < n_failed else None,
                       score=0.0 if i < n_failed else 1.0, latency_s=0.0 if i < n_failed else 1.5,
                       simulation=None if i < n_failed else simulation) for i in range(n)]
    ok = n - n_failed
    return EvalResult(task="gsm", graph_name=name, n=n, accuracy=ok / n, ci95=(0.0, 0.49) if not ok else (0.3, 0.9),
                      mean_latency_s=1.5 if ok else 0.0, p95_latency_s=1.5 if ok else 0.0, failures=n_failed,
                      items=items, simulated=simulation == "simulated", simulation=simulation, world=0)


def _row(text: str, key: str) -> str:
    return next(line for line in text.splitlines() if key in line)


def test_a_run_in_which_every_item_failed_shows_no_measurement_and_no_simulated_label():
    """It showed accuracy 0.0%, CI [0.0%, 49.0%], 0.00 s and "simulated (world 0)" though nothing answered."""
    text = render(summary_table(_failed("dead", 4, 4)))
    for key in ("accuracy", "95% CI", "mean latency", "p95 latency", "mean critical path"):
        assert "n/a" in _row(text, key), key
    assert "0.0%" not in text and "0.00 s" not in text and "49.0%" not in text
    assert "no answers" in _row(text, "simulation") and "simulated" not in text.replace("simulation", "")
    assert "4 of 4" in _row(text, "failures")
    assert "simulated" not in render(node_table(_failed("dead", 4, 4))).replace("simulation", "")
    beside = render(side_by_side_table([_failed("dead", 4, 4), result("ok", [1, 0, 1], simulation="real")],
                                       ["dead", "ok"]))
    assert "simulated" not in beside.replace("simulation", "")  # a real graph beside a dead one: not "partly"


def test_some_failed_items_are_counted_and_said_to_count_as_wrong():
    text = render(summary_table(_failed("some", 2, 10)))
    assert "80.0%" in _row(text, "accuracy")
    assert "2 of 10" in _row(text, "failures") and "counted as wrong" in _row(text, "failures")
    assert "simulated (world 0)" in _row(text, "simulation") and "(simulated)" in text
    assert _row(render(summary_table(result("none", [1, 0]))), "failures").split()[-2] == "0"


def test_the_stored_runs_listing_shows_an_all_failed_run_as_no_measurement():
    rows = [{"id": "dead1", "created": "2025-01-01T00:00:00", "task": "gsm", "graph_name": "g", "label": None,
             "n": 4, "accuracy": 0.0, "ci95": [0.0, 0.49], "failures": 4, "cost_usd": 0.0, "mean_latency_s": 0.0, "flops_units": 2.5,
             "simulated": True, "simulation": "simulated", "world": 0},
            {"id": "real1", "created": "2025-01-01T00:00:00", "task": "gsm", "graph_name": "g", "label": None,
             "n": 4, "accuracy": 0.5, "ci95": [0.15, 0.85], "failures": 1, "cost_usd": 0.0, "mean_latency_s": 2.0,
             "simulated": False, "simulation": "real"}]
    text = render(runs_table(rows))
    dead = _row(text, "dead1")
    assert "0.0%" not in dead and "0.00 s" not in dead and "49.0%" not in dead and dead.count("n/a") == 3
    assert "no answers" in dead and "yes" not in dead
    assert "simulated" not in text.split("\n", 2)[0] + text.split("\n", 2)[1]  # the title: real results only
    assert "50.0%" in _row(text, "real1") and "2.00 s" in _row(text, "real1")
