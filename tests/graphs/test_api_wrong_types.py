"""The wrong kind of object given to the run functions, or a router file given to `load_graph`: one line naming
what to use instead, never an AttributeError from deep inside compiling it."""
from __future__ import annotations

import pytest

from rolegraph.errors import GraphError
from rolegraph.graphs.builder import Graph
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.router import RouterSpec, Stage, StopRule
from rolegraph.graphs.router_io import load_spec, save_router
from rolegraph.graphs.router_runtime import run_spec_sync
from rolegraph.graphs.runtime import compile_graph, run_graph_sync
from rolegraph.models.hub import ModelHub
from rolegraph.models.pool import ModelPool
from rolegraph.tasks.registry import get_task


def _vote(k: int):
    g = Graph(f"vote{k}")
    for i in range(k):
        g = g.node(f"n{i}", "solver", "sim/llama-3.1-8b")
    return g.node("out", "fuser", "sim/llama-3.1-8b").fan_in([f"n{i}" for i in range(k)], "out").build()


@pytest.fixture
def router():
    return RouterSpec(name="cascade", stages=[Stage(graph=_vote(2), stop=StopRule(min_agreement=1.0)),
                                              Stage(graph=_vote(3))])


@pytest.fixture
def hub(settings):
    return ModelHub(ModelPool.builtin(), settings)


@pytest.fixture(scope="module")
def item():
    return get_task("gsm", size=20).items("test", n=1)[0]


def test_a_router_given_to_run_graph_names_the_function_that_runs_it(router, hub, item):
    with pytest.raises(GraphError, match=r"this is a router.*router_runtime\.run_spec"):
        run_graph_sync(router, item, hub)
    result = run_spec_sync(router, item, hub)  # the function named, followed as given
    assert result.answer is not None and result.stage in (1, 2)


@pytest.mark.parametrize("bad", [{"nodes": []}, "graph.yaml", None])
def test_not_a_graph_names_the_expected_type(bad, hub, item):
    with pytest.raises(GraphError, match="expected a GraphSpec, got"):
        run_graph_sync(bad, item, hub)
    with pytest.raises(GraphError, match="expected a GraphSpec, got"):
        compile_graph(bad, hub)


def test_load_graph_of_a_router_file_says_it_is_one(router, tmp_path):
    path = save_router(router, tmp_path / "router.yaml")
    with pytest.raises(GraphError, match="this is a router file: .*load_spec") as info:
        load_graph(path)
    assert len(info.value.problems) == 1  # one line, not a graph's missing fields
    assert isinstance(load_spec(path), RouterSpec)


def test_compile_graph_is_typed_to_return_langgraphs_compiled_graph(hub):
    from typing import get_type_hints

    from langgraph.pregel import Pregel

    assert get_type_hints(compile_graph)["return"] is Pregel
    assert isinstance(compile_graph(_vote(2), hub), Pregel)
