"""On a terminal of 60 or 40 columns no table of `route fit`, `run`, `results ID` or `show` splits an id, a model
name or a figure: they folded at any character (`sim/llama-3.` / `1-8b`, `vote3-llama-` / `3.2-1b-plura` /
`lity`, `temperature=` / `0.7`), and a split id can be neither read nor pasted. Long free text wraps between
words; a table that cannot fit whole is printed wider than the terminal."""
from __future__ import annotations

from types import SimpleNamespace as NS

import pytest
from rich.console import Console

from rolegraph.cli import main, tables
from rolegraph.cli.results_cmd import _stored_table
from rolegraph.cli.route_cmd import _print
from rolegraph.cli.run_output import print_run
from rolegraph.cli.tables import stdout_console
from rolegraph.graphs.result import NodeTrace
from tests.cli.test_tables_narrow import words

MODEL = "sim/llama-3.1-8b"
BIG_MODEL = "sim/llama-3.1-70b"
GRAPH = "vote5-llama-3.2-1b-first3-plurality"
OTHER_GRAPH = "single-llama-3.1-70b"


@pytest.fixture(params=[60, 40])
def columns(request, monkeypatch) -> int:
    """stdout is a terminal this many columns wide."""
    monkeypatch.setattr(tables, "Console",
                        lambda: Console(width=request.param, force_terminal=True, color_system=None))
    return request.param


def _node(node_id: str, model: str, answer: str) -> NodeTrace:
    return NodeTrace(id=node_id, role="solver", model=model, simulated=True, answer=answer, tokens_in=1234,
                     tokens_out=456, latency_s=12.34, cost_usd=0.00012)


def test_runs_per_node_table_keeps_model_names_and_figures_whole(columns, capsys):
    nodes = [_node("solver-a", MODEL, "twelve plus thirty is forty-two"),
             _node("critic-b", BIG_MODEL, "I agree with the solver: 42")]
    result = NS(simulation="simulated", world=0, nodes=nodes, answer="42", latency_s=1.0, critical_path_s=1.0,
                tokens=3380, cost_usd=0.00024, flops_units=3.0, notes=[], error=None)
    print_run(result, NS(name=GRAPH), "the question", None)
    table = capsys.readouterr().out.split("answer (simulated)")[0]
    assert {MODEL, BIG_MODEL, "solver-a", "critic-b", GRAPH, "1234", "456", "12.34", "0.00012"} <= words(table)
    assert {"twelve", "forty-two"} <= words(table)  # the answer wraps between its words


def _point(accuracy: float, flops: float) -> NS:
    return NS(accuracy=accuracy, flops_units=flops, dollars=0.000084, latency_s=5.64, n=20, shares=[0.85, 0.15])


def _fit() -> NS:
    def candidate(name: str, source: str) -> NS:
        return NS(name=name, source=source, fit=_point(0.525, 6.1), test=_point(0.35, 6.1), agree_accuracy=0.86,
                  disagree_accuracy=0.45, agree_share=0.18)

    stage = NS(accuracy=0.5, best_accuracy=0.6)
    return NS(simulation="simulated", candidates=[candidate(GRAPH, "plurality"), candidate(OTHER_GRAPH, "single")],
              stages=[OTHER_GRAPH, GRAPH], rules=["answer parsed"], test=_point(0.45, 2.0), stage_fit=[stage, stage],
              stage_test=[stage, stage], best_name=GRAPH, best_test=_point(0.45, 9.6), single_test=None,
              single_name=None, vs_best={"diff": -0.05, "ci95": (-0.2, 0.1)}, flops_ratio=0.21, note="a note")


def test_route_fit_candidates_keep_graph_names_and_figures_whole(columns, capsys, tmp_path):
    _print(_fit(), tmp_path / "router.yaml")
    table = capsys.readouterr().out.split("stage 1:")[0]
    assert "…" not in table
    assert {GRAPH, OTHER_GRAPH, "plurality", "0.525", "0.350", "6.1", "86%", "45%", "18%"} <= words(table)


def test_route_fit_candidates_stack_the_source_under_the_name_when_that_fits(monkeypatch, capsys, tmp_path):
    """80 columns: too narrow for a column each for a 35-character name and its source (92 columns), wide
    enough to stack them; the table then fits the terminal with the name whole."""
    monkeypatch.setattr(tables, "Console", lambda: Console(width=80, force_terminal=True, color_system=None))
    _print(_fit(), tmp_path / "router.yaml")
    table = capsys.readouterr().out.split("stage 1:")[0]
    assert {GRAPH, "plurality"} <= words(table)
    assert max(len(line) for line in table.splitlines()) <= 80


def test_a_stored_runs_settings_keep_hashes_and_paths_whole(columns, capsys):
    path = "/home/someone/experiments/graphs/vote5-llama-3.2-1b-first3-plurality.yaml"
    info = {"created": "2026-12-05T09:00:00", "label": "a label of several words", "graph_hash": "69acf1fdcfc26687",
            "settings": {"graph_file": path, "seed": 0, "pool": "pools/sim-and-local-models.yaml"}}
    table = _stored_table(info)
    stdout_console(table).print(table)
    assert {"69acf1fdcfc26687", path, "pools/sim-and-local-models.yaml"} <= words(capsys.readouterr().out)


ROUTER = f"""kind: router
name: two-stage-router
stages:
  - graph: {{name: {GRAPH}, nodes: [{{id: solver-one, role: solver, model: {MODEL}, params: {{temperature: 0.7}}}},
      {{id: solver-two, role: solver, model: {MODEL}}}, {{id: fuser-final, role: fuser, model: {MODEL}}}],
      edges: [[solver-one, fuser-final], [solver-two, fuser-final]]}}
    stop: {{min_agreement: 1.0}}
  - graph: {{name: {OTHER_GRAPH}, nodes: [{{id: a, role: solver, model: {BIG_MODEL}}}]}}
"""


def test_show_of_a_router_keeps_graph_names_models_and_params_whole(columns, capsys, tmp_path):
    path = tmp_path / "router.yaml"
    path.write_text(ROUTER)
    main(["show", str(path)])
    seen = words(capsys.readouterr().out)
    assert {GRAPH, OTHER_GRAPH, MODEL, BIG_MODEL, "temperature=0.7", "solver-one,", "fuser-final"} <= seen


def test_show_of_a_graph_keeps_its_params_and_inputs_whole(columns, capsys, tmp_path):
    path = tmp_path / "graph.yaml"
    path.write_text(f"name: {GRAPH}\nnodes:\n"
                    f"  - {{id: first-solver, role: solver, model: {MODEL}, params: {{temperature: 0.7, max_tokens: 512}}}}\n"
                    f"  - {{id: second-solver, role: solver, model: {BIG_MODEL}}}\n"
                    f"  - {{id: judge, role: fuser, model: {MODEL}}}\n"
                    "edges: [[first-solver, judge], [second-solver, judge]]\n")
    main(["show", str(path)])
    seen = words(capsys.readouterr().out)
    assert {MODEL, BIG_MODEL, "max_tokens=512,", "temperature=0.7", "first-solver,", "second-solver"} <= seen
