"""`validate` refuses what `eval` and `optimize` refuse: an output node whose role never answers (it used to say
ok, and `eval` then stopped with this very line). `show` and `run` still take such a graph."""
from __future__ import annotations

from tests.cli.support import run_cli

PLANNER_ONLY = "nodes:\n  - {id: a, role: planner, model: sim/llama-3.2-3b}\nedges: []\n"
SILENT = "output node 'a': role 'planner' never answers, so every item would score 0"


def test_validate_reports_an_output_that_never_answers(tmp_path, capsys):
    graph = tmp_path / "p.yaml"
    graph.write_text(PLANNER_ONLY)
    code, out, err = run_cli(capsys, "validate", graph)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err.strip().splitlines() == [f"error: {graph}: {SILENT}; end the graph with an answering role "
                                         "(solver, fuser, verifier) or set `output`"]
    code, _, eval_err = run_cli(capsys, "eval", graph, "--task", "gsm", "--n", "2")
    assert code == 2 and SILENT in eval_err  # the same problem eval reports


def test_validate_lists_it_with_the_files_other_problems(tmp_path, capsys):
    graph = tmp_path / "p.yaml"
    graph.write_text("nodes:\n  - {id: a, role: planner, model: sim/llama-3.2-3b, params: {temprature: 1}}\nedges: []\n")
    code, out, err = run_cli(capsys, "validate", graph)
    assert code == 2 and f"error: {graph}: 2 problems" in err
    assert SILENT in err and "unknown params key 'temprature'" in err


def test_show_still_takes_a_graph_whose_output_never_answers(tmp_path, capsys):
    graph = tmp_path / "p.yaml"
    graph.write_text(PLANNER_ONLY)
    code, out, err = run_cli(capsys, "show", graph)
    assert code == 0 and "planner" in out, err
