"""Router files (graphs/router_io.py): the `fit:` block `route fit` writes survives save and load; a stage or a stop
rule that is not a mapping is one line naming it (never a traceback); a stage's graph path is relative to the router
file, or to the working directory when the data has no file; and a router's hash tells apart routers whose stages run
other graphs, whatever the graphs are called."""
from __future__ import annotations

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import graph_hash, save_graph
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_io import load_router, load_spec, router_from_data, router_hash, save_router, spec_hash

M1, M3 = "sim/llama-3.2-1b", "sim/llama-3.2-3b"
FIT = {"validation": {"accuracy": 0.75, "flops_units": 12.5}, "target_accuracy": 0.7}


def one(model: str, name: str = "g"):
    return Graph(name).node("a", "solver", model).build()


def two_stage(first: str = M1, name: str = "g", fit: dict | None = None) -> RouterSpec:
    stages = [Stage(graph=one(first, name), stop=StopRule(min_agreement=1.0)), Stage(graph=one(M3))]
    return RouterSpec(name="r", stages=stages, fit=fit)


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_the_fit_block_survives_save_and_load(tmp_path, suffix):
    back = load_router(save_router(two_stage(fit=FIT), tmp_path / f"router{suffix}"))
    assert back.fit == FIT


@pytest.mark.parametrize(
    ("stage", "line"),
    [
        ("5", "stage 1: expected a mapping {graph, stop}, got 5"),
        ("[a, b]", "stage 1: expected a mapping {graph, stop}, got ['a', 'b']"),
        ("g.yaml", "stage 1: expected a mapping {graph, stop}, got 'g.yaml'"),
    ],
)
def test_a_stage_that_is_not_a_mapping_is_one_line(tmp_path, stage, line):
    path = tmp_path / "r.yaml"
    path.write_text(f"kind: router\nstages:\n  - {stage}\n", encoding="utf-8")
    with pytest.raises(GraphError) as err:
        load_router(path)
    assert err.value.problems == [line]


@pytest.mark.parametrize("stop", ["5", "[1]", "yes"])
def test_a_stop_rule_that_is_not_a_mapping_is_one_line(tmp_path, stop):
    path = tmp_path / "r.yaml"
    path.write_text(
        f"kind: router\nstages:\n  - stop: {stop}\n    graph: {{nodes: [{{id: a, role: solver, model: {M1}}}]}}\n",
        encoding="utf-8",
    )
    with pytest.raises(GraphError) as err:
        load_router(path)
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith("stage 1: 'stop' must be a mapping of min_agreement")


def test_a_stage_path_without_a_router_file_is_read_from_the_working_directory(tmp_path, monkeypatch):
    save_graph(one(M1), tmp_path / "g.yaml")
    monkeypatch.chdir(tmp_path)
    router = router_from_data({"kind": "router", "stages": [{"graph": "g.yaml"}]})
    assert graph_hash(router.stages[0].graph) == graph_hash(one(M1))


def test_router_hashes_differ_when_a_stage_runs_another_graph_of_the_same_name():
    assert router_hash(two_stage(M1, name="g")) != router_hash(two_stage(M3, name="g"))
    assert router_hash(two_stage(M1, name="g")) == router_hash(two_stage(M1, name="renamed"))  # names are ignored


def test_spec_hash_is_the_graph_hash_of_a_graph_and_the_router_hash_of_a_router(tmp_path):
    graph, router = one(M1), two_stage()
    assert spec_hash(graph) == graph_hash(graph)
    assert spec_hash(router) == router_hash(router)
    assert spec_hash(load_spec(save_router(router, tmp_path / "r.yaml"))) == router_hash(router)
