"""The fluent builder produces the same graphs as YAML files, and validates on build()."""
from __future__ import annotations

from pathlib import Path

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import graph_hash, load_graph
from rolegraph.models.pool import ModelPool

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = Path(__file__).parents[2] / "examples" / "graphs"


def test_builder_matches_the_yaml_fixture():
    built = (Graph("vote3")
             .node("a", "solver", "sim/llama-3.2-3b")
             .node("b", "solver", "sim/llama-3.2-3b")
             .node("c", "solver", "sim/llama-3.2-1b")
             .node("f", "fuser", "sim/llama-3.1-8b", temperature=0.2)
             .edges(("a", "f"), ("b", "f"))
             .edge("c", "f")
             .output("f")
             .build(ModelPool.builtin()))
    assert built == load_graph(FIXTURES / "valid_vote3.yaml")


def test_chain_fan_out_fan_in_match_mindsearch():
    built = (Graph("mindsearch", description="Plan, search in parallel, solve, verify.")
             .node("plan", "planner", "sim/llama-3.1-8b")
             .node("search1", "searcher", "sim/llama-3.2-3b")
             .node("search2", "searcher", "sim/llama-3.2-3b")
             .node("search3", "searcher", "sim/llama-3.2-3b")
             .node("solve", "solver", "sim/llama-3.1-8b")
             .node("verify", "verifier", "sim/llama-3.1-70b", temperature=0.0)
             .fan_out("plan", ["search1", "search2", "search3"])
             .fan_in(["search1", "search2", "search3"], "solve")
             .chain("solve", "verify")
             .output("verify")
             .build())
    assert graph_hash(built) == graph_hash(load_graph(FIXTURES / "valid_mindsearch_static.yaml"))


def test_edges_accepts_an_iterable_of_pairs_and_rejects_non_pairs():
    g = Graph().node("a", "solver", "m").node("b", "fuser", "m").edges([("a", "b")])
    assert g.spec().edges == [("a", "b")]
    with pytest.raises(TypeError, match="pair"):
        Graph().edges(("a", "b", "c"))


def test_build_reports_every_problem_with_the_graph_name():
    g = (Graph("broken")
         .node("a", "solver", "sim/llama-3.2-1b")
         .node("a", "fuser", "sim/llama-3.2-1b")
         .node("x", "solvr", "sim/llama-3.2-1b")
         .edge("a", "ghost"))
    with pytest.raises(GraphError) as info:
        g.build(ModelPool.builtin())
    assert info.value.source == "graph 'broken'"
    text = "\n".join(info.value.problems)
    assert "duplicate node id 'a'" in text and "unknown role 'solvr'" in text and "unknown node 'ghost'" in text


def test_build_checks_models_only_with_a_pool():
    g = Graph().node("a", "solver", "sim/llama-9b")
    assert g.build().node("a").model == "sim/llama-9b"
    with pytest.raises(GraphError, match="unknown model 'sim/llama-9b'"):
        g.build(ModelPool.builtin())


def test_compose_example_runs_offline_and_saves_a_valid_graph(tmp_path, monkeypatch, capsys):
    import runpy

    out = tmp_path / "composed.yaml"
    monkeypatch.setattr("sys.argv", ["compose.py", str(out)])
    runpy.run_path(str(EXAMPLES.parent / "compose.py"), run_name="__main__")
    printed = capsys.readouterr().out
    spec = load_graph(out)
    assert "flowchart LR" in printed and f"saved {out} (hash {graph_hash(spec)})" in printed
    assert spec.output_id() == "fuse" and len(spec.nodes) == 6


def test_build_takes_the_role_registry_a_custom_role_runs_with():
    """`run_graph(..., roles=registry)` takes the registry: so does `build` (it was a TypeError comparing Roles)."""
    from rolegraph.agents.registry import RoleRegistry

    roles = RoleRegistry.default()
    roles.register("critic", "Role: critic.\nPoint out the weakest step.\n{answer_format}")
    graph = Graph("crit").node("s", "solver", "sim/llama-3.2-1b").node("c", "critic", "sim/llama-3.1-8b").edge("s", "c")
    spec = graph.build(ModelPool.builtin(), roles=roles)
    assert [n.role for n in spec.nodes] == ["solver", "critic"]
    assert graph.build(ModelPool.builtin(), roles=roles.names()) == spec
    with pytest.raises(GraphError) as caught:
        graph.build(ModelPool.builtin())  # the built-in roles only: the way to name the registry is said once
    assert "unknown role 'critic'" in str(caught.value)
    assert str(caught.value).count("build(pool, roles=registry)") == 1
