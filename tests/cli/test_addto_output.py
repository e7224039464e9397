"""What `eval --add-to` prints: what it added and, for a graph the run holds already, that it was kept (it said
"added to ...'s paired outcomes" although nothing was, and --json printed nothing at all); --json lines carry
the keys plain `eval --json` prints (task, ci95, world, the three-way simulation label); and a result some of
whose answers were simulated is labelled partly simulated, not left unlabelled."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rolegraph.cli.router_views import add_to_line, add_to_object
from rolegraph.evaluate.result import EvalResult, ItemScore
from rolegraph.graphs.io import load_graph
from tests.cli.support import cli, cli_in_home

SEARCH = ["optimize", "--task", "gsm", "--task-size", "80", "--models", "sim/llama-3.2-1b,sim/llama-3.2-3b",
          "--roles", "solver,fuser", "--iterations", "1", "--samples", "2", "--batch", "4", "--validation-items",
          "4", "--test-items", "6", "--route-items", "8", "--json"]
NEW_GRAPH = ("name: two-then-fuse\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.2-1b}\n"
             "  - {id: b, role: solver, model: sim/llama-3.1-8b}\n  - {id: f, role: fuser, model: sim/llama-3.2-3b}\n"
             "edges: [[a, f], [b, f]]\n")
EVAL_KEYS = {"task", "graph", "n", "accuracy", "ci95", "mean_latency_s", "p95_latency_s", "cost_usd",
             "cost_usd_per_item", "tokens", "flops_units", "failures", "skipped", "simulated", "simulation", "world",
             "provenance", "run_id", "graph_file"}
"""The keys `eval --help` documents for --json."""


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    base = tmp_path_factory.mktemp("add-to-output")
    cli_in_home(base / "home", *SEARCH, "--out", base / "run")
    return base, base / "run"


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_a_second_add_to_says_it_kept_the_graph_and_added_nothing(searched, searched_home, capsys):
    base, run = searched
    graph = base / "new.yaml"
    graph.write_text(NEW_GRAPH)
    code, out, err = cli(["eval", graph, "--add-to", run, "--json"], capsys)
    assert code == 0, err
    first = _lines(out)
    assert [(o["split"], o["added"]) for o in first] == [("validation", True), ("test", True)]
    for obj in first:
        assert EVAL_KEYS <= set(obj), EVAL_KEYS - set(obj)
        assert obj["task"] == "gsm" and obj["graph"] == "two-then-fuse" and obj["simulation"] == "simulated"
        assert obj["world"] == 0 and len(obj["ci95"]) == 2 and obj["graph_file"] == str(graph)

    code, out, err = cli(["eval", graph, "--add-to", run], capsys)
    assert code == 0, err
    assert "added to" not in out and "nothing added" in out
    kept = [line for line in out.splitlines() if "kept as it was" in line]
    assert [line.split(":")[0] for line in kept] == ["validation", "test"]

    code, out, err = cli(["eval", graph, "--add-to", run, "--json"], capsys)
    assert code == 0, err
    again = _lines(out)  # never an empty stdout: each line says the graph was not added, with what the run holds
    assert [(o["split"], o["added"]) for o in again] == [("validation", False), ("test", False)]
    assert [o["run_id"] for o in again] == [o["run_id"] for o in first]


def _result(simulation: str, flops: float = 2.5) -> EvalResult:
    items = [ItemScore(item_id=f"q{i}", score=float(i % 2), simulation=simulation) for i in range(4)]
    return EvalResult(task="gsm", graph_name="g", graph_hash="h", n=4, accuracy=0.5, ci95=(0.15, 0.85), items=items,
                      flops_units=flops, simulated=simulation == "simulated", simulation=simulation, world=0)


@pytest.mark.parametrize("simulation, label", [
    ("partly simulated", " (partly simulated)"),
    ("simulated", " (simulated)"),
    ("real", ""),
])
def test_the_text_line_labels_simulated_and_partly_simulated_results(simulation, label, tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text("name: g\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.2-1b}\n")
    line = add_to_line("test", _result(simulation), load_graph(graph), True)
    assert line == f"test: g: accuracy 0.500 on 4 items, 2.5 FLOPs units{label}"


def test_unknown_flops_read_n_a_and_the_object_has_the_eval_keys(tmp_path):
    graph = tmp_path / "g.yaml"
    graph.write_text("name: g\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.2-1b}\n")
    spec = load_graph(graph)
    line = add_to_line("validation", _result("partly simulated", flops=0.0), spec, True)
    assert "0.0 FLOPs" not in line and "FLOPs units n/a" in line and line.endswith("(partly simulated)")
    obj = add_to_object("validation", _result("partly simulated"), spec, Path(graph), True, Path("r.sqlite"))
    assert obj["simulation"] == "partly simulated" and obj["simulated"] is False and obj["added"] is True
    assert EVAL_KEYS <= set(obj)


def test_a_graph_that_answered_nothing_is_filed_with_no_measurement(tmp_path):
    """As plain `eval --json`: null figures and "no answers", not accuracy 0.0 labelled simulated."""
    graph = tmp_path / "g.yaml"
    graph.write_text("name: g\nnodes:\n  - {id: a, role: solver, model: sim/llama-3.2-1b}\n")
    items = [ItemScore(item_id=f"q{i}", error="connection refused") for i in range(3)]
    dead = EvalResult(task="gsm", graph_name="g", graph_hash="h", n=3, failures=3, items=items, simulated=True,
                      simulation="simulated", world=0)
    obj = add_to_object("test", dead, load_graph(graph), graph, True, Path("r.sqlite"))
    assert obj["accuracy"] is None and obj["ci95"] is None and obj["world"] is None
    assert obj["simulation"] == "no answers" and obj["simulated"] is False and obj["failures"] == 3
